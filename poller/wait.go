package poller

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"
)

// WaitOptions configure one Wait. The zero value (or nil) works.
type WaitOptions struct {
	// OnPoll is called after every successful poll with its observation.
	OnPoll func(Observation)
	// Logger overrides the poller's logger for this wait.
	Logger *slog.Logger
	// StallAfter reports the operation as stalled when its status, detail
	// and progress have not changed for this long; the wait goes on. Zero
	// disables stall reports.
	StallAfter time.Duration
	// OnStall is called once per stall, with the observation and how long it
	// has not changed. A stall is also logged as a warning.
	OnStall func(obs Observation, unchanged time.Duration)
	// OnRetry is called after each transient failure the wait retries — of
	// a poll or of the final request — with the error (Attempts counts the
	// consecutive failures, this one included) and when the retry is due.
	OnRetry func(err *PollError, retryAt time.Time)
}

// Wait polls on the poller's schedule until the operation reaches a terminal
// status, then returns its result (see Result).
//
// Transient poll errors are retried within the policy's budget; Wait returns
// a final *PollError when the poller gives up. When ctx ends or the poller's
// deadline passes first, Wait returns a *WaitError that carries the last
// observation and a fresh resume token.
func (p *Poller[T]) Wait(ctx context.Context, opts *WaitOptions) (T, error) {
	var zero T
	var wo WaitOptions
	if opts != nil {
		wo = *opts
	}
	if wo.Logger != nil {
		saved := p.log
		p.log = wo.Logger
		defer func() { p.log = saved }()
	}
	st := stallTracker{after: wo.StallAfter, since: p.clock.Now(), last: p.last}
	for !p.done {
		if p.gaveUp != nil {
			return zero, p.gaveUp
		}
		wake, atDeadline := p.next, false
		if !p.deadline.IsZero() && !wake.Before(p.deadline) {
			wake, atDeadline = p.deadline, true
		}
		if err := p.sleepUntil(ctx, wake); err != nil {
			return zero, p.waitError(err)
		}
		if atDeadline {
			return zero, p.waitError(ErrDeadline)
		}
		obs, err := p.Poll(ctx)
		if err != nil {
			if callerStopped(ctx) {
				return zero, p.waitError(cmp.Or(ctx.Err(), context.DeadlineExceeded))
			}
			var pe *PollError
			if errors.As(err, &pe) && pe.Final {
				return zero, err
			}
			if pe != nil && wo.OnRetry != nil {
				wo.OnRetry(pe, p.next)
			}
			continue
		}
		if wo.OnPoll != nil {
			wo.OnPoll(obs)
		}
		if unchanged, stalled := st.observe(obs, p.clock.Now()); stalled {
			p.log.LogAttrs(ctx, slog.LevelWarn, "lro stalled", p.attrs(
				slog.String("status", string(obs.Status)), slog.String("detail", obs.Detail),
				slog.Duration("unchanged", unchanged))...)
			if wo.OnStall != nil {
				wo.OnStall(obs, unchanged)
			}
		}
	}
	p.log.LogAttrs(ctx, slog.LevelInfo, "lro finished", p.attrs(
		slog.String("status", string(p.last.Status)), slog.Int("polls", p.polls))...)
	return p.resultWithRetry(ctx, wo.OnRetry)
}

// resultWithRetry fetches the final payload, retrying transient errors of
// the final request on the same budget as polls.
func (p *Poller[T]) resultWithRetry(ctx context.Context, onRetry func(*PollError, time.Time)) (T, error) {
	for {
		out, err := p.Result(ctx)
		if err == nil || p.last.Status != StatusSucceeded || !IsTransient(err) || ctx.Err() != nil {
			if err != nil && ctx.Err() != nil {
				return out, p.waitError(ctx.Err())
			}
			p.retry.reset()
			return out, err
		}
		d, ok := p.retry.next(RetryAfterOf(err))
		if !ok {
			pe := &PollError{Operation: p.label(), Err: err, Transient: true, Attempts: p.retry.attempts, Final: true, Last: p.last}
			p.retry.reset()
			return out, pe
		}
		p.log.LogAttrs(ctx, slog.LevelWarn, "lro result failed, will retry", p.attrs(
			slog.Duration("retry_in", d), slog.String("error", err.Error()))...)
		if onRetry != nil {
			onRetry(&PollError{Operation: p.label(), Err: err, Transient: true, Attempts: p.retry.attempts, Last: p.last}, p.clock.Now().Add(d))
		}
		if err := p.sleepUntil(ctx, p.clock.Now().Add(d)); err != nil {
			return out, p.waitError(err)
		}
	}
}

// sleepUntil blocks until t on the poller's clock or until ctx ends.
func (p *Poller[T]) sleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := t.Sub(p.clock.Now())
	if d <= 0 {
		return nil
	}
	timer := p.clock.NewTimer(d)
	select {
	case <-ctx.Done():
		timer.Stop()
		return ctx.Err()
	case <-timer.C():
		return nil
	}
}

func (p *Poller[T]) waitError(cause error) error {
	we := &WaitError{Err: cause, Operation: p.label(), Last: p.last, Polls: p.polls, NextPoll: p.next}
	we.Elapsed = max(p.clock.Now().Sub(p.created), 0)
	if exp := p.policy.Expected; exp > we.Elapsed && !p.last.Status.Terminal() {
		we.Remaining = exp - we.Elapsed
	}
	we.Token, we.TokenErr = p.ResumeToken()
	return we
}

// stallTracker notices an observation that stays the same for too long.
type stallTracker struct {
	after    time.Duration
	since    time.Time
	last     Observation
	reported bool
}

func (s *stallTracker) observe(obs Observation, now time.Time) (time.Duration, bool) {
	if s.after <= 0 {
		return 0, false
	}
	if obs.Status != s.last.Status || obs.Detail != s.last.Detail || obs.Progress != s.last.Progress {
		s.last, s.since, s.reported = obs, now, false
		return 0, false
	}
	unchanged := now.Sub(s.since)
	if unchanged < s.after || s.reported {
		return unchanged, false
	}
	s.reported = true
	return unchanged, true
}

package poller

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// WaitOptions configure one Wait. The zero value (or nil) works.
type WaitOptions struct {
	// OnPoll is called after every successful poll with its observation.
	OnPoll func(Observation)
	// Logger overrides the poller's logger for this wait.
	Logger *slog.Logger
	// StallAfter reports the operation as stalled when its status, detail,
	// progress and message have not changed for this long. Zero takes the
	// poller's threshold (Options.StallAfter, or a multiple of
	// Options.Learned.P95); with none, no stall reports.
	StallAfter time.Duration
	// OnStall is called once per stall, with the observation and how long it
	// has not changed. A stall is also logged as a warning and, when
	// tracing, recorded as an EventStalled on the wait's span.
	OnStall func(obs Observation, unchanged time.Duration)
	// OnRetry is called after each transient failure the wait retries — of
	// a poll or of the final request — with the error (Attempts counts the
	// consecutive failures, this one included) and when the retry is due.
	OnRetry func(err *PollError, retryAt time.Time)
	// OnProgress is called after every successful poll with the
	// provider-neutral progress.
	OnProgress func(Progress)
	// Learned, when set, replaces Options.Learned for this wait (the
	// durations a caller looked up once it knew the operation's kind).
	Learned *Learned
}

// Wait polls on the poller's schedule until the operation reaches a terminal
// status, then returns its result (see Result).
//
// Transient poll errors are retried within the policy's budget; Wait returns
// a final *PollError when the poller gives up. When ctx ends or the poller's
// deadline passes first, Wait returns a *WaitError that carries the last
// observation and a fresh resume token.
func (p *Poller[T]) Wait(ctx context.Context, opts *WaitOptions) (_ T, err error) {
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
	if p.ins.traced() {
		var span trace.Span
		ctx, span = p.ins.tr.startSpan(ctx, SpanWait, p.clock.Now())
		p.ins.tr.waiting = true
		defer func() {
			p.ins.tr.waiting = false
			endWait(span, p.ended(err), err, p.clock.Now())
		}()
	}
	if wo.Learned != nil {
		saved := p.watch
		w := p.watchOpts()
		w.Learned = *wo.Learned
		p.watch = &w
		defer func() { p.watch = saved }()
	}
	watch := p.watchOpts()
	stallAfter := stallThreshold(&watch, wo.StallAfter)
	for !p.done {
		if pe := p.retry.given(); pe != nil {
			return zero, pe
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
		} else {
			if wo.OnPoll != nil {
				wo.OnPoll(obs)
			}
			if wo.OnProgress != nil {
				wo.OnProgress(p.progressOf(obs, p.clock.Now()))
			}
		}
		if p.stall(ctx, stallAfter, &wo) && watch.GiveUpWhenStalled && !p.done {
			return zero, p.waitError(ErrStalled)
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
		d, ok := p.retrier().next(RetryAfterOf(err))
		if !ok {
			pe := &PollError{Operation: p.label(), Err: err, Transient: true, Attempts: p.retry.tries(), Final: true, Last: p.last}
			o := p.outcome(ReasonPollError, p.clock.Now())
			pe.Outcome = &o
			p.retry.reset()
			return out, pe
		}
		p.log.LogAttrs(ctx, slog.LevelWarn, "lro result failed, will retry", p.attrs(
			slog.Duration("retry_in", d), slog.String("error", stripQuery(err.Error())))...)
		if onRetry != nil {
			onRetry(&PollError{Operation: p.label(), Err: err, Transient: true, Attempts: p.retry.tries(), Last: p.last}, p.clock.Now().Add(d))
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
	reason := ReasonContext
	switch {
	case errors.Is(cause, ErrDeadline):
		reason = ReasonDeadline
	case errors.Is(cause, ErrStalled):
		reason = ReasonStalled
	}
	o := p.outcome(reason, p.clock.Now())
	we.Outcome = &o
	return we
}

// ended is the outcome a wait that returned err reports on its span.
func (p *Poller[T]) ended(err error) Outcome {
	if o, ok := OutcomeOf(err); ok {
		return o
	}
	reason := ReasonTerminal
	if err != nil && !p.done {
		reason = ReasonPollError
	}
	return p.outcome(reason, p.clock.Now())
}

// stall reports, once per unchanged stretch, an operation whose state has
// not changed for after: a warning, a span event, OnStall. It reports
// whether the operation is stalled.
func (p *Poller[T]) stall(ctx context.Context, after time.Duration, wo *WaitOptions) bool {
	if after <= 0 || p.done {
		return false
	}
	unchanged := p.clock.Now().Sub(p.ins.changed)
	if unchanged < after {
		return false
	}
	p.ins.stalled = true
	if p.ins.reported {
		return true
	}
	p.ins.reported = true
	obs := p.last
	p.log.LogAttrs(ctx, slog.LevelWarn, "lro stalled", p.attrs(
		slog.String("status", string(obs.Status)), slog.String("detail", obs.Detail),
		slog.Duration("unchanged", unchanged), slog.Duration("threshold", after))...)
	if p.ins.traced() {
		trace.SpanFromContext(ctx).AddEvent(EventStalled, trace.WithAttributes(
			attribute.String("lrokit.status", string(obs.Status)), attribute.String("lrokit.detail", stripQuery(obs.Detail)),
			attribute.Float64("lrokit.unchanged_s", unchanged.Seconds()), attribute.Float64("lrokit.threshold_s", after.Seconds())),
			trace.WithTimestamp(p.clock.Now()))
	}
	if wo.OnStall != nil {
		wo.OnStall(obs, unchanged)
	}
	return true
}

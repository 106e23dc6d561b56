package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/time/rate"

	"github.com/lrokit/lrokit/poller"
)

// MaxInlineWait is the longest the poll activity waits for a token's next
// poll time itself; a longer wait returns to the workflow's durable timer.
const MaxInlineWait = 30 * time.Second

// Activities poll and cancel operations on a worker with the worker's own
// clients. The zero value of every field but Clients works.
type Activities struct {
	// Clients resume tokens; Clients.Options.Policy shapes the schedule
	// (RetryBudget bounds the transient errors one poll retries).
	Clients Clients
	// HostLimit is this worker process's own limit on polls per second to
	// each host, on top of the task queue's cluster-wide limit; zero means
	// none. HostBurst defaults to 1.
	HostLimit rate.Limit
	HostBurst int

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

// Register registers the WaitOperation workflow and its activities on w,
// polling with clients. A worker that serves only a host group's poll queue
// may use (&Activities{...}).Register(w) instead.
func Register(w worker.Registry, clients Clients) {
	RegisterWorkflow(w)
	(&Activities{Clients: clients}).Register(w)
}

// RegisterWorkflow registers only the WaitOperation workflow.
func RegisterWorkflow(w worker.Registry) {
	w.RegisterWorkflowWithOptions(WaitOperation, workflow.RegisterOptions{Name: WorkflowName})
}

// Register registers the poll and cancel activities on w.
func (a *Activities) Register(w worker.Registry) {
	w.RegisterActivityWithOptions(a.Poll, activity.RegisterOptions{Name: PollActivityName})
	w.RegisterActivityWithOptions(a.Cancel, activity.RegisterOptions{Name: CancelActivityName})
}

// Poll is the poll activity: it resumes the token, waits for its next poll
// time when that is near (or returns unpolled when it is not), polls once,
// and returns the observation, the new token and the next poll time.
// Transient errors (connection resets, 429, 5xx) are retried here on
// lrokit's schedule, Retry-After honored, within the policy's RetryBudget;
// once it is spent, or on a permanent error, the activity fails with
// ErrTypePollFailed and the last state. A worker lost mid-poll costs one
// repeated poll on another worker, from the same token.
func (a *Activities) Poll(ctx context.Context, in PollInput) (PollResult, error) {
	p, err := a.resume(ctx, in.Token)
	if err != nil {
		return PollResult{}, err
	}
	if wait := time.Until(p.NextPollAt()); wait > MaxInlineWait {
		return a.snapshot(ctx, p, false, 0)
	}
	retries := 0
	for {
		// Never earlier than the token (or the retry schedule) says.
		if err := sleep(ctx, time.Until(p.NextPollAt())); err != nil {
			return PollResult{}, err
		}
		if err := a.limiter(p.Host()).Wait(ctx); err != nil {
			return PollResult{}, err
		}
		_, err := p.Poll(ctx)
		if err == nil {
			return a.snapshot(ctx, p, true, retries)
		}
		if ctx.Err() != nil {
			// The worker is stopping or the workflow was canceled: the
			// next attempt starts again from the same token.
			return PollResult{}, ctx.Err()
		}
		var pe *poller.PollError
		if errors.As(err, &pe) && pe.Transient && !pe.Final {
			retries++
			activity.RecordHeartbeat(ctx, retries)
			continue
		}
		r, serr := a.snapshot(ctx, p, false, retries)
		if serr != nil {
			return PollResult{}, serr
		}
		return PollResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypePollFailed, err, r)
	}
}

// Cancel is the cancel activity: it asks the provider to cancel the
// operation, or reports that it cannot.
func (a *Activities) Cancel(ctx context.Context, in PollInput) (CancelResult, error) {
	p, err := a.resume(ctx, in.Token)
	if err != nil {
		return CancelResult{}, err
	}
	if err := a.limiter(p.Host()).Wait(ctx); err != nil {
		return CancelResult{}, err
	}
	switch err := p.Cancel(ctx); {
	case err == nil:
		tok, err := p.ResumeToken()
		if err != nil {
			return CancelResult{}, fmt.Errorf("encoding the resume token: %w", err)
		}
		return CancelResult{Supported: true, Token: tok}, nil
	case errors.Is(err, poller.ErrCancelNotSupported):
		return CancelResult{Supported: false}, nil
	case poller.IsTransient(err):
		return CancelResult{}, err // Temporal retries the request
	default:
		return CancelResult{Supported: true, Error: err.Error()}, nil
	}
}

func (a *Activities) snapshot(ctx context.Context, p polling, polled bool, retries int) (PollResult, error) {
	tok, err := p.ResumeToken()
	if err != nil {
		return PollResult{}, fmt.Errorf("encoding the resume token: %w", err)
	}
	last := p.Last()
	r := PollResult{
		Polled: polled, Status: last.Status, Detail: last.Detail, Progress: last.Progress,
		Next: p.NextPollAt(), Token: tok, Polls: p.Polls(), Host: p.Host(), Retries: retries,
	}
	switch last.Status {
	case poller.StatusSucceeded:
		res, err := p.Result(ctx)
		if err != nil {
			return PollResult{}, fmt.Errorf("reading the result: %w", err)
		}
		r.Result = json.RawMessage(res)
	case poller.StatusFailed, poller.StatusCanceled:
		var oe *poller.OperationError
		if errors.As(last.Err, &oe) {
			r.Code, r.Message = oe.Code, oe.Message
		} else if last.Err != nil {
			r.Message = last.Err.Error()
		}
	}
	return r, nil
}

func (a *Activities) limiter(host string) *rate.Limiter {
	if a.HostLimit <= 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.limiters == nil {
		a.limiters = map[string]*rate.Limiter{}
	}
	l, ok := a.limiters[host]
	if !ok {
		l = rate.NewLimiter(a.HostLimit, max(a.HostBurst, 1))
		a.limiters[host] = l
	}
	return l
}

// sleep waits d, heartbeating so a long wait is not taken for a dead worker.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	every := 5 * time.Second
	if activity.IsActivity(ctx) {
		if hb := activity.GetInfo(ctx).HeartbeatTimeout; hb > 0 && hb/3 < every {
			every = max(hb/3, 10*time.Millisecond)
		}
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		case <-tick.C:
			if activity.IsActivity(ctx) {
				activity.RecordHeartbeat(ctx)
			}
		}
	}
}

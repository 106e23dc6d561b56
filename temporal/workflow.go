package temporal

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/lrokit/lrokit/poller"
)

// WaitOperation is the workflow that waits for one operation: an activity
// polls once and returns the new token and the next poll time, a durable
// timer sleeps until then, and every PollsPerRun polls the workflow continues
// as new with the latest token. Only the token and observations enter
// history; clients and credentials stay on the workers.
//
// On success the result is the Outcome. Otherwise the workflow fails with a
// non-retryable application error of type ErrTypeOperationFailed,
// ErrTypeOperationCanceled, ErrTypePollFailed, ErrTypeInvalidToken or
// ErrTypeNoClient whose details are the Outcome (last state and token).
// Canceling the workflow asks the provider to cancel the operation, keeps
// polling up to CancelWait for the outcome, and ends canceled with the
// Outcome as details (CancelSupported false where the provider cannot).
func WaitOperation(ctx workflow.Context, in WaitInput) (Outcome, error) {
	in = in.withDefaults()
	runs := in.Runs + 1
	actx := workflow.WithActivityOptions(ctx, activityOptions(in))
	last := PollResult{Token: in.Token, Next: in.NotBefore}
	for polls := 0; ; {
		if err := sleepUntil(ctx, last.Next); err != nil {
			return cancelOperation(ctx, in, last, runs)
		}
		var r PollResult
		err := workflow.ExecuteActivity(actx, PollActivityName, PollInput{Token: last.Token}).Get(ctx, &r)
		if err != nil {
			if errors.Is(ctx.Err(), workflow.ErrCanceled) || temporal.IsCanceledError(err) {
				return cancelOperation(ctx, in, last, runs)
			}
			return Outcome{}, activityFailure(err, last.outcome(runs))
		}
		last = r
		if r.Status.Terminal() {
			return finish(r.outcome(runs))
		}
		if r.Polled {
			polls++
		}
		if polls >= in.PollsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			next := in
			next.Token, next.NotBefore, next.Runs = r.Token, r.Next, runs
			return Outcome{}, workflow.NewContinueAsNewError(ctx, WorkflowName, next)
		}
	}
}

func activityOptions(in WaitInput) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:           in.PollQueue,
		StartToCloseTimeout: in.PollTimeout,
		HeartbeatTimeout:    in.HeartbeatTimeout,
		// A poll is a GET: retrying it on another worker after a crash
		// repeats one read, never the operation's initial request.
		// lrokit's own transient-error retries happen inside the activity.
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			NonRetryableErrorTypes: []string{
				ErrTypePollFailed, ErrTypeInvalidToken, ErrTypeNoClient,
			},
		},
	}
}

// sleepUntil waits on a durable timer until t (workflow time).
func sleepUntil(ctx workflow.Context, t time.Time) error {
	if d := t.Sub(workflow.Now(ctx)); d > 0 {
		return workflow.Sleep(ctx, d)
	}
	return ctx.Err()
}

func finish(o Outcome) (Outcome, error) {
	switch o.Status {
	case poller.StatusSucceeded:
		return o, nil
	case poller.StatusCanceled:
		return Outcome{}, temporal.NewNonRetryableApplicationError(failureMessage(o), ErrTypeOperationCanceled, nil, o)
	}
	return Outcome{}, temporal.NewNonRetryableApplicationError(failureMessage(o), ErrTypeOperationFailed, nil, o)
}

func failureMessage(o Outcome) string {
	msg := "operation " + string(o.Status)
	if o.Detail != "" && o.Detail != string(o.Status) {
		msg += " (" + o.Detail + ")"
	}
	switch {
	case o.Code != "" && o.Message != "":
		msg += ": " + o.Code + ": " + o.Message
	case o.Code != "" || o.Message != "":
		msg += ": " + o.Code + o.Message
	}
	return msg
}

// activityFailure turns a poll activity's final failure into the workflow's,
// with the last known state as details.
func activityFailure(err error, last Outcome) error {
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		return err
	}
	last.Message = ae.Message()
	if ae.HasDetails() {
		var r PollResult
		if ae.Details(&r) == nil && r.Token != "" {
			runs := last.Runs
			last = r.outcome(runs)
			last.Message = ae.Message()
		}
	}
	return temporal.NewNonRetryableApplicationError(ae.Message(), ae.Type(), nil, last)
}

// cancelOperation runs once the workflow is canceled: it asks the provider to
// cancel, polls for the outcome within CancelWait, and ends canceled.
func cancelOperation(ctx workflow.Context, in WaitInput, last PollResult, runs int) (Outcome, error) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	actx := workflow.WithActivityOptions(dctx, activityOptions(in))
	// A cancel request that keeps failing must not hold the workflow forever.
	co := activityOptions(in)
	co.RetryPolicy.MaximumAttempts = 5
	cctx := workflow.WithActivityOptions(dctx, co)
	out := last.outcome(runs)
	out.CancelRequested = true
	var cr CancelResult
	if err := workflow.ExecuteActivity(cctx, CancelActivityName, PollInput{Token: last.Token}).Get(dctx, &cr); err != nil {
		out.Message = fmt.Sprintf("cancel request failed: %v", err)
		return Outcome{}, temporal.NewCanceledError(out)
	}
	out.CancelSupported = cr.Supported
	if !cr.Supported || cr.Error != "" {
		out.Message = cr.Error
		if !cr.Supported {
			out.Message = "the provider cannot cancel this operation; it goes on"
		}
		return Outcome{}, temporal.NewCanceledError(out)
	}
	if cr.Token != "" {
		last.Token = cr.Token
	}
	deadline := workflow.Now(dctx).Add(in.CancelWait)
	for !last.Status.Terminal() && workflow.Now(dctx).Before(deadline) {
		next := last.Next
		if next.After(deadline) {
			break
		}
		if err := sleepUntil(dctx, next); err != nil {
			break
		}
		var r PollResult
		if err := workflow.ExecuteActivity(actx, PollActivityName, PollInput{Token: last.Token}).Get(dctx, &r); err != nil {
			out.Message = fmt.Sprintf("polling after the cancel request: %v", err)
			break
		}
		last = r
	}
	o := last.outcome(runs)
	o.CancelRequested, o.CancelSupported = true, true
	if o.Message == "" {
		o.Message = out.Message
	}
	return Outcome{}, temporal.NewCanceledError(o)
}

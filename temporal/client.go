package temporal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/lrokit/lrokit/poller"
)

// StartOptions configure Start. The zero value works.
type StartOptions struct {
	// ID is the workflow id; default WorkflowID(token).
	ID string
	// TaskQueue is the workflow's task queue; default DefaultTaskQueue.
	TaskQueue string
	// SealKey reads a sealed token (for its id and first poll time); the
	// token itself is passed on as it is.
	SealKey []byte
	// Input sets the workflow's other fields (PollQueue, PollsPerRun, ...);
	// its Token and NotBefore are filled by Start.
	Input WaitInput
}

// Start starts the WaitOperation workflow for token, or returns the one
// already waiting on the same operation: the workflow id derives from the
// operation, so starting twice is a no-op. A wait that already succeeded is
// not started again either; one that failed or was canceled is.
func Start(ctx context.Context, c client.Client, token string, opts *StartOptions) (client.WorkflowRun, error) {
	var o StartOptions
	if opts != nil {
		o = *opts
	}
	tok, err := poller.DecodeToken(token, o.SealKey)
	if err != nil {
		return nil, err
	}
	if o.ID == "" {
		o.ID = workflowID(tok)
	}
	if o.TaskQueue == "" {
		o.TaskQueue = DefaultTaskQueue
	}
	in := o.Input
	in.Token, in.NotBefore = token, tok.Next
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       o.ID,
		TaskQueue:                o.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
	}, WorkflowName, in)
	if err != nil && isAlreadyStarted(err) {
		return c.GetWorkflow(ctx, o.ID, ""), nil
	}
	if err != nil {
		return nil, fmt.Errorf("starting the wait for %s: %w", o.ID, err)
	}
	return run, nil
}

// WorkflowID returns the workflow id Start uses for token:
// "lrokit/PROVIDER/KIND/" and a digest of the token's operation state (its
// polling URL, operation name or waiter input), so every token of one
// operation maps to one id while its state is unchanged. Tokens whose state
// changes as the operation runs (an ARM Location URL that moves) may map to
// several; pass StartOptions.ID to choose one.
func WorkflowID(token string, sealKey []byte) (string, error) {
	tok, err := poller.DecodeToken(token, sealKey)
	if err != nil {
		return "", err
	}
	return workflowID(tok), nil
}

func workflowID(tok poller.Token) string {
	// Re-encoding through a map orders the keys, so formatting does not matter.
	state := []byte(tok.State)
	var v any
	if json.Unmarshal(state, &v) == nil {
		if b, err := json.Marshal(v); err == nil {
			state = b
		}
	}
	sum := sha256.Sum256(state)
	return "lrokit/" + tok.Provider + "/" + tok.Kind + "/" + hex.EncodeToString(sum[:12])
}

// Error is returned by Wait when the operation did not succeed, with the last
// known state and token in Outcome.
type Error struct {
	// Type is the failure's type: ErrTypeOperationFailed,
	// ErrTypeOperationCanceled, ErrTypePollFailed, ErrTypeInvalidToken,
	// ErrTypeNoClient, or "canceled" when the workflow itself was canceled.
	Type string
	// Outcome is the last known state, with its token.
	Outcome Outcome
	// Err is the Temporal error it came from.
	Err error
}

// TypeWorkflowCanceled is Error.Type for a workflow that was canceled.
const TypeWorkflowCanceled = "canceled"

func (e *Error) Error() string {
	if e.Type == TypeWorkflowCanceled {
		s := "wait canceled"
		switch {
		case !e.Outcome.CancelRequested:
		case !e.Outcome.CancelSupported:
			s += "; the provider cannot cancel the operation, it goes on"
		default:
			s += "; cancellation requested, operation " + string(e.Outcome.Status)
		}
		return s
	}
	return fmt.Sprintf("waiting on the operation: %v", e.Err)
}

// Unwrap returns the Temporal error.
func (e *Error) Unwrap() error { return e.Err }

// OperationError returns the failure as lrokit's *poller.OperationError when
// the operation itself failed or was canceled, and nil otherwise.
func (e *Error) OperationError() *poller.OperationError {
	if e.Type != ErrTypeOperationFailed && e.Type != ErrTypeOperationCanceled {
		return nil
	}
	return &poller.OperationError{
		Status: e.Outcome.Status, Code: e.Outcome.Code, Message: e.Outcome.Message,
		Last: poller.Observation{Status: e.Outcome.Status, Detail: e.Outcome.Detail, Progress: poller.ProgressUnknown},
	}
}

// Wait waits for the workflow with id (following ContinueAsNew) and returns
// its Outcome, or an *Error with the last known state.
func Wait(ctx context.Context, c client.Client, id string) (Outcome, error) {
	return Result(ctx, c.GetWorkflow(ctx, id, ""))
}

// Result waits for run and returns its Outcome, or an *Error.
func Result(ctx context.Context, run client.WorkflowRun) (Outcome, error) {
	var out Outcome
	err := run.Get(ctx, &out)
	if err == nil {
		return out, nil
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		e := &Error{Type: ae.Type(), Err: err}
		if ae.HasDetails() {
			_ = ae.Details(&e.Outcome)
		}
		return Outcome{}, e
	}
	var ce *temporal.CanceledError
	if errors.As(err, &ce) {
		e := &Error{Type: TypeWorkflowCanceled, Err: err}
		if ce.HasDetails() {
			_ = ce.Details(&e.Outcome)
		}
		return Outcome{}, e
	}
	return Outcome{}, err
}

func isAlreadyStarted(err error) bool {
	var as *serviceerror.WorkflowExecutionAlreadyStarted
	return errors.As(err, &as)
}

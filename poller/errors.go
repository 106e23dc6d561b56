package poller

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrOperationNotFound reports that the provider no longer knows the
// operation: it expired, was purged, or never existed. It is permanent.
// Adapters wrap it; test with errors.Is.
var ErrOperationNotFound = errors.New("operation no longer known to the provider")

// ErrCancelNotSupported is returned by Poller.Cancel when the operation
// cannot be canceled.
var ErrCancelNotSupported = errors.New("operation does not support cancellation")

// ErrNotDone is returned by Poller.Result before the operation reached a
// terminal status.
var ErrNotDone = errors.New("operation has not finished")

// ErrDeadline is the cause of a *WaitError when the poller's own deadline
// (Options.Deadline, kept in the token) passed.
var ErrDeadline = errors.New("wait deadline passed")

// OperationError reports an operation that reached StatusFailed or
// StatusCanceled. It keeps the provider's own code, message and raw body.
type OperationError struct {
	// Provider is the adapter's provider name ("azure", "gcp", "aws", "rest").
	Provider string
	// Operation is a loggable name of the operation (no query string).
	Operation string
	// Status is StatusFailed or StatusCanceled.
	Status Status
	// Code and Message are the provider's error code and message, if any.
	Code    string
	Message string
	// Raw is the provider's raw error body or details, for diagnostics.
	Raw []byte
	// Last is the observation that reported the failure.
	Last Observation
	// Err is the provider-native error, if one exists (for errors.As).
	Err error

	// Outcome explains the end of the wait (see OutcomeOf).
	Outcome *Outcome
}

func (e *OperationError) Error() string {
	var b strings.Builder
	b.WriteString(operationLabel(e.Provider, e.Operation))
	if e.Status == StatusCanceled {
		b.WriteString(" was canceled")
	} else {
		b.WriteString(" failed")
	}
	if e.Last.Detail != "" && !strings.EqualFold(e.Last.Detail, string(e.Status)) {
		fmt.Fprintf(&b, " (%s)", e.Last.Detail)
	}
	switch {
	case e.Code != "" && e.Message != "":
		fmt.Fprintf(&b, ": %s: %s", e.Code, e.Message)
	case e.Code != "":
		fmt.Fprintf(&b, ": %s", e.Code)
	case e.Message != "":
		fmt.Fprintf(&b, ": %s", e.Message)
	case e.Err != nil:
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the provider-native error.
func (e *OperationError) Unwrap() error { return e.Err }

// WaitError is returned by Poller.Wait when it stops before the operation
// finished: the context ended or the poller's deadline passed. It carries the
// last observation and a fresh resume token, so the caller can store it and
// continue later.
type WaitError struct {
	// Err is context.Canceled, context.DeadlineExceeded or ErrDeadline.
	Err error
	// Operation is a loggable name of the operation.
	Operation string
	// Last is the last observation (zero if the operation was never polled).
	Last Observation
	// Token is a resume token taken when the wait stopped; empty only if
	// TokenErr says why it could not be made.
	Token    string
	TokenErr error
	// Polls counts the polls made, across resumptions.
	Polls int
	// Elapsed is how long the operation has run when the wait stopped,
	// from its start as the schedule counts it.
	Elapsed time.Duration
	// NextPoll is when the schedule wants the next poll: a wait resumed
	// from Token does not poll before it, so the schedule continues.
	NextPoll time.Time
	// Remaining estimates the time left when one is known (the policy's
	// Expected duration not yet reached); zero means unknown.
	Remaining time.Duration

	// Outcome explains where the wait stopped (see OutcomeOf).
	Outcome *Outcome
}

// StillRunning reports whether the operation had not finished when the wait
// stopped: a hand-off, to continue from Token, rather than an outcome.
func (e *WaitError) StillRunning() bool { return !e.Last.Status.Terminal() }

func (e *WaitError) Error() string {
	last := "not yet polled"
	if e.Last.Status != "" {
		last = "last status " + describe(e.Last)
	}
	return fmt.Sprintf("stopped waiting on %s (%s): %v", e.Operation, last, e.Err)
}

// Unwrap returns the cause.
func (e *WaitError) Unwrap() error { return e.Err }

// PollError reports a poll whose round trip failed: the state could not be
// learned. Transient errors are retried by Wait until the retry budget is
// spent; Final reports that the poller gave up.
type PollError struct {
	Operation string
	// Err is the adapter's error.
	Err error
	// Transient reports that the error was classified as retryable.
	Transient bool
	// Attempts counts consecutive failed polls, this one included.
	Attempts int
	// Final reports that the poller gives up: the error is permanent or
	// the retry budget is spent. Wait returns a final PollError.
	Final bool
	// Last is the last successful observation.
	Last Observation

	// Outcome explains the end of the wait, on a final error.
	Outcome *Outcome
}

func (e *PollError) Error() string {
	kind := "permanent"
	switch {
	case e.Transient && e.Final:
		kind = fmt.Sprintf("transient, gave up after %d attempts", e.Attempts)
	case e.Transient:
		kind = fmt.Sprintf("transient, attempt %d", e.Attempts)
	}
	return fmt.Sprintf("polling %s (%s): %v", e.Operation, kind, e.Err)
}

// Unwrap returns the adapter's error.
func (e *PollError) Unwrap() error { return e.Err }

func operationLabel(provider, name string) string {
	switch {
	case provider != "" && name != "":
		return provider + " operation " + name
	case provider != "":
		return provider + " operation"
	case name != "":
		return "operation " + name
	}
	return "operation"
}

func describe(o Observation) string {
	s := string(o.Status)
	if o.Detail != "" && !strings.EqualFold(o.Detail, s) {
		s += " (" + o.Detail + ")"
	}
	if o.Progress >= 0 && o.Status != "" {
		s += fmt.Sprintf(" %.0f%%", o.Progress)
	}
	return s
}

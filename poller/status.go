package poller

import (
	"context"
	"strings"
	"time"
)

// Status is the normalized state of a long-running operation.
//
// The values follow the Microsoft REST API guidelines' operation states
// (notstarted, running, succeeded, failed, plus the optional canceled);
// every provider's own words are mapped onto them by its adapter, and the
// provider's word is kept in [Observation.Detail].
type Status string

// The statuses an adapter reports.
const (
	StatusNotStarted Status = "NotStarted"
	StatusRunning    Status = "Running"
	StatusSucceeded  Status = "Succeeded"
	StatusFailed     Status = "Failed"
	StatusCanceled   Status = "Canceled"
)

// Terminal reports whether s is a goal state: once an operation reaches it,
// it never changes again and polling stops.
func (s Status) Terminal() bool {
	switch s {
	case StatusSucceeded, StatusFailed, StatusCanceled:
		return true
	}
	return false
}

// ParseStatus maps a Status's string form back to the Status, case-insensitively.
// It reports false for anything that is not one of the five statuses.
func ParseStatus(s string) (Status, bool) {
	for _, st := range []Status{StatusNotStarted, StatusRunning, StatusSucceeded, StatusFailed, StatusCanceled} {
		if strings.EqualFold(s, string(st)) {
			return st, true
		}
	}
	return "", false
}

// ProgressUnknown is the Observation.Progress of an operation that reports no progress.
const ProgressUnknown = -1

// Observation is what one round trip to the provider revealed.
type Observation struct {
	// Status is the normalized state.
	Status Status
	// Detail is the provider's own word for the state: "InProgress",
	// "CREATE_IN_PROGRESS", "RUNNING". It may name a reason or condition.
	Detail string
	// Progress is the percentage done, 0..100, or negative when unknown
	// (see ProgressUnknown).
	Progress float64
	// RetryAfter is the server's hint for the delay before the next poll.
	RetryAfter time.Duration
	// Hinted reports that the server sent a hint even if RetryAfter is 0
	// ("Retry-After: 0"). RetryAfter > 0 implies a hint whatever Hinted says.
	// As Poller.Last reports it (and the resume token keeps it), Hinted is
	// true only for a hint
	// at or above the policy's Floor: a hint that asks for sooner than the
	// poller would poll anyway says nothing about the operation's duration,
	// so schedulers that learn durations or hold polls treat it as none.
	Hinted bool
	// Err is set when Status is StatusFailed or StatusCanceled; adapters
	// report an *OperationError.
	Err error

	// Message is the provider's human-readable note on the state, if any
	// (a condition message, a stack status reason, a status message).
	Message string
	// Rule says what in the answer decided Status, in the provider's
	// terms: "Azure-AsyncOperation status", "done",
	// "acceptor: StackStatus == CREATE_COMPLETE". Outcomes report it.
	Rule string
}

// hinted reports whether the server gave a hint for the next poll.
func (o Observation) hinted() bool { return o.Hinted || o.RetryAfter > 0 }

// Operation is the adapter contract: one provider's view of one long-running
// operation. Poll performs exactly one round trip and reports what it saw;
// everything about when to poll lives in Poller.
//
// Implementations need not be safe for concurrent use: a Poller calls them
// from one goroutine at a time.
type Operation interface {
	// Poll performs one round trip and reports the operation's state. An
	// error means the state could not be learned (network, throttling, 5xx,
	// ...); adapters mark retryable errors with Transient or Throttled.
	Poll(ctx context.Context) (Observation, error)
	// Result stores the final payload in out (a pointer to the poller's T)
	// after the operation succeeded.
	Result(ctx context.Context, out any) error
	// Token returns the adapter's part of a resume token: provider, kind and
	// state. It must contain everything needed to continue elsewhere and no
	// credentials.
	Token() (Token, error)
}

// Canceler is implemented by operations the provider can cancel.
type Canceler interface {
	// Cancel asks the provider to cancel the operation. Cancellation is a
	// request: the operation's terminal status tells what happened.
	Cancel(ctx context.Context) error
}

// Namer is implemented by operations that have a human-readable name for
// logs and error messages. The name must hold no secret and no query string.
type Namer interface {
	Name() string
}

// Locator is implemented by operations that can say where their polls go and
// what kind of operation they are. Schedulers use the host as the unit of
// rate limiting and the type to learn typical durations.
type Locator interface {
	// Host is the host polls go to: "management.azure.com",
	// "container.googleapis.com", "cloudformation.eu-west-1.amazonaws.com".
	Host() string
	// OperationType names the kind of operation within its provider:
	// "PUT Microsoft.ContainerService/managedClusters",
	// "cloudformation.StackCreateComplete".
	OperationType() string
}

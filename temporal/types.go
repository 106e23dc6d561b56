package temporal

import (
	"encoding/json"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// Names under which Register registers the workflow and its activities, for
// workers and clients in other languages.
const (
	WorkflowName       = "lrokit.WaitOperation"
	PollActivityName   = "lrokit.PollOperation"
	CancelActivityName = "lrokit.CancelOperation"
)

// DefaultTaskQueue is the task queue Start uses when none is given.
const DefaultTaskQueue = "lrokit"

// Defaults of WaitInput's zero fields.
const (
	// DefaultPollsPerRun bounds one run's history (about 11 events per
	// poll) well below Temporal's suggested 10,240 events.
	DefaultPollsPerRun      = 200
	DefaultCancelWait       = 10 * time.Minute
	DefaultHeartbeatTimeout = time.Minute
	// DefaultPollTimeout bounds one poll activity, transient retries
	// included (lrokit's budget of 10 at up to 60 s each fits).
	DefaultPollTimeout = 30 * time.Minute
)

// Error types of the application failures the workflow and the activities
// return (temporal.ApplicationError.Type()).
const (
	ErrTypeOperationFailed   = "lrokit.OperationFailed"
	ErrTypeOperationCanceled = "lrokit.OperationCanceled"
	ErrTypePollFailed        = "lrokit.PollFailed"
	ErrTypeInvalidToken      = "lrokit.InvalidToken"
	ErrTypeNoClient          = "lrokit.NoClient"
)

// WaitInput is the input of the WaitOperation workflow. Only the token is
// required; it holds no credentials, so it is safe in workflow history.
type WaitInput struct {
	// Token is the operation's resume token.
	Token string `json:"token"`
	// NotBefore is the earliest time of the first poll (the token's next
	// poll time). Zero: the poll activity reads it from the token.
	NotBefore time.Time `json:"not_before,omitzero"`
	// PollQueue is the task queue the poll and cancel activities run on:
	// one per host group, so Temporal's task-queue rate limit holds for that
	// group across every worker. Empty: the workflow's own queue.
	PollQueue string `json:"poll_queue,omitempty"`
	// PollsPerRun is how many polls one run makes before it continues as new
	// with the latest token, keeping history bounded. Default
	// DefaultPollsPerRun.
	PollsPerRun int `json:"polls_per_run,omitempty"`
	// CancelWait bounds how long, once the workflow is canceled and the
	// provider accepted the cancellation, it keeps polling to report the
	// outcome. Default DefaultCancelWait.
	CancelWait time.Duration `json:"cancel_wait,omitempty"`
	// HeartbeatTimeout is how soon a poll activity on a dead worker is
	// retried elsewhere. Default DefaultHeartbeatTimeout.
	HeartbeatTimeout time.Duration `json:"heartbeat_timeout,omitempty"`
	// PollTimeout bounds one poll activity. Default DefaultPollTimeout.
	PollTimeout time.Duration `json:"poll_timeout,omitempty"`
	// Runs counts the runs before this one (set by ContinueAsNew).
	Runs int `json:"runs,omitempty"`
}

// Outcome is what a wait ended with, the workflow's result on success and
// the details of its failure otherwise.
type Outcome struct {
	// Status is the last known status of the operation.
	Status poller.Status `json:"status"`
	// Detail is the provider's word for it ("Succeeded", "CREATE_COMPLETE").
	Detail string `json:"detail,omitempty"`
	// Result is the final payload as JSON on success (see resume.Any).
	Result json.RawMessage `json:"result,omitempty"`
	// Code and Message are the provider's, when the operation failed or was
	// canceled, or the poll error's message when it could not be polled.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Token is the last resume token: continue from it with lrokit anywhere.
	Token string `json:"token,omitempty"`
	// Polls counts the polls made, across resumptions and runs.
	Polls int `json:"polls,omitempty"`
	// Host is where the polls went.
	Host string `json:"host,omitempty"`
	// Runs counts the workflow runs (1 + continues-as-new).
	Runs int `json:"runs,omitempty"`
	// CancelRequested reports that the workflow was canceled and asked the
	// provider to cancel the operation; CancelSupported is false when the
	// provider cannot cancel it (the operation goes on: see Status).
	CancelRequested bool `json:"cancel_requested,omitempty"`
	CancelSupported bool `json:"cancel_supported,omitempty"`
}

// PollInput is the poll activity's input.
type PollInput struct {
	Token string `json:"token"`
}

// PollResult is the poll activity's result: one observation, the token that
// continues from it, and when to poll next.
type PollResult struct {
	// Polled is false when the activity did not poll because the token's
	// next poll time was still far off (a timer should wait instead).
	Polled   bool          `json:"polled"`
	Status   poller.Status `json:"status"`
	Detail   string        `json:"detail,omitempty"`
	Progress float64       `json:"progress"`
	// Next is the absolute time the operation next wants a poll.
	Next time.Time `json:"next"`
	// Token continues from this poll.
	Token string `json:"token"`
	Polls int    `json:"polls"`
	Host  string `json:"host,omitempty"`
	// Retries counts transient errors retried within this activity.
	Retries int `json:"retries,omitempty"`
	// Result, Code and Message: see Outcome.
	Result  json.RawMessage `json:"result,omitempty"`
	Code    string          `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
}

// CancelResult is the cancel activity's result.
type CancelResult struct {
	// Supported is false when the provider cannot cancel the operation.
	Supported bool `json:"supported"`
	// Error is why a supported cancellation request failed, if it did.
	Error string `json:"error,omitempty"`
	// Token continues from the request: an adapter may record it (AWS
	// reports the rollback that follows as a cancellation).
	Token string `json:"token,omitempty"`
}

func (in WaitInput) withDefaults() WaitInput {
	if in.PollsPerRun <= 0 {
		in.PollsPerRun = DefaultPollsPerRun
	}
	if in.CancelWait <= 0 {
		in.CancelWait = DefaultCancelWait
	}
	if in.HeartbeatTimeout <= 0 {
		in.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if in.PollTimeout <= 0 {
		in.PollTimeout = DefaultPollTimeout
	}
	return in
}

func (r PollResult) outcome(runs int) Outcome {
	return Outcome{
		Status: r.Status, Detail: r.Detail, Result: r.Result, Code: r.Code, Message: r.Message,
		Token: r.Token, Polls: r.Polls, Host: r.Host, Runs: runs,
	}
}

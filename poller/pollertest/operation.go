package pollertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// Step is one scripted poll outcome: an observation, or an error.
type Step struct {
	Obs poller.Observation
	Err error
}

// Running is a step that reports StatusRunning with detail and progress
// (negative for unknown).
func Running(detail string, progress float64) Step {
	return Step{Obs: poller.Observation{Status: poller.StatusRunning, Detail: detail, Progress: progress}}
}

// Hinted is a Running step whose response carries a Retry-After hint.
func Hinted(d time.Duration) Step {
	return Step{Obs: poller.Observation{Status: poller.StatusRunning, Detail: "Running", Progress: poller.ProgressUnknown, RetryAfter: d, Hinted: true}}
}

// Succeeded is a step that reports StatusSucceeded.
func Succeeded() Step {
	return Step{Obs: poller.Observation{Status: poller.StatusSucceeded, Detail: "Succeeded", Progress: 100}}
}

// Failed is a step that reports StatusFailed with a provider code and message.
func Failed(code, message string) Step {
	return Step{Obs: poller.Observation{Status: poller.StatusFailed, Detail: "Failed", Progress: poller.ProgressUnknown,
		Err: &poller.OperationError{Code: code, Message: message}}}
}

// Error is a step whose round trip fails with err.
func Error(err error) Step { return Step{Err: err} }

// Operation is a scripted poller.Operation: each Poll returns the next Step,
// and the last step repeats forever. It records when it was polled. Its token
// remembers the script position, so a poller resumed through Restore continues
// the script. It is safe for concurrent use.
type Operation struct {
	// Steps is the script.
	Steps []Step
	// Final is the result, stored into the poller's T by Result through JSON.
	Final any
	// Clock, when set, timestamps each poll in PollTimes.
	Clock poller.Clock
	// OpName is the name the operation gives for logs and errors.
	OpName string
	// Secrets are put in every token (as a credential-bearing polling URL
	// would be), to test how tokens treat them.
	Secrets map[string]string

	mu        sync.Mutex
	pos       int
	pollTimes []time.Time
	canceled  int
}

// Poll returns the next step of the script.
func (o *Operation) Poll(ctx context.Context) (poller.Observation, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return poller.Observation{}, err
	}
	if len(o.Steps) == 0 {
		return poller.Observation{}, errors.New("pollertest: empty script")
	}
	if o.Clock != nil {
		o.pollTimes = append(o.pollTimes, o.Clock.Now())
	}
	s := o.Steps[min(o.pos, len(o.Steps)-1)]
	o.pos++
	return s.Obs, s.Err
}

// Result stores Final into out through a JSON round trip, or directly when
// the types match.
func (o *Operation) Result(_ context.Context, out any) error {
	if o.Final == nil {
		return nil
	}
	rv := reflect.ValueOf(out)
	if rv.Kind() == reflect.Pointer && reflect.TypeOf(o.Final).AssignableTo(rv.Elem().Type()) {
		rv.Elem().Set(reflect.ValueOf(o.Final))
		return nil
	}
	b, err := json.Marshal(o.Final)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

type scriptState struct {
	Pos int `json:"pos"`
}

// Token returns provider "test", kind "scripted" and the script position.
func (o *Operation) Token() (poller.Token, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	st, _ := json.Marshal(scriptState{Pos: o.pos})
	return poller.Token{Provider: "test", Kind: "scripted", State: st, Secrets: o.Secrets}, nil
}

// Name returns OpName, or "scripted".
func (o *Operation) Name() string {
	if o.OpName != "" {
		return o.OpName
	}
	return "scripted"
}

// Restore moves the script to the position kept in tok, as an adapter's
// Resume would rebuild its state.
func (o *Operation) Restore(tok poller.Token) error {
	if tok.Provider != "test" || tok.Kind != "scripted" {
		return fmt.Errorf("pollertest: token is for %s/%s", tok.Provider, tok.Kind)
	}
	var st scriptState
	if err := json.Unmarshal(tok.State, &st); err != nil {
		return fmt.Errorf("pollertest: token state: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pos = st.Pos
	return nil
}

// PollTimes returns when each poll happened (needs Clock).
func (o *Operation) PollTimes() []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]time.Time(nil), o.pollTimes...)
}

// Polls returns the number of polls made on this Operation value.
func (o *Operation) Polls() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pos
}

// Cancelable is an Operation that implements poller.Canceler.
type Cancelable struct {
	*Operation
}

// Cancel records the request; the script decides what the operation does.
func (c Cancelable) Cancel(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.canceled++
	return nil
}

// Canceled returns how many times Cancel was called.
func (o *Operation) Canceled() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.canceled
}

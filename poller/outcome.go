package poller

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrStalled is the cause of a *WaitError when the operation showed no
// change for longer than the stall threshold and Options.GiveUpWhenStalled
// asked the wait to stop.
var ErrStalled = errors.New("operation stalled")

// DefaultStallFactor multiplies Learned.P95 into the stall threshold when
// Options.StallAfter is not set.
const DefaultStallFactor = 2

// Learned is what is known of the durations of operations of the same kind
// (the fleet engine learns them per kind). Zero fields are unknown.
type Learned struct {
	// Median and P95 are the 50th and 95th percentiles of the kind's
	// durations, from start to a terminal status.
	Median, P95 time.Duration
}

// The reasons an Outcome gives for the end of a wait.
const (
	ReasonTerminal  = "terminal"   // the operation reached a terminal status
	ReasonDeadline  = "deadline"   // Options.Deadline passed
	ReasonContext   = "context"    // the caller's context ended (timeout, interrupt)
	ReasonStalled   = "stalled"    // no change for the stall threshold, and GiveUpWhenStalled
	ReasonPollError = "poll-error" // the state could not be learned
)

// Outcome explains where a wait stands or how it ended, in the provider's
// own words. Every *OperationError, *WaitError and final *PollError that
// Wait returns carries one; Poller.Outcome gives it at any time, for a
// successful wait too. It holds no URL query string and no token.
type Outcome struct {
	// Reason is why the wait ended (ReasonTerminal, ReasonDeadline, ...);
	// empty for an Outcome taken while the wait goes on.
	Reason string
	// Status is the last observed status; empty if never polled.
	Status Status
	// Detail is the provider's own word for the state ("CREATE_IN_PROGRESS").
	Detail string
	// Code and Message are the provider's error code and message, or its
	// last progress message.
	Code, Message string
	// Progress is the last percentage reported, or ProgressUnknown.
	Progress float64
	// Rule says what in the provider's answer decided Status (a header, a
	// field, an acceptor), as the adapter reported it.
	Rule string
	// InState is how long Status and Detail have held, as far as this
	// process saw (a resumed poller counts from the resumption).
	InState time.Duration
	// Polls counts the polls made, across resumptions; Elapsed is the
	// time since the operation started.
	Polls   int
	Elapsed time.Duration
	// Stalled reports that nothing observable changed for longer than the
	// stall threshold.
	Stalled bool
	// Remaining estimates the time left from Options.Learned: to the
	// median while younger than it, then to the 95th percentile; zero when
	// unknown or past it, and for a terminal status.
	Remaining time.Duration
}

// outcomeJSON is Outcome's JSON form: durations as Go duration strings.
type outcomeJSON struct {
	Reason    string   `json:"reason,omitempty"`
	Status    Status   `json:"status,omitempty"`
	Detail    string   `json:"detail,omitempty"`
	Code      string   `json:"code,omitempty"`
	Message   string   `json:"message,omitempty"`
	Progress  *float64 `json:"progress,omitempty"`
	Rule      string   `json:"rule,omitempty"`
	InState   string   `json:"in_state"`
	Polls     int      `json:"polls"`
	Elapsed   string   `json:"elapsed"`
	Stalled   bool     `json:"stalled,omitempty"`
	Remaining string   `json:"remaining,omitempty"`
}

// MarshalJSON writes durations as Go duration strings ("4m30s"), rounded
// to the second, and leaves out empty fields.
func (o Outcome) MarshalJSON() ([]byte, error) {
	v := outcomeJSON{Reason: o.Reason, Status: o.Status, Detail: o.Detail, Code: o.Code, Message: o.Message, Rule: o.Rule,
		InState: o.InState.Round(time.Second).String(), Polls: o.Polls, Elapsed: o.Elapsed.Round(time.Second).String(), Stalled: o.Stalled}
	if o.Progress >= 0 && o.Status != "" {
		p := o.Progress
		v.Progress = &p
	}
	if o.Remaining > 0 {
		v.Remaining = o.Remaining.Round(time.Second).String()
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (o *Outcome) UnmarshalJSON(b []byte) error {
	var v outcomeJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*o = Outcome{Reason: v.Reason, Status: v.Status, Detail: v.Detail, Code: v.Code, Message: v.Message, Rule: v.Rule,
		Polls: v.Polls, Stalled: v.Stalled, Progress: ProgressUnknown}
	if v.Progress != nil {
		o.Progress = *v.Progress
	}
	for _, d := range []struct {
		s   string
		out *time.Duration
	}{{v.InState, &o.InState}, {v.Elapsed, &o.Elapsed}, {v.Remaining, &o.Remaining}} {
		if d.s == "" {
			continue
		}
		x, err := time.ParseDuration(d.s)
		if err != nil {
			return fmt.Errorf("outcome: %w", err)
		}
		*d.out = x
	}
	return nil
}

// OutcomeOf returns the Outcome carried by an error Wait returned.
func OutcomeOf(err error) (Outcome, bool) {
	var oe *OperationError
	var we *WaitError
	var pe *PollError
	switch {
	case errors.As(err, &oe) && oe.Outcome != nil:
		return *oe.Outcome, true
	case errors.As(err, &we) && we.Outcome != nil:
		return *we.Outcome, true
	case errors.As(err, &pe) && pe.Outcome != nil:
		return *pe.Outcome, true
	}
	return Outcome{}, false
}

// Progress is one provider-neutral progress report.
type Progress struct {
	// Status is the normalized state; Phase the provider's word for it.
	Status Status
	Phase  string
	// Percent is 0..100, or ProgressUnknown when the provider gives none
	// (REST percentComplete, Google metadata progress fields and Compute
	// progress are read).
	Percent float64
	// Message is the provider's human-readable note, if any.
	Message string
	// Polls and Elapsed are as in Outcome.
	Polls   int
	Elapsed time.Duration
}

// insight is what a Poller tracks to explain itself: when the state last
// changed, why the last delay was chosen, and the trace it belongs to. It
// costs no allocation per poll.
type insight struct {
	// tr is nil unless the poller is traced or knows the span that began
	// its operation: most waiting operations are neither, and keep 8
	// bytes instead of ~100 (issue 17).
	tr         *tracing
	changed    time.Time // status, detail or progress last changed
	stateSince time.Time // status or detail last changed
	delayWhy   delayReason
	stalled    bool
	reported   bool // the current stall was reported
}

// see records obs as the current state at now.
func (in *insight) see(prev, obs Observation, now time.Time) {
	if obs.Status != prev.Status || obs.Detail != prev.Detail {
		in.stateSince = now
	}
	if obs.Status != prev.Status || obs.Detail != prev.Detail || obs.Progress != prev.Progress || obs.Message != prev.Message {
		in.changed, in.stalled, in.reported = now, false, false
	}
}

// start sets the clocks of a poller created or resumed at now.
func (in *insight) start(now time.Time) { in.changed, in.stateSince = now, now }

// stallThreshold is the stall threshold: override, else Options.StallAfter,
// else the stall factor times the learned 95th percentile; zero for none.
func stallThreshold(o *watchOptions, override time.Duration) time.Duration {
	switch {
	case override > 0:
		return override
	case o.StallAfter > 0:
		return o.StallAfter
	case o.Learned.P95 > 0:
		k := o.StallFactor
		if k <= 0 {
			k = DefaultStallFactor
		}
		return time.Duration(float64(o.Learned.P95) * k)
	}
	return 0
}

// Outcome explains the wait's state now: the last observation in the
// provider's words, time in state, polls, elapsed, the deciding rule, the
// stall flag and an estimate of the time left. Its Reason is empty; the
// errors Wait returns carry one with the reason set.
func (p *Poller[T]) Outcome() Outcome { return p.outcome("", p.clock.Now()) }

func (p *Poller[T]) outcome(reason string, now time.Time) Outcome {
	o := Outcome{
		Reason: reason, Status: p.last.Status, Detail: p.last.Detail, Message: p.last.Message, Progress: p.last.Progress,
		Rule: p.last.Rule, Polls: p.polls, Elapsed: nonNeg(now.Sub(p.created)), InState: nonNeg(now.Sub(p.ins.stateSince)),
		Stalled: p.ins.stalled,
	}
	if p.last.Status == "" {
		o.Progress, o.InState = ProgressUnknown, 0
	}
	var oe *OperationError
	if errors.As(p.last.Err, &oe) {
		o.Code = oe.Code
		if oe.Message != "" {
			o.Message = oe.Message
		}
	}
	if !p.last.Status.Terminal() {
		o.Remaining = remaining(p.watchOpts().Learned, o.Elapsed)
	}
	return o
}

// remaining estimates the time left of an operation that has run elapsed.
func remaining(l Learned, elapsed time.Duration) time.Duration {
	switch {
	case l.Median > elapsed:
		return l.Median - elapsed
	case l.P95 > elapsed:
		return l.P95 - elapsed
	}
	return 0
}

func nonNeg(d time.Duration) time.Duration { return max(d, 0) }

// progressOf is the provider-neutral view of obs.
func (p *Poller[T]) progressOf(obs Observation, now time.Time) Progress {
	return Progress{Status: obs.Status, Phase: obs.Detail, Percent: obs.Progress, Message: obs.Message,
		Polls: p.polls, Elapsed: nonNeg(now.Sub(p.created))}
}

// watchOptions are the Options that stall detection and estimates
// read after New; a Poller keeps these, not the whole Options.
// delayReason says why the poller chose its next delay (span attribute
// lrokit.delay_reason): a byte, not a string, in every waiting operation.
type delayReason uint8

const (
	delayNone delayReason = iota
	delayHint
	delayLearned
	delayFloor
	delayBackoff
)

func (r delayReason) String() string {
	switch r {
	case delayHint:
		return "hint"
	case delayLearned:
		return "learned"
	case delayFloor:
		return "floor"
	case delayBackoff:
		return "backoff"
	}
	return ""
}

type watchOptions struct {
	StallAfter        time.Duration
	StallFactor       float64
	Learned           Learned
	GiveUpWhenStalled bool
}

package fakecloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/lrokit/lrokit/poller"
)

// Provider is the provider name of fake tokens.
const Provider = "fake"

// Cloud is a set of fake hosts on one clock. It is safe for concurrent use.
type Cloud struct {
	clock poller.Clock

	mu     sync.Mutex
	hosts  map[string]*Host
	starts int
}

// New returns a cloud on clock whose hosts have no rate limit until Limit
// sets one.
func New(clock poller.Clock) *Cloud {
	return &Cloud{clock: clock, hosts: map[string]*Host{}}
}

// Host is one fake API endpoint.
type Host struct {
	Name string

	mu       sync.Mutex
	lim      *rate.Limiter
	log      []Request
	requests int
	refused  int
	record   bool
}

// Request is one request a limited host received.
type Request struct {
	At time.Time
	// RetryAfter is what a refusal answered; 0 for a served request.
	RetryAfter time.Duration
	Refused    bool
}

// Host returns the host called name, creating it (unlimited) if needed.
func (c *Cloud) Host(name string) *Host {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hosts[name]
	if h == nil {
		h = &Host{Name: name}
		c.hosts[name] = h
	}
	return h
}

// Limit gives host a server-side token bucket of limit requests per second
// and burst, and records the time of each request it accepts.
func (c *Cloud) Limit(name string, limit rate.Limit, burst int) *Host {
	h := c.Host(name)
	h.mu.Lock()
	h.lim = rate.NewLimiter(limit, burst)
	h.lim.SetLimitAt(c.clock.Now(), limit) // the bucket starts full now
	h.record = true
	h.mu.Unlock()
	return h
}

// admit decides whether the host serves a request at now; when it refuses,
// it returns the Retry-After it answers (whole seconds, as HTTP sends it).
func (h *Host) admit(now time.Time) (bool, time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests++
	if h.lim == nil {
		return true, 0
	}
	r := h.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		h.refused++
		ra := time.Duration(math.Ceil(d.Seconds())) * time.Second
		if h.record {
			h.log = append(h.log, Request{At: now, RetryAfter: ra, Refused: true})
		}
		return false, ra
	}
	if h.record {
		h.log = append(h.log, Request{At: now})
	}
	return true, 0
}

// Counts returns the requests the host received and how many it refused.
func (h *Host) Counts() (requests, refused int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests, h.refused
}

// Log returns the requests a limited host received, in order.
func (h *Host) Log() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Request(nil), h.log...)
}

// Starts counts the operations started (initial requests).
func (c *Cloud) Starts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.starts
}

// Spec describes a fake operation.
type Spec struct {
	// Host it is polled on and Kind (for priors).
	Host, Kind string
	// Duration after which it succeeds; or, when Polls is set, the number
	// of polls after which it succeeds.
	Duration time.Duration
	Polls    int
	// Fail makes it end Failed instead.
	Fail bool
	// Gone makes every poll answer that the operation no longer exists.
	Gone bool
	// RetryAfter, when set, is the initial response's Retry-After.
	RetryAfter time.Duration
}

type state struct {
	Host  string `json:"host"`
	Kind  string `json:"kind"`
	Start int64  `json:"start"` // unix nanoseconds
	Dur   int64  `json:"dur,omitempty"`
	Polls int    `json:"polls,omitempty"`
	Seen  int    `json:"seen,omitempty"`
	Fail  bool   `json:"fail,omitempty"`
	Gone  bool   `json:"gone,omitempty"`
}

// Start "sends the initial request" of an operation and returns its resume
// token.
func (c *Cloud) Start(s Spec) (string, error) {
	c.mu.Lock()
	c.starts++
	c.mu.Unlock()
	op := &Operation{c: c, st: state{Host: s.Host, Kind: s.Kind, Start: c.clock.Now().UnixNano(), Dur: int64(s.Duration), Polls: s.Polls, Fail: s.Fail, Gone: s.Gone}}
	po := &poller.Options{Clock: c.clock, Started: c.clock.Now()}
	if s.RetryAfter > 0 {
		po.Initial = &poller.Observation{Status: poller.StatusRunning, Progress: poller.ProgressUnknown, RetryAfter: s.RetryAfter}
	}
	p, err := poller.New[json.RawMessage](op, po)
	if err != nil {
		return "", err
	}
	return p.ResumeToken()
}

// Resume rebuilds the poller of a fake token; it sends no request.
func (c *Cloud) Resume(_ context.Context, token string, opts *poller.Options) (*poller.Poller[json.RawMessage], Spec, error) {
	var po poller.Options
	if opts != nil {
		po = *opts
	}
	tok, err := po.DecodeToken(token)
	if err != nil {
		return nil, Spec{}, err
	}
	if tok.Provider != Provider || tok.Kind != "op" {
		return nil, Spec{}, fmt.Errorf("fakecloud: token is for %s/%s: %w", tok.Provider, tok.Kind, poller.ErrInvalidToken)
	}
	var st state
	if err := json.Unmarshal(tok.State, &st); err != nil {
		return nil, Spec{}, fmt.Errorf("fakecloud: token state: %w", poller.ErrInvalidToken)
	}
	p, err := poller.Resume[json.RawMessage](&Operation{c: c, st: st}, tok, opts)
	if err != nil {
		return nil, Spec{}, err
	}
	return p, Spec{Host: st.Host, Kind: st.Kind, Duration: time.Duration(st.Dur), Polls: st.Polls, Fail: st.Fail, Gone: st.Gone}, nil
}

// Operation is a fake operation; it implements poller.Operation.
type Operation struct {
	c  *Cloud
	st state
}

// Poll asks the operation's host for its state: 429 when the host's limit
// refuses, Running until it finishes, then Succeeded (or Failed).
func (o *Operation) Poll(ctx context.Context) (poller.Observation, error) {
	if err := ctx.Err(); err != nil {
		return poller.Observation{}, err
	}
	now := o.c.clock.Now()
	if ok, ra := o.c.Host(o.st.Host).admit(now); !ok {
		return poller.Observation{}, poller.Throttled(errors.New("429 Too Many Requests"), ra)
	}
	if o.st.Gone {
		return poller.Observation{}, fmt.Errorf("404 Not Found: %w", poller.ErrOperationNotFound)
	}
	o.st.Seen++
	done := now.Sub(time.Unix(0, o.st.Start)) >= time.Duration(o.st.Dur)
	if o.st.Polls > 0 {
		done = o.st.Seen >= o.st.Polls
	}
	switch {
	case !done:
		return poller.Observation{Status: poller.StatusRunning, Detail: "InProgress", Progress: poller.ProgressUnknown}, nil
	case o.st.Fail:
		return poller.Observation{Status: poller.StatusFailed, Detail: "Failed", Progress: poller.ProgressUnknown,
			Err: &poller.OperationError{Code: "Boom", Message: "the fake operation failed"}}, nil
	}
	return poller.Observation{Status: poller.StatusSucceeded, Detail: "Succeeded", Progress: 100}, nil
}

// Result returns an empty JSON object.
func (o *Operation) Result(_ context.Context, out any) error {
	if p, ok := out.(*json.RawMessage); ok {
		*p = json.RawMessage(`{}`)
	}
	return nil
}

// Token returns the operation's state.
func (o *Operation) Token() (poller.Token, error) {
	b, err := json.Marshal(o.st)
	if err != nil {
		return poller.Token{}, err
	}
	return poller.Token{Provider: Provider, Kind: "op", State: b}, nil
}

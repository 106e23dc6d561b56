package bench

import (
	"errors"
	"math"
	"time"

	"golang.org/x/time/rate"

	"github.com/lrokit/lrokit/poller/pollertest"
)

// HintMode is what a hinting host puts in Retry-After while an operation runs.
type HintMode int

const (
	// HintNone: no Retry-After at all.
	HintNone HintMode = iota
	// HintAccurate: the time left, rounded up to whole seconds (delay-seconds,
	// RFC 9110 §10.2.3, has no fractions).
	HintAccurate
	// HintGuess: the same fixed value whatever the operation (ServerSpec.Guess).
	HintGuess
	// HintZero: always "Retry-After: 0".
	HintZero
)

func (h HintMode) String() string {
	return [...]string{"none", "accurate", "guess", "zero"}[h]
}

// ServerSpec describes the simulated servers: their hints and their faults.
type ServerSpec struct {
	Hint HintMode
	// HintShare is the share of hosts that send hints (0..1).
	HintShare float64
	// Guess is the fixed Retry-After of HintGuess.
	Guess time.Duration
	// RateLimit is each host's sustained rate in requests per second; over
	// it (and its Burst) a request gets 429 with a Retry-After of the time
	// until a token is free, at least 1 s. Zero means no limit.
	RateLimit float64
	Burst     int
	// ErrorRate is the probability that a request that passed the rate
	// limit fails with a transient 503 (no Retry-After).
	ErrorRate float64
}

// Response is what the simulated server answered to one request.
type Response struct {
	Code       int // 200, 429 or 503
	Done       bool
	RetryAfter time.Duration
	// Hinted reports a Retry-After header, even "0".
	Hinted bool
}

// Errors the simulated operation returns to the core, classified as its
// adapters would.
var (
	errThrottled   = errors.New("429 too many requests")
	errUnavailable = errors.New("503 service unavailable")
)

// Epoch is virtual time zero.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Env is one run's world: the operations, the servers and the accounting.
// Drivers make every request through Request and report every end with
// Detected or Abandoned. Env is not safe for concurrent use.
type Env struct {
	W    *Workload
	Spec ServerSpec
	// Clock is the virtual clock of the run, for drivers built on the core.
	Clock *pollertest.Clock

	seed      uint64
	hinting   []bool
	limiters  []*rate.Limiter
	requests  []int32
	ended     []time.Duration // detection time, or -1 abandoned; 0 open
	endState  []uint8
	throttled int
	errors5xx int
	// throttledAt holds the times of each host's 429s, in order.
	throttledAt [][]time.Duration
	// script, in tests, answers instead of the servers: the op, the time
	// and how many requests the op made before this one.
	script func(op *Op, now time.Duration, n int) Response
	// push is the push row's driver, whose notification times MeasurePush reads.
	push *pushDriver
}

const (
	open uint8 = iota
	detected
	abandoned
)

func newEnv(w *Workload, spec ServerSpec, seed uint64) *Env {
	hosts := max(w.Spec.Hosts, 1)
	e := &Env{
		W: w, Spec: spec, Clock: pollertest.NewClock(Epoch), seed: seed,
		hinting:     make([]bool, hosts),
		throttledAt: make([][]time.Duration, hosts),
		requests:    make([]int32, len(w.Ops)),
		ended:       make([]time.Duration, len(w.Ops)),
		endState:    make([]uint8, len(w.Ops)),
	}
	nh := int(math.Round(spec.HintShare * float64(hosts)))
	for h := 0; h < nh && spec.Hint != HintNone; h++ {
		e.hinting[h] = true
	}
	if spec.RateLimit > 0 {
		e.limiters = make([]*rate.Limiter, hosts)
		for h := range e.limiters {
			e.limiters[h] = rate.NewLimiter(rate.Limit(spec.RateLimit), max(spec.Burst, 1))
		}
	}
	return e
}

// Time converts virtual time to a time.Time on Clock's scale.
func (e *Env) Time(d time.Duration) time.Time { return Epoch.Add(d) }

// hint is the Retry-After a running operation's response carries at now.
func (e *Env) hint(op *Op, now time.Duration) (time.Duration, bool) {
	if !e.hinting[op.Host] {
		return 0, false
	}
	switch e.Spec.Hint {
	case HintAccurate:
		left := op.Completion() - now
		return ((left + time.Second - 1) / time.Second) * time.Second, true
	case HintGuess:
		return e.Spec.Guess, true
	case HintZero:
		return 0, true
	}
	return 0, false
}

// Initial is the response to the request that started op: running, with the
// host's hint. It is not counted as a poll.
func (e *Env) Initial(op *Op) Response {
	ra, hinted := e.hint(op, op.Start)
	return Response{Code: 200, RetryAfter: ra, Hinted: hinted}
}

// Request is one poll of op at virtual time now.
func (e *Env) Request(op *Op, now time.Duration) Response {
	if e.endState[op.ID] != open {
		panic("bench: request for an operation whose wait already ended")
	}
	n := e.requests[op.ID]
	e.requests[op.ID]++
	if e.script != nil {
		r := e.script(op, now, int(n))
		switch r.Code {
		case 429:
			e.throttle(op, now)
		case 503:
			e.errors5xx++
		}
		return r
	}
	if e.limiters != nil {
		lim := e.limiters[op.Host]
		t := e.Time(now)
		if !lim.AllowN(t, 1) {
			e.throttle(op, now)
			wait := (1 - lim.TokensAt(t)) / e.Spec.RateLimit
			ra := time.Duration(math.Ceil(max(wait, 1))) * time.Second
			return Response{Code: 429, RetryAfter: ra, Hinted: true}
		}
	}
	if e.Spec.ErrorRate > 0 && unit(e.seed, uint64(op.ID), uint64(n)) < e.Spec.ErrorRate {
		e.errors5xx++
		return Response{Code: 503}
	}
	if now >= op.Completion() {
		return Response{Code: 200, Done: true}
	}
	ra, hinted := e.hint(op, now)
	return Response{Code: 200, RetryAfter: ra, Hinted: hinted}
}

func (e *Env) throttle(op *Op, now time.Duration) {
	e.throttled++
	e.throttledAt[op.Host] = append(e.throttledAt[op.Host], now)
}

// Detected reports that a poll at now saw op finished.
func (e *Env) Detected(op *Op, now time.Duration) {
	if now < op.Completion() {
		panic("bench: operation detected before it completed")
	}
	e.end(op, now, detected)
}

// Abandoned reports that the wait on op ended without seeing it finish.
func (e *Env) Abandoned(op *Op, now time.Duration) { e.end(op, now, abandoned) }

func (e *Env) end(op *Op, now time.Duration, st uint8) {
	if e.endState[op.ID] != open {
		panic("bench: an operation's wait ended twice")
	}
	e.endState[op.ID] = st
	e.ended[op.ID] = now
}

// unit is a deterministic uniform number in [0, 1) for (seed, a, b): the
// same request of the same operation fails the same way in every strategy.
func unit(seed, a, b uint64) float64 {
	x := seed ^ a*0x9e3779b97f4a7c15 ^ b*0xc2b2ae3d27d4eb4f
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

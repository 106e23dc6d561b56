package bench

import (
	"context"
	"errors"
	"math/rand"
	"slices"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// simOperation is the adapter the core polls: one round trip to the
// simulated server per Poll, classified as the real adapters classify
// (429 → poller.Throttled with the server's Retry-After, 503 →
// poller.Transient).
type simOperation struct {
	env *Env
	op  *Op
}

// Operation returns op as a poller.Operation whose Poll asks the simulated
// server at the time of env.Clock.
func (e *Env) Operation(op *Op) poller.Operation { return &simOperation{env: e, op: op} }

func (o *simOperation) Poll(context.Context) (poller.Observation, error) {
	now := o.env.Clock.Now().Sub(Epoch)
	r := o.env.Request(o.op, now)
	switch {
	case r.Code == 429:
		return poller.Observation{}, poller.Throttled(errThrottled, r.RetryAfter)
	case r.Code != 200:
		return poller.Observation{}, poller.Transient(errUnavailable, r.RetryAfter)
	case r.Done:
		return poller.Observation{Status: poller.StatusSucceeded, Detail: "Succeeded", Progress: 100}, nil
	}
	return running(r), nil
}

func running(r Response) poller.Observation {
	return poller.Observation{Status: poller.StatusRunning, Detail: "Running", Progress: poller.ProgressUnknown,
		RetryAfter: r.RetryAfter, Hinted: r.Hinted}
}

func (o *simOperation) Result(context.Context, any) error { return nil }

func (o *simOperation) Token() (poller.Token, error) {
	return poller.Token{Provider: "sim", Kind: o.env.W.Kinds[o.op.Kind].Name}, nil
}

// Priors learns each kind's durations and hands out an early quantile of
// them as poller.Policy.Expected, as the fleet engine's learned priors do.
// The durations it learns are the observed ones (detection minus start,
// lag included), since that is all a client can know.
type Priors struct {
	// Quantile is the early quantile used as Expected.
	Quantile float64
	// MinSamples is how many completions of a kind are needed before its
	// prior is used.
	MinSamples int
	// Holds, if set, are fixed priors per kind (see WarmPriors): Expected
	// returns Holds[k] whatever has been observed since.
	Holds   []time.Duration
	samples map[int][]time.Duration
}

// Default prior parameters: the 1 % quantile once 50 completions are known.
const (
	DefaultPriorQuantile = 0.01
	DefaultPriorSamples  = 50
)

// NewPriors returns an empty learner with the default parameters.
func NewPriors() *Priors {
	return &Priors{Quantile: DefaultPriorQuantile, MinSamples: DefaultPriorSamples, samples: map[int][]time.Duration{}}
}

// Observe records one completed operation of kind k that took d.
func (p *Priors) Observe(k int, d time.Duration) {
	s := p.samples[k]
	i, _ := slices.BinarySearch(s, d)
	p.samples[k] = slices.Insert(s, i, d)
}

// Expected returns the prior of kind k: the Quantile of its durations, or
// 0 while fewer than MinSamples are known.
func (p *Priors) Expected(k int) time.Duration {
	if p.Holds != nil {
		return p.Holds[k]
	}
	s := p.samples[k]
	if len(s) < max(p.MinSamples, 1) {
		return 0
	}
	return s[rank(len(s), p.Quantile)]
}

// Lrokit is the core alone: one poller.Poller per operation with policy, on
// the run's virtual clock, scheduled by its NextPollAt.
func Lrokit(label string, policy poller.Policy) Strategy {
	return lrokitStrategy(label, policy, nil)
}

// LrokitPriors is Lrokit with Policy.Expected taken from priors learned
// online: from the operations of the same kind that completed earlier in
// the same run. warm, if not nil, pre-loads the learner (a store that
// already holds earlier runs' completions).
func LrokitPriors(label string, policy poller.Policy, warm func() *Priors) Strategy {
	if warm == nil {
		warm = NewPriors
	}
	return lrokitStrategy(label, policy, warm)
}

func lrokitStrategy(label string, policy poller.Policy, priors func() *Priors) Strategy {
	return PerOp{Label: label, Setup: func(env *Env) StartFunc {
		seedGlobalRand(env.seed)
		var learn *Priors
		if priors != nil {
			learn = priors()
		}
		return func(env *Env, op *Op, now time.Duration) (Waiter, time.Duration) {
			env.Clock.Set(env.Time(now))
			pol := policy
			if learn != nil {
				pol.Expected = learn.Expected(op.Kind)
			}
			init := running(env.Initial(op))
			p, err := poller.New[struct{}](env.Operation(op), &poller.Options{Policy: pol, Clock: env.Clock, Initial: &init})
			if err != nil {
				panic(err)
			}
			w := &lrokitWaiter{env: env, op: op, p: p, priors: learn}
			return w, p.NextPollAt().Sub(Epoch)
		}
	}}
}

type lrokitWaiter struct {
	env    *Env
	op     *Op
	p      *poller.Poller[struct{}]
	priors *Priors
}

func (w *lrokitWaiter) Step(now time.Duration) (time.Duration, bool) {
	w.env.Clock.Set(w.env.Time(now))
	if _, err := w.p.Poll(context.Background()); err != nil {
		var pe *poller.PollError
		if !errors.As(err, &pe) || pe.Final {
			w.env.Abandoned(w.op, now)
			return 0, true
		}
	}
	if w.p.Done() {
		w.env.Detected(w.op, now)
		if w.priors != nil {
			w.priors.Observe(w.op.Kind, now-w.op.Start)
		}
		return 0, true
	}
	return w.p.NextPollAt().Sub(Epoch), false
}

// seedGlobalRand seeds math/rand's global source, which the core's jitter
// (through backoff/v4) and gax's Backoff draw from. It takes effect only
// with GODEBUG randseednop=0 (set by cmd/lrobench and this package's tests
// with //go:debug); otherwise those draws, and so the last digits of the
// results, vary from run to run.
func seedGlobalRand(seed uint64) {
	//lint:ignore SA1019 the only way to make third-party draws from the global source reproducible
	rand.Seed(int64(seed)) //nolint:staticcheck
}

// GlobalRandSeeded reports whether seedGlobalRand makes math/rand's global
// source reproducible in this process.
func GlobalRandSeeded() bool {
	seedGlobalRand(1)
	a := rand.Int63()
	seedGlobalRand(1)
	return a == rand.Int63()
}

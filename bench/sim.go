package bench

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"time"
)

// Strategy is a way of waiting for operations: one row of the table.
type Strategy interface {
	Name() string
	// NewDriver returns the strategy's driver for one run in env.
	NewDriver(env *Env) Driver
}

// Driver watches every operation of one run. The simulator calls Start when
// an operation begins and Step whenever the driver's earliest event, as told
// by Next, is due; time never goes backwards. A driver makes each request
// through Env.Request and reports each end with Env.Detected or
// Env.Abandoned. A scheduler of many operations (the fleet engine) implements
// Driver directly; per-operation wait loops use PerOp.
type Driver interface {
	Start(op *Op, now time.Duration)
	// Next returns the time of the earliest pending event; false when idle.
	Next() (time.Duration, bool)
	// Step handles the event Next returned.
	Step(now time.Duration)
}

// Waiter is the wait loop of one operation as a state machine: each Step
// makes one request and says when the next is due, or that the wait ended
// (already reported to the Env).
type Waiter interface {
	Step(now time.Duration) (next time.Duration, done bool)
}

// StartFunc begins waiting on op at now: its Waiter and its first request time.
type StartFunc func(env *Env, op *Op, now time.Duration) (Waiter, time.Duration)

// PerOp is a Strategy of independent per-operation wait loops, scheduled by
// one priority queue.
type PerOp struct {
	Label string
	// Setup, if set, runs when a run begins and returns the StartFunc for it
	// (to hold per-run state such as learned priors or per-host clients).
	Setup func(env *Env) StartFunc
}

// Name returns Label.
func (s PerOp) Name() string { return s.Label }

// NewDriver returns a driver scheduling one Waiter per operation.
func (s PerOp) NewDriver(env *Env) Driver {
	return &perOpDriver{start: s.Setup(env), env: env, waiters: make([]Waiter, len(env.W.Ops))}
}

type perOpDriver struct {
	env     *Env
	start   StartFunc
	waiters []Waiter
	q       eventQueue
}

func (d *perOpDriver) Start(op *Op, now time.Duration) {
	w, at := d.start(d.env, op, now)
	d.waiters[op.ID] = w
	d.q.push(at, op.ID)
}

func (d *perOpDriver) Next() (time.Duration, bool) {
	if len(d.q.ev) == 0 {
		return 0, false
	}
	return d.q.ev[0].at, true
}

func (d *perOpDriver) Step(now time.Duration) {
	ev := d.q.pop()
	next, done := d.waiters[ev.op].Step(now)
	if done {
		d.waiters[ev.op] = nil
		return
	}
	if next <= now {
		panic(fmt.Sprintf("bench: waiter of op %d scheduled at %v, not after %v", ev.op, next, now))
	}
	d.q.push(next, ev.op)
}

// eventQueue is a binary min-heap ordered by time, then by insertion.
type eventQueue struct {
	ev  []event
	seq uint64
}

type event struct {
	at  time.Duration
	seq uint64
	op  int
}

func (e event) less(f event) bool { return e.at < f.at || (e.at == f.at && e.seq < f.seq) }

func (q *eventQueue) push(at time.Duration, op int) {
	q.seq++
	q.ev = append(q.ev, event{at: at, seq: q.seq, op: op})
	i := len(q.ev) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.ev[i].less(q.ev[p]) {
			break
		}
		q.ev[i], q.ev[p] = q.ev[p], q.ev[i]
		i = p
	}
}

func (q *eventQueue) pop() event {
	top := q.ev[0]
	n := len(q.ev) - 1
	q.ev[0] = q.ev[n]
	q.ev = q.ev[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && q.ev[l].less(q.ev[m]) {
			m = l
		}
		if r < n && q.ev[r].less(q.ev[m]) {
			m = r
		}
		if m == i {
			break
		}
		q.ev[i], q.ev[m] = q.ev[m], q.ev[i]
		i = m
	}
	return top
}

// Run is the raw outcome of one strategy on one workload.
type Run struct {
	Strategy string
	Env      *Env
	CPU      time.Duration
	// HeapPeak is the peak of heap object bytes during the run, above the
	// level before it started (sampled every 1024 events).
	HeapPeak uint64
	Events   int
}

// Simulate runs strategy s on workload w against servers spec. seed decides
// the servers' transient errors.
func Simulate(w *Workload, spec ServerSpec, s Strategy, seed uint64) *Run {
	env := newEnv(w, spec, seed)
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := heap()
	peak := base
	cpu0 := cpuTime()

	d := s.NewDriver(env)
	ops := w.Ops
	i, events := 0, 0
	for {
		t, ok := d.Next()
		if i < len(ops) && (!ok || ops[i].Start <= t) {
			d.Start(&ops[i], ops[i].Start)
			i++
		} else if ok {
			d.Step(t)
		} else {
			break
		}
		events++
		if events&1023 == 0 {
			peak = max(peak, heap())
		}
	}
	peak = max(peak, heap())
	r := &Run{Strategy: s.Name(), Env: env, CPU: cpuTime() - cpu0, HeapPeak: peak - base, Events: events}
	runtime.KeepAlive(d)
	for id, st := range env.endState {
		if st == open {
			panic(fmt.Sprintf("bench: %s never ended the wait on op %d", s.Name(), id))
		}
	}
	return r
}

package fleet

import (
	"container/heap"
	"slices"
	"strings"
	"time"
)

// pollPlan is everything the schedule decision looks at for one operation.
type pollPlan struct {
	Now, Created time.Time
	// Next is the poller's own choice: its schedule after the last answer,
	// or the server's Retry-After.
	Next time.Time
	// Hinted reports that the server chose Next (a Retry-After at or above
	// the floor; see poller.Observation.Hinted).
	Hinted bool
	// Wake reports that Engine.Wake asked for a poll now.
	Wake bool
	// Hold is what the operation's kind has learned (see priors.hold).
	Hold hold
}

// hold is a kind's learned evidence about an operation of a given age.
type hold struct {
	// Until, when positive, is the kind's early quantile: completion before
	// Created+Until is implausible.
	Until time.Duration
	// Open reports that no quantile is known yet but at least MinSamples
	// watched operations of the kind, older than this one, were all still
	// running: its completion is implausible now. The decision is taken
	// again after Recheck instead of polling.
	Open    bool
	Recheck time.Duration
}

// nextPoll is the engine's scheduling decision, a pure function: when to
// poll an operation next, and whether to decide again at that time before
// polling (an open hold). In order: a wake-up polls now; a server's hint
// is obeyed as the poller took it; a learned quantile holds the poll until
// the operation reaches it; an open hold puts the question off; otherwise
// the poller's own schedule.
func nextPoll(p pollPlan) (at time.Time, decideAgain bool) {
	switch {
	case p.Wake:
		return p.Now, false
	case p.Hinted:
		return p.Next, false
	case p.Hold.Until > 0:
		return later(p.Next, p.Created.Add(p.Hold.Until)), false
	case p.Hold.Open:
		return later(p.Next, p.Now.Add(p.Hold.Recheck)), true
	}
	return p.Next, false
}

// urgency ranks an operation that is due on a host that cannot poll every
// due operation at once (a together start: a thousand first polls at the
// floor, or a kind's held operations released together).
type urgency struct {
	// Progress is the share of the operation's kind that has finished by
	// the age its samples were last seen at (Kaplan–Meier over the
	// samples, the running ones censored): 0 while every sample still runs.
	Progress float64
	// Due is when the operation was due.
	Due time.Time
}

// pollsFirst orders the due operations of a host: those of the kind
// furthest along first (by tenths; see progressTier), then the one due
// first, then by key (a total order, so the benchmark is reproducible). On
// a saturated host this spends the requests where completions happen: in a
// together start, on the kinds whose samples are finishing (most on the
// shortest) rather than on the samples of kinds that take an hour. Kinds
// that are settled compete by due time, so that a steady mix of kinds on a
// saturated host does not starve one of them. (Ranking by a deadline, the
// time by which a poll keeps a relative lag of 0.35, measured no better
// than the due time; pulling a poll earlier by its kind's progress instead
// of ranking by it lost the gain.)
func pollsFirst(a, b urgency, ka, kb string) bool {
	ta, tb := progressTier(a.Progress), progressTier(b.Progress)
	switch {
	case ta != tb:
		return ta > tb
	case !a.Due.Equal(b.Due):
		return a.Due.Before(b.Due)
	}
	return ka < kb
}

// progressTier buckets a kind's progress: 0 while nothing has finished,
// then by tenths, and one tier for kinds settled at 90 % or more (a kind in
// steady state: its finished samples outnumber those still running).
func progressTier(p float64) int {
	switch {
	case p <= 0:
		return 0
	case p >= 0.9:
		return 10
	}
	return 1 + int(p*10)
}

func (en *entry) urgency() urgency {
	u := urgency{Due: en.due}
	if en.kp != nil {
		u.Progress = en.kp.progress
	}
	return u
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// decide gathers en's plan and takes the decision at now; polls no signal
// asked for are stretched while its source delivers (signals.quiet).
func (e *Engine) decide(en *entry, now time.Time) (time.Time, bool) {
	at, again := e.decideOwn(en, now)
	if !en.wake && !en.op.Poller.Last().Hinted {
		at = e.sig.quiet(en, at, now)
	}
	return at, again
}

// decideOwn is decide without the stretch a delivering source allows.
func (e *Engine) decideOwn(en *entry, now time.Time) (time.Time, bool) {
	p := en.op.Poller
	plan := pollPlan{Now: now, Created: p.Created(), Next: p.NextPollAt(), Hinted: p.Last().Hinted, Wake: en.wake}
	if !en.sample && !plan.Hinted {
		age := now.Sub(plan.Created)
		plan.Hold = e.priors.hold(en.op.Kind, age, now)
		if plan.Hold.Open {
			plan.Hold.Recheck = e.opts.Policy.BaseDelay(age)
		}
	}
	return nextPoll(plan)
}

// schedule queues en for its next poll.
func (e *Engine) schedule(en *entry, now time.Time) {
	en.due, en.deferred = e.decide(en, now)
	en.signaled = en.wake // a signal during the poll asked for this one
	en.wake = false
	en.kp = e.priors.ranking(en.op.Kind)
	en.host.push(en)
	e.ready.update(en.host)
}

// rehold decides again, at now, the operations of kind held open (no
// quantile known yet) once the kind has learned one, and moves their polls
// earlier if it says so. Without it an operation held open waits for its
// next recheck (a third of its age later) after the kind's first
// completions showed that its own is plausible: in a together start the
// whole kind is released late. Operations held by a quantile already
// learned keep it (one fast outlier does not release a whole kind).
func (e *Engine) rehold(kind string, now time.Time) {
	for _, h := range e.hostsByName() {
		moved := false
		for _, q := range [][]*entry{h.queue, h.due} {
			for _, en := range q {
				if en.op.Kind != kind || !en.deferred || !en.due.After(now) {
					continue
				}
				if at, again := e.decide(en, now); at.Before(en.due) {
					en.due, en.deferred = at, again
					moved = true
				}
			}
		}
		if moved {
			h.reorder(now)
			e.ready.update(h)
		}
	}
}

// rerank restores the order of every host's due operations after a kind's
// progress changed (each host's heap on its own: map order does not
// matter).
func (e *Engine) rerank() {
	for _, h := range e.hosts {
		if len(h.due) > 1 {
			heap.Init((*dueHeap)(h))
		}
	}
}

// hostsByName lists the hosts in name order, so that what is done to each
// does not depend on map order.
func (e *Engine) hostsByName() []*host {
	hs := make([]*host, 0, len(e.hosts))
	for _, h := range e.hosts {
		hs = append(hs, h)
	}
	slices.SortFunc(hs, func(a, b *host) int { return strings.Compare(a.name, b.name) })
	return hs
}

// PollSooner moves the next poll of the operation under key to at (or now,
// whichever is later) if that is earlier than planned, within its host's
// rate limit, for a push notification that says it changed. It reports
// whether this engine holds the operation. See also Wake.
func (e *Engine) PollSooner(key string, at time.Time) bool {
	e.mu.Lock()
	en, ok := e.ops[key]
	if ok && !en.inflight && en.host != nil && en.idx >= 0 {
		at = later(at, e.clock.Now())
		if at.Before(en.due) {
			en.due, en.deferred = at, false
			en.host.fix(en)
			e.ready.update(en.host)
		}
	}
	e.mu.Unlock()
	if ok {
		e.poke()
	}
	return ok
}

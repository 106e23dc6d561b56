package fleet

import "time"

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
	en.host.push(en)
	e.ready.update(en.host)
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

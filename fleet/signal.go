package fleet

import (
	"time"
)

// Signal says that some operations may have changed: a push notification,
// a message pulled from a queue. It is a hint and nothing else: the
// operations it names are polled at the next opportunity (within their
// host's rate limit), and that poll decides what happened. A lost, late,
// duplicated or forged signal therefore never changes a result; at worst it
// costs a poll.
type Signal struct {
	// Source names where the signal came from ("webhook", "pubsub",
	// "sqs"), for logs and stats.
	Source string
	// Keys are store keys of operations, when the sender knows them.
	Keys []string
	// Refs identify resources or operations as the notification names
	// them: URLs, Google operation or resource names, ARNs, stack names,
	// instance ids. They are normalised with MatchKeys and looked up in
	// the index the engine derives from each held operation's token (and
	// Op.Match).
	Refs []string
}

// SignalOptions configure how signals move polls, and how the schedule
// learns from a source that delivers.
type SignalOptions struct {
	// Gap is the least time between an operation's previous poll and a
	// poll a signal asks for: duplicated or forged signals cost at most
	// one poll per Gap per operation. Default 1 s.
	Gap time.Duration
	// Quiet is the delay between polls without a signal, for operations of
	// a host and kind whose source has delivered within Trust: the poller's
	// own schedule is stretched to at least Quiet after the previous poll.
	// Default twice the policy's Cap (120 s with the default policy): a
	// source that falls silent costs at most twice the poll-only schedule's
	// longest delay, which bounds its p99 detection lag. Negative disables
	// learning.
	Quiet time.Duration
	// Trust is how long a delivery counts. A delivery is a signal that led
	// to the poll that found an operation of the host and kind terminal;
	// signals that found nothing build no trust. Default 15 min.
	Trust time.Duration
}

func (o SignalOptions) resolved(cap time.Duration) SignalOptions {
	if o.Gap <= 0 {
		o.Gap = time.Second
	}
	if o.Quiet == 0 {
		o.Quiet = 2 * cap
	}
	if o.Trust <= 0 {
		o.Trust = 15 * time.Minute
	}
	return o
}

// SignalStats count the signals an engine received.
type SignalStats struct {
	// Received counts Signal calls.
	Received int64
	// Matched counts operations a signal named that this engine holds
	// (an operation named twice by one signal counts once).
	Matched int64
	// Unmatched counts signals that named no held operation: late (the
	// operation is done), for another engine, or for nothing watched.
	Unmatched int64
	// Delivered counts operations whose terminal state a signaled poll
	// found.
	Delivered int64
}

// signals is the engine's index from match keys to held operations, and
// what it learned of the sources per host and kind.
type signals struct {
	opts  SignalOptions
	index map[string]map[*entry]struct{}
	trust map[string]time.Time // host+"\x00"+kind → last delivery
	stats SignalStats
}

func newSignals(o SignalOptions) *signals {
	return &signals{opts: o, index: map[string]map[*entry]struct{}{}, trust: map[string]time.Time{}}
}

func (s *signals) add(en *entry) {
	for _, k := range en.match {
		set := s.index[k]
		if set == nil {
			set = map[*entry]struct{}{}
			s.index[k] = set
		}
		set[en] = struct{}{}
	}
}

func (s *signals) remove(en *entry) {
	for _, k := range en.match {
		if set := s.index[k]; set != nil {
			delete(set, en)
			if len(set) == 0 {
				delete(s.index, k)
			}
		}
	}
}

func trustKey(en *entry) string { return en.op.Host + "\x00" + en.op.Kind }

// finished learns from an operation that reached a terminal state.
func (s *signals) finished(en *entry, now time.Time) {
	if en.signaled {
		s.stats.Delivered++
		s.trust[trustKey(en)] = now
	}
}

// quiet stretches at, a poll not asked for by a signal, when the
// operation's host and kind have a source that delivered within Trust.
func (s *signals) quiet(en *entry, at, now time.Time) time.Time {
	if s.opts.Quiet < 0 || len(s.trust) == 0 {
		return at
	}
	last, ok := s.trust[trustKey(en)]
	if !ok {
		return at
	}
	if now.Sub(last) > s.opts.Trust {
		delete(s.trust, trustKey(en))
		return at
	}
	return later(at, en.prevPoll.Add(s.opts.Quiet))
}

// Signal takes a hint that the operations sig names may have changed: each
// one this engine holds is polled at the next opportunity, at least
// SignalOptions.Gap after its previous poll, within its host's rate limit;
// one whose poll is in flight is polled again once it returns (the change
// may postdate it). Nothing else changes: the poll decides the outcome. It
// returns how many held operations sig named; it never blocks on I/O and
// is safe to call from any goroutine, including OnEvent.
func (e *Engine) Signal(sig Signal) int {
	now := e.clock.Now()
	e.mu.Lock()
	e.sig.stats.Received++
	hit := map[*entry]struct{}{}
	for _, k := range sig.Keys {
		if en := e.ops[k]; en != nil {
			hit[en] = struct{}{}
		}
	}
	for _, r := range sig.Refs {
		for _, k := range MatchKeys(r) {
			for en := range e.sig.index[k] {
				hit[en] = struct{}{}
			}
		}
	}
	for en := range hit {
		en.signaled = true
		switch {
		case en.inflight:
			en.wake = true
		case en.host != nil && en.idx >= 0:
			at := later(now, en.prevPoll.Add(e.sig.opts.Gap))
			if at.Before(en.due) {
				en.due, en.deferred = at, false
				en.host.fix(en)
				e.ready.update(en.host)
			} else {
				en.deferred = false // poll at due rather than hold again
			}
		}
	}
	e.sig.stats.Matched += int64(len(hit))
	if len(hit) == 0 {
		e.sig.stats.Unmatched++
	}
	e.mu.Unlock()
	if len(hit) > 0 {
		e.poke()
	}
	return len(hit)
}

// SignalStats returns the counts of the signals received so far.
func (e *Engine) SignalStats() SignalStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sig.stats
}

package fleet

import (
	"hash/maphash"
	"slices"
	"strings"
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
//
// Polls without a signal are stretched in two steps. Once a source has
// delivered for an operation's host and kind (within Trust), they are at
// least Quiet apart. Once, in addition, the engine's sources have delivered
// Streak times in a row without missing one, they are at least Settled
// apart. A miss is an operation that a poll without a signal found
// finished and whose signal had still not come Grace later: the first one
// ends the streak, and every queued operation is rescheduled at once by the
// Quiet rule. So a source that loses notifications, or falls silent, costs
// at most the operations that finish before the engine notices (about one
// per entry into the settled state, at Streak deliveries each), and a lossy
// source never reaches the settled state: with 10 % lost, Streak = 200 in a
// row happens once in 10^9 tries.
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
	// longest delay. Negative disables learning (and Settled).
	Quiet time.Duration
	// Settled is the delay between polls without a signal once the
	// sources have delivered Streak times in a row (see above). Default
	// 15 min; negative disables the settled state.
	Settled time.Duration
	// Streak is how many deliveries in a row, with no miss, make the
	// state settled. Default 200.
	Streak int
	// Grace is how long after a poll without a signal found an operation
	// finished its signal may still come before the operation counts as a
	// miss: set it to the source's delivery delay (p99). Default 1 min.
	Grace time.Duration
	// Trust is how long a delivery counts. A delivery is a signal that led
	// to the poll that found an operation of the host and kind terminal,
	// or that came within Grace after a poll without one found it; signals
	// that found nothing build no trust. Default 15 min.
	Trust time.Duration
}

// Defaults of SignalOptions.
const (
	DefaultSignalSettled = 15 * time.Minute
	DefaultSignalStreak  = 200
	DefaultSignalGrace   = time.Minute
)

func (o SignalOptions) resolved(cap time.Duration) SignalOptions {
	if o.Gap <= 0 {
		o.Gap = time.Second
	}
	if o.Quiet == 0 {
		o.Quiet = 2 * cap
	}
	if o.Settled == 0 {
		o.Settled = DefaultSignalSettled
	}
	if o.Quiet < 0 {
		o.Settled = -1
	}
	if o.Streak <= 0 {
		o.Streak = DefaultSignalStreak
	}
	if o.Grace <= 0 {
		o.Grace = DefaultSignalGrace
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
	// found, or whose signal came within Grace after a poll without one
	// found it (those are also counted in Late).
	Delivered int64
	// Late counts signals that came after a poll without one found their
	// operation finished, within Grace.
	Late int64
	// Missed counts operations found finished by a poll without a signal,
	// on a host and kind whose source had delivered, whose signal did not
	// come within Grace.
	Missed int64
	// Settled reports that polls without a signal are Settled apart now
	// (the sources' streak reached Streak).
	Settled bool
}

// signals is the engine's index from match keys to held operations, and
// what it learned of the sources per host and kind.
type signals struct {
	opts SignalOptions
	// one and many index held operations by match key: one while a single
	// operation has the key (the common case, and the cheaper one: a
	// waiting operation's share of the index is its map entries), many
	// from the second.
	one   map[matchKey]*entry
	many  map[matchKey][]*entry
	trust map[string]*source // by host+"\x00"+kind
	// streak counts deliveries since the last miss, over all sources;
	// lastDelivery and meanGap (a moving average of the time between
	// deliveries) tell a source that fell silent; isSettled is the state
	// as last decided (see settledAt).
	streak       int
	lastDelivery time.Time
	meanGap      time.Duration
	isSettled    bool
	// unconfirmed are operations a poll without a signal found finished,
	// in that order, whose signal may still come (within Grace); recent
	// indexes them by store key and match key.
	unconfirmed []*unconfirmed
	recent      map[matchKey]*unconfirmed
	stats       SignalStats
}

// matchKey is a match key's or a store key's hash: a waiting operation
// keeps 8 bytes per key instead of the string. The seed is random per
// process, so no one can craft a collision; a collision would cost one
// poll, never a result (signals are hints).
type matchKey uint64

var matchSeed = maphash.MakeSeed()

func hashKey(k string) matchKey { return matchKey(maphash.String(matchSeed, k)) }

// hashKeys hashes keys, without duplicates.
func hashKeys(keys []string) []matchKey {
	out := make([]matchKey, 0, len(keys))
	for _, k := range keys {
		if h := hashKey(k); !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// held calls f for each held operation with key k.
func (s *signals) held(k matchKey, f func(*entry)) {
	if en := s.one[k]; en != nil {
		f(en)
	}
	for _, en := range s.many[k] {
		f(en)
	}
}

// source is what the engine learned of the signals for one host and kind.
type source struct {
	last   time.Time // the last delivery
	misses int       // misses since it
}

// unconfirmed is a finished operation awaiting its late signal.
type unconfirmed struct {
	keys      []matchKey
	trustKey  string
	found     time.Time
	confirmed bool
}

func newSignals(o SignalOptions) *signals {
	return &signals{opts: o, one: map[matchKey]*entry{}, many: map[matchKey][]*entry{}, trust: map[string]*source{}, recent: map[matchKey]*unconfirmed{}}
}

// silenceFactor times the mean time between deliveries, and at least
// Grace, without any delivery ends the settled state: for a source that
// delivers at a steady rate, a gap that long happens by chance with
// probability e^-10 (4.5e-5).
const silenceFactor = 10

// settledAt reports whether polls without a signal may be Settled apart
// at now: a streak of Streak deliveries with no miss, the last one recent.
func (s *signals) settledAt(now time.Time) bool {
	return s.opts.Settled > 0 && s.streak >= s.opts.Streak && !now.After(s.silentAt())
}

// silentAt is when the sources count as silent if nothing is delivered
// before.
func (s *signals) silentAt() time.Time {
	return s.lastDelivery.Add(max(s.opts.Grace, silenceFactor*s.meanGap))
}

func (s *signals) add(en *entry) {
	for _, k := range en.match {
		switch other := s.one[k]; {
		case other == nil && s.many[k] == nil:
			s.one[k] = en
		case other != nil:
			delete(s.one, k)
			s.many[k] = []*entry{other, en}
		default:
			s.many[k] = append(s.many[k], en)
		}
	}
}

func (s *signals) remove(en *entry) {
	for _, k := range en.match {
		if s.one[k] == en {
			delete(s.one, k)
			continue
		}
		ens := slices.DeleteFunc(s.many[k], func(x *entry) bool { return x == en })
		switch len(ens) {
		case 0:
			delete(s.many, k)
		case 1:
			delete(s.many, k)
			s.one[k] = ens[0]
		default:
			s.many[k] = ens
		}
	}
}

func trustKey(en *entry) string { return en.op.Host + "\x00" + en.op.Kind }

// finished learns from an operation that reached a terminal state: a
// delivery when a signal asked for the poll that found it; otherwise, when
// its host and kind have a source that delivers, an operation whose signal
// may still come.
func (s *signals) finished(en *entry, now time.Time) {
	tk := trustKey(en)
	if en.signaled {
		s.delivered(tk, now)
		return
	}
	if !s.trusted(tk, now) {
		return
	}
	u := &unconfirmed{keys: append([]matchKey{hashKey(en.rec.Key)}, en.match...), trustKey: tk, found: now}
	s.unconfirmed = append(s.unconfirmed, u)
	for _, k := range u.keys {
		s.recent[k] = u
	}
}

func (s *signals) delivered(tk string, now time.Time) {
	s.stats.Delivered++
	s.streak++
	if !s.lastDelivery.IsZero() {
		gap := now.Sub(s.lastDelivery)
		if s.meanGap == 0 {
			s.meanGap = gap
		}
		s.meanGap += (gap - s.meanGap) / 16
	}
	s.lastDelivery = now
	s.isSettled = s.settledAt(now)
	if src := s.trust[tk]; src != nil {
		src.last, src.misses = now, 0
	} else {
		s.trust[tk] = &source{last: now}
	}
}

// trusted reports whether host and kind tk have a source that delivered
// within Trust, forgetting one that has not.
func (s *signals) trusted(tk string, now time.Time) bool {
	src, ok := s.trust[tk]
	if ok && now.Sub(src.last) > s.opts.Trust {
		delete(s.trust, tk)
		ok = false
	}
	return ok
}

// late takes a signal for an operation no longer held: a delivery if a poll
// without a signal found it finished within Grace.
func (s *signals) late(key matchKey, now time.Time) bool {
	u := s.recent[key]
	if u == nil || u.confirmed {
		return false
	}
	u.confirmed = true
	s.stats.Late++
	s.delivered(u.trustKey, now)
	return true
}

// expire counts the operations whose signal did not come within Grace as
// misses. Each ends the streak; a second miss at a host and kind with no
// delivery since the first ends its trust (a source that fell silent, not
// one that loses a notification now and then). It reports whether the
// state left Settled (by a miss, or because nothing was delivered for too
// long) and which host and kind pairs lost their trust.
func (s *signals) expire(now time.Time) (unsettled bool, untrusted []string) {
	n := 0
	for _, u := range s.unconfirmed {
		if now.Sub(u.found) < s.opts.Grace {
			break
		}
		n++
		for _, k := range u.keys {
			if s.recent[k] == u {
				delete(s.recent, k)
			}
		}
		if u.confirmed {
			continue
		}
		s.stats.Missed++
		s.streak = 0
		if src := s.trust[u.trustKey]; src != nil {
			if src.misses++; src.misses >= 2 {
				delete(s.trust, u.trustKey)
				untrusted = append(untrusted, u.trustKey)
			}
		}
	}
	if n > 0 {
		s.unconfirmed = append(s.unconfirmed[:0], s.unconfirmed[n:]...)
	}
	was := s.isSettled
	s.isSettled = s.settledAt(now)
	return was && !s.isSettled, untrusted
}

// nextMiss is when the engine must next look at the sources: when the
// oldest unconfirmed operation becomes a miss, or the settled state lapses
// for want of deliveries.
func (s *signals) nextMiss() (time.Time, bool) {
	var at time.Time
	if s.isSettled {
		at = s.silentAt()
	}
	for _, u := range s.unconfirmed {
		if !u.confirmed {
			if m := u.found.Add(s.opts.Grace); at.IsZero() || m.Before(at) {
				at = m
			}
			break
		}
	}
	return at, !at.IsZero()
}

// quiet stretches at, a poll not asked for by a signal, when the
// operation's host and kind have a source that delivered within Trust.
func (s *signals) quiet(en *entry, at, now time.Time) time.Time {
	if s.opts.Quiet < 0 || len(s.trust) == 0 || !s.trusted(trustKey(en), now) {
		return at
	}
	gap := s.opts.Quiet
	if s.isSettled {
		gap = max(gap, s.opts.Settled)
	}
	return later(at, en.prevPoll.Add(gap))
}

// noticeMisses counts the misses due at now. When the settled state ends
// (by a miss, or for want of deliveries), or a host and kind lose trust, the queued operations concerned
// whose poller's own (poll-only) schedule is due earlier are moved back to
// it: operations that finished since the source lost them are found as if
// no source had stretched their polls.
func (e *Engine) noticeMisses(now time.Time) {
	if len(e.sig.unconfirmed) == 0 && !e.sig.isSettled {
		return
	}
	unsettled, untrusted := e.sig.expire(now)
	hosts := map[*host]bool{}
	if unsettled {
		for _, h := range e.hosts {
			hosts[h] = true
		}
	}
	for _, tk := range untrusted {
		if h := e.hosts[tk[:strings.IndexByte(tk, 0)]]; h != nil {
			hosts[h] = true
		}
	}
	for h := range hosts {
		moved := false
		for _, en := range h.queue { // waiting ones only: the due ones are due
			if at, again := e.decideOwn(en, now); at.Before(en.due) {
				en.due, en.deferred = later(now, at), again
				moved = true
			}
		}
		if moved {
			h.reorder(now) // due times changed in place
		}
		e.ready.update(h)
	}
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
	e.noticeMisses(now)
	hit := map[*entry]struct{}{}
	for _, k := range sig.Keys {
		if en := e.ops[k]; en != nil {
			hit[en] = struct{}{}
		} else {
			e.sig.late(hashKey(k), now)
		}
	}
	for _, r := range sig.Refs {
		for _, k := range MatchKeys(r) {
			h := hashKey(k)
			e.sig.held(h, func(en *entry) { hit[en] = struct{}{} })
			e.sig.late(h, now)
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
	st := e.sig.stats
	st.Settled = e.sig.isSettled
	return st
}

package fleet

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/fleet/internal/fakecloud"
	"github.com/lrokit/lrokit/poller"
)

// learnOptions: the poll-only schedule is one poll a minute, unjittered;
// polls without a signal are 3 min apart once a source delivered and
// 15 min apart once it delivered three times in a row.
var learnOptions = Options{
	Policy:  poller.Policy{Floor: time.Minute, Cap: time.Minute, Jitter: -1},
	Signals: SignalOptions{Quiet: 3 * time.Minute, Settled: 15 * time.Minute, Streak: 3, Grace: 30 * time.Second, Trust: 5 * time.Hour},
}

// learnFleet holds, on one host and kind: deliverers that finish every 2
// min from 2m30s on (between two polls of the minute grid; the caller
// signals them), five long operations never
// signaled (the ones whose schedule is watched), and the extra specs.
type learnFleet struct {
	s          *stepper
	start      time.Time
	deliverers []string
	long       []string
	extra      []string
}

func newLearnFleet(t *testing.T, deliverers int, extra ...time.Duration) *learnFleet {
	h := newHarness(false)
	f := &learnFleet{start: h.clock.Now()}
	var specs []fakecloud.Spec
	for i := range deliverers {
		specs = append(specs, fakecloud.Spec{Host: "api.example.com", Kind: "k", Duration: deliveredAt(i)})
	}
	for range 5 {
		specs = append(specs, fakecloud.Spec{Host: "api.example.com", Kind: "k", Duration: 5 * time.Hour})
	}
	for _, d := range extra {
		specs = append(specs, fakecloud.Spec{Host: "api.example.com", Kind: "k", Duration: d})
	}
	keys := h.add(t, len(specs), func(i int) fakecloud.Spec { return specs[i] })
	f.deliverers, f.long, f.extra = keys[:deliverers], keys[deliverers:deliverers+5], keys[deliverers+5:]
	f.s = startSignaled(t, h, learnOptions)
	return f
}

func deliveredAt(i int) time.Duration { return time.Duration(2*(i+1))*time.Minute + 30*time.Second }

// run advances to at, signaling each deliverer 1 s after it finishes.
func (f *learnFleet) run(at time.Duration) {
	for i, key := range f.deliverers {
		sent := deliveredAt(i) + time.Second
		if sent > at || f.start.Add(sent).Before(f.s.h.clock.Now()) {
			continue
		}
		f.s.to(f.start.Add(sent))
		f.s.signal(Signal{Keys: []string{key}})
	}
	f.s.to(f.start.Add(at))
}

// polls are the times key was polled in [from, to).
func (f *learnFleet) polls(key string, from, to time.Duration) []time.Time {
	var out []time.Time
	for _, ev := range f.s.h.eventsOf(key) {
		if (ev.Kind == EventPolled || ev.Kind == EventDone) && !ev.At.Before(f.start.Add(from)) && ev.At.Before(f.start.Add(to)) {
			out = append(out, ev.At)
		}
	}
	return out
}

// runUntilDone runs in steps of 10 s until key is found finished, and
// returns when it was.
func (f *learnFleet) runUntilDone(key string) time.Duration {
	for {
		for _, ev := range f.s.h.eventsOf(key) {
			if ev.Kind == EventDone {
				return ev.At.Sub(f.start)
			}
		}
		f.run(f.s.h.clock.Now().Sub(f.start) + 10*time.Second)
	}
}

// firstPollAfter is when key was first polled at or after from.
func (f *learnFleet) firstPollAfter(key string, from time.Duration) time.Duration {
	ps := f.polls(key, from, 24*time.Hour)
	if len(ps) == 0 {
		return 24 * time.Hour
	}
	return ps[0].Sub(f.start)
}

func TestSignal_AStreakOfDeliveriesSettlesThePollsFurtherApart(t *testing.T) {
	f := newLearnFleet(t, 40)
	f.run(7 * time.Minute)
	require.True(t, f.s.e.SignalStats().Settled, "three deliveries in a row: %+v", f.s.e.SignalStats())
	f.run(72 * time.Minute)
	st := f.s.e.SignalStats()
	assert.True(t, st.Settled)
	assert.EqualValues(t, 35, st.Delivered)
	assert.Zero(t, st.Missed)
	for _, key := range f.long {
		ps := f.polls(key, 10*time.Minute, 72*time.Minute)
		require.NotEmpty(t, ps)
		for i := 1; i < len(ps); i++ {
			assert.GreaterOrEqual(t, ps[i].Sub(ps[i-1]), 15*time.Minute, "Settled apart")
		}
		assert.LessOrEqual(t, len(ps), 5)
	}
}

func TestSignal_AMissEndsTheSettledStateAndPollsAreTakenBack(t *testing.T) {
	// The extra operation finishes at 45 min and its notification is
	// lost: a settled poll finds it, and Grace later that is a miss.
	f := newLearnFleet(t, 60, 45*time.Minute)
	f.run(45 * time.Minute)
	require.True(t, f.s.e.SignalStats().Settled)
	found := f.runUntilDone(f.extra[0])
	require.Greater(t, found, 45*time.Minute)
	f.run(found + 2*time.Minute)
	st := f.s.e.SignalStats()
	assert.EqualValues(t, 1, st.Missed)
	// Its notification, or a replay of it, after Grace builds no trust.
	assert.Zero(t, f.s.signal(Signal{Keys: f.extra}))
	assert.Equal(t, st.Delivered, f.s.e.SignalStats().Delivered)
	assert.Zero(t, f.s.e.SignalStats().Late)
	missed := found + learnOptions.Signals.Grace
	for _, key := range f.long {
		// Settled, their next polls would be up to 15 min away; taken
		// back to the poll-only schedule, they are due within a minute.
		at := f.firstPollAfter(key, missed)
		assert.LessOrEqual(t, at, missed+66*time.Second, "%s polled at %s, the miss at %s", key, at, missed)
	}
}

func TestSignal_ALateSignalIsADeliveryNotAMiss(t *testing.T) {
	f := newLearnFleet(t, 60, 45*time.Minute)
	f.run(45 * time.Minute)
	require.True(t, f.s.e.SignalStats().Settled)
	found := f.runUntilDone(f.extra[0])
	// Its notification comes 20 s after the poll that found it: within
	// Grace. The operation is no longer held, so the signal moves nothing.
	f.run(found + 20*time.Second)
	assert.Zero(t, f.s.signal(Signal{Keys: f.extra}))
	f.run(found + 5*time.Minute)
	st := f.s.e.SignalStats()
	assert.EqualValues(t, 1, st.Late)
	assert.Zero(t, st.Missed)
	assert.True(t, st.Settled)
}

func TestSignal_ASourceThatFallsSilentStopsSettlingPolls(t *testing.T) {
	// Deliveries every 2 min until 20 min: silent from 10×2 min later.
	f := newLearnFleet(t, 10)
	f.run(39 * time.Minute)
	require.True(t, f.s.e.SignalStats().Settled, "10 deliveries, the last at 20m31s")
	f.run(42 * time.Minute)
	assert.False(t, f.s.e.SignalStats().Settled)
	silent := 40*time.Minute + 31*time.Second
	for _, key := range f.long {
		at := f.firstPollAfter(key, silent)
		assert.LessOrEqual(t, at, silent+66*time.Second, "%s polled at %s", key, at)
	}
}

func TestSignal_TwoMissesInARowEndTheTrustOfAHostAndKind(t *testing.T) {
	// Streak is out of reach: only Quiet applies. Two operations finish
	// at 10 and 12 min with their notifications lost.
	opts := learnOptions
	opts.Signals.Streak = 1000
	h := newHarness(false)
	start := h.clock.Now()
	specs := []fakecloud.Spec{
		{Host: "api.example.com", Kind: "k", Duration: 2*time.Minute + 30*time.Second},
		{Host: "api.example.com", Kind: "k", Duration: 10 * time.Minute},
		{Host: "api.example.com", Kind: "k", Duration: 12 * time.Minute},
		{Host: "api.example.com", Kind: "k", Duration: 5 * time.Hour},
	}
	keys := h.add(t, len(specs), func(i int) fakecloud.Spec { return specs[i] })
	s := startSignaled(t, h, opts)
	s.to(start.Add(2*time.Minute + 31*time.Second))
	require.Equal(t, 1, s.signal(Signal{Keys: keys[:1]}))
	s.to(start.Add(time.Hour))
	assert.EqualValues(t, 2, s.e.SignalStats().Missed)
	var polls []time.Time
	for _, ev := range h.eventsOf(keys[3]) {
		if ev.Kind == EventPolled {
			polls = append(polls, ev.At)
		}
	}
	quiet, poll := 0, 0
	for i := 1; i < len(polls); i++ {
		gap := polls[i].Sub(polls[i-1])
		switch {
		case gap >= 3*time.Minute:
			quiet++
			assert.Less(t, polls[i], start.Add(20*time.Minute), "Quiet apart only while trusted")
		case polls[i].After(start.Add(20 * time.Minute)):
			poll++
		}
	}
	assert.Positive(t, quiet, "trusted after the delivery")
	assert.Greater(t, poll, 30, "the poll-only schedule after the second miss")
}

func TestSignalIndex_SharedKeysMoveBetweenOneAndMany(t *testing.T) {
	s := newSignals(SignalOptions{}.resolved(time.Minute))
	shared, own := hashKey("h/things/1"), hashKey("h/ops/a")
	a := &entry{match: []matchKey{shared, own}}
	b := &entry{match: []matchKey{shared}}
	heldBy := func(k matchKey) []*entry {
		var out []*entry
		s.held(k, func(en *entry) { out = append(out, en) })
		return out
	}
	s.add(a)
	assert.Equal(t, []*entry{a}, heldBy(shared))
	assert.Empty(t, s.many)
	s.add(b)
	assert.ElementsMatch(t, []*entry{a, b}, heldBy(shared))
	assert.Equal(t, []*entry{a}, heldBy(own))
	s.remove(a)
	assert.Equal(t, []*entry{b}, heldBy(shared))
	assert.Empty(t, heldBy(own))
	assert.Empty(t, s.many, "back to one holder")
	s.remove(b)
	assert.Empty(t, s.one)
	assert.Equal(t, []matchKey{shared, own}, hashKeys([]string{"h/things/1", "h/ops/a", "h/things/1"}))
}

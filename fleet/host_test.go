package fleet

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

func TestHostLimiter_Adapts(t *testing.T) {
	cfg := HostLimits{Rate: 100, Burst: 10, Recovery: time.Minute, Forget: 10 * time.Minute}.resolved()
	s := func(d time.Duration) time.Time { return epoch.Add(d) }
	type step struct {
		at        time.Duration
		throttle  bool
		sent      time.Duration // when the throttled request was sent
		ra        time.Duration
		wantRate  float64
		wantDecr  bool
		wantPause time.Duration // reserve's wait right after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a volley of throttles halves the rate once", []step{
			{at: 0, throttle: true, sent: -time.Millisecond, ra: 2 * time.Second, wantRate: 50, wantDecr: true, wantPause: 2 * time.Second},
			{at: 10 * time.Millisecond, throttle: true, sent: -time.Millisecond, ra: 2 * time.Second, wantRate: 50, wantPause: 2 * time.Second},
			{at: 3 * time.Second, throttle: true, sent: 2500 * time.Millisecond, wantRate: 25, wantDecr: true, wantPause: time.Second},
		}},
		{"recovery climbs linearly to just under the throttled rate", []step{
			{at: 0, throttle: true, sent: -time.Millisecond, ra: time.Second, wantRate: 50, wantDecr: true, wantPause: time.Second},
			{at: 15 * time.Second, wantRate: 75},
			{at: 60 * time.Second, wantRate: 90},
			{at: 9 * time.Minute, wantRate: 90},
		}},
		{"the ceiling is forgotten after a quiet spell", []step{
			{at: 0, throttle: true, sent: -time.Millisecond, ra: time.Second, wantRate: 50, wantDecr: true, wantPause: time.Second},
			{at: time.Minute, wantRate: 90},
			{at: 9*time.Minute + 57*time.Second, wantRate: 90},
			{at: 10 * time.Minute, wantRate: 95},
			{at: 10*time.Minute + 6*time.Second, wantRate: 100},
		}},
		{"a huge Retry-After is capped and the rate has a floor", []step{
			{at: 0, throttle: true, sent: -time.Millisecond, ra: 24 * time.Hour, wantRate: 50, wantDecr: true, wantPause: 5 * time.Minute},
			{at: 5 * time.Minute, throttle: true, sent: 5 * time.Minute, wantRate: 25, wantDecr: true, wantPause: time.Second},
			{at: 10 * time.Minute, throttle: true, sent: 10 * time.Minute, wantRate: 12.5, wantDecr: true, wantPause: time.Second},
			{at: 15 * time.Minute, throttle: true, sent: 15 * time.Minute, wantRate: 6.25, wantDecr: true, wantPause: time.Second},
			{at: 20 * time.Minute, throttle: true, sent: 20 * time.Minute, wantRate: 3.125, wantDecr: true, wantPause: time.Second},
			{at: 25 * time.Minute, throttle: true, sent: 25 * time.Minute, wantRate: 1.5625, wantDecr: true, wantPause: time.Second},
			{at: 30 * time.Minute, throttle: true, sent: 30 * time.Minute, wantRate: 1, wantDecr: true, wantPause: time.Second},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHostLimiter(cfg, "h", epoch)
			for i, st := range tt.steps {
				now := s(st.at)
				if st.throttle {
					assert.Equal(t, st.wantDecr, h.throttled(now, s(st.sent), st.ra), "step %d", i)
				} else {
					h.succeeded(now)
				}
				assert.InDelta(t, st.wantRate, h.rate, 0.01, "step %d", i)
				if st.wantPause > 0 {
					assert.Equal(t, st.wantPause, h.reserve(now), "step %d", i)
				}
			}
		})
	}
}

func TestHostLimiter_SpacesRequestsAtItsRate(t *testing.T) {
	h := newHostLimiter(HostLimits{Rate: 10, PerHost: map[string]rate.Limit{"slow": 2}}.resolved(), "slow", epoch)
	require.Equal(t, 2.0, h.nominal)
	assert.Zero(t, h.reserve(epoch), "the bucket starts with a token")
	assert.Equal(t, 500*time.Millisecond, h.reserve(epoch))
	assert.Zero(t, h.reserve(epoch.Add(500*time.Millisecond)))
	assert.Equal(t, 500*time.Millisecond, h.reserve(epoch.Add(500*time.Millisecond)))
}

func TestHost_DueOperationsPollMostUrgentFirst(t *testing.T) {
	s := func(d time.Duration) time.Time { return epoch.Add(d) }
	h := &host{name: "h", lim: newHostLimiter(HostLimits{}.resolved(), "h", epoch), idx: -1}
	slow, fast := &kindPrior{}, &kindPrior{progress: 0.2}
	en := func(key string, due time.Duration, live bool) *entry {
		kp := slow
		if live {
			kp = fast
		}
		return &entry{rec: heldRecord{Key: key}, due: s(due), kp: kp, idx: -1}
	}
	slowSample := en("a/slow-sample", time.Second, false)
	fastEarly := en("b/fast", 2*time.Second, true)
	fastLate := en("c/fast", 3*time.Second, true)
	fastTie := en("d/fast", 3*time.Second, true)
	future := en("e/future", time.Minute, true)
	for _, e := range []*entry{future, fastTie, slowSample, fastLate, fastEarly} {
		h.push(e)
	}
	assert.Equal(t, s(time.Second), h.readyAt(), "waiting: the first due")
	assert.Equal(t, slowSample, h.first(), "nothing promoted yet: the one due first")

	require.True(t, h.promote(s(5*time.Second)))
	assert.False(t, h.promote(s(5*time.Second)), "nothing more is due")
	assert.Equal(t, 5, h.queued())
	assert.False(t, h.readyAt().After(s(5*time.Second)), "due already")

	// Moved out of the due ones by a decision to wait: back to waiting.
	fastTie.due = s(2 * time.Minute)
	h.fix(fastTie)
	assert.False(t, fastTie.isDue)

	var order []string
	for range 3 {
		order = append(order, h.pop().rec.Key)
	}
	assert.Equal(t, []string{"b/fast", "c/fast", "a/slow-sample"}, order,
		"the kind finishing first, by due time; the sample of a kind with nothing finished after them though due first")
	assert.Equal(t, s(time.Minute), h.readyAt())

	// A kind's progress changing is taken into account by reorder.
	x, y := en("x", 10*time.Second, false), en("y", 11*time.Second, true)
	h.push(x)
	h.push(y)
	h.promote(s(20 * time.Second))
	assert.Equal(t, y, h.first())
	slow.progress = 0.2
	h.reorder(s(20 * time.Second))
	assert.Equal(t, x, h.first(), "as far along now: the one due first")
	x.due = s(30 * time.Second) // a recheck moved later: waiting again
	h.reorder(s(20 * time.Second))
	assert.False(t, x.isDue)
	assert.Equal(t, y, h.pop())
	assert.Equal(t, x, h.pop(), "nothing due: the waiting one due first")
	h.remove(future)
	h.remove(fastTie)
	assert.Equal(t, -1, fastTie.idx)
	assert.Equal(t, 0, h.queued())
}

package hold

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/poller"
)

const s = time.Second

func secs(xs ...float64) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = time.Duration(x * float64(s))
	}
	return out
}

// logNormal draws n durations of median m and spread sigma, sorted.
func logNormal(rng *rand.Rand, n int, m time.Duration, sigma float64) []time.Duration {
	d := make([]time.Duration, n)
	for i := range d {
		d[i] = time.Duration(float64(m) * math.Exp(sigma*rng.NormFloat64())).Round(time.Millisecond)
	}
	slices.Sort(d)
	return d
}

var noJitter = poller.Policy{Jitter: -1, HintCeiling: 3 * time.Hour}

func TestAllocate_Table(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kinds []Kind
		b     Bounds
		want  []time.Duration
	}{
		{"nothing known", []Kind{{Share: 1}, {Durations: secs(10), Share: 0}}, Bounds{Lag: 65 * s, Late: 0.01}, []time.Duration{0, 0}},
		{"no budget: holds that make none late", []Kind{{Durations: secs(100, 100, 100), Share: 1}},
			Bounds{Lag: 10 * s, Late: 0, Policy: noJitter}, secs(110)},
		{"no budget, spread durations: none", []Kind{{Durations: secs(100, 200, 300), Share: 1}},
			Bounds{Lag: 10 * s, Late: 0, Policy: noJitter}, secs(0)},
		{"relative bound places the hold at d×(1+Rel)", []Kind{{Durations: secs(20, 20), Share: 1}},
			Bounds{Lag: 65 * s, Rel: 0.5, Late: 0, Policy: noJitter}, secs(30)},
		// With room for the shortest of four to be late (by the smoothed
		// estimate, 2 of 5 plotting positions below 1,000 s), the hold moves
		// past it: 1 poll each instead of 1 + the polls from 110 s on.
		{"a budget buys a later hold", []Kind{{Durations: secs(100, 1000, 1000, 1000), Share: 1}},
			Bounds{Lag: 10 * s, Late: 0.4, Policy: noJitter}, secs(1010)},
		{"too small a budget does not", []Kind{{Durations: secs(100, 1000, 1000, 1000), Share: 1}},
			Bounds{Lag: 10 * s, Late: 0.39, Policy: noJitter}, secs(110)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Allocate(tc.kinds, tc.b))
		})
	}
}

// Against the same budget spent evenly (every kind held at the same late
// share), the allocation polls less and stays within the budget.
func TestAllocate_BeatsAnEvenSpend(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var kinds []Kind
	for i, sigma := range []float64{0.3, 0.45, 0.2, 0.5, 0.35, 0.25} {
		m := time.Duration(10*math.Pow(360, float64(i)/5)) * s
		kinds = append(kinds, Kind{Durations: logNormal(rng, 200, m, sigma), Share: 1})
	}
	b := Bounds{Lag: 65 * s, Rel: 0.35, Late: 0.008, Policy: poller.Policy{Jitter: 0.05, HintCeiling: 3 * time.Hour}}
	got := Allocate(kinds, b)
	var cost, abs, rel, even float64
	for i, k := range kinds {
		c, a, r := evaluate(k.Durations, got[i], b)
		cost, abs, rel = cost+c/6, abs+a/6, rel+r/6
		// Even: the latest candidate hold within the budget on its own.
		best := math.Inf(1)
		for _, h := range candidates(k.Durations, b) {
			if c, a, r := evaluate(k.Durations, h, b); a <= b.Late && r <= b.Late {
				best = min(best, c)
			}
		}
		even += best / 6
	}
	t.Logf("holds %v: %.2f polls/op (even spend %.2f), late %.4f abs, %.4f rel", got, cost, even, abs, rel)
	assert.Less(t, cost, even)
	assert.LessOrEqual(t, abs, b.Late)
	assert.LessOrEqual(t, rel, b.Late)
	// The longest kind, where a later hold saves a poll a minute, spends
	// more than its even share.
	_, a, _ := evaluate(kinds[5].Durations, got[5], b)
	assert.Greater(t, a, b.Late)
	// Deterministic and independent of the samples' order.
	rev := slices.Clone(kinds[5].Durations)
	slices.Reverse(rev)
	again := slices.Clone(kinds)
	again[5].Durations = rev
	assert.Equal(t, got, Allocate(again, b))
}

// The allocation is the cheapest combination of per-kind candidates within
// the budget (in its whole units): checked against brute force.
func TestAllocate_MatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 40 {
		nk := 2 + rng.IntN(2)
		kinds := make([]Kind, nk)
		for i := range kinds {
			kinds[i] = Kind{Durations: logNormal(rng, 5+rng.IntN(10), time.Duration(10+rng.IntN(3000))*s, 0.1+rng.Float64()*0.5),
				Share: 0.5 + rng.Float64()}
		}
		b := Bounds{Lag: 65 * s, Rel: 0.35, Late: 0.02 + 0.1*rng.Float64(), Policy: poller.Policy{HintCeiling: time.Duration(1+rng.IntN(60)) * time.Minute}}
		got := Allocate(kinds, b)

		type opt struct {
			cost     float64
			abs, rel int
		}
		var total float64
		for _, k := range kinds {
			total += k.Share
		}
		opts := make([][]opt, nk)
		gotCost := 0.0
		gotAbs, gotRel := 0, 0
		for i, k := range kinds {
			w := k.Share / total
			for _, h := range candidates(k.Durations, b) {
				c, a, r := evaluate(k.Durations, h, b)
				ua, ok1 := spend(w*a, b.Late)
				ur, ok2 := spend(w*r, b.Late)
				if ok1 && ok2 {
					opts[i] = append(opts[i], opt{w * c, ua, ur})
				}
				if h == got[i] {
					require.True(t, ok1 && ok2)
					gotCost += w * c
					gotAbs += ua
					gotRel += ur
				}
			}
		}
		assert.LessOrEqual(t, gotAbs, units)
		assert.LessOrEqual(t, gotRel, units)
		best := math.Inf(1)
		var walk func(i int, cost float64, a, r int)
		walk = func(i int, cost float64, a, r int) {
			if a > units || r > units {
				return
			}
			if i == nk {
				best = min(best, cost)
				return
			}
			for _, o := range opts[i] {
				walk(i+1, cost+o.cost, a+o.abs, r+o.rel)
			}
		}
		walk(0, 0, 0, 0)
		assert.InDelta(t, best, gotCost, 1e-9, "trial %d", trial)
	}
}

func TestEvaluate(t *testing.T) {
	p := poller.Policy{Jitter: -1, Floor: s, Cap: 10 * s, Ratio: 0.5, HintCeiling: time.Hour}
	d := secs(5, 50, 100)
	// No hold: polls at 1, 2, 3, 4.5, 6.75, 10.125, 15.1875, 22.78, 32.78,
	// 42.78, 52.78, ... every 10 s: 5 s is seen by the 5th, 50 s by the
	// 11th, 100 s by the 16th.
	polls, abs, rel := evaluate(d, 0, Bounds{Lag: 5 * s, Policy: p})
	assert.InDelta(t, (5+11+16)/3.0, polls, 1e-9)
	assert.Zero(t, abs)
	assert.Zero(t, rel)
	// A hold at 50 s: one poll for 5 s and 50 s, then every 10 s: 100 s
	// at the 6th. Late: what ends before 45 s (absolute) and before
	// 50/1.35 s (relative), by the interpolated plotting positions: 1/4 at
	// 5 s, 2/4 at 50 s.
	polls, abs, rel = evaluate(d, 50*s, Bounds{Lag: 5 * s, Rel: 0.35, Policy: p})
	assert.InDelta(t, (1+1+6)/3.0, polls, 1e-9)
	assert.InDelta(t, 0.25+0.25*40/45, abs, 1e-9)
	assert.InDelta(t, 0.25+0.25*(50/1.35-5)/45, rel, 1e-9)
	// With a HintCeiling of 20 s the hold is waited in steps (20, 40, 50),
	// each detecting what ended since the one before.
	p.HintCeiling = 20 * s
	polls, abs, _ = evaluate(d, 50*s, Bounds{Lag: 20 * s, Policy: p})
	assert.InDelta(t, (1+3+8)/3.0, polls, 1e-9)
	assert.Zero(t, abs)
	// Lag 10 s: before 10 s (seen at 20), between 20 and 30 s (seen at 40).
	_, abs, _ = evaluate(d, 50*s, Bounds{Lag: 10 * s, Policy: p})
	assert.InDelta(t, (0.25+0.25*5/45)+0.25*10/45, abs, 1e-9)
}

func TestCDF(t *testing.T) {
	d := secs(10, 20, 40)
	for _, tc := range []struct {
		t    float64
		want float64
	}{
		{0, 0}, {5, 0.25 * 5 / 10}, {10, 0.25}, {15, 0.375}, {20, 0.5}, {40, 0.75}, {50, 0.75 + 0.25*10/20}, {60, 1}, {100, 1},
	} {
		assert.InDelta(t, tc.want, cdf(d, time.Duration(tc.t*float64(s))), 1e-9, "t=%v", tc.t)
	}
	assert.InDelta(t, 0.5, cdf(secs(10), 10*s), 1e-9)
	assert.Zero(t, cdf(secs(10, 10, 10), 10*s), "ties: nothing below")
	assert.InDelta(t, 1, cdf(secs(10, 10, 10), 11*s), 1e-9, "ties: everything below")
}

func TestWithin(t *testing.T) {
	b := Bounds{Lag: 65 * s, Rel: 0.35}
	lag := float64(b.Lag)
	for _, tc := range []struct {
		name  string
		p     poller.Policy
		cap   time.Duration
		ratio float64
	}{
		{"default jitter", poller.Policy{}, time.Duration(lag / 1.1), 0.35 / 1.1},
		{"half the jitter", poller.Policy{Jitter: 0.05}, time.Duration(lag / 1.05), 0.35 / 1.05},
		{"no jitter: the bounds", poller.Policy{Jitter: -1, Cap: 30 * s, Ratio: 0.2}, 65 * s, 0.35},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Within(tc.p, b)
			assert.Equal(t, tc.cap, p.Cap)
			assert.InDelta(t, tc.ratio, p.Ratio, 1e-12)
		})
	}
	assert.Equal(t, poller.Policy{}, Within(poller.Policy{}, Bounds{}))
}

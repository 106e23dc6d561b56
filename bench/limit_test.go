package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bruteLimit tries every schedule that polls at a subset of the durations.
func bruteLimit(d []time.Duration, kind boundKind, bound float64, maxV int) int64 {
	n := len(d)
	best := int64(-1)
	for mask := 0; mask < 1<<(n-1); mask++ {
		cuts := []int{}
		ok := true
		for c := 1; c < n; c++ {
			if mask&(1<<(c-1)) != 0 {
				if d[c] == d[c-1] {
					ok = false
					break
				}
				cuts = append(cuts, c)
			}
		}
		if !ok {
			continue
		}
		cuts = append(cuts, n)
		var cost int64
		viol, prev := 0, 0
		for _, c := range cuts {
			cost += int64(n - prev)
			t := d[c-1]
			for k := prev; k < c; k++ {
				lag := t - d[k]
				if kind == absBound && lag > time.Duration(bound*float64(time.Second)) ||
					kind == relBound && float64(lag) > bound*float64(d[k]) {
					viol++
				}
			}
			prev = c
		}
		if viol <= maxV && (best < 0 || cost < best) {
			best = cost
		}
	}
	return best
}

func TestLimitCurveMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 300 {
		n := 1 + rng.IntN(11)
		d := make([]time.Duration, n)
		for i := range d {
			if trial%3 == 0 {
				d[i] = time.Duration(1+rng.IntN(6)) * time.Second // ties
			} else {
				d[i] = time.Duration(1+rng.IntN(100_000)) * time.Millisecond
			}
		}
		slices.Sort(d)
		kind, bound := absBound, 0.5+float64(rng.IntN(40))
		if trial%2 == 1 {
			kind, bound = relBound, []float64{0.05, 0.2, 0.33, 1, 3}[rng.IntN(5)]
		}
		maxV := rng.IntN(4)
		curve := limitCurve(d, kind, bound, maxV)
		for v := 0; v <= min(maxV, n); v++ {
			require.Equal(t, bruteLimit(d, kind, bound, v), curve[v], "trial %d: d=%v kind=%d bound=%v v=%d", trial, d, kind, bound, v)
		}
	}
}

func TestLimitKnownValues(t *testing.T) {
	secs := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Second
		}
		return out
	}
	tests := []struct {
		name     string
		d        []time.Duration
		bound    float64
		relative bool
		want     float64
	}{
		{"no slack polls at every distinct duration", secs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0, false, 5.5},
		{"a bound longer than the spread needs one poll", secs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 100, false, 1},
		{"bound 4.5 s polls at 5 and 10", secs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 4.5, false, 1.5},
		{"ties are detected together", secs(5, 5, 5, 5), 0, false, 1},
		{"relative bound 1 polls at 2, 6, 10", secs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 1, true, (10 + 8 + 4) / 10.0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.want, Limit([][]time.Duration{tc.d}, tc.bound, tc.relative), 1e-9)
		})
	}
}

func TestLimitSharesViolationsAcrossKinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for range 30 {
		var kinds [][]time.Duration
		n := 0
		for range 2 {
			k := make([]time.Duration, 3+rng.IntN(6))
			for i := range k {
				k[i] = time.Duration(1+rng.IntN(60_000)) * time.Millisecond
			}
			slices.Sort(k)
			kinds = append(kinds, k)
			n += len(k)
		}
		// Allow a tenth of the operations to be late (n ≤ 18: 0 or 1).
		bound := 5.0
		V := violationBudget(n)
		best := int64(-1)
		for a := 0; a <= V; a++ {
			c := bruteLimit(kinds[0], absBound, bound, a) + bruteLimit(kinds[1], absBound, bound, V-a)
			if best < 0 || c < best {
				best = c
			}
		}
		assert.InDelta(t, float64(best)/float64(n), Limit(kinds, bound, false), 1e-9)
	}
}

func TestLimitFallsAsTheBoundGrows(t *testing.T) {
	w := Generate(WorkloadSpec{Shape: Wide, N: 2000, Seed: 5})
	prev := Limit(w.Durations(), 1, false)
	for _, b := range []float64{2, 5, 10, 30, 60, 300} {
		x := Limit(w.Durations(), b, false)
		assert.LessOrEqual(t, x, prev, "bound %v", b)
		assert.GreaterOrEqual(t, x, 1.0)
		prev = x
	}
}

func TestViolationBudgetMatchesNearestRankP99(t *testing.T) {
	for _, tc := range []struct{ n, want int }{{10000, 100}, {100, 1}, {99, 0}, {50, 0}, {1, 0}} {
		assert.Equal(t, tc.want, violationBudget(tc.n), "n=%d", tc.n)
	}
}

package bench

import (
	"math"
	"slices"
	"time"
)

// The limit: the fewest requests a schedule without server hints could make
// and still keep the p99 detection lag within a bound. A hint-free schedule
// is a fixed sequence of poll times after each operation's start (it may
// depend on the operation's kind); an operation of duration d is detected by
// the first poll at or after d and costs one request per poll up to it.
//
// Exact solution over the empirical durations d₁ ≤ … ≤ dₙ: moving a poll down
// to the longest duration it detects changes no detection and shortens every
// lag, so an optimal schedule polls only at some of the dᵢ. A schedule is
// then a sequence of cuts 0 = c₀ < c₁ < … < cₘ = n (poll k detects
// operations cₖ₋₁+1 … cₖ); poll k costs one request for each operation still
// running, n − cₖ₋₁, and violates the bound for the operations it detects
// too late. With at most V = n − ⌈0.99·n⌉ violations allowed (nearest-rank
// p99 ≤ bound), the dynamic programme
//
//	f[j][v] = n + min over i < j of f[i][v − viol(i, j)] − i
//
// runs in O(n·V): viol(i, j) = max(0, lo(j) − i) where lo(j) is the first
// operation the poll at d_j catches in time, so the i ≥ lo(j) part is a
// sliding-window minimum per v and the i < lo(j) part is a running minimum
// along the diagonals i − v. Ties (equal durations) are polled together.

// boundKind says how lag is bounded.
type boundKind int

const (
	absBound boundKind = iota // lag ≤ L
	relBound                  // lag ≤ ρ·duration
)

// LimitCurve is the least total requests for every number of allowed
// violations v = 0 … len−1 (non-increasing in v).
type LimitCurve []int64

// limitCurve solves the programme for sorted durations d with at most
// maxV violations of the bound (abs: lag ≤ bound seconds; rel: lag ≤ bound ×
// duration).
func limitCurve(d []time.Duration, kind boundKind, bound float64, maxV int) LimitCurve {
	n := len(d)
	maxV = max(0, min(maxV, n))
	if n == 0 {
		return make(LimitCurve, maxV+1)
	}
	const inf = math.MaxInt64 / 4
	W := maxV + 1
	f := make([]int64, (n+1)*W)
	for i := range f {
		f[i] = inf
	}
	f[0] = 0
	valid := func(c int) bool { return c == 0 || c == n || d[c] > d[c-1] }
	// lo(j): first index k with d[k] within the bound of a poll at d[j-1].
	lo := func(j int) int {
		t := d[j-1]
		var thr time.Duration
		if kind == absBound {
			thr = t - time.Duration(bound*float64(time.Second))
		} else {
			thr = time.Duration(math.Ceil(float64(t) / (1 + bound)))
		}
		k, _ := slices.BinarySearch(d, thr)
		return min(k, j-1)
	}
	// diag[c+maxV] = min over added i of f[i][i-c] - i, c = i - u.
	diag := make([]int64, n+1+maxV)
	for i := range diag {
		diag[i] = inf
	}
	added := 0 // rows i < added are in diag
	// One monotone deque of candidate cuts per v, values f[i][v] - i increasing.
	dq := make([][]int32, W)
	head := make([]int, W)
	pushed := 0 // rows i < pushed are in the deques
	for j := 1; j <= n; j++ {
		l := lo(j)
		for ; added < l; added++ {
			if !valid(added) {
				continue
			}
			for u := 0; u < W; u++ {
				if v := f[added*W+u]; v < inf {
					c := added - u + maxV
					diag[c] = min(diag[c], v-int64(added))
				}
			}
		}
		for ; pushed < j; pushed++ {
			if !valid(pushed) {
				continue
			}
			for v := 0; v < W; v++ {
				x := f[pushed*W+v]
				if x >= inf {
					continue
				}
				x -= int64(pushed)
				q := dq[v]
				for len(q) > head[v] && f[int(q[len(q)-1])*W+v]-int64(q[len(q)-1]) >= x {
					q = q[:len(q)-1]
				}
				dq[v] = append(q, int32(pushed))
			}
		}
		if !valid(j) {
			continue
		}
		for v := 0; v < W; v++ {
			best := int64(inf)
			q := dq[v]
			for head[v] < len(q) && int(q[head[v]]) < l {
				head[v]++
			}
			if head[v] < len(q) {
				i := int(q[head[v]])
				best = f[i*W+v] - int64(i)
			}
			if c := l - v + maxV; c >= 0 && c < len(diag) {
				best = min(best, diag[c])
			}
			if best < inf {
				f[j*W+v] = best + int64(n)
			}
		}
	}
	out := make(LimitCurve, W)
	run := int64(inf)
	for v := range out {
		run = min(run, f[n*W+v])
		out[v] = run
	}
	return out
}

// violationBudget is how many of n lags may exceed a bound that the
// nearest-rank p99 still meets.
func violationBudget(n int) int { return n - (rank(n, 0.99) + 1) }

// Limit returns the fewest requests per operation of any hint-free schedule
// (one schedule per kind) whose p99 lag is within bound: absolute (seconds)
// or, with relative, as a fraction of each operation's duration. perKind
// holds each kind's durations; violations are shared optimally across kinds.
func Limit(perKind [][]time.Duration, bound float64, relative bool) float64 {
	n := 0
	for _, d := range perKind {
		n += len(d)
	}
	if n == 0 {
		return 0
	}
	V := violationBudget(n)
	kind := absBound
	if relative {
		kind = relBound
	}
	const inf = math.MaxInt64 / 4
	total := make([]int64, V+1) // min-plus convolution of the kinds' curves
	for k, d := range perKind {
		s := slices.Clone(d)
		slices.Sort(s)
		c := limitCurve(s, kind, bound, V)
		next := make([]int64, V+1)
		for v := range next {
			next[v] = inf
			for a := 0; a <= v; a++ {
				if k == 0 && a != v {
					continue
				}
				prev := int64(0)
				if k > 0 {
					prev = total[v-a]
				}
				x := c[min(a, len(c)-1)]
				if prev < inf && x < inf {
					next[v] = min(next[v], prev+x)
				}
			}
		}
		total = next
	}
	return float64(total[V]) / float64(n)
}

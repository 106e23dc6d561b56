// Package hold chooses, for several kinds of operation at once, how long to
// hold each kind's first poll (poller.Policy.Expected) so that the holds
// together make at most a given share of all operations late.
//
// A p99 lag bound allows 1 % of all operations to be detected late. A hold
// at each kind's 1 % quantile spends that budget evenly, but a hold saves
// very different numbers of polls per kind: holding a one-hour kind ten
// minutes longer saves ten polls at a 60 s cap for each of its operations,
// holding a ten-second kind longer saves one or two. Allocate spends the
// budget where it saves the most, and places each hold as late as the
// bounds allow (an operation detected within the bounds is not late).
//
// Everything here is pure and deterministic: the same inputs give the same
// holds.
package hold

import (
	"math"
	"slices"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// Kind is what is known of one kind of operation.
type Kind struct {
	// Durations are earlier operations' durations (any order). A kind
	// without any gets no hold.
	Durations []time.Duration
	// Share is the kind's share of the operations to come, on any scale
	// (counts or fractions); a kind with Share ≤ 0 costs nothing and may
	// not be late.
	Share float64
}

// Bounds are the lag bounds and the budget the holds may spend.
type Bounds struct {
	// Lag is the absolute lag bound: an operation detected more than Lag
	// after it completed is late. Zero means none.
	Lag time.Duration
	// Rel is the relative lag bound: an operation of duration d detected
	// more than Rel×d after it completed is late. Zero means none.
	Rel float64
	// Late is the share of all operations (0–1) the holds may make late,
	// for each bound separately (a p99 of each lag allows 1 % each). Keep
	// it under the p99's 1 %: the schedule after the hold makes some
	// operations late too, and the durations to come are not the samples.
	Late float64
	// Policy is the schedule before and after the hold (its Expected is
	// ignored): the hold is waited in steps of at most HintCeiling, the
	// last one jittered by ±Jitter, and the polls after it follow Ratio,
	// Floor and Cap.
	Policy poller.Policy
}

// Within returns p with Cap and Ratio set to the largest values whose
// schedule after a hold, jitter included, detects every operation within
// the bounds: Cap×(1+Jitter) = b.Lag and Ratio×(1+Jitter) = b.Rel (a zero
// bound leaves its field alone). The budget b.Late is then the holds'
// alone. Floor is left alone: an operation shorter than about Floor/Rel
// may still be late by Rel, and a hold covers those.
func Within(p poller.Policy, b Bounds) poller.Policy {
	jit := jitterOf(p)
	if b.Lag > 0 {
		p.Cap = time.Duration(float64(b.Lag) / (1 + jit))
	}
	if b.Rel > 0 {
		p.Ratio = b.Rel / (1 + jit)
	}
	return p
}

// jitterOf is p's jitter as the core applies it: Jitter, its default when
// zero, none when negative, at most 1.
func jitterOf(p poller.Policy) float64 {
	j := p.Jitter
	if j == 0 {
		j = poller.DefaultJitter
	}
	return min(max(j, 0), 1)
}

// units is how finely the budget is divided in the allocation; each kind's
// late share is rounded up to whole units, so the result never spends more
// than the budget by the model below.
const units = 64

// jitterPoints are where in [−Jitter, +Jitter] the last hold step's jitter
// is evaluated; a hold's lateness is the mean over them.
var jitterPoints = [...]float64{-1, -0.5, 0, 0.5, 1}

// Allocate returns a hold for each kind (0: none), minimising the expected
// polls per operation over all kinds, weighted by Share, subject to the
// holds making at most b.Late of all operations late by each bound.
//
// The model, per kind, over its durations as if they were the ones to
// come: the polls of the unjittered schedule with Expected = the hold, up
// to the first poll at or after each duration; an operation is late if
// the poll that detects it, with the last hold step jittered, is later
// than the bounds allow (averaged over the jitter). Lateness after the
// hold, from the schedule itself, is not counted: leave room for it in
// b.Late.
func Allocate(kinds []Kind, b Bounds) []time.Duration {
	var total float64
	for _, k := range kinds {
		if k.Share > 0 && len(k.Durations) > 0 {
			total += k.Share
		}
	}
	out := make([]time.Duration, len(kinds))
	if total == 0 {
		return out
	}
	budget := max(b.Late, 0)
	type choice struct {
		hold     time.Duration
		cost     float64 // share-weighted mean polls
		abs, rel int     // budget units spent
	}
	options := make([][]choice, len(kinds))
	for i, k := range kinds {
		if k.Share <= 0 || len(k.Durations) == 0 {
			options[i] = []choice{{}}
			continue
		}
		w := k.Share / total
		d := slices.Clone(k.Durations)
		slices.Sort(d)
		for _, h := range candidates(d, b) {
			cost, abs, rel := evaluate(d, h, b)
			c := choice{hold: h, cost: w * cost}
			var ok bool
			if c.abs, ok = spend(w*abs, budget); !ok {
				continue
			}
			if c.rel, ok = spend(w*rel, budget); !ok {
				continue
			}
			options[i] = append(options[i], c)
		}
		if len(options[i]) == 0 { // unreachable: no hold is always within budget
			options[i] = []choice{{}}
		}
	}
	// best[a][r] is the least cost of the kinds so far spending at most a
	// and r units; pick[i][a][r] the option kind i takes there.
	const n = units + 1
	inf := math.Inf(1)
	best := make([]float64, n*n)
	next := make([]float64, n*n)
	pick := make([][]int, len(kinds))
	for i := range pick {
		pick[i] = make([]int, n*n)
	}
	for i, opts := range options {
		for s := range next {
			next[s] = inf
		}
		for a := range n {
			for r := range n {
				for j, c := range opts {
					if c.abs > a || c.rel > r {
						continue
					}
					v := best[(a-c.abs)*n+r-c.rel] + c.cost
					if v < next[a*n+r] {
						next[a*n+r], pick[i][a*n+r] = v, j
					}
				}
			}
		}
		best, next = next, best
	}
	a, r := units, units
	for i := len(kinds) - 1; i >= 0; i-- {
		c := options[i][pick[i][a*n+r]]
		out[i] = c.hold
		a, r = a-c.abs, r-c.rel
	}
	return out
}

// spend converts a share of all operations into budget units, rounded up;
// false if it is over the budget.
func spend(share, budget float64) (int, bool) {
	if share <= 0 {
		return 0, true
	}
	if budget <= 0 {
		return 0, false
	}
	u := int(math.Ceil(share / budget * units * (1 - 1e-12)))
	return u, u <= units
}

// candidates are the holds considered for sorted durations d: none, and
// for each duration the latest hold that still detects it within the
// bounds. (Holds between two of them were tried, four per gap: against the
// smoothed estimate they use the budget more exactly, and in the benchmark
// made more operations late for the same requests, the estimate's error
// being what they exploit.)
func candidates(d []time.Duration, b Bounds) []time.Duration {
	out := []time.Duration{0}
	for _, x := range d {
		h := x
		if b.Lag > 0 {
			h = x + b.Lag
		}
		if b.Rel > 0 {
			r := time.Duration(float64(x) * (1 + b.Rel))
			if b.Lag <= 0 || r < h {
				h = r
			}
		}
		if h > 0 && h != out[len(out)-1] {
			out = append(out, h)
		}
	}
	return out
}

// evaluate returns, for a hold h on sorted durations d, the mean polls per
// operation and the shares of d late by the absolute and by the relative
// bound.
func evaluate(d []time.Duration, h time.Duration, b Bounds) (polls, abs, rel float64) {
	p := b.Policy
	p.Expected = h
	last := d[len(d)-1]
	// The unjittered schedule: steps towards the hold (times before h),
	// the hold's poll, then the schedule after it.
	var times []time.Duration
	for t := time.Duration(0); t < last || t < h; {
		t += p.BaseDelay(t)
		times = append(times, t)
	}
	var sum int
	k := 0
	for _, x := range d {
		for times[k] < x {
			k++
		}
		sum += k + 1
	}
	polls = float64(sum) / float64(len(d))
	if h <= 0 {
		return polls, 0, 0
	}
	pre := 0 // the steps before the hold's poll
	for pre < len(times) && times[pre] < h {
		pre++
	}
	jit := jitterOf(b.Policy)
	var prev time.Duration
	if pre > 0 {
		prev = times[pre-1]
	}
	for _, j := range jitterPoints {
		// Every poll up to the hold's, that one jittered like the core's
		// delays; each detects the operations ending since the one before.
		var from time.Duration
		for k := 0; k <= pre; k++ {
			at := times[k]
			if k == pre {
				at = prev + time.Duration(float64(times[pre]-prev)*(1+j*jit))
			}
			if b.Lag > 0 {
				abs += max(cdf(d, min(at-b.Lag, at))-cdf(d, from), 0)
			}
			if b.Rel > 0 {
				rel += max(cdf(d, time.Duration(float64(at)/(1+b.Rel)))-cdf(d, from), 0)
			}
			from = at
		}
	}
	n := float64(len(jitterPoints))
	return polls, abs / n, rel / n
}

// cdf estimates the share of durations below t from the sorted sample d:
// the i-th smallest of n is at i/(n+1) (so that a hold just above the
// smallest sample is not taken to make no operation late), linear in
// between, falling to 0 one gap below the smallest and rising to 1 one gap
// above the largest.
func cdf(d []time.Duration, t time.Duration) float64 {
	n := len(d)
	pos := func(i int) float64 { return float64(i+1) / float64(n+1) }
	if n == 1 {
		switch {
		case t <= 0:
			return 0
		case t < d[0]:
			return pos(0) * float64(t) / float64(d[0])
		case t < 2*d[0]:
			return pos(0) + (1-pos(0))*float64(t-d[0])/float64(d[0])
		}
		return 1
	}
	i, _ := slices.BinarySearch(d, t) // d[i-1] < t ≤ d[i]
	switch {
	case i == 0:
		lo := max(d[0]-(d[1]-d[0]), 0)
		if t <= lo {
			return 0
		}
		return pos(0) * float64(t-lo) / float64(d[0]-lo)
	case i == n:
		hi := d[n-1] + (d[n-1] - d[n-2])
		if t >= hi {
			return 1
		}
		return pos(n-1) + (1-pos(n-1))*float64(t-d[n-1])/float64(hi-d[n-1])
	}
	if d[i] == d[i-1] {
		return pos(i - 1)
	}
	return pos(i-1) + (pos(i)-pos(i-1))*float64(t-d[i-1])/float64(d[i]-d[i-1])
}

package bench

import (
	"math"
	"slices"
	"time"
)

// Metrics are one strategy's figures on one scenario. bench/README.md
// defines every field.
type Metrics struct {
	Scenario string
	Strategy string
	Ops      int
	// Requests per operation, every HTTP request counted (SDK retries,
	// 429s and 503s included).
	ReqMean, ReqP99 float64
	// Detection lag (completion to the poll that saw it), over detected
	// operations.
	LagP50, LagP99, LagMax time.Duration
	// Lag relative to the operation's duration.
	RelP50, RelP99 float64
	// Slowdown (duration+lag)/duration.
	SlowMean, SlowP99 float64
	Throttled         int // 429 answers provoked
	// ThrottledAdapted counts the 429s a host sent later than AdaptWindow
	// after its first one: those a client that adapts should no longer get.
	ThrottledAdapted int
	Errors5xx        int // 503 answers met
	Abandoned        int // waits that ended without seeing completion
	CPU              time.Duration
	HeapPeak         uint64
	// LimitAbs and LimitRel are the limit's requests per operation at this
	// strategy's own p99 absolute and relative lag; XLimitAbs, XLimitRel and
	// XOracle are ReqMean divided by them and by the oracle's 1.
	LimitAbs, LimitRel            float64
	XLimitAbs, XLimitRel, XOracle float64
	// Computed marks rows that are computed (limit, oracle), not simulated.
	Computed bool
}

// rank is the 0-based nearest-rank index of quantile q among n values.
func rank(n int, q float64) int {
	r := int(math.Ceil(q*float64(n))) - 1
	return min(max(r, 0), n-1)
}

// quantile returns the nearest-rank q-quantile of sorted s (0 if empty).
func quantile[T int32 | float64 | time.Duration](s []T, q float64) T {
	if len(s) == 0 {
		return 0
	}
	return s[rank(len(s), q)]
}

// AdaptWindow is how long after a host's first 429 a client may still be
// learning its limit: twice the fleet engine's default Recovery (the time
// its rate takes to climb from zero to nominal), time enough for several
// halvings of the rate and one climb back to below the throttled rate.
const AdaptWindow = 2 * time.Minute

// throttledAfterAdapting counts the 429s of each host later than
// AdaptWindow after its first.
func throttledAfterAdapting(perHost [][]time.Duration) int {
	n := 0
	for _, ts := range perHost {
		for _, t := range ts {
			if t > ts[0]+AdaptWindow {
				n++
			}
		}
	}
	return n
}

// Measure turns a run into metrics.
func Measure(scenario string, r *Run) Metrics {
	e := r.Env
	m := Metrics{Scenario: scenario, Strategy: r.Strategy, Ops: len(e.W.Ops), Throttled: e.throttled,
		Errors5xx: e.errors5xx, CPU: r.CPU, HeapPeak: r.HeapPeak, ThrottledAdapted: throttledAfterAdapting(e.throttledAt)}
	reqs := slices.Clone(e.requests)
	var sum float64
	for _, n := range reqs {
		sum += float64(n)
	}
	slices.Sort(reqs)
	m.ReqMean = sum / float64(len(reqs))
	m.ReqP99 = float64(quantile(reqs, 0.99))
	var lags []time.Duration
	var rel, slow []float64
	var slowSum float64
	for i := range e.W.Ops {
		op := &e.W.Ops[i]
		if e.endState[i] != detected {
			m.Abandoned++
			continue
		}
		lag := e.ended[i] - op.Completion()
		lags = append(lags, lag)
		rl := float64(lag) / float64(op.Duration)
		rel = append(rel, rl)
		slow = append(slow, 1+rl)
		slowSum += 1 + rl
	}
	slices.Sort(lags)
	slices.Sort(rel)
	slices.Sort(slow)
	m.LagP50, m.LagP99 = quantile(lags, 0.5), quantile(lags, 0.99)
	if len(lags) > 0 {
		m.LagMax = lags[len(lags)-1]
		m.SlowMean = slowSum / float64(len(slow))
	}
	m.RelP50, m.RelP99 = quantile(rel, 0.5), quantile(rel, 0.99)
	m.SlowP99 = quantile(slow, 0.99)
	m.XOracle = m.ReqMean
	return m
}

// AddLimits fills the limit columns of m from the workload's durations.
func (m *Metrics) AddLimits(perKind [][]time.Duration) {
	m.LimitAbs = Limit(perKind, m.LagP99.Seconds(), false)
	m.LimitRel = Limit(perKind, m.RelP99, true)
	m.XLimitAbs = ratio(m.ReqMean, m.LimitAbs)
	m.XLimitRel = ratio(m.ReqMean, m.LimitRel)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.Inf(1)
	}
	return a / b
}

package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/lrokit/lrokit/poller"
)

// goalRun measures strategy and azcore on scenario name at n operations
// (seed 1), the reduced workload of issue 17's goal tests.
func goalRun(t *testing.T, name string, n int, s Strategy) (m, az Metrics) {
	t.Helper()
	for _, sc := range Scenarios(n, 1) {
		if sc.Name != name {
			continue
		}
		w := Generate(sc.Workload)
		m = Measure(sc.Name, Simulate(w, sc.Server, s, 1))
		az = Measure(sc.Name, Simulate(w, sc.Server, Azcore(), 1))
		t.Logf("%s, %s: %.2f req/op (%.3f× azcore's %.2f), p99 rel %.3f, p99 lag %s",
			name, s.Name(), m.ReqMean, m.ReqMean/az.ReqMean, az.ReqMean, m.RelP99, m.LagP99)
		return m, az
	}
	t.Fatalf("no scenario %q", name)
	return
}

// Issue 17's goals on 1,000 operations (the full run has 10,000): ratios
// only, so that a scheduling regression fails here before the benchmark.
// Bounds carry the margin the reduced workload needs; the figures of the
// full run are in bench/results.

func TestGoal17KindsSpreadColdFleet(t *testing.T) {
	m, az := goalRun(t, "kinds-spread", 1000, fleetStrategy{})
	assert.LessOrEqual(t, m.ReqMean/az.ReqMean, 0.45)
	assert.LessOrEqual(t, m.RelP99, GoalRelLag)
	assert.LessOrEqual(t, m.LagP99, GoalLag)
}

func TestGoal17KindsTogetherFleet(t *testing.T) {
	m, az := goalRun(t, "kinds-together", 1000, fleetStrategy{})
	assert.LessOrEqual(t, m.ReqMean/az.ReqMean, 0.65)
	assert.LessOrEqual(t, m.LagP99, GoalLag)
	// The goal's p99 relative lag ≤ 0.35 is not met yet (see README).
	assert.LessOrEqual(t, m.RelP99, 0.7, "no worse than today")
}

func TestGoal17WideTogetherFleet(t *testing.T) {
	m, az := goalRun(t, "wide-together", 1000, fleetStrategy{})
	assert.LessOrEqual(t, m.ReqMean/az.ReqMean, 1.0)
	// The goal's p99 relative lag ≤ 0.35 is not met yet (see README).
	assert.LessOrEqual(t, m.RelP99, 0.9, "no worse than today")
}

func TestGoal17KindsWarmStore(t *testing.T) {
	sc := Scenarios(1000, 1)[3]
	m, az := goalRun(t, "kinds-spread", 1000, LrokitPriors(LabelPriorsWarm, poller.Policy{}, func() *Priors { return WarmPriors(sc.Workload) }))
	// The goal is ≤ 0.30×, not met yet (see README): no worse than today.
	assert.LessOrEqual(t, m.ReqMean/az.ReqMean, 0.37)
	assert.LessOrEqual(t, m.RelP99, GoalRelLag)
	assert.LessOrEqual(t, m.LagP99, GoalLag)
}

func TestGoal17RetryAfterZeroCostsNothingInTheFleet(t *testing.T) {
	zero, _ := goalRun(t, "wide-spread-hint-zero", 1000, fleetStrategy{})
	none, _ := goalRun(t, "wide-spread", 1000, fleetStrategy{})
	assert.LessOrEqual(t, zero.ReqMean, 1.02*none.ReqMean)
	assert.Less(t, time.Duration(0), none.LagP99)
}

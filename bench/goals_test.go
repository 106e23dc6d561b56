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
	return goalRunOn(t, name, n, 0, s)
}

// goalRunOn is goalRun with the operations on hosts hosts (0: the
// scenario's 10).
func goalRunOn(t *testing.T, name string, n, hosts int, s Strategy) (m, az Metrics) {
	t.Helper()
	for _, sc := range Scenarios(n, 1) {
		if sc.Name != name {
			continue
		}
		if hosts > 0 {
			sc.Workload.Hosts = hosts
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

// Issue 17's goals on a reduced workload (the full run has 10,000
// operations), so that a scheduling regression fails here in seconds: the
// spread starts on 1,000 operations, request ratios only (a p99 of 1,000
// is its 10 worst); the together starts on 2,000 on 2 hosts, with their lag
// (below). lrobench checks the full workload (bench/results/results.md).

func TestGoal17KindsSpreadColdFleet(t *testing.T) {
	m, az := goalRun(t, "kinds-spread", 1000, fleetStrategy{})
	assert.LessOrEqual(t, m.ReqMean/az.ReqMean, 0.45)
}

// The together starts' lag depends on how many operations each host must
// poll at once (1,000 in the full run: 50 req/s per host takes 20 s for one
// round), so their reduced workload keeps that: 2,000 operations on 2 hosts,
// 200 per kind, with the full run's per-host saturation (and a p99 of 20
// operations). What it does not keep is the number of samples per kind (20
// plus a tenth: 38 instead of 118), so the learning is a little slower.
// Measured at seed 1 (full run at 10,000 in parentheses): kinds-together
// p99 relative lag 0.436, p99 lag 62.8 s (0.45, 61 s); before the engine
// ranked due operations by their kind's progress 0.745 and 85 s (0.63, 62 s).
// The goal's 0.35 is not reached: the 10 s and 19 s kinds alone need about
// 75 polls/s per host around t = 8 s to keep every one within a third of its
// age, against 50 (bench/README.md).

func TestGoal17KindsTogetherFleet(t *testing.T) {
	m, az := goalRunOn(t, "kinds-together", 2000, 2, fleetStrategy{})
	assert.LessOrEqual(t, m.ReqMean/az.ReqMean, 0.65)
	assert.LessOrEqual(t, m.LagP99, GoalLag, "the goal's absolute bound")
	assert.LessOrEqual(t, m.RelP99, 0.5, "not the goal's 0.35 (see above): no worse than today")
}

// wide-together's p99 relative lag is the 100th worst of 10,000 in a host
// saturated for its first minute by one kind (nothing tells its short
// operations apart): 0.78–1.0 across seeds before and after this engine's
// changes, and out of reach of 0.35 at 50 req/s per host (bench/README.md).
// The absolute bound is met, and the relative one guards against a
// starvation (a poll left behind by the urgency order) rather than the goal.
func TestGoal17WideTogetherFleet(t *testing.T) {
	m, az := goalRunOn(t, "wide-together", 2000, 2, fleetStrategy{})
	assert.LessOrEqual(t, m.ReqMean/az.ReqMean, 1.0)
	assert.LessOrEqual(t, m.LagP99, GoalLag, "the goal's absolute bound")
	assert.LessOrEqual(t, m.RelP99, 1.1, "not the goal's 0.35 (see above)")
}

func TestGoal17KindsWarmStore(t *testing.T) {
	sc := Scenarios(1000, 1)[3]
	m, az := goalRun(t, "kinds-spread", 1000, LrokitPriors(LabelPriorsWarm, poller.Policy{}, func() *Priors { return WarmPriors(sc.Workload) }))
	// The goal is ≤ 0.30×, not met yet (see bench/README.md): no worse than today.
	assert.LessOrEqual(t, m.ReqMean/az.ReqMean, 0.37)
}

func TestGoal17RetryAfterZeroCostsNothingInTheFleet(t *testing.T) {
	zero, _ := goalRun(t, "wide-spread-hint-zero", 1000, fleetStrategy{})
	none, _ := goalRun(t, "wide-spread", 1000, fleetStrategy{})
	assert.LessOrEqual(t, zero.ReqMean, 1.02*none.ReqMean)
	assert.Less(t, time.Duration(0), none.LagP99)
}

package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

// Issue 17's goals on 1,000 operations (the full run has 10,000): request
// ratios only, so that a scheduling regression fails here in seconds. The
// lag bounds need the full workload (a p99 of 1,000 operations is its 10
// worst, and 100 per host do not saturate a together start); lrobench
// checks them (bench/results/results.md).

func TestGoal17KindsSpreadColdFleet(t *testing.T) {
	m, az := goalRun(t, "kinds-spread", 2000, fleetStrategy{})
	assert.LessOrEqual(t, m.ReqMean/az.ReqMean, 0.45)
}

func TestGoal17KindsTogetherFleet(t *testing.T) {
	m, az := goalRun(t, "kinds-together", 1000, fleetStrategy{})
	assert.LessOrEqual(t, m.ReqMean/az.ReqMean, 0.65)
}

func TestGoal17WideTogetherFleet(t *testing.T) {
	m, az := goalRun(t, "wide-together", 1000, fleetStrategy{})
	assert.LessOrEqual(t, m.ReqMean/az.ReqMean, 1.0)
}

// The warm store's holds are allocated from 200 durations per kind; on 1,000
// operations (100 per kind) the ratio is 0.300 and moves by ±0.005 with the
// draw, so this one runs 2,000 (0.295 at 2,000, 3,000, 5,000 and 10,000).
func TestGoal17KindsWarmStore(t *testing.T) {
	sc := Scenarios(2000, 1)[3]
	m, az := goalRun(t, "kinds-spread", 2000, LrokitPriors(LabelPriorsWarm, WarmPolicy(), func() *Priors { return WarmPriors(sc.Workload) }))
	assert.LessOrEqual(t, m.ReqMean/az.ReqMean, 0.30)
}

func TestGoal17RetryAfterZeroCostsNothingInTheFleet(t *testing.T) {
	zero, _ := goalRun(t, "wide-spread-hint-zero", 1000, fleetStrategy{})
	none, _ := goalRun(t, "wide-spread", 1000, fleetStrategy{})
	assert.LessOrEqual(t, zero.ReqMean, 1.02*none.ReqMean)
	assert.Less(t, time.Duration(0), none.LagP99)
}

package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/poller"
)

func TestThrottledAfterAdaptingCountsOnlyLate429s(t *testing.T) {
	s := time.Second
	tests := []struct {
		name    string
		perHost [][]time.Duration
		want    int
	}{
		{"no 429s", [][]time.Duration{nil, nil}, 0},
		{"all within the window", [][]time.Duration{{10 * s, 11 * s, 10*s + AdaptWindow}}, 0},
		{"after the window", [][]time.Duration{{10 * s, 10*s + AdaptWindow + 1, time.Hour}}, 2},
		{"each host has its own window", [][]time.Duration{{0, 3 * time.Minute}, {time.Hour, time.Hour + time.Minute}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, throttledAfterAdapting(tt.perHost))
		})
	}
}

func fleetScenario(n, hosts int, spread time.Duration, server ServerSpec) (*Workload, ServerSpec) {
	return Generate(WorkloadSpec{Shape: Wide, N: n, Spread: spread, Hosts: hosts, Seed: 5}), server
}

func TestFleetDriverRunsTheEngineToTheEndOfEveryOperation(t *testing.T) {
	w, sv := fleetScenario(300, 3, 10*time.Minute, ServerSpec{ErrorRate: 0.05, Hint: HintGuess, HintShare: 0.34, Guess: 10 * time.Second})
	m := Measure("t", Simulate(w, sv, fleetStrategy{}, 5))
	assert.Zero(t, m.Abandoned, "the engine's retry budget is unlimited")
	assert.Positive(t, m.Errors5xx)
	assert.GreaterOrEqual(t, m.ReqMean, 1.0)
	assert.Greater(t, m.LagMax, time.Duration(0))
	again := Measure("t", Simulate(w, sv, fleetStrategy{}, 5))
	m.CPU, m.HeapPeak, again.CPU, again.HeapPeak = 0, 0, 0, 0
	assert.Equal(t, m, again, "the same seed gives the same run")
}

func TestFleetEngineLearnsAPerHostLimit(t *testing.T) {
	// 400 operations start together on one host that allows 5 req/s: the
	// engine starts at FleetRate, is throttled, and slows to the limit.
	w, sv := fleetScenario(400, 1, 0, ServerSpec{RateLimit: 5, Burst: 10})
	f := Measure("t", Simulate(w, sv, fleetStrategy{}, 5))
	d := Measure("t", Simulate(w, sv, Lrokit(LabelLrokit, poller.Policy{}), 5))
	t.Logf("fleet: %d 429s, %d after adapting, %.2f req/op, p99 lag %s; default: %d 429s, %.2f req/op",
		f.Throttled, f.ThrottledAdapted, f.ReqMean, f.LagP99, d.Throttled, d.ReqMean)
	require.Positive(t, f.Throttled, "the limit binds")
	assert.Zero(t, f.Abandoned)
	assert.Less(t, f.Throttled*10, d.Throttled, "a tenth of the core alone's 429s at most")
	assert.Zero(t, f.ThrottledAdapted, "no 429 once adapted")
}

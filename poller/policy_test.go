package poller_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

func TestPolicyBaseDelayIsAThirdOfElapsedWithinFloorAndCap(t *testing.T) {
	tests := []struct {
		name    string
		policy  poller.Policy
		elapsed time.Duration
		want    time.Duration
	}{
		{"just started: floor", poller.Policy{}, 0, 2 * time.Second},
		{"negative elapsed counts as zero", poller.Policy{}, -time.Hour, 2 * time.Second},
		{"below floor: floor", poller.Policy{}, 5 * time.Second, 2 * time.Second},
		{"a third of 30s", poller.Policy{}, 30 * time.Second, 10 * time.Second},
		{"a third of 2m", poller.Policy{}, 2 * time.Minute, 40 * time.Second},
		{"long operation: cap", poller.Policy{}, 3 * time.Hour, 60 * time.Second},
		{"huge elapsed does not overflow", poller.Policy{}, math.MaxInt64, 60 * time.Second},
		{"custom ratio", poller.Policy{Ratio: 0.5}, 30 * time.Second, 15 * time.Second},
		{"custom floor", poller.Policy{Floor: 10 * time.Second}, 3 * time.Second, 10 * time.Second},
		{"custom cap", poller.Policy{Cap: 20 * time.Second}, time.Hour, 20 * time.Second},
		{"cap below floor is raised to floor", poller.Policy{Floor: 30 * time.Second, Cap: 5 * time.Second}, time.Hour, 30 * time.Second},
		{"NaN ratio takes the default", poller.Policy{Ratio: math.NaN()}, 30 * time.Second, 10 * time.Second},
		{"expected duration: first poll where completion is plausible", poller.Policy{Expected: 5 * time.Minute}, 0, 5 * time.Minute},
		{"expected duration: the rest of it", poller.Policy{Expected: 5 * time.Minute}, 4 * time.Minute, time.Minute},
		{"expected duration: at least the floor", poller.Policy{Expected: 5 * time.Minute}, 5*time.Minute - time.Second, 2 * time.Second},
		{"expected duration passed: the usual schedule", poller.Policy{Expected: 5 * time.Minute}, 6 * time.Minute, 60 * time.Second},
		{"expected duration capped by the hint ceiling", poller.Policy{Expected: 5 * time.Hour}, 0, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.policy.BaseDelay(tt.elapsed))
		})
	}
}

func TestPolicyHintDelay(t *testing.T) {
	tests := []struct {
		name     string
		policy   poller.Policy
		hint     time.Duration
		lowHints int
		want     time.Duration
		wantOK   bool
	}{
		{"hint honored", poller.Policy{}, 30 * time.Second, 0, 30 * time.Second, true},
		{"hint at the floor", poller.Policy{}, 2 * time.Second, 0, 2 * time.Second, true},
		{"hint below the floor: no hint", poller.Policy{}, time.Second, 1, 0, false},
		{"Retry-After: 0: no hint", poller.Policy{}, 0, 0, 0, false},
		{"49-year date capped at the ceiling", poller.Policy{}, 49 * 365 * 24 * time.Hour, 0, 10 * time.Minute, true},
		{"custom ceiling", poller.Policy{HintCeiling: time.Minute}, time.Hour, 0, time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.policy.HintDelay(tt.hint, tt.lowHints)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPolicyMergeKeepsCallerFieldsAndFillsTheRest(t *testing.T) {
	caller := poller.Policy{Floor: 5 * time.Second}
	provider := poller.Policy{Floor: 30 * time.Second, Cap: 120 * time.Second, RetryBudget: 3}
	got := caller.Merge(provider)
	assert.Equal(t, poller.Policy{Floor: 5 * time.Second, Cap: 120 * time.Second, RetryBudget: 3}, got)
}

func TestPolicyBackOffJitterStaysWithinBounds(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := pollertest.NewClock(start)
	var pol poller.Policy
	b := pol.BackOff(start, clock)
	distinct := map[time.Duration]bool{}
	for _, elapsed := range []time.Duration{0, 10 * time.Second, 45 * time.Second, 2 * time.Minute, time.Hour} {
		clock.Set(start.Add(elapsed))
		base := pol.BaseDelay(elapsed)
		for range 200 {
			d := b.NextBackOff()
			require.GreaterOrEqual(t, d, 2*time.Second, "never below the floor")
			require.GreaterOrEqual(t, float64(d), 0.9*float64(base)-1)
			require.LessOrEqual(t, float64(d), 1.1*float64(base)+1)
			distinct[d] = true
		}
	}
	assert.Greater(t, len(distinct), 100, "delays are jittered")
}

func TestPolicyBackOffWithoutJitterIsExactlyTheBaseDelay(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := pollertest.NewClock(start.Add(90 * time.Second))
	pol := poller.Policy{Jitter: -1}
	assert.Equal(t, 30*time.Second, pol.BackOff(start, clock).NextBackOff())
}

package fleet

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestNextPoll(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0.Add(10 * time.Minute)
	next := now.Add(time.Minute)
	tests := []struct {
		name      string
		plan      pollPlan
		want      time.Time
		wantAgain bool
	}{
		{"the poller's schedule", pollPlan{Next: next}, next, false},
		{"a wake-up polls now", pollPlan{Next: next, Wake: true, Hold: hold{Until: time.Hour}}, now, false},
		{"a server hint beats a learned quantile", pollPlan{Next: next, Hinted: true, Hold: hold{Until: time.Hour}}, next, false},
		{"a learned quantile holds the poll", pollPlan{Next: next, Hold: hold{Until: time.Hour}}, t0.Add(time.Hour), false},
		{"a quantile already passed holds nothing", pollPlan{Next: next, Hold: hold{Until: time.Minute}}, next, false},
		{"an open hold decides again later", pollPlan{Next: now, Hold: hold{Open: true, Recheck: 3 * time.Minute}}, now.Add(3 * time.Minute), true},
		{"an open hold never polls sooner than the poller", pollPlan{Next: next, Hold: hold{Open: true, Recheck: 10 * time.Second}}, next, true},
		{"a hint beats an open hold", pollPlan{Next: next, Hinted: true, Hold: hold{Open: true, Recheck: time.Hour}}, next, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.plan.Now, tt.plan.Created = now, t0
			got, again := nextPoll(tt.plan)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantAgain, again)
		})
	}
}

func TestKMQuantile(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(i + 1)
	}
	older := make([]float64, 1500) // still running at 60 s
	for i := range older {
		older[i] = 60
	}
	tests := []struct {
		name          string
		done, running []float64
		q             float64
		want          time.Duration
	}{
		{"nearest rank without censoring", hundred, nil, 0.01, time.Second},
		{"nearest rank, 10 %", hundred, nil, 0.1, 10 * time.Second},
		{"too few samples", []float64{5}, nil, 0.01, 0},
		{"nothing finished yet", nil, hundred, 0.01, 0},
		{"one early end among many still running", []float64{40}, hundred, 0.01, 40 * time.Second},
		{"running samples younger than the end do not count", []float64{40, 41}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}, 0.01, 40 * time.Second},
		{"survival still above 1-q", []float64{50}, older, 0.001, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, kmQuantile(tt.done, tt.running, tt.q, 20))
		})
	}
}

func TestPollsFirst(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		a, b   urgency
		ka, kb string
		want   bool
	}{
		{"a live kind before one whose samples all still run", urgency{Live: true, Due: t0.Add(time.Second)}, urgency{Due: t0}, "b", "a", true},
		{"not live after live, however early", urgency{Due: t0}, urgency{Live: true, Due: t0.Add(time.Hour)}, "a", "b", false},
		{"both live: the one due first", urgency{Live: true, Due: t0}, urgency{Live: true, Due: t0.Add(time.Millisecond)}, "b", "a", true},
		{"neither live: the one due first", urgency{Due: t0.Add(time.Millisecond)}, urgency{Due: t0}, "a", "b", false},
		{"due at once: by key", urgency{Due: t0}, urgency{Due: t0}, "op/1", "op/2", true},
		{"due at once, by key, the other way", urgency{Live: true, Due: t0}, urgency{Live: true, Due: t0}, "op/2", "op/1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, pollsFirst(tt.a, tt.b, tt.ka, tt.kb))
			if tt.a != tt.b || tt.ka != tt.kb {
				assert.Equal(t, !tt.want, pollsFirst(tt.b, tt.a, tt.kb, tt.ka), "a strict order")
			}
		})
	}
}

func TestPriors_ObserveReportsWhatChangesTheQueue(t *testing.T) {
	p := newPriors(PriorOptions{MinSamples: 3, Quantile: 0.3}.resolved())
	assert.False(t, p.live("k"))
	assert.True(t, p.observe("k", 10*time.Second), "the first finished sample: the kind is live")
	assert.True(t, p.live("k"))
	assert.False(t, p.live("other"))
	assert.False(t, p.observe("k", 12*time.Second), "live already, no quantile yet")
	assert.True(t, p.observe("k", 11*time.Second), "the first quantile ends the open holds")
	assert.Equal(t, 10*time.Second, p.kinds["k"].expected)
	assert.False(t, p.observe("k", 5*time.Second), "a quantile lowered later moves no held operation")
	assert.False(t, p.observe("", time.Second))
	off := newPriors(PriorOptions{Disabled: true}.resolved())
	assert.False(t, off.observe("k", time.Second))
	assert.False(t, off.live("k"))
}

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
		{"a kind whose samples have begun to finish before one whose samples all run", urgency{Progress: 0.01, Due: t0.Add(time.Second)}, urgency{Due: t0}, "b", "a", true},
		{"nothing finished: after, however early", urgency{Due: t0}, urgency{Progress: 0.01, Due: t0.Add(time.Hour)}, "a", "b", false},
		{"the kind furthest along first", urgency{Progress: 0.4, Due: t0.Add(time.Minute)}, urgency{Progress: 0.05, Due: t0}, "b", "a", true},
		{"as far along: the one due first", urgency{Progress: 0.2, Due: t0}, urgency{Progress: 0.2, Due: t0.Add(time.Millisecond)}, "b", "a", true},
		{"nothing finished in either: the one due first", urgency{Due: t0.Add(time.Millisecond)}, urgency{Due: t0}, "a", "b", false},
		{"due at once: by key", urgency{Due: t0}, urgency{Due: t0}, "op/1", "op/2", true},
		{"due at once, by key, the other way", urgency{Progress: 0.5, Due: t0}, urgency{Progress: 0.5, Due: t0}, "op/2", "op/1", false},
		{"within one tenth: the one due first", urgency{Progress: 0.42, Due: t0.Add(time.Second)}, urgency{Progress: 0.48, Due: t0}, "a", "b", false},
		{"settled kinds (90 % or more) compete by due time", urgency{Progress: 0.99, Due: t0.Add(time.Second)}, urgency{Progress: 0.9, Due: t0}, "a", "b", false},
		{"settled before still finishing", urgency{Progress: 0.9, Due: t0.Add(time.Minute)}, urgency{Progress: 0.89, Due: t0}, "a", "b", true},
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

func TestProgressTier(t *testing.T) {
	for _, tt := range []struct {
		p    float64
		want int
	}{{0, 0}, {1e-9, 1}, {0.0999, 1}, {0.1, 2}, {0.5, 6}, {0.8999, 9}, {0.9, 10}, {1, 10}} {
		assert.Equal(t, tt.want, progressTier(tt.p), "%v", tt.p)
	}
}

func TestPriors_Progress(t *testing.T) {
	tests := []struct {
		name          string
		done, running []float64
		want          float64
	}{
		{"nothing finished", nil, []float64{5, 5, 5}, 0},
		{"all finished", []float64{1, 2, 3, 4}, nil, 1},
		{"one of four, the others seen running later", []float64{10}, []float64{20, 20, 20}, 0.25},
		{"running samples seen younger do not count against a later end", []float64{10, 30}, []float64{20, 40}, 1 - 0.75*0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.want, 1-kmSurvival(tt.done, tt.running), 1e-12)
		})
	}
}

func TestPriors_ObserveReportsTheFirstQuantile(t *testing.T) {
	p := newPriors(PriorOptions{MinSamples: 3, Quantile: 0.3}.resolved())
	assert.Nil(t, p.kinds["k"])
	assert.False(t, p.observe("k", 10*time.Second), "no quantile yet")
	assert.InDelta(t, 1, p.ranking("k").progress, 1e-12, "every sample of the kind has finished")
	assert.False(t, p.observe("k", 12*time.Second), "no quantile yet")
	assert.True(t, p.observe("k", 11*time.Second), "the first quantile ends the open holds")
	assert.Equal(t, 10*time.Second, p.kinds["k"].expected)
	assert.False(t, p.observe("k", 5*time.Second), "a quantile lowered later moves no held operation")
	assert.False(t, p.observe("", time.Second))
	assert.Nil(t, p.ranking(""))
	off := newPriors(PriorOptions{Disabled: true}.resolved())
	assert.False(t, off.observe("k", time.Second))
	assert.Nil(t, off.ranking("k"))
}

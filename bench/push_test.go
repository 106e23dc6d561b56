package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPush_NotificationsCutPollsAndNeverChangeResults(t *testing.T) {
	sc := PushScenario(300, 3)
	sc.Workload.Spread = 10 * time.Minute
	r := RunPush(sc, nil)
	require.Len(t, r.Rows, len(PushLosses)+2, "and the 1 % loss and falls-silent rows")
	for i, m := range r.Rows {
		t.Logf("%s: %.2f req/op (poll-only %.2f), lag p50 %s p99 %s, after event p50 %s p99 %s",
			m.Strategy, m.ReqMean, r.PollOnly.ReqMean, m.LagP50, m.LagP99, m.EventP50, m.EventP99)
		assert.Zero(t, m.Abandoned, "every operation's result is still found by a poll")
		assert.Equal(t, r.PollOnly.Ops, m.Ops)
		if r.Specs[i].Loss == 0 && r.Specs[i].StopAt == 0 {
			assert.Equal(t, m.Ops, m.Arrived)
			assert.Less(t, m.ReqMean, r.PollOnly.ReqMean/2)
			assert.LessOrEqual(t, m.EventP50, 2*time.Second)
		}
		if r.Specs[i].StopAt > 0 {
			assert.Positive(t, m.Silent)
			assert.LessOrEqual(t, m.SilentP99, 2*r.PollOnly.LagP99, "a source that falls silent")
		}
		if r.Specs[i].Loss == 1 {
			assert.Zero(t, m.Arrived)
			assert.InDelta(t, r.PollOnly.ReqMean, m.ReqMean, r.PollOnly.ReqMean*0.05, "a silent source costs nothing")
		}
	}
}

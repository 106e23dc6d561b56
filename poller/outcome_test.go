package poller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/internal/tracecheck"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

func TestFailedWaitExplainsItself(t *testing.T) {
	clock := pollertest.NewAutoClock(epoch)
	steps := append(repeat(6, pollertest.Running("Creating", 40)), pollertest.Failed("QuotaExceeded", "no cores left in westeurope"))
	steps[5].Obs.Rule = "provisioningState"
	steps[6].Obs.Rule = "provisioningState"
	p, err := poller.New[result](&pollertest.Operation{Steps: steps}, &poller.Options{Clock: clock})
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	var oe *poller.OperationError
	require.ErrorAs(t, err, &oe)
	o, ok := poller.OutcomeOf(err)
	require.True(t, ok)
	assert.Equal(t, poller.ReasonTerminal, o.Reason)
	assert.Equal(t, poller.StatusFailed, o.Status)
	assert.Equal(t, "Failed", o.Detail)
	assert.Equal(t, "QuotaExceeded", o.Code)
	assert.Equal(t, "no cores left in westeurope", o.Message)
	assert.Equal(t, "provisioningState", o.Rule)
	assert.Equal(t, 7, o.Polls)
	assert.Equal(t, clock.Now().Sub(epoch), o.Elapsed)
	assert.Zero(t, o.Remaining, "nothing is left of a finished operation")
	assert.Equal(t, o, *oe.Outcome)
	b, err := json.Marshal(o)
	require.NoError(t, err)
	assert.JSONEq(t, `{"reason":"terminal","status":"Failed","detail":"Failed","code":"QuotaExceeded","message":"no cores left in westeurope",
		"rule":"provisioningState","in_state":"0s","polls":7,"elapsed":"`+o.Elapsed.Round(time.Second).String()+`"}`, string(b))
	var back poller.Outcome
	require.NoError(t, json.Unmarshal(b, &back))
	want := o
	want.Elapsed = o.Elapsed.Round(time.Second)
	assert.Equal(t, want, back, "the JSON form reads back, to the second")
}

func TestStoppedWaitEstimatesTimeLeftFromLearnedDurations(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline time.Duration
		learned  poller.Learned
		want     time.Duration
	}{
		{"before the median", 5 * time.Minute, poller.Learned{Median: 8 * time.Minute, P95: 20 * time.Minute}, 3 * time.Minute},
		{"past the median", 10 * time.Minute, poller.Learned{Median: 8 * time.Minute, P95: 20 * time.Minute}, 10 * time.Minute},
		{"past the 95th percentile", 25 * time.Minute, poller.Learned{Median: 8 * time.Minute, P95: 20 * time.Minute}, 0},
		{"nothing learned", 5 * time.Minute, poller.Learned{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := pollertest.NewAutoClock(epoch)
			op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("Creating", -1)}}
			p, err := poller.New[result](op, &poller.Options{Clock: clock, Deadline: epoch.Add(tc.deadline), Learned: tc.learned, StallFactor: 100})
			require.NoError(t, err)
			_, err = p.Wait(context.Background(), nil)
			var we *poller.WaitError
			require.ErrorAs(t, err, &we)
			o := *we.Outcome
			assert.Equal(t, poller.ReasonDeadline, o.Reason)
			assert.Equal(t, poller.StatusRunning, o.Status)
			assert.Equal(t, "Creating", o.Detail)
			assert.Equal(t, tc.deadline, o.Elapsed)
			assert.Equal(t, tc.deadline, o.InState, "it has been Creating all along")
			assert.Equal(t, tc.want, o.Remaining)
			assert.False(t, o.Stalled)
		})
	}
}

func TestStallIsReportedWithoutGivingUp(t *testing.T) {
	clock := pollertest.NewAutoClock(epoch)
	steps := append(repeat(40, pollertest.Running("Creating", 50)), pollertest.Running("Configuring", 80), pollertest.Succeeded())
	rec := tracecheck.New()
	var logs bytes.Buffer
	p, err := poller.New[result](&pollertest.Operation{Steps: steps}, &poller.Options{
		Clock: clock, TracerProvider: rec, Learned: poller.Learned{P95: 3 * time.Minute}, // threshold 2 × 3 min
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	require.NoError(t, err)
	var stalls []time.Duration
	var progress []poller.Progress
	_, err = p.Wait(context.Background(), &poller.WaitOptions{
		OnStall:    func(_ poller.Observation, d time.Duration) { stalls = append(stalls, d) },
		OnProgress: func(pr poller.Progress) { progress = append(progress, pr) },
	})
	require.NoError(t, err)
	require.Len(t, stalls, 1, "one report per unchanged stretch")
	assert.GreaterOrEqual(t, stalls[0], 6*time.Minute)
	assert.Less(t, stalls[0], 7*time.Minute, "noticed at the first poll past the threshold")
	assert.Contains(t, logs.String(), `"msg":"lro stalled"`)
	w := rec.Named(poller.SpanWait)[0]
	assert.True(t, tracecheck.HasEvent(w, poller.EventStalled))
	require.Len(t, progress, 42)
	assert.Equal(t, poller.Progress{Status: poller.StatusRunning, Phase: "Creating", Percent: 50, Polls: 1}, progress[0])
	assert.Equal(t, "Configuring", progress[40].Phase)
	assert.False(t, p.Outcome().Stalled, "a change ends the stall")
}

func TestStallGivesUpWhenAsked(t *testing.T) {
	clock := pollertest.NewAutoClock(epoch)
	steps := []pollertest.Step{pollertest.Running("Creating", 10), pollertest.Running("Creating", 20), pollertest.Running("Deploying", 20)}
	p, err := poller.New[result](&pollertest.Operation{Steps: steps}, &poller.Options{
		Clock: clock, StallAfter: 10 * time.Minute, GiveUpWhenStalled: true,
	})
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	require.ErrorIs(t, err, poller.ErrStalled)
	o, ok := poller.OutcomeOf(err)
	require.True(t, ok)
	assert.Equal(t, poller.ReasonStalled, o.Reason)
	assert.True(t, o.Stalled)
	assert.Equal(t, "Deploying", o.Detail)
	assert.GreaterOrEqual(t, o.InState, 10*time.Minute)
	var we *poller.WaitError
	require.ErrorAs(t, err, &we)
	assert.NotEmpty(t, we.Token, "a stalled wait hands back its token like any stopped wait")
}

func TestOutcomeOfAFinalPollError(t *testing.T) {
	clock := pollertest.NewAutoClock(epoch)
	steps := []pollertest.Step{pollertest.Running("Creating", -1), pollertest.Error(poller.ErrOperationNotFound)}
	p, err := poller.New[result](&pollertest.Operation{Steps: steps}, &poller.Options{Clock: clock})
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	o, ok := poller.OutcomeOf(err)
	require.True(t, ok)
	assert.Equal(t, poller.ReasonPollError, o.Reason)
	assert.Equal(t, "Creating", o.Detail, "the last state learned")
	assert.Equal(t, 1, o.Polls)
}

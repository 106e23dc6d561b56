package aws_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/aws"
	"github.com/lrokit/lrokit/internal/tracecheck"
	"github.com/lrokit/lrokit/lrotest/awsfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

func TestStackWaitIsTracedAndItsFailureExplained(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Stack, "web",
		awsfake.Status("CREATE_IN_PROGRESS"),
		awsfake.Failing(awsfake.Throttle),
		awsfake.Status("CREATE_IN_PROGRESS"),
		awsfake.Step{Status: "ROLLBACK_COMPLETE", Reason: "The following resource(s) failed to create: [Bucket]."})
	rec := tracecheck.New()
	p, err := aws.NewPoller[*cloudformation.DescribeStacksOutput](srv.Config(), "cloudformation.StackCreateComplete", stackIn,
		&aws.Options{Options: poller.Options{Clock: pollertest.NewAutoClock(epoch), TracerProvider: rec}})
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)

	o, ok := poller.OutcomeOf(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, poller.StatusFailed, o.Status)
	assert.Equal(t, "ROLLBACK_COMPLETE", o.Detail)
	assert.Contains(t, o.Message, "failed to create: [Bucket]")
	assert.Equal(t, "cloudformation.StackCreateComplete acceptor: status ROLLBACK_COMPLETE → failure", o.Rule)
	assert.Equal(t, 3, o.Polls)

	polls := rec.Named(poller.SpanPoll)
	require.Len(t, polls, 4)
	assert.True(t, tracecheck.HasEvent(polls[1], poller.EventTransient))
	assert.True(t, tracecheck.HasEvent(polls[1], poller.EventRetry))
	throttled := false
	for _, ev := range polls[1].Events {
		for _, a := range ev.Attributes {
			if a.Key == "lrokit.throttled" && a.Value.AsBool() {
				throttled = true
			}
		}
	}
	assert.True(t, throttled, "a throttle is recorded as one")
	u, err := url.Parse(srv.URL())
	require.NoError(t, err)
	w := rec.Named(poller.SpanWait)[0]
	for k, want := range map[string]string{
		"lrokit.provider": "aws", "lrokit.operation.kind": "cloudformation.StackCreateComplete", "server.address": u.Host,
		"lrokit.status": "Failed", "lrokit.detail": "ROLLBACK_COMPLETE",
	} {
		got, _ := tracecheck.Attr(w, k)
		assert.Equal(t, want, got, k)
	}
	assert.Empty(t, tracecheck.Leaks(rec.Spans()))
}

func TestStackWaitStoppedByTheCallerEstimatesTimeLeftAndResumesLinked(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	steps := awsfake.Statuses("CREATE_IN_PROGRESS")
	for range 100 {
		steps = append(steps, awsfake.Status("CREATE_IN_PROGRESS"))
	}
	srv.Script(awsfake.Stack, "web", append(steps, awsfake.Status("CREATE_COMPLETE"))...)
	first := tracecheck.New()
	clock := pollertest.NewAutoClock(epoch)
	p, err := aws.NewPoller[*cloudformation.DescribeStacksOutput](srv.Config(), "cloudformation.StackCreateComplete", stackIn,
		&aws.Options{MaxWait: 10 * time.Minute, Options: poller.Options{Clock: clock, TracerProvider: first,
			Learned: poller.Learned{Median: 8 * time.Minute, P95: 25 * time.Minute}}})
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	var we *poller.WaitError
	require.ErrorAs(t, err, &we)
	o := *we.Outcome
	assert.Equal(t, poller.ReasonDeadline, o.Reason)
	assert.Equal(t, "CREATE_IN_PROGRESS", o.Detail)
	assert.Equal(t, 10*time.Minute, o.Elapsed)
	assert.Equal(t, 15*time.Minute, o.Remaining, "past the median: the 95th percentile is what is left")
	assert.Equal(t, "cloudformation.StackCreateComplete acceptor: status CREATE_IN_PROGRESS → retry", o.Rule)
	assert.False(t, o.Stalled, "2 × p95 has not passed")

	second := tracecheck.New()
	q, err := aws.Resume[*cloudformation.DescribeStacksOutput](we.Token, srv.Config(),
		&aws.Options{Options: poller.Options{Clock: clock, TracerProvider: second, Deadline: epoch.Add(24 * time.Hour)}})
	require.NoError(t, err)
	_, err = q.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.True(t, tracecheck.LinksTo(second.Named(poller.SpanWait)[0], first.Named(poller.SpanWait)[0].SpanContext))
}

func TestStackThatStopsChangingStallsPastTwiceTheLearnedP95(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	steps := []awsfake.Step{awsfake.Status("CREATE_IN_PROGRESS")}
	for range 200 {
		steps = append(steps, awsfake.Step{Status: "CREATE_IN_PROGRESS", Reason: "Resource creation Initiated"})
	}
	srv.Script(awsfake.Stack, "web", steps...)
	rec := tracecheck.New()
	p, err := aws.NewPoller[*cloudformation.DescribeStacksOutput](srv.Config(), "cloudformation.StackCreateComplete", stackIn,
		&aws.Options{Options: poller.Options{Clock: pollertest.NewAutoClock(epoch), TracerProvider: rec,
			Learned: poller.Learned{P95: 5 * time.Minute}, GiveUpWhenStalled: true}})
	require.NoError(t, err)
	var stalled []time.Duration
	_, err = p.Wait(context.Background(), &poller.WaitOptions{OnStall: func(_ poller.Observation, d time.Duration) { stalled = append(stalled, d) }})
	require.ErrorIs(t, err, poller.ErrStalled)
	o, _ := poller.OutcomeOf(err)
	assert.Equal(t, poller.ReasonStalled, o.Reason)
	assert.Equal(t, "Resource creation Initiated", o.Message, "the stack's status reason")
	require.Len(t, stalled, 1)
	assert.GreaterOrEqual(t, stalled[0], 10*time.Minute, "2 × the learned p95")
	assert.True(t, tracecheck.HasEvent(rec.Named(poller.SpanWait)[0], poller.EventStalled))
}

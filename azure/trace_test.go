package azure_test

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/internal/tracecheck"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

func TestFailedWaitIsTracedAndExplained(t *testing.T) {
	srv := armfake.New()
	t.Cleanup(srv.Close)
	srv.Load(armfake.LRO{Method: "PUT", Path: resourcePath, Protocol: armfake.AsyncOperation,
		Polls: []armfake.Response{
			armfake.Status("InProgress").WithRetryAfter("5"), armfake.Status("InProgress"),
			armfake.StatusFailed("QuotaExceeded", "no cores left in westeurope"),
		}}.Scenario())
	rec := tracecheck.New()
	clock := pollertest.NewAutoClock(time.Now())
	pl := newPipeline(srv.Client(), noRetries())
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl,
		&azure.Options{Options: poller.Options{Clock: clock, TracerProvider: rec}})
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)

	o, ok := poller.OutcomeOf(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, poller.StatusFailed, o.Status)
	assert.Equal(t, "QuotaExceeded", o.Code)
	assert.Equal(t, "no cores left in westeurope", o.Message)
	assert.Equal(t, "Azure-AsyncOperation: status field", o.Rule)
	assert.Equal(t, 3, o.Polls)

	w := rec.Named(poller.SpanWait)
	require.Len(t, w, 1)
	polls := rec.Named(poller.SpanPoll)
	require.Len(t, polls, 3)
	host := mustHost(t, srv.URL())
	for k, want := range map[string]string{
		"lrokit.provider": "azure", "lrokit.operation.kind": "PUT Microsoft.Test/widgets", "server.address": host,
		"lrokit.status": "Failed", "lrokit.error.code": "QuotaExceeded", "lrokit.rule": "Azure-AsyncOperation: status field",
	} {
		got, _ := tracecheck.Attr(w[0], k)
		assert.Equal(t, want, got, k)
	}
	why, _ := tracecheck.Attr(polls[0], "lrokit.delay.reason")
	assert.Equal(t, "hint", why)
	assert.Empty(t, tracecheck.Leaks(rec.Spans(), armfake.APIVersion))
}

func TestStalledAzureWaitStopsExplainedAndResumesLinked(t *testing.T) {
	srv := armfake.New()
	t.Cleanup(srv.Close)
	polls := make([]armfake.Response, 60)
	for i := range polls {
		polls[i] = armfake.Status("InProgress")
	}
	srv.Load(armfake.LRO{Method: "PUT", Path: resourcePath, Protocol: armfake.AsyncOperation,
		Polls: append(polls, armfake.Status("Succeeded")), Final: []armfake.Response{armfake.Resource("w1", "Succeeded")}}.Scenario())
	first := tracecheck.New()
	clock := pollertest.NewAutoClock(time.Now())
	pl := newPipeline(srv.Client(), noRetries())
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, &azure.Options{Options: poller.Options{
		Clock: clock, TracerProvider: first, Learned: poller.Learned{Median: 20 * time.Minute, P95: 5 * time.Minute},
		StallAfter: 4 * time.Minute, GiveUpWhenStalled: true,
	}})
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	require.ErrorIs(t, err, poller.ErrStalled)
	var we *poller.WaitError
	require.ErrorAs(t, err, &we)
	o := *we.Outcome
	assert.Equal(t, poller.ReasonStalled, o.Reason)
	assert.True(t, o.Stalled)
	assert.Equal(t, "InProgress", o.Detail)
	assert.GreaterOrEqual(t, o.InState, 4*time.Minute)
	assert.Equal(t, 20*time.Minute-o.Elapsed, o.Remaining, "estimated from the learned median")
	assert.True(t, tracecheck.HasEvent(first.Named(poller.SpanWait)[0], poller.EventStalled))

	second := tracecheck.New()
	q, err := azure.Resume[json.RawMessage](we.Token, newPipeline(srv.Client(), noRetries()),
		trusting(&azure.Options{Options: poller.Options{Clock: clock, TracerProvider: second}}, srv))
	require.NoError(t, err)
	_, err = q.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.True(t, tracecheck.LinksTo(second.Named(poller.SpanWait)[0], first.Named(poller.SpanWait)[0].SpanContext),
		"the resumed wait links to the span that began the operation")
	assert.Empty(t, tracecheck.Leaks(append(first.Spans(), second.Spans()...), armfake.APIVersion))
}

func mustHost(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Host
}

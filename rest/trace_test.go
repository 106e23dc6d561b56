package rest_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/internal/tracecheck"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
	"github.com/lrokit/lrokit/rest"
)

func TestRESTWaitIsTracedWithProgressAndExplained(t *testing.T) {
	srv := armfake.New()
	t.Cleanup(srv.Close)
	srv.Load(armfake.Scenario{Routes: []armfake.Route{
		route("POST", "/v1/vpcs", armfake.Accepted().WithHeader("Operation-Location", "/v1/ops/7?sig=SECRET")),
		route("GET", "/v1/ops/7",
			armfake.JSON(200, `{"status":"Running","percentComplete":30}`),
			armfake.JSON(200, `{"status":"Running","percentComplete":30}`),
			armfake.JSON(200, `{"status":{"state":"Failed","conditions":[{"lastTransitionTime":"2024-11-06T14:30:00Z","reason":"CIDRConflict","message":"overlaps 10.0.0.0/8"}]}}`)),
	}})
	rec := tracecheck.New()
	clock := pollertest.NewAutoClock(time.Now())
	p, err := rest.NewPoller[json.RawMessage](doInitial(t, srv, "POST", "/v1/vpcs"), srv.Client(),
		&rest.Options{Options: poller.Options{Clock: clock, TracerProvider: rec, PlaintextSecrets: true}})
	require.NoError(t, err)
	var progress []poller.Progress
	_, err = p.Wait(context.Background(), &poller.WaitOptions{OnProgress: func(pr poller.Progress) { progress = append(progress, pr) }})

	o, ok := poller.OutcomeOf(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, poller.StatusFailed, o.Status)
	assert.Equal(t, "CIDRConflict", o.Code)
	assert.Equal(t, "overlaps 10.0.0.0/8", o.Message)
	assert.Equal(t, "Operation-Location: status field", o.Rule)
	require.Len(t, progress, 3, "one report per poll")
	assert.Equal(t, 30.0, progress[0].Percent)
	assert.Equal(t, "Running", progress[0].Phase)
	assert.Equal(t, "overlaps 10.0.0.0/8", progress[2].Message)

	polls := rec.Named(poller.SpanPoll)
	require.Len(t, polls, 3)
	pct, _ := tracecheck.Attr(polls[0], "lrokit.progress")
	assert.Equal(t, "30", pct)
	provider, _ := tracecheck.Attr(rec.Named(poller.SpanWait)[0], "lrokit.provider")
	assert.Equal(t, "rest", provider)
	assert.Empty(t, tracecheck.Leaks(rec.Spans(), "SECRET"), "the signed status URL stays out of spans")
}

func TestRESTWaitThatStopsProgressingIsReportedStalledAndGoesOn(t *testing.T) {
	srv := armfake.New()
	t.Cleanup(srv.Close)
	polls := []armfake.Response{armfake.JSON(200, `{"status":"Running","percentComplete":10}`)}
	for range 100 {
		polls = append(polls, armfake.JSON(200, `{"status":"Running","percentComplete":60}`))
	}
	srv.Load(armfake.Scenario{Routes: []armfake.Route{
		route("POST", "/v1/jobs", armfake.Accepted().WithHeader("Operation-Location", "/v1/ops/8")),
		route("GET", "/v1/ops/8", append(polls, armfake.JSON(200, `{"status":"Succeeded"}`))...),
	}})
	clock := pollertest.NewAutoClock(time.Now())
	p, err := rest.NewPoller[json.RawMessage](doInitial(t, srv, "POST", "/v1/jobs"), srv.Client(),
		&rest.Options{Options: poller.Options{Clock: clock, StallAfter: 15 * time.Minute}})
	require.NoError(t, err)
	var stalls int
	_, err = p.Wait(context.Background(), &poller.WaitOptions{OnStall: func(poller.Observation, time.Duration) { stalls++ }})
	require.NoError(t, err, "a stall is reported, not an end")
	assert.Equal(t, 1, stalls)
	o := p.Outcome()
	assert.Equal(t, poller.StatusSucceeded, o.Status)
	assert.False(t, o.Stalled, "it moved on")
	assert.Equal(t, 102, o.Polls)
}

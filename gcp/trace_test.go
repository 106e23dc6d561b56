package gcp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/lrokit/lrokit/internal/tracecheck"
	"github.com/lrokit/lrokit/lrotest/gcpfake"
	"github.com/lrokit/lrokit/poller"
)

func metadata(t *testing.T, fields map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(fields)
	require.NoError(t, err)
	return s
}

func TestLongrunningWaitIsTracedWithMetadataProgressAndExplained(t *testing.T) {
	e := newEnv(t)
	const name = "projects/p/locations/l/operations/op-1"
	e.fake.Add(name,
		gcpfake.Running(metadata(t, map[string]any{"state": "PROVISIONING", "progressPercent": 40, "statusMessage": "creating nodes"})),
		gcpfake.Fault(codes.Unavailable, "try again", 0),
		gcpfake.Running(metadata(t, map[string]any{"state": "PROVISIONING", "progressPercent": 70, "statusMessage": "creating nodes"})),
		gcpfake.Failed(codes.ResourceExhausted, "quota CPUS exceeded in us-central1"))
	rec := tracecheck.New()
	p, err := FromName[*structpb.Struct](name, e.client(), &Options{Options: poller.Options{Clock: e.clock, TracerProvider: rec},
		Endpoint: "container.googleapis.com:443"})
	require.NoError(t, err)
	var progress []poller.Progress
	_, err = p.Wait(context.Background(), &poller.WaitOptions{OnProgress: func(pr poller.Progress) { progress = append(progress, pr) }})

	o, ok := poller.OutcomeOf(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, poller.StatusFailed, o.Status)
	assert.Equal(t, "RESOURCE_EXHAUSTED", o.Code)
	assert.Equal(t, "quota CPUS exceeded in us-central1", o.Message)
	assert.Equal(t, "done with error (google.rpc.Status)", o.Rule)
	assert.Equal(t, 3, o.Polls, "the transient failure is not a poll that learned anything")
	require.Len(t, progress, 3)
	assert.Equal(t, poller.Progress{Status: poller.StatusRunning, Phase: "PROVISIONING", Percent: 40, Message: "creating nodes", Polls: 1}, progress[0])
	assert.Equal(t, 70.0, progress[1].Percent)

	polls := rec.Named(poller.SpanPoll)
	require.Len(t, polls, 4)
	assert.True(t, tracecheck.HasEvent(polls[1], poller.EventTransient))
	w := rec.Named(poller.SpanWait)[0]
	for k, want := range map[string]string{
		"lrokit.provider": "gcp", "server.address": "container.googleapis.com", "lrokit.operation.kind": "operations@container.googleapis.com",
		"lrokit.status": "Failed", "lrokit.error.code": "RESOURCE_EXHAUSTED",
	} {
		got, _ := tracecheck.Attr(w, k)
		assert.Equal(t, want, got, k)
	}
	assert.Empty(t, tracecheck.Leaks(rec.Spans()))
}

func TestComputeWaitStallsAndStopsExplained(t *testing.T) {
	e := newComputeEnv(t)
	steps := []gcpfake.ComputeStep{gcpfake.ComputeRunning(10), gcpfake.ComputeRunning(20)}
	for range 200 {
		steps = append(steps, gcpfake.ComputeRunning(20))
	}
	e.fake.Add("p", "zones/us-central1-a", "op-9", append(steps, gcpfake.ComputeDone())...)
	rec := tracecheck.New()
	p, err := AdoptCompute("p", "zones/us-central1-a", "op-9", e.service(), e.opts(func(o *Options) {
		o.TracerProvider = rec
		o.StallAfter = 5 * time.Minute
		o.Deadline = epoch.Add(30 * time.Minute)
		o.Started = epoch
	}))
	require.NoError(t, err)
	var stalls int
	_, err = p.Wait(context.Background(), &poller.WaitOptions{OnStall: func(poller.Observation, time.Duration) { stalls++ }})
	var we *poller.WaitError
	require.ErrorAs(t, err, &we)
	assert.Equal(t, 1, stalls, "reported once, and the wait went on")
	o := *we.Outcome
	assert.Equal(t, poller.ReasonDeadline, o.Reason)
	assert.True(t, o.Stalled)
	assert.Equal(t, "RUNNING", o.Detail)
	assert.Equal(t, 20.0, o.Progress)
	assert.Equal(t, "status RUNNING", o.Rule)
	assert.True(t, tracecheck.HasEvent(rec.Named(poller.SpanWait)[0], poller.EventStalled))
	assert.Empty(t, tracecheck.Leaks(rec.Spans()))
}

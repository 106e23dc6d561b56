package poller_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/lrokit/lrokit/internal/tracecheck"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

func TestWaitIsTracedAsOneSpanWithAChildPerPoll(t *testing.T) {
	rec := tracecheck.New()
	clock := pollertest.NewAutoClock(epoch)
	op := &pollertest.Operation{OpName: "https://example.test/ops/1?sig=SECRET", Steps: []pollertest.Step{
		pollertest.Running("Creating", 10),
		pollertest.Hinted(30 * time.Second),
		pollertest.Error(poller.Throttled(errors.New("429 from https://example.test/ops/1?sig=SECRET"), 5*time.Second)),
		pollertest.Succeeded(),
	}}
	p, err := poller.New[result](op, &poller.Options{Clock: clock, TracerProvider: rec})
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	require.NoError(t, err)

	waits, polls := rec.Named(poller.SpanWait), rec.Named(poller.SpanPoll)
	require.Len(t, waits, 1)
	require.Len(t, polls, 4)
	w := waits[0]
	for _, s := range polls {
		assert.Equal(t, w.SpanContext.SpanID(), s.Parent.SpanID(), "polls are children of the wait")
	}
	for k, want := range map[string]string{
		"lrokit.provider": "test", "lrokit.operation.kind": "scripted", "lrokit.status": "Succeeded",
		"lrokit.outcome.reason": poller.ReasonTerminal, "lrokit.polls": "3",
	} {
		got, _ := tracecheck.Attr(w, k)
		assert.Equal(t, want, got, k)
	}
	why := func(i int) string { v, _ := tracecheck.Attr(polls[i], "lrokit.delay.reason"); return v }
	assert.Equal(t, "floor", why(0), "a young operation polls at the floor")
	assert.Equal(t, "hint", why(1))
	hint, _ := tracecheck.Attr(polls[1], "lrokit.hint_s")
	assert.Equal(t, "30", hint)
	assert.True(t, tracecheck.HasEvent(polls[2], poller.EventTransient))
	assert.True(t, tracecheck.HasEvent(polls[2], poller.EventRetry))
	assert.Empty(t, tracecheck.Leaks(rec.Spans(), "SECRET"))
	assert.Equal(t, time.Duration(0), w.StartTime.Sub(epoch), "spans are timed on the poller's clock")
}

func TestTracedOperationsCarryTheirOriginAcrossAResume(t *testing.T) {
	first := tracecheck.New()
	clock := pollertest.NewAutoClock(epoch)
	op := &pollertest.Operation{Steps: append(repeat(5, pollertest.Running("Creating", -1)), pollertest.Succeeded())}
	p, err := poller.New[result](op, &poller.Options{Clock: clock, TracerProvider: first, Deadline: epoch.Add(10 * time.Second)})
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	var we *poller.WaitError
	require.ErrorAs(t, err, &we)
	origin := first.Named(poller.SpanWait)[0].SpanContext

	tok, err := poller.DecodeToken(we.Token, nil)
	require.NoError(t, err)
	assert.Equal(t, poller.FormatTraceparent(origin), tok.Trace, "the token carries the span that began the operation")

	// Another process: its own provider, a parent span of its own.
	second := tracecheck.New()
	resumed := &pollertest.Operation{Steps: op.Steps}
	require.NoError(t, resumed.Restore(tok))
	tok.Deadline = time.Time{} // this job waits until done
	q, err := poller.Resume[result](resumed, tok, &poller.Options{Clock: clock, TracerProvider: second})
	require.NoError(t, err)
	ctx, job := second.Tracer("ci").Start(context.Background(), "ci job")
	_, err = q.Wait(ctx, nil)
	require.NoError(t, err)
	job.End()
	w := second.Named(poller.SpanWait)[0]
	assert.Equal(t, job.SpanContext().SpanID(), w.Parent.SpanID(), "the resumed wait is a child of the caller's span")
	assert.True(t, tracecheck.LinksTo(w, origin), "and linked to the original")
	for _, s := range second.Named(poller.SpanPoll) {
		assert.False(t, tracecheck.LinksTo(s, origin), "polls inherit the link through their parent")
	}

	again, err := q.Token()
	require.NoError(t, err)
	assert.Equal(t, tok.Trace, again.Trace, "the origin stays the first span, however often resumed")
}

func TestPollWithoutAParentLinksToTheOrigin(t *testing.T) {
	rec := tracecheck.New()
	origin, ok := poller.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	require.True(t, ok)
	op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("Creating", -1)}}
	p, err := poller.New[result](op, &poller.Options{Clock: pollertest.NewClock(epoch), TracerProvider: rec, TraceOrigin: origin})
	require.NoError(t, err)
	_, err = p.Poll(context.Background())
	require.NoError(t, err)
	s := rec.Named(poller.SpanPoll)[0]
	assert.True(t, tracecheck.LinksTo(s, origin), "a scheduler's poll links to the operation's origin")
	tok, err := p.Token()
	require.NoError(t, err)
	assert.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tok.Trace)
}

func TestUntracedPollsAllocateNothing(t *testing.T) {
	p, err := poller.New[struct{}](&nopOp{obs: poller.Observation{Status: poller.StatusRunning, Progress: -1}},
		&poller.Options{Clock: pollertest.NewClock(epoch)})
	require.NoError(t, err)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() { _, _ = p.Poll(ctx) })
	assert.Zero(t, allocs, "without a TracerProvider a poll costs what it did before tracing")
}

func TestTokenTraceparentIsValidatedAndDroppedWhenMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, trace, want string
	}{
		{"valid", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		{"upper case", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", ""},
		{"zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", ""},
		{"zero span id", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", ""},
		{"version ff", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ""},
		{"trailing data on 00", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", ""},
		{"short", "00-4bf92f", ""},
		{"garbage", "<script>", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(map[string]any{"lrokit": 1, "provider": "test", "kind": "scripted", "traceparent": tc.trace})
			require.NoError(t, err)
			tok, err := poller.DecodeToken(string(raw), nil)
			require.NoError(t, err, "a bad traceparent never loses the token")
			assert.Equal(t, tc.want, tok.Trace)
		})
	}
}

func TestTokenTraceparentOfTheWrongTypeIsDropped(t *testing.T) {
	for _, v := range []any{5, true, map[string]any{"x": 1}, []string{"00-"}} {
		raw, err := json.Marshal(map[string]any{"lrokit": 1, "provider": "test", "kind": "scripted", "polls": 3, "traceparent": v})
		require.NoError(t, err)
		tok, err := poller.DecodeToken(string(raw), nil)
		require.NoError(t, err, "%v", v)
		assert.Empty(t, tok.Trace)
		assert.Equal(t, 3, tok.Polls, "the rest of the token is kept")
	}
}

func TestParseTraceparentAcceptsLaterVersionsWithMoreFields(t *testing.T) {
	sc, ok := poller.ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds")
	require.True(t, ok)
	assert.True(t, sc.IsSampled())
	assert.True(t, sc.IsRemote())
	assert.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", poller.FormatTraceparent(sc))
	assert.Empty(t, poller.FormatTraceparent(trace.SpanContext{}))
}

func FuzzParseTraceparent(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		sc, ok := poller.ParseTraceparent(s)
		if !ok {
			return
		}
		back := poller.FormatTraceparent(sc)
		sc2, ok := poller.ParseTraceparent(back)
		if !ok || sc2.TraceID() != sc.TraceID() || sc2.SpanID() != sc.SpanID() || back[:2] != "00" {
			t.Fatalf("%q parsed but does not round-trip: %q", s, back)
		}
	})
}

func TestStripQueryKeepsURLsButNotTheirQueries(t *testing.T) {
	for in, want := range map[string]string{
		"GET https://h.example/ops/1?sig=SECRET&se=1: 503": "GET https://h.example/ops/1 503",
		"no url? fine": "no url? fine",
		"a https://a/x?k=1 and http://b/y#frag?z then \"q?\"": "a https://a/x and http://b/y then \"q?\"",
		"trailing https://h/?":                                "trailing https://h/",
	} {
		assert.Equal(t, want, poller.StripQueryForTest(in), in)
	}
}

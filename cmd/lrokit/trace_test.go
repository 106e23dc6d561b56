package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// otlpReceiver is a loopback OTLP/HTTP endpoint that keeps the spans
// posted to /v1/traces (protobuf).
type otlpReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		var msg coltrace.ExportTraceServiceRequest
		if err != nil || req.URL.Path != "/v1/traces" || proto.Unmarshal(body, &msg) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range msg.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				r.spans = append(r.spans, ss.GetSpans()...)
			}
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		_, _ = w.Write(b)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *otlpReceiver) named(name string) []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range r.spans {
		if s.GetName() == name {
			out = append(out, s)
		}
	}
	return out
}

func TestBeginAndWaitInTwoProcessesAreTracedAndLinked(t *testing.T) {
	srv := armLRO(append(running(3), armfake.Status("Succeeded"))...)
	defer srv.Close()
	recv := newOTLPReceiver(t)
	const (
		beginTrace = "0af7651916cd43dd8448eb211c80319c"
		waitTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	)
	otlp := "OTEL_EXPORTER_OTLP_ENDPOINT=" + recv.srv.URL

	begin := cliEnv(t, []string{otlp, "TRACEPARENT=00-" + beginTrace + "-b7ad6b7169203331-01"},
		append([]string{"azure", "begin", "--method", "PUT", "--url", resourceURL(srv), "--body", `{"location":"westeurope"}`}, fast...)...)
	require.Equal(t, 0, begin.code, begin.stderr)
	token := strings.TrimSpace(begin.stdout)

	started := recv.named("lrokit azure begin")
	require.Len(t, started, 1, "the begin job exported its span")
	assert.Equal(t, beginTrace, hex.EncodeToString(started[0].GetTraceId()), "a child of the CI job's TRACEPARENT")
	assert.Equal(t, "b7ad6b7169203331", hex.EncodeToString(started[0].GetParentSpanId()))
	tok, err := poller.DecodeToken(token, nil)
	require.NoError(t, err)
	assert.Equal(t, "00-"+beginTrace+"-"+hex.EncodeToString(started[0].GetSpanId())+"-01", tok.Trace,
		"the token carries the span that began the operation")

	wait := cliEnv(t, []string{otlp, "TRACEPARENT=00-" + waitTrace + "-00f067aa0ba902b7-01"},
		append([]string{"wait", "--token", token, "--progress", "plain", "--allow-host", srv.URL()}, fast...)...)
	require.Equal(t, 0, wait.code, wait.stderr)
	var res resultJSON
	require.NoError(t, json.Unmarshal([]byte(wait.stdout), &res))
	require.NotNil(t, res.Outcome)
	assert.Equal(t, poller.StatusSucceeded, res.Outcome.Status)
	assert.Equal(t, "Azure-AsyncOperation: status field", res.Outcome.Rule)

	job := recv.named("lrokit wait")
	require.Len(t, job, 1)
	waits := recv.named(poller.SpanWait)
	require.Len(t, waits, 1)
	w := waits[0]
	assert.Equal(t, waitTrace, hex.EncodeToString(w.GetTraceId()), "the wait belongs to its own job's trace")
	assert.Equal(t, job[0].GetSpanId(), w.GetParentSpanId())
	linked := false
	for _, l := range w.GetLinks() {
		linked = linked || (hex.EncodeToString(l.GetTraceId()) == beginTrace && bytes.Equal(l.GetSpanId(), started[0].GetSpanId()))
	}
	assert.True(t, linked, "and is linked to the span that began the operation")
	polls := recv.named(poller.SpanPoll)
	assert.Len(t, polls, 4)
	for _, s := range append(polls, w) {
		for _, a := range s.GetAttributes() {
			v := a.GetValue().GetStringValue()
			assert.NotContains(t, v, "?", "attribute %s of %s", a.GetKey(), s.GetName())
			assert.NotContains(t, v, "lrokit1.", "attribute %s of %s", a.GetKey(), s.GetName())
		}
	}
}

func TestWaitExplainsAFailureInItsJSON(t *testing.T) {
	srv := armLRO(append(running(2), armfake.StatusFailed("QuotaExceeded", "no cores left in westeurope"))...)
	defer srv.Close()
	begin := cli(t, append([]string{"azure", "begin", "--method", "PUT", "--url", resourceURL(srv)}, fast...)...)
	require.Equal(t, 0, begin.code, begin.stderr)
	wait := cli(t, append([]string{"wait", "--token", strings.TrimSpace(begin.stdout), "--progress", "plain", "--allow-host", srv.URL()}, fast...)...)
	require.Equal(t, exitFailed, wait.code, wait.stderr)
	var res resultJSON
	require.NoError(t, json.Unmarshal([]byte(wait.stdout), &res))
	require.NotNil(t, res.Outcome)
	o := res.Outcome
	assert.Equal(t, poller.ReasonTerminal, o.Reason)
	assert.Equal(t, poller.StatusFailed, o.Status)
	assert.Equal(t, "QuotaExceeded", o.Code)
	assert.Equal(t, "no cores left in westeurope", o.Message)
	assert.Equal(t, 3, o.Polls)
	assert.Contains(t, wait.stdout, `"rule":"Azure-AsyncOperation: status field"`)
}

func TestStoppedWaitEstimatesTimeLeftFromTheFleetsLearnedDurations(t *testing.T) {
	srv := armLRO(running(100000)...)
	defer srv.Close()
	dir := t.TempDir()
	st, err := persist.Open(context.Background(), dir)
	require.NoError(t, err)
	samples := make([]float64, 20)
	for i := range samples {
		samples[i] = 3600 // an hour, every time
	}
	const kind = "azure PUT Microsoft.Test/things"
	doc, err := json.Marshal(map[string]any{"lrokit_priors": 1, "kind": kind, "samples": samples})
	require.NoError(t, err)
	_, err = st.Put(context.Background(), persist.Record{Key: fleet.ReservedPrefix + "priors/" + url.PathEscape(kind), Token: string(doc),
		Provider: "lrokit", Status: poller.StatusSucceeded})
	require.NoError(t, err)
	closeStore(st)

	begin := cli(t, append([]string{"azure", "begin", "--method", "PUT", "--url", resourceURL(srv), "--store", dir, "--key", "aks"}, fast...)...)
	require.Equal(t, 0, begin.code, begin.stderr)
	wait := cli(t, append([]string{"wait", "--store", dir, "--key", "aks", "--timeout", "300ms", "--progress", "plain", "--allow-host", srv.URL()}, fast...)...)
	require.Equal(t, exitInterrupted, wait.code, wait.stderr)
	var res resultJSON
	require.NoError(t, json.Unmarshal([]byte(wait.stdout), &res))
	require.NotNil(t, res.Outcome)
	assert.Equal(t, poller.ReasonContext, res.Outcome.Reason)
	assert.Equal(t, "InProgress", res.Outcome.Detail)
	assert.Greater(t, res.Outcome.Polls, 1)
	assert.InDelta(t, time.Hour.Seconds(), res.Outcome.Remaining.Seconds(), 60, "an hour learned, moments spent: %s", wait.stdout)
}

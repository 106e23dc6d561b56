package azure_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// Issue 17: the heap a waiting operation keeps, beyond its token. The
// fleet's goal is 2 KiB; the loopback benchmark measures it for the whole
// client process (bench/README.md, "Cost per poll"), these in process and in
// seconds.

// heapOrigin is a data-plane origin like the loopback fake's: trusted only
// through AllowedHosts, as a fleet's resolver names it.
const heapOrigin = "http://127.0.0.1:38123"

// heapTokens returns n distinct resume tokens of in-progress Azure-AsyncOperation
// operations on heapOrigin, shaped like the loopback benchmark's.
func heapTokens(t testing.TB, pl runtime.Pipeline, n int) []string {
	toks := make([]string, n)
	for i := range toks {
		req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Test/widgets/w%05d?api-version=2024-01-01", heapOrigin, i), nil)
		require.NoError(t, err)
		resp := &http.Response{StatusCode: 201, Request: req, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader(`{"properties":{"provisioningState":"Creating"}}`))}
		resp.Header.Set("Azure-AsyncOperation", fmt.Sprintf("%s/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Test/locations/westeurope/operationStatuses/w%05d?api-version=2024-01-01", heapOrigin, i))
		resp.Header.Set("Content-Type", "application/json")
		p, err := azure.NewPoller[json.RawMessage](resp, pl, nil)
		require.NoError(t, err)
		toks[i], err = p.ResumeToken()
		require.NoError(t, err)
	}
	return toks
}

// liveHeap returns the live heap after two collections (the second empties
// sync.Pool's victim cache).
func liveHeap() int64 {
	goruntime.GC()
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// resumedHeapPerOp resumes a poller from each token through azure.Resume
// with its own Options (as a fleet Resolver makes them), polls it once, and
// returns the live heap the pollers keep, per poller. The tokens are
// allocated before, so they are not counted.
func resumedHeapPerOp(t testing.TB, pl runtime.Pipeline, toks []string) float64 {
	ctx := context.Background()
	keep := make([]*poller.Poller[json.RawMessage], len(toks))
	before := liveHeap()
	for i, tok := range toks {
		p, err := azure.Resume[json.RawMessage](tok, pl, &azure.Options{AllowedHosts: []string{heapOrigin}})
		require.NoError(t, err)
		obs, err := p.Poll(ctx)
		require.NoError(t, err)
		require.Equal(t, "InProgress", obs.Detail)
		keep[i] = p
	}
	after := liveHeap()
	writeHeapProfile(t, "resumed")
	goruntime.KeepAlive(keep)
	return float64(after-before) / float64(len(toks))
}

func heapPipeline() runtime.Pipeline {
	return runtime.NewPipeline("heaptest", "v1.0.0", runtime.PipelineOptions{}, &policy.ClientOptions{Transport: cannedTransport{}})
}

// BenchmarkResumedHeap reports the live heap per resumed and polled Azure
// poller (B/poller, its token not included).
//
//	go test -run XXX -bench ResumedHeap ./azure/
func BenchmarkResumedHeap(b *testing.B) {
	const n = 2000
	if os.Getenv("LROKIT_HEAP_PROFILE") != "" {
		goruntime.MemProfileRate = 1
	}
	pl := heapPipeline()
	toks := heapTokens(b, pl, n)
	var per float64
	for b.Loop() {
		per = resumedHeapPerOp(b, pl, toks)
	}
	b.ReportMetric(per, "B/poller")
}

// BenchmarkFleetHeap reports the live heap per operation a fleet engine
// holds over a memory store, each resumed through azure.Resume and polled
// once (B/waiting-op, the stored token not included: it is in the store before).
//
//	go test -run XXX -bench FleetHeap ./azure/
func BenchmarkFleetHeap(b *testing.B) {
	const n = 2000
	if os.Getenv("LROKIT_HEAP_PROFILE") != "" {
		goruntime.MemProfileRate = 1
	}
	pl := heapPipeline()
	toks := heapTokens(b, pl, n)
	var per, grown float64
	for b.Loop() {
		per, grown = fleetHeapPerOp(b, pl, toks)
	}
	b.ReportMetric(per, "B/waiting-op")
	b.ReportMetric(per-grown, "B/beyond-token")
}

// fleetHeapPerOp adds the tokens to a memory store, runs an engine over it
// until every operation has been polled once, and returns the live heap it
// took per operation: the engine's entries, the resumed pollers, and what
// the store added to each record; and how many bytes each record's token
// grew by (a saved token carries the last observation and the schedule's
// bookkeeping): the token, not heap beyond it.
func fleetHeapPerOp(t testing.TB, pl runtime.Pipeline, toks []string) (perOp, tokenGrowth float64) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := persist.NewMemoryStore(nil)
	for i, tok := range toks {
		// A copy: the store's first save replaces it, and toks keeps the
		// original for the next run, which would count it twice.
		_, err := fleet.Add(ctx, store, fmt.Sprintf("op/%05d", i), strings.Clone(tok), nil, nil)
		require.NoError(t, err)
	}
	n := len(toks)
	polled := make([]atomic.Bool, n)
	var first, failed atomic.Int64
	all := make(chan struct{})
	resolve := func(_ context.Context, token string, opts *poller.Options) (fleet.Op, error) {
		p, err := azure.Resume[json.RawMessage](token, pl, &azure.Options{Options: *opts, AllowedHosts: []string{heapOrigin}})
		if err != nil {
			return fleet.Op{}, err
		}
		op := fleet.Op{Poller: p, Host: "azure", Kind: "azure"}
		if l, ok := p.Operation().(poller.Locator); ok {
			op.Host, op.Kind = l.Host(), "azure "+l.OperationType()
		}
		return op, nil
	}
	before := liveHeap()
	engine, err := fleet.New(store, resolve, &fleet.Options{
		Workers: 8, Capacity: n, ClaimBatch: n, ClaimInterval: 200 * time.Millisecond,
		Limits: fleet.HostLimits{Rate: rate.Limit(100 * n)},
		Policy: poller.Policy{Floor: time.Minute, Cap: time.Minute, Jitter: -1},
		Priors: fleet.PriorOptions{Disabled: true},
		OnEvent: func(ev fleet.Event) {
			switch ev.Kind {
			case fleet.EventPolled:
				i, err := strconv.Atoi(strings.TrimPrefix(ev.Key, "op/"))
				if err == nil && i < n && !polled[i].Swap(true) && first.Add(1) == int64(n) {
					close(all)
				}
			case fleet.EventDone, fleet.EventReleased:
				failed.Add(1)
			}
		},
	})
	require.NoError(t, err)
	stopped := make(chan error, 1)
	go func() { stopped <- engine.Run(ctx) }()
	select {
	case <-all:
	case <-time.After(30 * time.Second):
		t.Fatalf("%d of %d operations polled in 30 s", first.Load(), n)
	}
	require.Zero(t, failed.Load(), "operations done or released")
	after := liveHeap()
	writeHeapProfile(t, "fleet")
	goruntime.KeepAlive(engine)
	goruntime.KeepAlive(store)
	cancel()
	<-stopped
	var grown int
	for i, tok := range toks {
		rec, err := store.Get(context.Background(), fmt.Sprintf("op/%05d", i))
		require.NoError(t, err)
		grown += len(rec.Token) - len(tok)
	}
	return float64(after-before) / float64(n), float64(grown) / float64(n)
}

// TestFleetHeap fails if the heap a fleet engine keeps per waiting Azure
// operation, beyond its token, grows back (issue 17).
func TestFleetHeap(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("the race detector changes what is allocated")
	}
	pl := heapPipeline()
	toks := heapTokens(t, pl, 2000)
	per, grown := fleetHeapPerOp(t, pl, toks)
	t.Logf("live heap per waiting operation: %.0f B, of which its token grew by %.0f B", per, grown)
	require.LessOrEqual(t, per-grown, float64(maxFleetHeap), "bytes kept per waiting Azure operation in a fleet beyond its token (BenchmarkFleetHeap; bench/README.md, issue 17)")
}

// writeHeapProfile writes the heap profile to $LROKIT_HEAP_PROFILE.name
// when that is set (with MemProfileRate 1 from the benchmark's start):
//
//	LROKIT_HEAP_PROFILE=/tmp/heap go test -run XXX -bench ResumedHeap -benchtime 1x ./azure/
//	go tool pprof -sample_index=inuse_space -top /tmp/heap.resumed
func writeHeapProfile(t testing.TB, name string) {
	f := os.Getenv("LROKIT_HEAP_PROFILE")
	if f == "" {
		return
	}
	w, err := os.Create(f + "." + name)
	require.NoError(t, err)
	require.NoError(t, pprof.WriteHeapProfile(w))
	require.NoError(t, w.Close())
}

// Pollers resumed with the same options share their trusted hosts; a
// caller that names other hosts gets its own: a token trusted through one
// caller's AllowedHosts is still refused for another (issue 17).
func TestResumeSharedTrustDoesNotLeak(t *testing.T) {
	pl := heapPipeline()
	tok := heapTokens(t, pl, 1)[0]
	for range 2 {
		_, err := azure.Resume[json.RawMessage](tok, pl, &azure.Options{AllowedHosts: []string{heapOrigin}})
		require.NoError(t, err)
	}
	for _, hosts := range [][]string{nil, {"http://127.0.0.1:38124"}, {"127.0.0.1:38123"}, {"http://127.0.0.1:3812"}, {"https://127.0.0.1:38123"}} {
		_, err := azure.Resume[json.RawMessage](tok, pl, &azure.Options{AllowedHosts: hosts})
		require.ErrorIs(t, err, azure.ErrHostNotAllowed, "AllowedHosts %q", hosts)
		require.ErrorIs(t, err, poller.ErrInvalidToken)
	}
	_, err := azure.Resume[json.RawMessage](tok, pl, &azure.Options{AllowedHosts: []string{heapOrigin}})
	require.NoError(t, err)
}

// maxResumedHeap bounds the live heap of a resumed and polled Azure poller,
// its token aside: 1,480 B now (issue 17; 3,472 B before), with a margin
// for the Go runtime's size classes.
const maxResumedHeap = 1560

// maxFleetHeap bounds the live heap per waiting operation of a fleet engine
// over a memory store, beyond its token, on 2,000 operations as
// BenchmarkFleetHeap: 2,026–2,028 B now, under issue 17's goal of 2 KiB
// (the store's records are not counted: they exist before the run and each
// save replaces one). The bound leaves ~3 % for the runtime's size classes;
// a regression of ~70 B fails.
const maxFleetHeap = 2100

// TestResumedHeap fails if the heap a waiting Azure operation keeps grows
// back (issue 17): the pollers are kept alive and measured after two
// collections, which is deterministic to within a few bytes per poller.
func TestResumedHeap(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes what is allocated")
	}
	pl := heapPipeline()
	toks := heapTokens(t, pl, 1000)
	per := resumedHeapPerOp(t, pl, toks)
	t.Logf("live heap per resumed and polled poller: %.0f B", per)
	require.LessOrEqual(t, per, float64(maxResumedHeap), "bytes kept per waiting Azure operation beyond its token (BenchmarkResumedHeap; bench/README.md, issue 17)")
}

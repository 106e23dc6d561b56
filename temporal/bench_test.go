package temporal_test

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/resume"
	lrotemporal "github.com/lrokit/lrokit/temporal"
)

// benchWorkload is N operations whose durations (seeded) spread from 5 s to
// 60 s, started evenly over spread: the same for both engines.
type benchWorkload struct {
	n         int
	spread    time.Duration
	durations []time.Duration
}

func newBenchWorkload(n int) benchWorkload {
	rng := rand.New(rand.NewSource(18))
	w := benchWorkload{n: n, spread: 20 * time.Second}
	for range n {
		// log-uniform in [5 s, 60 s]
		f := 5 * float64(time.Second) * math.Pow(12, rng.Float64())
		w.durations = append(w.durations, time.Duration(f))
	}
	return w
}

type benchResult struct {
	name     string
	ops      int
	requests int
	lags     []time.Duration // first poll that saw the end, after the end
	e2e      []time.Duration // the engine reporting it, after the end
	wall     time.Duration
	actions  float64 // Temporal only, per operation (sampled)
	events   float64
	sampled  int
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// TestBenchTemporalVersusFleet runs the same workload through the real
// Temporal server and through the in-process fleet engine and prints a
// table. Set LROKIT_TEMPORAL_BENCH=N (e.g. 1000) to run it.
func TestBenchTemporalVersusFleet(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("LROKIT_TEMPORAL_BENCH"))
	if n <= 0 {
		t.Skip("set LROKIT_TEMPORAL_BENCH=N to run the benchmark")
	}
	w := newBenchWorkload(n)
	results := []benchResult{benchTemporal(t, w), benchFleet(t, w)}
	fmt.Printf("\n%d operations, durations 5-60 s log-uniform (seed 18), starts spread over %s, lrokit's default policy (2 s floor, a third of elapsed, 60 s cap)\n\n", n, w.spread)
	fmt.Println("| engine | ops | requests/op | p50 lag | p99 lag | p99 reported after end | Temporal actions/op | history events/op | wall |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		act, ev := "–", "–"
		if r.sampled > 0 {
			act, ev = fmt.Sprintf("%.1f", r.actions), fmt.Sprintf("%.1f", r.events)
		}
		fmt.Printf("| %s | %d | %.2f | %s | %s | %s | %s | %s | %s |\n", r.name, r.ops, float64(r.requests)/float64(r.ops),
			quantile(r.lags, .5).Round(10*time.Millisecond), quantile(r.lags, .99).Round(10*time.Millisecond),
			quantile(r.e2e, .99).Round(10*time.Millisecond), act, ev, r.wall.Round(time.Second))
	}
}

// launch begins the workload's operations on ops at their start times and
// hands each token to add.
func launch(t *testing.T, w benchWorkload, ops *restOps, add func(i int, id, token string)) {
	var wg sync.WaitGroup
	start := time.Now()
	sem := make(chan struct{}, 16)
	for i := range w.n {
		id := fmt.Sprintf("op%05d", i)
		ops.add(id, w.durations[i], false)
		at := start.Add(time.Duration(i) * w.spread / time.Duration(w.n))
		time.Sleep(time.Until(at))
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			add(i, id, ops.begin(t, id))
		}()
	}
	wg.Wait()
}

func benchTemporal(t *testing.T, w benchWorkload) benchResult {
	ops := newRESTOps(t)
	clients := ops.clients()
	clients.Options.Policy = poller.Policy{} // lrokit's defaults
	c := dial(t)
	queue := queueName(t)
	startWorker(t, c, queue, clients, worker.Options{MaxConcurrentActivityExecutionSize: 500})
	ctx := ctxFor(t, 20*time.Minute)
	began := time.Now()
	ids := make([]string, w.n)
	launch(t, w, ops, func(i int, _ string, token string) {
		run, err := lrotemporal.Start(ctx, c, token, &lrotemporal.StartOptions{TaskQueue: queue})
		if err != nil {
			t.Error(err)
			return
		}
		ids[i] = run.GetID()
	})
	r := benchResult{name: "Temporal workflow (1 worker)", ops: w.n}
	for i, id := range ids {
		if id == "" {
			continue
		}
		if _, err := lrotemporal.Wait(ctx, c, id); err != nil {
			t.Errorf("op %d: %v", i, err)
		}
	}
	r.wall = time.Since(began)
	for i, id := range ids {
		opID := fmt.Sprintf("op%05d", i)
		_, gets, _ := ops.counts(opID)
		r.requests += len(gets)
		done := ops.doneAt(opID)
		ops.mu.Lock()
		seen := ops.doneSeen[opID]
		ops.mu.Unlock()
		r.lags = append(r.lags, seen.Sub(done))
		d, err := c.DescribeWorkflow(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		r.e2e = append(r.e2e, d.RawResponse.GetWorkflowExecutionInfo().GetCloseTime().AsTime().Sub(done))
	}
	// Temporal Cloud bills actions: a workflow start, each activity
	// attempt, each timer, each continue-as-new (heartbeats are throttled).
	step := max(1, w.n/100)
	for i := 0; i < w.n; i += step {
		a, e := actions(t, c, ids[i])
		r.actions += float64(a)
		r.events += float64(e)
		r.sampled++
	}
	r.actions /= float64(r.sampled)
	r.events /= float64(r.sampled)
	return r
}

func actions(t *testing.T, c client.Client, id string) (actions, events int) {
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events++
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
			enumspb.EVENT_TYPE_TIMER_STARTED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
			actions++
		}
	}
	return actions, events
}

func benchFleet(t *testing.T, w benchWorkload) benchResult {
	ops := newRESTOps(t)
	clients := ops.clients()
	clients.Options.Policy = poller.Policy{}
	store := persist.NewMemoryStore(nil)
	var mu sync.Mutex
	reported := map[string]time.Time{}
	resolve := func(ctx context.Context, token string, opts *poller.Options) (fleet.Op, error) {
		cl := clients
		cl.Options = *opts
		p, err := resume.Any(ctx, token, cl)
		if err != nil {
			return fleet.Op{}, err
		}
		return fleet.Op{Poller: p, Host: p.Host(), Kind: p.Type()}, nil
	}
	engine, err := fleet.New(store, resolve, &fleet.Options{
		ClaimInterval: 500 * time.Millisecond,
		// The fleet's default (10 req/s per host) is a politeness choice
		// the Temporal run does not make: compare schedules, not limits.
		Limits: fleet.HostLimits{Rate: 10000},
		OnEvent: func(ev fleet.Event) {
			if ev.Kind == fleet.EventDone {
				mu.Lock()
				reported[ev.Key] = time.Now()
				mu.Unlock()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- engine.Run(ctx) }()
	began := time.Now()
	launch(t, w, ops, func(_ int, id, token string) {
		if _, err := engine.Add(ctx, id, token, nil); err != nil {
			t.Error(err)
		}
	})
	for {
		mu.Lock()
		n := len(reported)
		mu.Unlock()
		if n >= w.n || time.Since(began) > 15*time.Minute {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	r := benchResult{name: "in-process fleet engine", ops: w.n, wall: time.Since(began)}
	cancel()
	<-runDone
	for i := range w.n {
		opID := fmt.Sprintf("op%05d", i)
		_, gets, _ := ops.counts(opID)
		r.requests += len(gets)
		done := ops.doneAt(opID)
		ops.mu.Lock()
		seen := ops.doneSeen[opID]
		ops.mu.Unlock()
		r.lags = append(r.lags, seen.Sub(done))
		mu.Lock()
		r.e2e = append(r.e2e, reported[opID].Sub(done))
		mu.Unlock()
	}
	return r
}

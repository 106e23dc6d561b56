package temporal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/rest"
	lrotemporal "github.com/lrokit/lrokit/temporal"
	"github.com/lrokit/lrokit/temporal/internal/devtest"
)

// server is the real Temporal server every test in this package talks to,
// a subprocess started once by TestMain.
var server *devtest.Server

func TestMain(m *testing.M) {
	s, err := devtest.Start(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the Temporal test server:", err)
		os.Exit(1)
	}
	server = s
	code := m.Run()
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the Temporal test server:", err)
	}
	os.Exit(code)
}

// fastPolicy keeps the fakes' operations quick; real clouds get lrokit's
// defaults.
var fastPolicy = poller.Policy{Floor: 100 * time.Millisecond, Cap: 300 * time.Millisecond, Jitter: -1}

func quietLogger() tlog.Logger {
	return tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func dial(t testing.TB) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: server.Addr, Namespace: server.Namespace, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("dialing the Temporal server: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// queueName is a task queue of the test's own, so tests do not share work.
func queueName(t testing.TB) string {
	return "lrokit-test-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
}

// startWorker runs a worker with the workflow and activities on queue until
// the test ends (or stop is called).
func startWorker(t testing.TB, c client.Client, queue string, clients lrotemporal.Clients, opts worker.Options) (stop func()) {
	t.Helper()
	w := worker.New(c, queue, opts)
	lrotemporal.Register(w, clients)
	if err := w.Start(); err != nil {
		t.Fatalf("starting the worker: %v", err)
	}
	var once sync.Once
	stop = func() { once.Do(w.Stop) }
	t.Cleanup(stop)
	return stop
}

// started is a WaitOperation run of a test's own: its client, a context of
// a minute, and the run.
type started struct {
	c   client.Client
	ctx context.Context
	run client.WorkflowRun
}

// startWaiting runs a worker for clients on the test's own queue and starts
// a WaitOperation of token on it with input in.
func startWaiting(t testing.TB, clients lrotemporal.Clients, token string, in lrotemporal.WaitInput) started {
	t.Helper()
	c := dial(t)
	queue := queueName(t)
	startWorker(t, c, queue, clients, worker.Options{})
	ctx := ctxFor(t, time.Minute)
	run, err := lrotemporal.Start(ctx, c, token, &lrotemporal.StartOptions{TaskQueue: queue, Input: in})
	if err != nil {
		t.Fatal(err)
	}
	return started{c, ctx, run}
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// azurePipeline is the pipeline a worker builds for armfake.
func azurePipeline(hc *http.Client) runtime.Pipeline {
	return runtime.NewPipeline("lrokit-temporal-test", "v0", runtime.PipelineOptions{}, &policy.ClientOptions{Transport: hc})
}

// restOps is a stateful REST-guidelines service: PUT /r/ID answers 201 with
// Operation-Location /ops/ID; the status says Running until the operation's
// time is up, then Succeeded (or Failed); DELETE /ops/ID cancels. It records
// every request, so tests can count initial requests and see when polls came.
type restOps struct {
	srv *httptest.Server

	mu       sync.Mutex
	duration map[string]time.Duration // per id, set before the PUT
	polls    map[string]int           // or: the status poll that first answers done
	fail     map[string]bool
	started  map[string]time.Time
	canceled map[string]bool
	puts     map[string]int
	gets     map[string][]time.Time // status polls
	deletes  map[string]int
	// doneSeen is when a poll first saw the operation terminal.
	doneSeen map[string]time.Time
	// hold makes the status poll numbered holdAt of operation holdID hang
	// until its client gives up; held is closed when it arrives.
	holdID string
	holdAt int
	held   chan struct{}
	// throttle answers these status polls of an operation with 429 and
	// Retry-After: 1.
	throttle map[string]map[int]bool
}

// holdPoll makes status poll n of id hang until the client goes away, and
// returns a channel closed when that poll arrives.
func (s *restOps) holdPoll(id string, n int) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holdID, s.holdAt, s.held = id, n, make(chan struct{})
	return s.held
}

func newRESTOps(t testing.TB) *restOps {
	s := &restOps{
		duration: map[string]time.Duration{}, polls: map[string]int{}, fail: map[string]bool{}, started: map[string]time.Time{},
		canceled: map[string]bool{}, puts: map[string]int{}, gets: map[string][]time.Time{},
		deletes: map[string]int{}, doneSeen: map[string]time.Time{}, throttle: map[string]map[int]bool{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// add scripts operation id to run for d (and fail when fail is set).
func (s *restOps) add(id string, d time.Duration, fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.duration[id], s.fail[id] = d, fail
}

// addPolls scripts operation id to be done at its n-th status poll, however
// long the polls take on a busy machine.
func (s *restOps) addPolls(id string, n int, fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls[id], s.fail[id] = n, fail
}

func (s *restOps) serve(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	kind, id, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case kind == "r" && r.Method == http.MethodPut:
		s.puts[id]++
		if _, ok := s.started[id]; !ok {
			s.started[id] = now
		}
		w.Header().Set("Operation-Location", s.srv.URL+"/ops/"+id)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q,"state":"Creating"}`, id)
	case kind == "r" && r.Method == http.MethodGet:
		fmt.Fprintf(w, `{"id":%q,"state":"Ready"}`, id)
	case kind == "ops" && r.Method == http.MethodGet:
		s.gets[id] = append(s.gets[id], now)
		if s.throttle[id][len(s.gets[id])] {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":{"code":"TooManyRequests","message":"slow down"}}`)
			return
		}
		if id == s.holdID && len(s.gets[id]) == s.holdAt {
			close(s.held)
			s.mu.Unlock()
			<-r.Context().Done()
			s.mu.Lock()
			return
		}
		status := s.status(id, now)
		if status != "Running" {
			if _, ok := s.doneSeen[id]; !ok {
				s.doneSeen[id] = now
			}
		}
		if status == "Failed" {
			fmt.Fprintf(w, `{"id":%q,"status":"Failed","error":{"code":"QuotaExceeded","message":"no capacity left"}}`, id)
			return
		}
		fmt.Fprintf(w, `{"id":%q,"status":%q}`, id, status)
	case kind == "ops" && r.Method == http.MethodDelete:
		s.deletes[id]++
		s.canceled[id] = true
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, `{"id":%q,"status":"Canceled"}`, id)
	default:
		http.NotFound(w, r)
	}
}

func (s *restOps) status(id string, now time.Time) string {
	switch {
	case s.canceled[id]:
		return "Canceled"
	case s.polls[id] > 0 && len(s.gets[id]) < s.polls[id]:
		return "Running"
	case s.polls[id] == 0 && now.Sub(s.started[id]) < s.duration[id]:
		return "Running"
	case s.fail[id]:
		return "Failed"
	}
	return "Succeeded"
}

// doneAt is when operation id completed (started + duration).
func (s *restOps) doneAt(id string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started[id].Add(s.duration[id])
}

func (s *restOps) counts(id string) (puts int, gets []time.Time, deletes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts[id], append([]time.Time(nil), s.gets[id]...), s.deletes[id]
}

// begin sends the PUT (the operation's initial request) and returns the
// token a CLI's begin would print.
func (s *restOps) begin(t testing.TB, id string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, s.srv.URL+"/r/"+id, strings.NewReader(`{}`))
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	p, err := rest.NewPoller[json.RawMessage](resp, s.srv.Client(), &rest.Options{Options: poller.Options{Policy: fastPolicy}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := p.ResumeToken()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (s *restOps) clients() lrotemporal.Clients {
	return lrotemporal.Clients{HTTP: s.srv.Client(), Options: poller.Options{Policy: fastPolicy}, AllowedHosts: []string{s.srv.URL}} // a plain-http origin, named with its scheme
}

func runtimeRequest(u string) (*policy.Request, error) {
	return runtime.NewRequest(context.Background(), http.MethodPut, u)
}

// waitForPolls waits until the workflow has completed n poll activities.
func waitForPolls(t testing.TB, c client.Client, id string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if pollsDone(t, c, id) >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the workflow did not complete %d polls within 30 s", n)
}

// pollsDone counts the completed poll activities in the current run's history.
func pollsDone(t testing.TB, c client.Client, id string) int {
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return n
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED {
			n++
		}
	}
	return n
}

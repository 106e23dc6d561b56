package temporal_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/rest"
	lrotemporal "github.com/lrokit/lrokit/temporal"
)

// A token begun and polled by a CLI (another process, its own schedule) is
// waited on by the workflow from where the CLI left it: no repeated initial
// request, and no poll before the token's next-poll time.
func TestTokenFromACLIBeginResumesIntoAWorkflow(t *testing.T) {
	ops := newRESTOps(t)
	ops.addPolls("cli", 3, false)
	// `lrokit rest begin` then `lrokit status`: the CLI's poller has a 2 s
	// floor, so the token says "not before 2 s from now".
	req, _ := http.NewRequest(http.MethodPut, ops.srv.URL+"/r/cli", strings.NewReader(`{}`))
	resp, err := ops.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := rest.NewPoller[json.RawMessage](resp, ops.srv.Client(), &rest.Options{Options: poller.Options{Policy: poller.Policy{Floor: 2 * time.Second, Jitter: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	token, err := cli.ResumeToken()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := poller.DecodeToken(token, nil)
	if err != nil {
		t.Fatal(err)
	}

	st := startWaiting(t, ops.clients(), token, lrotemporal.WaitInput{})
	ctx, run := st.ctx, st.run
	out, err := lrotemporal.Result(ctx, run)
	if err != nil || out.Status != poller.StatusSucceeded {
		t.Fatalf("outcome %+v, err %v", out, err)
	}
	puts, gets, _ := ops.counts("cli")
	if puts != 1 {
		t.Errorf("initial request sent %d times, want 1", puts)
	}
	if len(gets) < 2 {
		t.Fatalf("%d polls, want the CLI's and the workflow's", len(gets))
	}
	if first := gets[1]; first.Before(tok.Next) {
		t.Errorf("the workflow's first poll came %s before the token's next-poll time", tok.Next.Sub(first))
	}
	if out.Polls != len(gets) {
		t.Errorf("outcome counts %d polls, the fake saw %d: the token's count did not carry over", out.Polls, len(gets))
	}
}

// A worker stopped while its poll is in flight costs one repeated poll on
// the next worker, from the same token: never the initial request again, and
// never a poll earlier than the schedule says.
func TestWorkerStoppedMidPollHandsOverToAnother(t *testing.T) {
	const floor = 500 * time.Millisecond
	ops := newRESTOps(t)
	ops.addPolls("h", 5, false)
	token := ops.begin(t, "h")
	held := ops.holdPoll("h", 2)
	clients := ops.clients()
	clients.Options.Policy = poller.Policy{Floor: floor, Cap: floor, Jitter: -1}

	c := dial(t)
	queue := queueName(t)
	stopA := startWorker(t, c, queue, clients, worker.Options{})
	ctx := ctxFor(t, time.Minute)
	run, err := lrotemporal.Start(ctx, c, token, &lrotemporal.StartOptions{
		TaskQueue: queue, Input: lrotemporal.WaitInput{HeartbeatTimeout: 2 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-ctx.Done():
		t.Fatal("the second poll never came")
	}
	stopA()
	startWorker(t, c, queue, clients, worker.Options{})
	out, err := lrotemporal.Result(ctx, run)
	if err != nil || out.Status != poller.StatusSucceeded {
		t.Fatalf("outcome %+v, err %v", out, err)
	}

	puts, gets, _ := ops.counts("h")
	if puts != 1 {
		t.Errorf("initial request sent %d times, want 1", puts)
	}
	// gets[1] was cut off with worker A; gets[2] repeats it on worker B.
	if len(gets) < 4 {
		t.Fatalf("%d polls, want at least 4", len(gets))
	}
	if gets[2].Sub(gets[0]) < floor {
		t.Errorf("the repeated poll came %s after the last answered one, before the token's %s", gets[2].Sub(gets[0]), floor)
	}
	for i := 3; i < len(gets); i++ {
		if gap := gets[i].Sub(gets[i-1]); gap < floor-10*time.Millisecond {
			t.Errorf("polls %d and %d only %s apart, want at least %s", i-1, i, gap, floor)
		}
	}
	if answered := len(gets) - 1; out.Polls != answered {
		t.Errorf("outcome counts %d polls, %d were answered", out.Polls, answered)
	}
	t.Logf("%d polls, one of them repeated after the handover", len(gets))
}

// ContinueAsNew keeps each run's history bounded however long the wait.
func TestLongWaitContinuesAsNew(t *testing.T) {
	ops := newRESTOps(t)
	ops.addPolls("long", 12, false)
	token := ops.begin(t, "long")
	clients := ops.clients()
	clients.Options.Policy = poller.Policy{Floor: 100 * time.Millisecond, Cap: 100 * time.Millisecond, Jitter: -1}
	c := dial(t)
	queue := queueName(t)
	startWorker(t, c, queue, clients, worker.Options{})
	ctx := ctxFor(t, time.Minute)
	const perRun = 3
	run, err := lrotemporal.Start(ctx, c, token, &lrotemporal.StartOptions{TaskQueue: queue, Input: lrotemporal.WaitInput{PollsPerRun: perRun}})
	if err != nil {
		t.Fatal(err)
	}
	firstRun := run.GetRunID() // Get follows the chain and moves the run's id
	out, err := lrotemporal.Result(ctx, run)
	if err != nil || out.Status != poller.StatusSucceeded {
		t.Fatalf("outcome %+v, err %v", out, err)
	}
	if min := out.Polls/perRun - 1; out.Runs < min || out.Runs < 3 {
		t.Errorf("%d polls in %d runs, want at least %d runs", out.Polls, out.Runs, max(min, 3))
	}
	events, last := history(t, c, run.GetID(), firstRun)
	if last != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
		t.Errorf("the first run ended with %s, want ContinuedAsNew", last)
	}
	// Per poll: activity scheduled, started, completed, timer started,
	// fired, and a workflow task (scheduled, started, completed) for each.
	if bound := perRun*11 + 10; events > bound {
		t.Errorf("the first run has %d events, want at most %d", events, bound)
	}
	t.Logf("%d polls, %d runs, %d events in the first run", out.Polls, out.Runs, events)
}

func history(t testing.TB, c client.Client, id, runID string) (events int, last enumspb.EventType) {
	it := c.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events++
		last = ev.GetEventType()
	}
	return events, last
}

// The workflow id derives from the operation: starting twice, or again after
// it succeeded, waits on the same workflow.
func TestStartingTwiceIsANoOp(t *testing.T) {
	ops := newRESTOps(t)
	ops.addPolls("twice", 2, false)
	token := ops.begin(t, "twice")
	c := dial(t)
	queue := queueName(t)
	startWorker(t, c, queue, ops.clients(), worker.Options{})
	ctx := ctxFor(t, time.Minute)
	opts := &lrotemporal.StartOptions{TaskQueue: queue}
	first, err := lrotemporal.Start(ctx, c, token, opts)
	if err != nil {
		t.Fatal(err)
	}
	second, err := lrotemporal.Start(ctx, c, token, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first.GetID() != second.GetID() || first.GetRunID() != second.GetRunID() {
		t.Errorf("second start made %s/%s, want %s/%s", second.GetID(), second.GetRunID(), first.GetID(), first.GetRunID())
	}
	if _, err := lrotemporal.Result(ctx, first); err != nil {
		t.Fatal(err)
	}
	_, before, _ := ops.counts("twice")
	third, err := lrotemporal.Start(ctx, c, token, opts)
	if err != nil {
		t.Fatal(err)
	}
	if third.GetRunID() != first.GetRunID() {
		t.Errorf("starting after success made run %s, want the finished %s", third.GetRunID(), first.GetRunID())
	}
	if out, err := lrotemporal.Result(ctx, third); err != nil || out.Status != poller.StatusSucceeded {
		t.Errorf("outcome %+v, err %v", out, err)
	}
	if _, after, _ := ops.counts("twice"); len(after) != len(before) {
		t.Errorf("%d more polls after the wait had succeeded", len(after)-len(before))
	}
	id, err := lrotemporal.WorkflowID(token, nil)
	if err != nil || id != first.GetID() || !strings.HasPrefix(id, "lrokit/rest/") {
		t.Errorf("WorkflowID = %q, %v; Start used %q", id, err, first.GetID())
	}
}

// A 429 with Retry-After is retried inside the poll activity on lrokit's
// schedule: the activity does not fail, and the retry waits the server's
// Retry-After.
func TestThrottledPollIsRetriedInsideTheActivity(t *testing.T) {
	ops := newRESTOps(t)
	ops.addPolls("429", 5, false)
	ops.throttle["429"] = map[int]bool{2: true, 3: true}
	token := ops.begin(t, "429")
	st := startWaiting(t, ops.clients(), token, lrotemporal.WaitInput{})
	c, ctx, run := st.c, st.ctx, st.run
	out, err := lrotemporal.Result(ctx, run)
	if err != nil || out.Status != poller.StatusSucceeded {
		t.Fatalf("outcome %+v, err %v", out, err)
	}
	_, gets, _ := ops.counts("429")
	if len(gets) < 4 {
		t.Fatalf("%d polls, want at least 4", len(gets))
	}
	for _, i := range []int{2, 3} { // the polls after each 429 (0-based)
		if gap := gets[i].Sub(gets[i-1]); gap < time.Second {
			t.Errorf("poll %d came %s after a 429 with Retry-After: 1", i+1, gap)
		}
	}
	failed := 0
	it := c.GetWorkflowHistory(ctx, run.GetID(), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED || ev.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT {
			failed++
		}
	}
	if failed != 0 {
		t.Errorf("%d poll activities failed; transient errors belong to lrokit's retries", failed)
	}
}

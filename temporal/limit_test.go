package temporal_test

import (
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/lrokit/lrokit/poller"
	lrotemporal "github.com/lrokit/lrokit/temporal"
)

// A host group's poll queue with a task-queue activity rate limit holds the
// polls of every worker on it to that rate: the Temporal server enforces it
// for the queue, not per worker.
func TestPollQueueRateHoldsAcrossWorkers(t *testing.T) {
	const rate, ops = 4.0, 12
	srv := newRESTOps(t)
	clients := srv.clients()
	clients.Options.Policy = poller.Policy{Floor: 50 * time.Millisecond, Cap: 50 * time.Millisecond, Jitter: -1}
	c := dial(t)
	queue := queueName(t)
	pollQueue := queue + "-hostgroup"

	wf := worker.New(c, queue, worker.Options{})
	lrotemporal.RegisterWorkflow(wf)
	if err := wf.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wf.Stop)
	for range 2 {
		pw := worker.New(c, pollQueue, worker.Options{TaskQueueActivitiesPerSecond: rate, DisableWorkflowWorker: true})
		(&lrotemporal.Activities{Clients: clients}).Register(pw)
		if err := pw.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pw.Stop)
	}

	ctx := ctxFor(t, 2*time.Minute)
	var runs []string
	for i := range ops {
		id := fmt.Sprintf("rl%d", i)
		srv.addPolls(id, 3, false)
		run, err := lrotemporal.Start(ctx, c, srv.begin(t, id), &lrotemporal.StartOptions{
			TaskQueue: queue, Input: lrotemporal.WaitInput{PollQueue: pollQueue},
		})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run.GetID())
	}
	for _, id := range runs {
		if out, err := lrotemporal.Wait(ctx, c, id); err != nil || out.Status != poller.StatusSucceeded {
			t.Fatalf("outcome %+v, err %v", out, err)
		}
	}
	var all []time.Time
	for i := range ops {
		_, gets, _ := srv.counts(fmt.Sprintf("rl%d", i))
		all = append(all, gets...)
	}
	first, last := all[0], all[0]
	for _, g := range all {
		first, last = minTime(first, g), maxTime(last, g)
	}
	// Beyond a burst of one second's worth, the polls keep to the rate.
	span := last.Sub(first).Seconds()
	if got, limit := float64(len(all)), rate*(span+1)+1; got > limit {
		t.Errorf("%d polls in %.1f s: more than %.0f/s allows (%.0f)", len(all), span, rate, limit)
	}
	if span < float64(ops)/rate-1 {
		t.Errorf("%d polls in %.1f s: the queue did not slow them", len(all), span)
	}
	t.Logf("%d polls from 2 workers in %.1f s: %.2f/s against a queue limit of %.0f/s", len(all), span, float64(len(all))/span, rate)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

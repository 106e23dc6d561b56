package poller_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// A scripted operation stands in for a cloud one; the virtual clock makes the
// wait instant.
func Example() {
	clock := pollertest.NewAutoClock(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
	op := &pollertest.Operation{
		Steps: []pollertest.Step{
			pollertest.Running("Creating", 10),
			pollertest.Hinted(30 * time.Second),
			pollertest.Succeeded(),
		},
		Final: map[string]string{"id": "cluster-1"},
	}
	p, err := poller.New[map[string]string](op, &poller.Options{Clock: clock})
	if err != nil {
		panic(err)
	}
	res, err := p.Wait(context.Background(), &poller.WaitOptions{
		OnPoll: func(o poller.Observation) { fmt.Println("poll:", o.Status, o.Detail) },
	})
	fmt.Println(res["id"], err, p.Polls())
	// Output:
	// poll: Running Creating
	// poll: Running Running
	// poll: Succeeded Succeeded
	// cluster-1 <nil> 3
}

// Stopping early hands back a token to store and resume later.
func ExampleWaitError() {
	op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Hinted(time.Minute)}}
	clock := pollertest.NewAutoClock(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
	p, _ := poller.New[struct{}](op, &poller.Options{Clock: clock, Deadline: clock.Now().Add(5 * time.Minute)})
	_, err := p.Wait(context.Background(), nil)
	var we *poller.WaitError
	if errors.As(err, &we) {
		tok, _ := poller.DecodeToken(we.Token, nil)
		fmt.Println(we.Err, tok.Polls, tok.Last.Status)
	}
	// Output: wait deadline passed 5 Running
}

func ExamplePolicy_BaseDelay() {
	var p poller.Policy // the defaults
	for _, elapsed := range []time.Duration{0, 30 * time.Second, 2 * time.Minute, time.Hour} {
		fmt.Println(elapsed, "->", p.BaseDelay(elapsed))
	}
	// Output:
	// 0s -> 2s
	// 30s -> 10s
	// 2m0s -> 40s
	// 1h0m0s -> 1m0s
}

// A wait that stops explains where it stood: the provider's words, how long
// in that state, and what is likely left of it.
func ExampleOutcomeOf() {
	op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Hinted(time.Minute)}}
	clock := pollertest.NewAutoClock(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
	p, _ := poller.New[struct{}](op, &poller.Options{
		Clock: clock, Deadline: clock.Now().Add(5 * time.Minute),
		Learned: poller.Learned{Median: 12 * time.Minute, P95: 30 * time.Minute},
	})
	_, err := p.Wait(context.Background(), nil)
	if o, ok := poller.OutcomeOf(err); ok {
		b, _ := json.Marshal(o)
		fmt.Println(string(b))
	}
	// Output: {"reason":"deadline","status":"Running","detail":"Running","in_state":"5m0s","polls":5,"elapsed":"5m0s","remaining":"7m0s"}
}

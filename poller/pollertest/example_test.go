package pollertest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// A manual clock lets a test decide when time moves: the wait sleeps until
// the test advances the clock past the next poll.
func ExampleClock() {
	start := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	clock := pollertest.NewClock(start)
	op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Hinted(time.Minute), pollertest.Succeeded()}, Clock: clock}
	p, _ := poller.New[struct{}](op, &poller.Options{Clock: clock})

	done := make(chan error)
	go func() { _, err := p.Wait(context.Background(), nil); done <- err }()
	_ = clock.WaitForTimers(context.Background(), 1) // polled once, now asleep for a minute
	clock.Advance(time.Minute)
	fmt.Println(<-done, op.Polls())
	for _, t := range op.PollTimes() {
		fmt.Println(t.Sub(start))
	}
	// Output:
	// <nil> 2
	// 0s
	// 1m0s
}

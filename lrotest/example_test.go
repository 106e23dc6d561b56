package lrotest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lrokit/lrokit/lrotest"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// An auto clock makes a wait return at once, with its schedule still visible
// in virtual time: here a Retry-After of an hour, capped at the poller's
// 10-minute hint ceiling.
func ExampleNewAutoClock() {
	start := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	clock := lrotest.NewAutoClock(start)
	op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Hinted(time.Hour), pollertest.Succeeded()}}
	p, _ := poller.New[struct{}](op, &poller.Options{Clock: clock})
	_, err := p.Wait(context.Background(), nil)
	fmt.Println(err, clock.Now().Sub(start))
	// Output: <nil> 10m0s
}

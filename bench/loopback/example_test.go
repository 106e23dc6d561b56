package loopback_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lrokit/lrokit/bench/loopback"
)

// Twenty operations waited for by the fleet engine with two workers: every
// one completes, over a handful of sockets.
func Example() {
	results, err := loopback.Run(context.Background(), loopback.Config{
		N: 20, Window: time.Second, Warmup: 200 * time.Millisecond, Ramp: 100 * time.Millisecond,
		Settle: 100 * time.Millisecond, Workers: 2, Strategies: []string{loopback.Fleet},
	})
	if err != nil {
		panic(err)
	}
	r := results[0]
	fmt.Printf("%s: %d of %d completed, polled: %v, at most 4 sockets: %v\n",
		r.Label, r.Completed, r.N, r.Polls > 0, r.SocketsPeak <= 4)
	// Output:
	// lrokit fleet.Engine (azure): 20 of 20 completed, polled: true, at most 4 sockets: true
}

package fakecloud_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lrokit/lrokit/fleet/internal/fakecloud"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

func Example() {
	clock := pollertest.NewAutoClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	cloud := fakecloud.New(clock)
	cloud.Limit("api.example.com", 1, 1) // one request per second
	token, _ := cloud.Start(fakecloud.Spec{Host: "api.example.com", Polls: 2})

	p, _, _ := cloud.Resume(context.Background(), token, &poller.Options{Clock: clock})
	for range 3 {
		obs, err := p.Poll(context.Background())
		fmt.Println(obs.Status, "throttled:", poller.IsThrottled(err), poller.RetryAfterOf(err))
	}
	out, err := p.Wait(context.Background(), nil)
	fmt.Println(p.Last().Status, string(out), err, "starts:", cloud.Starts())
	// Output:
	// Running throttled: false 0s
	// Running throttled: true 1s
	// Running throttled: true 1s
	// Succeeded {} <nil> starts: 1
}

package sqs_test

import (
	"context"
	"fmt"
	"time"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/lrotest/sqsfake"
	"github.com/lrokit/lrokit/push/sqs"
)

type printTarget chan struct{}

func (p printTarget) Signal(s fleet.Signal) int {
	fmt.Println(s.Source, s.Refs)
	p <- struct{}{}
	return 0
}

// An EventBridge rule sends EC2 state changes to a queue; the source turns
// them into signals for a fleet engine (here a printer).
func Example() {
	fake := sqsfake.New()
	defer fake.Close()
	q := fake.QueueURL("lrokit-events")
	fake.Send(q, `{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{"instance-id":"i-1","state":"running"}}`, nil)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(printTarget, 1)
	src := &sqs.Source{Client: awssqs.NewFromConfig(fake.Config()), QueueURL: q}
	go func() { _ = src.Run(ctx, got) }()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
	}
	// Output: sqs [i-1]
}

package pubsub_test

import (
	"context"
	"fmt"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/push/pubsub"
)

type printTarget chan struct{}

func (p printTarget) Signal(s fleet.Signal) int {
	fmt.Println(s.Source, s.Refs)
	p <- struct{}{}
	return 0
}

// A Cloud Logging sink publishes audit log entries to a topic; the source
// reads its subscription and signals a fleet engine (here a printer). In
// production the client is pubsub.NewClient(ctx, project).
func Example() {
	srv := pstest.NewServer()
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client, err := gpubsub.NewClient(ctx, "p", option.WithEndpoint(srv.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		panic(err)
	}
	defer client.Close()
	if _, err := client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: "projects/p/topics/audit"}); err != nil {
		panic(err)
	}
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: "projects/p/subscriptions/lrokit", Topic: "projects/p/topics/audit"}); err != nil {
		panic(err)
	}
	srv.Publish("projects/p/topics/audit", []byte(`{"logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity","operation":{"id":"operation-123"}}`), nil)

	got := make(printTarget, 1)
	src := &pubsub.Source{Subscriber: client.Subscriber("lrokit")}
	go func() { _ = src.Run(ctx, got) }()
	select {
	case <-got:
	case <-time.After(20 * time.Second):
	}
	// Output: pubsub [operation-123]
}

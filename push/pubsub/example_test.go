package pubsub_test

import (
	"context"
	"log"

	gpubsub "cloud.google.com/go/pubsub/v2"

	"github.com/lrokit/lrokit/push"
	"github.com/lrokit/lrokit/push/pubsub"
)

// Feed a fleet engine (any push.Target) from the subscription "lrokit"
// that a Cloud Logging sink of audit logs publishes to.
func Example() {
	ctx := context.Background()
	var engine push.Target // e.g. a *fleet.Engine
	client, err := gpubsub.NewClient(ctx, "my-project")
	if err != nil {
		log.Fatal(err)
	}
	src := &pubsub.Source{Subscriber: client.Subscriber("lrokit")}
	go func() { _ = src.Run(ctx, engine) }()
}

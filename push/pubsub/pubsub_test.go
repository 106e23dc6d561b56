package pubsub_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/push/pubsub"
)

type recorder struct {
	mu   sync.Mutex
	sigs []fleet.Signal
	got  chan struct{}
}

func (r *recorder) Signal(s fleet.Signal) int {
	r.mu.Lock()
	r.sigs = append(r.sigs, s)
	r.mu.Unlock()
	r.got <- struct{}{}
	return 1
}

// fakeSubscription starts pstest with topic "t" and subscription "s" and
// returns the server and a client on it.
func fakeSubscription(t *testing.T) (*pstest.Server, *gpubsub.Client) {
	t.Helper()
	srv := pstest.NewServer()
	t.Cleanup(func() { _ = srv.Close() })
	ctx := context.Background()
	c, err := gpubsub.NewClient(ctx, "p", option.WithEndpoint(srv.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: "projects/p/topics/t"})
	require.NoError(t, err)
	_, err = c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: "projects/p/subscriptions/s", Topic: "projects/p/topics/t"})
	require.NoError(t, err)
	return srv, c
}

func TestSource_SignalsAuditLogsAndAcknowledgesEveryMessage(t *testing.T) {
	srv, c := fakeSubscription(t)
	audit, err := os.ReadFile("../testdata/auditlog.json")
	require.NoError(t, err)
	srv.Publish("projects/p/topics/t", []byte("garbage"), nil)
	srv.Publish("projects/p/topics/t", audit, nil)
	srv.Publish("projects/p/topics/t", nil, map[string]string{"ce-specversion": "1.0", "ce-subject": "projects/p/locations/l/operations/op-9"})

	tg := &recorder{got: make(chan struct{}, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&pubsub.Source{Subscriber: c.Subscriber("s")}).Run(ctx, tg) }()
	for range 2 {
		select {
		case <-tg.got:
		case <-time.After(20 * time.Second):
			t.Fatal("no signal")
		}
	}
	require.Eventually(t, func() bool {
		for _, m := range srv.Messages() {
			if m.Acks == 0 {
				return false
			}
		}
		return true
	}, 20*time.Second, 5*time.Millisecond, "every message acknowledged, the undecodable one too")
	cancel()
	require.NoError(t, <-done)

	tg.mu.Lock()
	defer tg.mu.Unlock()
	var refs []string
	for _, s := range tg.sigs {
		assert.Equal(t, "pubsub", s.Source)
		refs = append(refs, s.Refs...)
	}
	assert.Contains(t, refs, "operation-1700000000000-abc")
	assert.Contains(t, refs, "projects/p/locations/l/operations/op-9")
}

func TestSource_RefusesAMissingSubscriber(t *testing.T) {
	assert.Error(t, (&pubsub.Source{}).Run(context.Background(), &recorder{}))
}

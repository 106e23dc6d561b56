package sqs_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/lrotest/sqsfake"
	"github.com/lrokit/lrokit/poller/pollertest"
	"github.com/lrokit/lrokit/push/sqs"
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

func (r *recorder) wait(t *testing.T, n int) []fleet.Signal {
	t.Helper()
	for range n {
		select {
		case <-r.got:
		case <-time.After(10 * time.Second):
			t.Fatal("no signal")
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]fleet.Signal(nil), r.sigs...)
}

func start(t *testing.T, src *sqs.Source, tg *recorder) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, tg) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

func TestSource_SignalsEventBridgeMessagesAndDeletesEveryMessage(t *testing.T) {
	fake := sqsfake.New()
	defer fake.Close()
	q := fake.QueueURL("lrokit-events")
	body, err := os.ReadFile("../testdata/eventbridge-cloudformation.json")
	require.NoError(t, err)
	sns, err := os.ReadFile("../testdata/sns-eventbridge.json")
	require.NoError(t, err)
	fake.Send(q, "not json", nil) // deleted, signals nothing
	fake.Send(q, string(body), nil)
	fake.Send(q, string(sns), nil)
	fake.Send(q, "{}", map[string]string{"ce-specversion": "1.0", "ce-subject": "projects/p/locations/l/operations/op-1"})

	tg := &recorder{got: make(chan struct{}, 10)}
	start(t, &sqs.Source{Client: awssqs.NewFromConfig(fake.Config()), QueueURL: q}, tg)
	sigs := tg.wait(t, 3)
	stack := "arn:aws:cloudformation:eu-west-1:111122223333:stack/web/f1a2b3c4-0000-0000-0000-000000000000"
	assert.Equal(t, []fleet.Signal{
		{Source: "sqs", Refs: []string{stack}},
		{Source: "sqs", Refs: []string{"arn:aws:ec2:eu-west-1:111122223333:instance/i-0abcd1234ef567890", "i-0abcd1234ef567890"}},
		{Source: "sqs", Refs: []string{"projects/p/locations/l/operations/op-1"}},
	}, sigs)
	require.Eventually(t, func() bool { _, _, del := fake.Counts(q); return del == 4 }, 10*time.Second, time.Millisecond)

	// A redelivery (visibility timeout) is one more hint, nothing else.
	fake.Send(q, string(body), nil)
	tg.wait(t, 1)
	require.Eventually(t, func() bool { r, f, del := fake.Counts(q); return del == 5 && r+f == 0 }, 10*time.Second, time.Millisecond)
}

func TestSource_RetriesAFailedReceiveWithBackoff(t *testing.T) {
	fake := sqsfake.New()
	defer fake.Close()
	q := fake.QueueURL("q")
	fake.Fail(2)
	body, err := os.ReadFile("../testdata/eventbridge-ec2.json")
	require.NoError(t, err)
	fake.Send(q, string(body), nil)
	clock := pollertest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tg := &recorder{got: make(chan struct{}, 10)}
	start(t, &sqs.Source{Client: awssqs.NewFromConfig(fake.Config()), QueueURL: q, Clock: clock}, tg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Two failures: backoff of 1 s, then 2 s, on the virtual clock.
	for _, d := range []time.Duration{time.Second, 2 * time.Second} {
		require.NoError(t, clock.WaitForTimers(ctx, 1))
		at, _ := clock.Next()
		assert.Equal(t, d, at.Sub(clock.Now()))
		clock.AdvanceToNext()
	}
	tg.wait(t, 1)
	assert.Equal(t, 3, fake.Receives())
}

func TestSource_RefusesAMissingQueue(t *testing.T) {
	assert.Error(t, (&sqs.Source{}).Run(context.Background(), &recorder{}))
}

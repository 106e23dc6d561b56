package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/fleet/internal/fakecloud"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// stallingPoller holds its first Poll until release is closed.
type stallingPoller struct {
	Poller
	started chan struct{}
	release chan struct{}
}

func (p *stallingPoller) Poll(ctx context.Context) (poller.Observation, error) {
	close(p.started)
	<-p.release
	return p.Poller.Poll(ctx)
}

func TestEngine_FencingRefusesTheLateWriteOfAnOwnerWhoseLeaseLapsed(t *testing.T) {
	h := newHarness(false) // manual clock: time moves only when the test says
	h.add(t, 1, func(int) fakecloud.Spec { return fakecloud.Spec{Host: "h"} })
	const key = "op/00000"

	// Engine A claims the operation, and its poll stalls (a GC pause, a
	// network partition...).
	stalled := &stallingPoller{started: make(chan struct{}), release: make(chan struct{})}
	resolveA := func(ctx context.Context, token string, opts *poller.Options) (Op, error) {
		op, err := h.resolver()(ctx, token, opts)
		stalled.Poller = op.Poller
		op.Poller = stalled
		return op, err
	}
	a, err := New(h.store, resolveA, h.options(Options{Owner: "a", Workers: 1, LeaseTTL: 30 * time.Second}))
	require.NoError(t, err)
	ctxA, stopA := context.WithCancel(context.Background())
	aDone := make(chan error)
	go func() { aDone <- a.Run(ctxA) }()
	<-stalled.started

	// Its lease lapses; engine B takes the operation over and finishes it.
	h.clock.Advance(31 * time.Second)
	b := h.engine(t, Options{Owner: "b", ExitWhenDone: true})
	run(t, context.Background(), b)
	finished, err := h.store.Get(context.Background(), key)
	require.NoError(t, err)
	require.Equal(t, poller.StatusSucceeded, finished.Status)

	// A wakes up: its write is refused, and it lets the operation go.
	close(stalled.release)
	require.Eventually(t, func() bool { return a.Stats().Released == 1 }, 10*time.Second, time.Millisecond)
	stopA()
	require.NoError(t, <-aDone)

	after, err := h.store.Get(context.Background(), key)
	require.NoError(t, err)
	assert.Equal(t, finished.Generation, after.Generation, "A's late write must not land")
	assert.Equal(t, finished.Token, after.Token)
	assert.Equal(t, map[string]int{key: 1}, h.doneCounts(), "only B reports the result")
	var released []Event
	for _, ev := range h.eventsOf(key) {
		if ev.Kind == EventReleased {
			released = append(released, ev)
		}
	}
	require.Len(t, released, 1)
	assert.ErrorIs(t, released[0].Err, persist.ErrLeaseLost)
}

func TestEngine_RenewsLeasesWhileOperationsWait(t *testing.T) {
	h := newHarness(true)
	h.add(t, 5, func(int) fakecloud.Spec { return fakecloud.Spec{Host: "h", Duration: 20 * time.Minute} })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := h.engine(t, Options{Owner: "me", LeaseTTL: 30 * time.Second, OnEvent: func(ev Event) {
		if ev.Kind == EventReleased {
			t.Errorf("released %s: %v", ev.Key, ev.Err)
		}
		if ev.Elapsed > 10*time.Minute {
			// Far beyond the lease's ttl: still held, by us.
			rec, err := h.store.Get(context.Background(), ev.Key)
			require.NoError(t, err)
			assert.Equal(t, "me", rec.Lease.Owner)
			assert.True(t, rec.Lease.Held(h.clock.Now()))
			cancel()
		}
	}})
	require.NoError(t, e.Run(ctx))
	assert.Zero(t, e.Stats().Released)
}

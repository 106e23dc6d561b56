package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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

// renewCounter is a store that renews one lease per call, and counts the
// calls.
type renewCounter struct {
	Store
	renews atomic.Int64
	// before, when set, runs before each renewal call reaches the store.
	before func()
	// fenced counts the writes the store refused with persist.ErrLeaseLost.
	fenced atomic.Int64
}

func (s *renewCounter) Put(ctx context.Context, r persist.Record) (persist.Record, error) {
	out, err := s.Store.Put(ctx, r)
	if errors.Is(err, persist.ErrLeaseLost) {
		s.fenced.Add(1)
	}
	return out, err
}

func (s *renewCounter) Renew(ctx context.Context, key string, lease persist.Lease, ttl time.Duration) (persist.Lease, error) {
	s.renews.Add(1)
	if s.before != nil {
		s.before()
	}
	return s.Store.Renew(ctx, key, lease, ttl)
}

// batchRenewCounter is a store that also renews many leases per call
// (persist.BatchRenewer), and counts those calls and their sizes.
type batchRenewCounter struct {
	renewCounter
	batches, largest atomic.Int64
}

func (s *batchRenewCounter) RenewBatch(ctx context.Context, leases map[string]persist.Lease, ttl time.Duration) (map[string]persist.Lease, error) {
	s.batches.Add(1)
	if n := int64(len(leases)); n > s.largest.Load() {
		s.largest.Store(n)
	}
	if s.before != nil {
		s.before()
	}
	return s.Store.(persist.BatchRenewer).RenewBatch(ctx, leases, ttl)
}

func TestEngine_RenewsEveryHeldLeaseWithOneCallPerRoundWhenTheStoreBatches(t *testing.T) {
	const ops, ttl, watch = 50, 30 * time.Second, 5 * time.Minute
	rounds := int64(watch / (ttl / 3)) // one renewal round per third of the ttl
	tests := []struct {
		name  string
		batch bool
	}{
		{"batch renewer: one call per round", true},
		{"store without batch renewal: one Renew per lease per round", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(true)
			h.add(t, ops, func(int) fakecloud.Spec { return fakecloud.Spec{Host: "h", Duration: time.Hour} })
			per := &renewCounter{Store: h.store}
			var store persist.Store = per
			bat := &batchRenewCounter{renewCounter: renewCounter{Store: h.store}}
			if tc.batch {
				store = bat
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			e, err := New(store, h.resolver(), h.options(Options{
				Owner: "me", LeaseTTL: ttl, Capacity: ops, Priors: PriorOptions{Disabled: true},
				OnEvent: func(ev Event) {
					if ev.Kind == EventReleased {
						t.Errorf("released %s: %v", ev.Key, ev.Err)
					}
					if ev.Elapsed > watch {
						cancel()
					}
				},
			}))
			require.NoError(t, err)
			require.NoError(t, e.Run(ctx))
			assert.Zero(t, e.Stats().Released, "every lease stayed held")
			if tc.batch {
				t.Logf("%d operations for %v: %d RenewBatch calls, %d Renew calls", ops, watch, bat.batches.Load(), bat.renews.Load())
				assert.Zero(t, bat.renews.Load(), "no per-lease Renew")
				assert.InDelta(t, rounds, bat.batches.Load(), 2, "one call per round")
				assert.Equal(t, int64(ops), bat.largest.Load(), "a round carries every held lease")
			} else {
				t.Logf("%d operations for %v: %d Renew calls", ops, watch, per.renews.Load())
				assert.InDelta(t, rounds*ops, per.renews.Load(), 2*ops, "one call per lease per round")
			}
		})
	}
}

func TestEngine_LetsGoOfALeaseItsRenewalRoundFindsLost(t *testing.T) {
	tests := []struct {
		name  string
		batch bool
	}{
		{"batch renewer", true},
		{"store without batch renewal", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(true)
			keys := h.add(t, 3, func(int) fakecloud.Spec { return fakecloud.Spec{Host: "h", Duration: time.Hour} })
			victim := keys[1]
			bg := context.Background()
			var stolen persist.Lease
			var stealErr error
			var once sync.Once
			// Just before the first renewal round, another engine takes
			// the victim over (as if this engine's lease had lapsed). It
			// runs on an engine worker: it must not stop the goroutine.
			steal := func() {
				once.Do(func() {
					rec, err := h.store.Get(bg, victim)
					if err == nil {
						err = h.store.Release(bg, victim, rec.Lease)
					}
					var got []persist.Record
					if err == nil {
						got, err = h.store.Claim(bg, "thief", time.Hour, 10)
					}
					switch {
					case err != nil:
						stealErr = err
					case len(got) != 1 || got[0].Key != victim:
						stealErr = fmt.Errorf("the thief claimed %d records, not just %s", len(got), victim)
					default:
						stolen = got[0].Lease
					}
				})
			}
			bat := &batchRenewCounter{renewCounter: renewCounter{Store: h.store, before: steal}}
			per := &bat.renewCounter
			var store persist.Store = per
			if tc.batch {
				store = bat
			}
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			var released []Event
			e, err := New(store, h.resolver(), h.options(Options{
				// One claim round, at the start: none races the thief.
				Owner: "me", LeaseTTL: 30 * time.Second, ClaimInterval: time.Hour, Priors: PriorOptions{Disabled: true},
				OnEvent: func(ev Event) {
					if ev.Kind == EventReleased {
						released = append(released, ev)
						cancel()
					}
					if ev.Elapsed > 10*time.Minute {
						cancel() // the loss went unnoticed: the assertions below fail
					}
				},
			}))
			require.NoError(t, err)
			require.NoError(t, e.Run(ctx))

			require.NoError(t, stealErr)
			require.Len(t, released, 1, "only the stolen operation is let go")
			assert.Equal(t, victim, released[0].Key)
			assert.ErrorIs(t, released[0].Err, persist.ErrLeaseLost)
			rec, err := h.store.Get(bg, victim)
			require.NoError(t, err)
			assert.Equal(t, stolen, rec.Lease, "the new holder's lease is untouched")
			assert.Equal(t, int64(2), rec.Lease.Epoch)
			assert.Zero(t, per.fenced.Load(), "the renewal round noticed the loss: no write was tried under the lost lease")
		})
	}
}

// scriptedRenewer answers RenewBatch from a script, and records the batches.
type scriptedRenewer struct {
	sizes []int
	err   error
	renew func(key string) bool
}

func (s *scriptedRenewer) RenewBatch(_ context.Context, leases map[string]persist.Lease, ttl time.Duration) (map[string]persist.Lease, error) {
	s.sizes = append(s.sizes, len(leases))
	out := map[string]persist.Lease{}
	for k, l := range leases {
		if s.renew(k) {
			l.Expires = epoch.Add(ttl)
			out[k] = l
		}
	}
	return out, s.err
}

func TestEngine_RenewalRoundSplitsIntoBatchesAndReportsWhatWasNotRenewed(t *testing.T) {
	leases := map[string]persist.Lease{}
	for i := range 2500 {
		leases[fmt.Sprintf("op/%05d", i)] = persist.Lease{Owner: "me", Epoch: 1, Expires: epoch}
	}
	lostOne := func(key string) bool { return key != "op/01234" }
	tests := []struct {
		name      string
		r         *scriptedRenewer
		renewed   int
		lost      []string
		taskError bool
	}{
		{"all renewed", &scriptedRenewer{renew: func(string) bool { return true }}, 2500, nil, false},
		{"one not returned is lost", &scriptedRenewer{renew: lostOne}, 2499, []string{"op/01234"}, false},
		{"a failed call loses nothing", &scriptedRenewer{renew: func(string) bool { return false }, err: errors.New("connection reset")}, 0, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(false)
			e := h.engine(t, Options{Owner: "me", LeaseTTL: time.Minute})
			r := &renewWork{leases: leases, renewed: map[string]time.Time{}, lost: map[string]error{}}
			r.runBatch(context.Background(), e, tc.r)
			assert.Equal(t, []int{1000, 1000, 500}, tc.r.sizes, "at most renewBatchSize leases per call")
			assert.Len(t, r.renewed, tc.renewed)
			var lost []string
			for k, err := range r.lost {
				lost = append(lost, k)
				assert.ErrorIs(t, err, persist.ErrLeaseLost)
			}
			assert.Equal(t, tc.lost, lost)
			assert.Equal(t, tc.taskError, r.err != nil, "task error: %v", r.err)
		})
	}
}

package fleet

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/fleet/internal/fakecloud"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

func TestEngine_TenThousandOperationsOnOneRateLimitedHost(t *testing.T) {
	const (
		n           = 10_000
		serverRate  = 100 // requests per second the host serves
		serverBurst = 20
	)
	h := newHarness(true)
	host := h.cloud.Limit("api.example.com", serverRate, serverBurst)
	rng := rand.New(rand.NewPCG(1, 2))
	h.add(t, n, func(int) fakecloud.Spec {
		return fakecloud.Spec{Host: "api.example.com", Kind: "fake deploy", Duration: time.Duration(30+rng.IntN(600)) * time.Second}
	})
	e := h.engine(t, Options{
		Workers: 16, ExitWhenDone: true,
		// The memory store scans every record to claim or renew: keep
		// those rounds rare so that the test measures the scheduler.
		ClaimInterval: time.Minute, LeaseTTL: 10 * time.Minute,
		Limits: HostLimits{Rate: 400, Burst: 20, Forget: time.Hour},
		Priors: PriorOptions{Disabled: true},
	})
	start := h.clock.Now()
	run(t, context.Background(), e)

	// Every operation completed and was reported done exactly once.
	done := h.doneCounts()
	require.Len(t, done, n)
	for k, c := range done {
		require.Equal(t, 1, c, "operation %s reported done %d times", k, c)
	}
	recs, err := List(context.Background(), h.store, persist.Filter{})
	require.NoError(t, err)
	for _, r := range recs {
		require.Equal(t, poller.StatusSucceeded, r.Status, r.Key)
	}
	assert.Equal(t, n, h.cloud.Starts(), "no initial request was sent again")

	// The engine adapted: throttles happen only while it learns the
	// host's limit, then never again.
	log := host.Log()
	var lastRefusal time.Time
	refused := 0
	for i, r := range log {
		if !r.Refused {
			continue
		}
		refused++
		lastRefusal = r.At
		// A refusal pauses the whole host for its Retry-After.
		for _, later := range log[i+1:] {
			if later.At.Equal(r.At) {
				continue // sent in the same instant, before the answer
			}
			require.False(t, later.At.Before(r.At.Add(r.RetryAfter)), "request at %v during the pause after a refusal at %v", later.At, r.At)
			break
		}
	}
	elapsed := log[len(log)-1].At.Sub(start)
	t.Logf("%d requests (%d refused) in %v of virtual time, last refusal after %v; %.1f requests/s vs server limit %d/s",
		len(log), refused, elapsed, lastRefusal.Sub(start), float64(len(log))/elapsed.Seconds(), serverRate)
	require.Positive(t, refused, "the engine started faster than the server allows, so it must have been throttled")
	assert.Less(t, lastRefusal.Sub(start), 2*time.Minute, "throttled after adapting")
	assert.Less(t, refused, len(log)/100, "more than 1%% of requests refused")
	// And it still uses most of what the server allows while it has a backlog.
	st := e.Stats()
	require.Len(t, st.Hosts, 1)
	assert.Greater(t, st.Hosts[0].Rate, 0.7*serverRate, "the rate settled far below the server's limit")
	assert.LessOrEqual(t, st.Hosts[0].Rate, float64(serverRate))
}

func TestEngine_ReportsEachTerminalResultOnceAndStoresIt(t *testing.T) {
	tests := []struct {
		name       string
		spec       fakecloud.Spec
		wantStatus poller.Status
		wantErr    func(error) bool
	}{
		{"succeeded", fakecloud.Spec{Host: "h", Duration: 45 * time.Second}, poller.StatusSucceeded, func(err error) bool { return err == nil }},
		{"failed", fakecloud.Spec{Host: "h", Duration: 20 * time.Second, Fail: true}, poller.StatusFailed, func(err error) bool {
			var oe *poller.OperationError
			return errors.As(err, &oe) && oe.Code == "Boom"
		}},
		{"gone: the engine gives up", fakecloud.Spec{Host: "h", Gone: true}, poller.StatusFailed, func(err error) bool {
			return errors.Is(err, poller.ErrOperationNotFound)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(true)
			h.add(t, 3, func(int) fakecloud.Spec { return tt.spec })
			run(t, context.Background(), h.engine(t, Options{ExitWhenDone: true}))
			for _, key := range []string{"op/00000", "op/00001", "op/00002"} {
				var dones []Event
				for _, ev := range h.eventsOf(key) {
					if ev.Kind == EventDone {
						dones = append(dones, ev)
					}
				}
				require.Len(t, dones, 1)
				assert.True(t, tt.wantErr(dones[0].Err), "unexpected error %v", dones[0].Err)
				rec, err := h.store.Get(context.Background(), key)
				require.NoError(t, err)
				assert.Equal(t, tt.wantStatus, rec.Status)
			}
		})
	}
}

func TestEngine_RestartContinuesFromStoredTokensWithoutRepeatingWork(t *testing.T) {
	const n, polls = 200, 6
	h := newHarness(true)
	host := h.cloud.Host("h")
	h.add(t, n, func(int) fakecloud.Spec { return fakecloud.Spec{Host: "h", Polls: polls} })

	// The first engine stops after a third of the polls.
	ctx, cancel := context.WithCancel(context.Background())
	seen := 0
	first := h.engine(t, Options{Workers: 8, OnEvent: func(ev Event) {
		if ev.Kind == EventPolled {
			if seen++; seen == n*polls/3 {
				cancel()
			}
		}
	}})
	require.NoError(t, first.Run(ctx))
	before, _ := host.Counts()
	require.Less(t, before, n*polls)
	recs, err := List(context.Background(), h.store, persist.Filter{})
	require.NoError(t, err)
	for _, r := range recs {
		if !r.Status.Terminal() {
			require.Empty(t, r.Lease.Owner, "graceful shutdown releases every lease")
		}
	}

	// A second engine on the same store finishes the work.
	run(t, context.Background(), h.engine(t, Options{Workers: 8, ExitWhenDone: true}))
	requests, _ := host.Counts()
	assert.Equal(t, n*polls, requests, "every poll made before the restart was saved, none repeated")
	assert.Equal(t, n, h.cloud.Starts(), "no initial request was sent again")
	for k, c := range h.doneCounts() {
		require.Equal(t, 1, c, k)
	}
	assert.Len(t, h.doneCounts(), n)
}

func TestEngine_WakePollsAtOnce(t *testing.T) {
	h := newHarness(true)
	h.add(t, 1, func(int) fakecloud.Spec { return fakecloud.Spec{Host: "h", Duration: time.Hour} })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var e *Engine
	var polls []time.Time
	e = h.engine(t, Options{OnEvent: func(ev Event) {
		if ev.Kind != EventPolled {
			return
		}
		polls = append(polls, ev.At)
		switch len(polls) {
		case 5:
			require.True(t, e.Wake(ev.Key))
		case 7:
			cancel()
		}
	}})
	assert.False(t, e.Wake("op/unknown"))
	require.NoError(t, e.Run(ctx))
	require.Len(t, polls, 7)
	assert.Greater(t, polls[4].Sub(polls[3]), time.Second, "the schedule spaces polls")
	assert.LessOrEqual(t, polls[5].Sub(polls[4]), 100*time.Millisecond, "the woken operation is polled at once, within its host's rate (10/s)")
	assert.Greater(t, polls[6].Sub(polls[5]), time.Second, "then it goes back to its schedule")
}

func TestEngine_InvalidTokenInStoreIsMarkedFailed(t *testing.T) {
	h := newHarness(true)
	h.add(t, 1, func(int) fakecloud.Spec { return fakecloud.Spec{Host: "h", Duration: time.Minute} })
	foreign, err := poller.Token{Provider: "other", Kind: "x", Created: epoch}.Encode()
	require.NoError(t, err)
	_, err = Add(context.Background(), h.store, "op/foreign", foreign, nil, nil)
	require.NoError(t, err)

	run(t, context.Background(), h.engine(t, Options{ExitWhenDone: true}))
	rec, err := h.store.Get(context.Background(), "op/foreign")
	require.NoError(t, err)
	assert.Equal(t, poller.StatusFailed, rec.Status)
	assert.Contains(t, rec.Detail, "token cannot be resumed")
	evs := h.eventsOf("op/foreign")
	require.Len(t, evs, 1)
	assert.Equal(t, EventReleased, evs[0].Kind)
	assert.Equal(t, map[string]int{"op/00000": 1}, h.doneCounts())
}

func TestAdd_RefusesReservedKeysAndBadTokens(t *testing.T) {
	h := newHarness(true)
	tok, err := h.cloud.Start(fakecloud.Spec{Host: "h"})
	require.NoError(t, err)
	tests := []struct {
		name, key, token string
		want             error
	}{
		{"reserved key", ReservedPrefix + "x", tok, ErrReservedKey},
		{"not a token", "a", "hello", poller.ErrInvalidToken},
		{"duplicate", "dup", tok, persist.ErrConflict},
	}
	_, err = Add(context.Background(), h.store, "dup", tok, nil, nil)
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Add(context.Background(), h.store, tt.key, tt.token, nil, nil)
			require.ErrorIs(t, err, tt.want)
			assert.NotContains(t, err.Error(), tok)
		})
	}
}

func TestEngine_LeavesIntentsToTheBeginThatWroteThem(t *testing.T) {
	h := newHarness(true)
	h.add(t, 1, func(int) fakecloud.Spec { return fakecloud.Spec{Host: "h", Duration: time.Minute} })
	in, err := persist.Intent{Provider: "rest", Method: "POST", Target: "https://h/x", Created: epoch}.Encode()
	require.NoError(t, err)
	_, err = h.store.Put(context.Background(), persist.Record{Key: "op/intent", Token: in, Status: poller.StatusNotStarted})
	require.NoError(t, err)

	run(t, context.Background(), h.engine(t, Options{ExitWhenDone: true}))
	rec, err := h.store.Get(context.Background(), "op/intent")
	require.NoError(t, err)
	assert.Equal(t, poller.StatusNotStarted, rec.Status, "an intent is neither polled nor marked failed")
	assert.Equal(t, in, rec.Token)
	assert.Empty(t, h.eventsOf("op/intent"))
	assert.Equal(t, map[string]int{"op/00000": 1}, h.doneCounts(), "and it does not keep ExitWhenDone waiting")
}

func TestEngine_RecordSealedWithAKeyItLacksIsReleasedNotFailed(t *testing.T) {
	h := newHarness(true)
	keyOld := bytes.Repeat([]byte("o"), poller.MinSealKeySize)
	keyNew := bytes.Repeat([]byte("n"), poller.MinSealKeySize)
	plain, err := h.cloud.Start(fakecloud.Spec{Host: "h", Duration: time.Minute})
	require.NoError(t, err)
	tok, err := poller.DecodeToken(plain, nil)
	require.NoError(t, err)
	sealed, err := tok.Seal(keyOld)
	require.NoError(t, err)
	_, err = Add(context.Background(), h.store, "op/sealed", sealed, nil, keyOld)
	require.NoError(t, err)

	// A worker that rotated the old key out (or never had it): it
	// releases the record and reports it, round after round, and never
	// marks it failed.
	for _, opts := range []Options{{SealKey: keyNew}, {}} {
		ctx, cancel := context.WithCancel(context.Background())
		released := 0
		e := h.engine(t, Options{SealKey: opts.SealKey, OnEvent: func(ev Event) {
			if ev.Kind == EventReleased && ev.Key == "op/sealed" {
				require.ErrorIs(t, ev.Err, poller.ErrSealKeyUnavailable)
				if released++; released == 3 {
					cancel()
				}
			}
		}})
		require.NoError(t, e.Run(ctx))
		assert.Equal(t, int64(3), e.Stats().Keyless)
		rec, err := h.store.Get(context.Background(), "op/sealed")
		require.NoError(t, err)
		assert.False(t, rec.Status.Terminal(), "a record the engine cannot open is not its to fail: %s %s", rec.Status, rec.Detail)
		assert.Empty(t, rec.Lease.Owner, "released")
	}

	// A worker holding the old key among its older keys finishes it.
	run(t, context.Background(), h.engine(t, Options{SealKey: keyNew, SealKeys: [][]byte{keyOld}, ExitWhenDone: true}))
	rec, err := h.store.Get(context.Background(), "op/sealed")
	require.NoError(t, err)
	assert.Equal(t, poller.StatusSucceeded, rec.Status)
	assert.Equal(t, 1, h.doneCounts()["op/sealed"])
}

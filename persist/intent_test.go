package persist_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/persist/persisttest"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

func sampleIntent() persist.Intent {
	return persist.Intent{
		Provider: "azure", Method: "PUT", Target: "https://management.azure.com/subscriptions/s/resourceGroups/rg",
		Digest: "sha256:00ff", Input: json.RawMessage(`{ "location": "westeurope" }`),
		IdempotencyKey: persist.NewIdempotencyKey(), Created: persisttest.Start,
	}
}

func TestIntentRoundTripsAndIsRecognised(t *testing.T) {
	in := sampleIntent()
	s, err := in.Encode()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(s, persist.IntentPrefix))
	assert.True(t, persist.IsIntent(s+"\n"), "a token file's trailing newline does not matter")
	assert.False(t, persist.IsIntent("lrokit1.e30"))
	back, err := persist.DecodeIntent(s)
	require.NoError(t, err)
	in.Input = json.RawMessage(`{"location":"westeurope"}`)
	assert.Equal(t, in, back)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, in.IdempotencyKey, "a version 4 UUID (AIP-155)")
	assert.NotEqual(t, in.IdempotencyKey, persist.NewIdempotencyKey())
}

func TestDecodeIntentRefusesBadInputWithoutQuotingIt(t *testing.T) {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return persist.IntentPrefix + base64URL(b)
	}
	tests := map[string]struct {
		in   string
		want error
	}{
		"a token":       {"lrokit1.SECRETSECRET", persist.ErrInvalid},
		"not base64":    {persist.IntentPrefix + "SECRET!!", persist.ErrInvalid},
		"not an object": {enc([]int{1}), persist.ErrInvalid},
		"no version":    {enc(map[string]any{"provider": "SECRET", "target": "t", "created": persisttest.Start}), persist.ErrInvalid},
		"newer":         {enc(map[string]any{"lrokit_intent": 2, "provider": "SECRET"}), persist.ErrNewerVersion},
		"no provider":   {enc(map[string]any{"lrokit_intent": 1, "target": "SECRET", "created": persisttest.Start}), persist.ErrInvalid},
		"no target":     {enc(map[string]any{"lrokit_intent": 1, "provider": "SECRET", "created": persisttest.Start}), persist.ErrInvalid},
		"no time":       {enc(map[string]any{"lrokit_intent": 1, "provider": "SECRET", "target": "t"}), persist.ErrInvalid},
		"wrong types":   {enc(map[string]any{"lrokit_intent": 1, "provider": 7}), persist.ErrInvalid},
		"too large":     {persist.IntentPrefix + strings.Repeat("A", persist.MaxTokenLen), persist.ErrInvalid},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := persist.DecodeIntent(tt.in)
			require.ErrorIs(t, err, tt.want)
			assert.NotContains(t, err.Error(), "SECRET")
		})
	}
	_, err := persist.Intent{Provider: "rest", Target: "t", Created: persisttest.Start, Input: json.RawMessage(`{nope`)}.Encode()
	assert.ErrorIs(t, err, persist.ErrInvalid, "Encode refuses what Decode would")
}

// startCounter is a StartFunc that counts its calls and hands out pollers
// of a scripted operation.
type startCounter struct {
	calls, retries atomic.Int32
	mu             sync.Mutex
	keys           []string
	err            error
}

func (s *startCounter) start(_ context.Context, in persist.Intent, retry bool) (persist.Source, error) {
	s.calls.Add(1)
	if retry {
		s.retries.Add(1)
	}
	s.mu.Lock()
	s.keys = append(s.keys, in.IdempotencyKey)
	s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("Creating", -1)}}
	return poller.New[any](op, &poller.Options{Clock: pollertest.NewAutoClock(persisttest.Start), Initial: &poller.Observation{Status: poller.StatusRunning, Detail: "Accepted"}})
}

func TestBeginRecordsTheIntentFirstAndReconcilesOnARerun(t *testing.T) {
	forEachStore(t, func(t *testing.T, store persist.Store) {
		ctx := context.Background()
		in := sampleIntent()
		in.IdempotencyKey = ""

		// First run: the start fails after the intent was recorded (a
		// process killed mid-request looks the same to the store).
		var sc startCounter
		sc.err = errors.New("connection reset")
		_, err := persist.Begin(ctx, store, "deploy/aks", in, func(ctx context.Context, got persist.Intent, retry bool) (persist.Source, error) {
			r, gerr := store.Get(ctx, "deploy/aks")
			require.NoError(t, gerr, "the intent is stored before start is called")
			stored, ok, derr := persist.IntentOf(r)
			require.NoError(t, derr)
			require.True(t, ok)
			assert.Equal(t, got.IdempotencyKey, stored.IdempotencyKey)
			assert.Equal(t, poller.StatusNotStarted, r.Status)
			return sc.start(ctx, got, retry)
		}, &persist.TrackOptions{Labels: map[string]string{"team": "infra"}})
		require.Error(t, err)
		assert.NotEmpty(t, sc.keys[0], "Begin made an idempotency key")

		// A different request under the same key is refused.
		other := in
		other.Digest = "sha256:beef"
		_, err = persist.Begin(ctx, store, "deploy/aks", other, sc.start, nil)
		assert.ErrorIs(t, err, persist.ErrInvalid)
		assert.EqualValues(t, 1, sc.calls.Load())

		// Rerun: start gets the stored intent, same key, retry set.
		sc.err = nil
		tr, err := persist.Begin(ctx, store, "deploy/aks", in, sc.start, nil)
		require.NoError(t, err)
		assert.EqualValues(t, 1, sc.retries.Load())
		assert.Equal(t, sc.keys[0], sc.keys[1], "the rerun re-sends under the same idempotency key")
		r, err := store.Get(ctx, "deploy/aks")
		require.NoError(t, err)
		assert.False(t, persist.IsIntent(r.Token), "the token replaced the intent")
		assert.Equal(t, poller.StatusRunning, r.Status)
		assert.Equal(t, "infra", r.Labels["team"], "labels recorded with the intent stay")
		assert.Equal(t, r.Generation, tr.Record().Generation)

		// A third run finds an unfinished operation: nothing is sent.
		_, err = persist.Begin(ctx, store, "deploy/aks", in, sc.start, nil)
		assert.ErrorIs(t, err, persist.ErrStarted)
		assert.Equal(t, in.Digest, r.Labels[persist.DigestLabel], "the token's record still names its request")
		_, err = persist.Begin(ctx, store, "deploy/aks", other, sc.start, nil)
		assert.ErrorIs(t, err, persist.ErrInvalid, "another request under a key whose operation runs")
		assert.EqualValues(t, 2, sc.calls.Load())

		// Once finished, the key can begin a new operation.
		r.Status = poller.StatusSucceeded
		_, err = store.Put(ctx, r)
		require.NoError(t, err)
		_, err = persist.Begin(ctx, store, "deploy/aks", in, sc.start, nil)
		require.NoError(t, err)
		assert.EqualValues(t, 3, sc.calls.Load())
		assert.EqualValues(t, 1, sc.retries.Load())
	})
}

func TestBeginSendsNothingWhenTheStoreCannotBeWritten(t *testing.T) {
	var sc startCounter
	store := failingStore{Store: persist.NewMemoryStore(nil)}
	_, err := persist.Begin(context.Background(), store, "k", sampleIntent(), sc.start, nil)
	require.ErrorIs(t, err, errDiskFull)
	assert.Contains(t, err.Error(), "nothing was sent")
	assert.Zero(t, sc.calls.Load())
}

func TestBeginRefusesAStartThatReturnsNoPoller(t *testing.T) {
	store := persist.NewMemoryStore(nil)
	_, err := persist.Begin(context.Background(), store, "k", sampleIntent(), func(context.Context, persist.Intent, bool) (persist.Source, error) {
		return nil, nil
	}, nil)
	require.ErrorIs(t, err, persist.ErrInvalid)
	r, err := store.Get(context.Background(), "k")
	require.NoError(t, err)
	assert.True(t, persist.IsIntent(r.Token), "the intent stays")
	_, err = persist.Begin(context.Background(), store, "k", sampleIntent(), nil, nil)
	assert.ErrorIs(t, err, persist.ErrInvalid)
}

func TestConcurrentBeginsOnOneKeyCreateOneIntentAndReconcile(t *testing.T) {
	forEachStore(t, func(t *testing.T, store persist.Store) {
		var sc startCounter
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				_, err := persist.Begin(context.Background(), store, "race", sampleIntent(), sc.start, nil)
				errs <- err
			}()
		}
		ok := 0
		for range 4 {
			err := <-errs
			if err == nil {
				ok++
				continue
			}
			// A loser either lost the intent's create, found the
			// winner's intent (and reconciled: retry), or found its
			// token.
			assert.True(t, errors.Is(err, persist.ErrConflict) || errors.Is(err, persist.ErrStarted), "%v", err)
		}
		assert.EqualValues(t, int32(ok), sc.calls.Load())
		assert.Equal(t, int32(ok)-1, sc.retries.Load(), "only the intent's creator starts fresh; the others reconcile")
	})
}

var errDiskFull = errors.New("no space left on device")

type failingStore struct{ persist.Store }

func (failingStore) Put(context.Context, persist.Record) (persist.Record, error) {
	return persist.Record{}, errDiskFull
}

func forEachStore(t *testing.T, f func(t *testing.T, s persist.Store)) {
	t.Run("memory", func(t *testing.T) { f(t, persist.NewMemoryStore(nil)) })
	t.Run("file", func(t *testing.T) {
		s, err := persist.OpenFileStore(t.TempDir(), nil)
		require.NoError(t, err)
		defer s.Close()
		f(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		s, err := persist.OpenPostgresStore(context.Background(), persisttest.PostgresDSN(t), nil)
		require.NoError(t, err)
		defer s.Close()
		f(t, s)
	})
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

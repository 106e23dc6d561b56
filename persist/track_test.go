package persist_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/persist/persisttest"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// recordingStore remembers every record a Put stored.
type recordingStore struct {
	persist.Store
	mu   sync.Mutex
	puts []persist.Record
}

func (s *recordingStore) Put(ctx context.Context, r persist.Record) (persist.Record, error) {
	out, err := s.Store.Put(ctx, r)
	if err == nil {
		s.mu.Lock()
		s.puts = append(s.puts, out)
		s.mu.Unlock()
	}
	return out, err
}

func TestTrackSavesTokenAndObservationAfterEveryPoll(t *testing.T) {
	ctx := context.Background()
	store := &recordingStore{Store: persist.NewMemoryStore(nil)}
	op := &pollertest.Operation{Steps: []pollertest.Step{
		pollertest.Running("Creating", 10), pollertest.Hinted(30 * time.Second), pollertest.Running("Creating", 90), pollertest.Succeeded(),
	}}
	p, err := poller.New[any](op, &poller.Options{Clock: pollertest.NewAutoClock(persisttest.Start)})
	require.NoError(t, err)
	tr, err := persist.Track(ctx, store, "deploy/prod/aks", p, &persist.TrackOptions{Labels: map[string]string{"env": "prod"}})
	require.NoError(t, err)
	require.Len(t, store.puts, 1, "Track saves before the first poll")

	_, err = p.Wait(ctx, &poller.WaitOptions{OnPoll: tr.OnPoll})
	require.NoError(t, err)
	require.NoError(t, tr.Err())

	require.Len(t, store.puts, 5, "one save at Track, one per poll")
	wantStatus := []poller.Status{"", poller.StatusRunning, poller.StatusRunning, poller.StatusRunning, poller.StatusSucceeded}
	wantDetail := []string{"", "Creating", "Running", "Creating", "Succeeded"}
	for i, r := range store.puts {
		assert.Equal(t, int64(i+1), r.Generation)
		assert.Equal(t, wantStatus[i], r.Status, "save %d", i)
		assert.Equal(t, wantDetail[i], r.Detail, "save %d", i)
		assert.Equal(t, "test", r.Provider)
		assert.Equal(t, map[string]string{"env": "prod"}, r.Labels)
		tok, err := poller.DecodeToken(r.Token, nil)
		require.NoError(t, err)
		assert.Equal(t, i, tok.Polls, "save %d holds the token after poll %d", i, i)
	}
	assert.Equal(t, store.puts[4], tr.Record())
}

func TestTrackTakesOverAStoredRecordAndKeepsItsLabels(t *testing.T) {
	ctx := context.Background()
	store := persist.NewMemoryStore(nil)
	_, err := store.Put(ctx, persist.Record{Key: "op", Token: "old", Labels: map[string]string{"team": "a"}})
	require.NoError(t, err)
	p, err := poller.New[any](&pollertest.Operation{Steps: []pollertest.Step{pollertest.Succeeded()}}, nil)
	require.NoError(t, err)
	tr, err := persist.Track(ctx, store, "op", p, &persist.TrackOptions{Labels: map[string]string{"env": "dev"}, ExpiresAt: persisttest.Start.AddDate(1, 0, 0)})
	require.NoError(t, err)
	r := tr.Record()
	assert.Equal(t, int64(2), r.Generation)
	assert.Equal(t, map[string]string{"team": "a", "env": "dev"}, r.Labels)
	assert.True(t, r.ExpiresAt.Equal(persisttest.Start.AddDate(1, 0, 0)))
	assert.NotEqual(t, "old", r.Token)
}

func TestTrackRetriesConflictsAndRecreatesDeletedRecord(t *testing.T) {
	ctx := context.Background()
	store := persist.NewMemoryStore(nil)
	p, err := poller.New[any](&pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("x", 1)}}, nil)
	require.NoError(t, err)
	tr, err := persist.Track(ctx, store, "op", p, nil)
	require.NoError(t, err)

	other, err := store.Get(ctx, "op")
	require.NoError(t, err)
	other.Detail = "someone else"
	_, err = store.Put(ctx, other)
	require.NoError(t, err)
	require.NoError(t, tr.Save(ctx), "a conflict is retried at the new generation")
	assert.Equal(t, int64(3), tr.Record().Generation)

	require.NoError(t, store.Delete(ctx, "op", 0))
	require.NoError(t, tr.Save(ctx), "a deleted record is written again: the token must not be lost")
	got, err := store.Get(ctx, "op")
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.Generation)
}

func TestTrackUnderALostLeaseStopsAndReports(t *testing.T) {
	ctx := context.Background()
	clock := pollertest.NewClock(persisttest.Start)
	store := persist.NewMemoryStore(&persist.Options{Clock: clock})
	_, err := store.Put(ctx, persist.Record{Key: "op", Token: "t", Status: poller.StatusRunning})
	require.NoError(t, err)
	claimed, err := store.Claim(ctx, "worker-a", time.Minute, 1)
	require.NoError(t, err)
	require.Len(t, claimed, 1)

	p, err := poller.New[any](&pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("x", 1)}}, nil)
	require.NoError(t, err)
	var reported []error
	tr, err := persist.Track(ctx, store, "op", p, &persist.TrackOptions{OnError: func(err error) { reported = append(reported, err) }})
	require.NoError(t, err, "the holder tracks under its lease")
	assert.Equal(t, claimed[0].Lease, tr.Record().Lease)

	clock.Advance(2 * time.Minute)
	b, err := store.Claim(ctx, "worker-b", time.Minute, 1)
	require.NoError(t, err)
	require.Len(t, b, 1)
	b[0].Token = "worker-b's"
	_, err = store.Put(ctx, b[0])
	require.NoError(t, err, "worker-b writes; the tracker's next save would conflict")

	tr.OnPoll(poller.Observation{Status: poller.StatusRunning})
	require.Len(t, reported, 1)
	assert.ErrorIs(t, reported[0], persist.ErrLeaseLost, "the retry after the conflict keeps the old lease, so the fence holds")
	assert.ErrorIs(t, tr.Err(), persist.ErrLeaseLost)
	got, err := store.Get(ctx, "op")
	require.NoError(t, err)
	assert.Equal(t, "worker-b", got.Lease.Owner)
	assert.Equal(t, "worker-b's", got.Token, "worker-b's record is untouched")
}

type failingSource struct{}

func (failingSource) ResumeToken() (string, error) { return "", errors.New("no token") }
func (failingSource) Last() poller.Observation     { return poller.Observation{} }

func TestTrackFailsWithoutToken(t *testing.T) {
	store := persist.NewMemoryStore(nil)
	_, err := persist.Track(context.Background(), store, "op", failingSource{}, nil)
	require.ErrorContains(t, err, "no token")
	_, err = persist.Track(context.Background(), store, "../op", failingSource{}, nil)
	require.ErrorIs(t, err, persist.ErrInvalid)
}

// steadyOp is an operation whose own state never changes, as an Azure
// status monitor's between its first poll and its last.
type steadyOp struct {
	obs []poller.Observation
	i   int
}

func (o *steadyOp) Poll(context.Context) (poller.Observation, error) {
	obs := o.obs[min(o.i, len(o.obs)-1)]
	o.i++
	return obs, nil
}
func (o *steadyOp) Result(context.Context, any) error { return nil }
func (o *steadyOp) Token() (poller.Token, error) {
	return poller.Token{Provider: "test", Kind: "steady", State: []byte(`{"id":"x"}`)}, nil
}

func TestTrackSkipsSavesThatOnlyMoveTheSchedule(t *testing.T) {
	ctx := context.Background()
	store := &recordingStore{Store: persist.NewMemoryStore(nil)}
	at := func(p float64) poller.Observation {
		return poller.Observation{Status: poller.StatusRunning, Detail: "Creating", Progress: p}
	}
	op := &steadyOp{obs: []poller.Observation{at(10), at(10), at(10), at(90), at(90), {Status: poller.StatusSucceeded}}}
	p, err := poller.New[any](op, &poller.Options{Clock: pollertest.NewAutoClock(persisttest.Start)})
	require.NoError(t, err)
	tr, err := persist.Track(ctx, store, "op", p, nil)
	require.NoError(t, err)
	_, err = p.Wait(ctx, &poller.WaitOptions{OnPoll: tr.OnPoll})
	require.NoError(t, err)
	require.NoError(t, tr.Err())

	// Track, then the polls that changed something: 10 %, 90 %, done.
	require.Len(t, store.puts, 4)
	var polls []int
	for _, r := range store.puts {
		tok, err := poller.DecodeToken(r.Token, nil)
		require.NoError(t, err)
		polls = append(polls, tok.Polls)
	}
	assert.Equal(t, []int{0, 1, 4, 6}, polls)

	// A crash after poll 3 resumes from the token of poll 1: the same
	// state and observation, due at once.
	tok, err := poller.DecodeToken(store.puts[1].Token, nil)
	require.NoError(t, err)
	clock := pollertest.NewClock(persisttest.Start.Add(time.Hour))
	q, err := poller.Resume[any](&steadyOp{}, tok, &poller.Options{Clock: clock})
	require.NoError(t, err)
	assert.Equal(t, "Creating", q.Last().Detail)
	assert.Equal(t, clock.Now(), q.NextPollAt())
	assert.Equal(t, p.Created(), q.Created())
}

func TestTrackSavesEveryPollUnderALease(t *testing.T) {
	ctx := context.Background()
	clock := pollertest.NewClock(persisttest.Start)
	mem := persist.NewMemoryStore(&persist.Options{Clock: clock})
	store := &recordingStore{Store: mem}
	_, err := store.Put(ctx, persist.Record{Key: "op", Token: "old"})
	require.NoError(t, err)
	_, err = mem.Claim(ctx, "worker", time.Hour, 1)
	require.NoError(t, err)
	op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("Creating", 10), pollertest.Running("Creating", 10), pollertest.Succeeded()}}
	p, err := poller.New[any](op, &poller.Options{Clock: clock})
	require.NoError(t, err)
	tr, err := persist.Track(ctx, store, "op", p, nil)
	require.NoError(t, err)
	for range 3 {
		obs, err := p.Poll(ctx)
		require.NoError(t, err)
		tr.OnPoll(obs)
		require.NoError(t, tr.Err())
	}
	assert.Len(t, store.puts, 1+1+3, "the seed, Track, and every poll: a lost lease is noticed at once")
}

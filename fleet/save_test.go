package fleet

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// steadyOp runs until a fixed time and its state never changes, as an
// Azure status monitor's between its first poll and its last.
type steadyOp struct {
	clock poller.Clock
	done  time.Time
}

func (o *steadyOp) Poll(context.Context) (poller.Observation, error) {
	if o.clock.Now().Before(o.done) {
		return poller.Observation{Status: poller.StatusRunning, Detail: "InProgress", Progress: poller.ProgressUnknown}, nil
	}
	return poller.Observation{Status: poller.StatusSucceeded, Detail: "Succeeded", Progress: 100}, nil
}
func (o *steadyOp) Result(context.Context, any) error { return nil }
func (o *steadyOp) Token() (poller.Token, error) {
	return poller.Token{Provider: "steady", Kind: "op", State: json.RawMessage(`{"done":` + strconv.FormatInt(o.done.Unix(), 10) + `}`)}, nil
}

// countingStore counts Puts.
type countingStore struct {
	*persist.MemoryStore
	puts atomic.Int64
}

func (s *countingStore) Put(ctx context.Context, r persist.Record) (persist.Record, error) {
	s.puts.Add(1)
	return s.MemoryStore.Put(ctx, r)
}

func TestEngine_SavesOnlyPollsThatChangedSomething(t *testing.T) {
	h := newHarness(true)
	ctx := context.Background()
	store := &countingStore{MemoryStore: h.store}
	op := &steadyOp{clock: h.clock, done: h.clock.Now().Add(10 * time.Minute)}
	p, err := poller.New[any](op, &poller.Options{Clock: h.clock})
	require.NoError(t, err)
	tok, err := p.ResumeToken()
	require.NoError(t, err)
	_, err = Add(ctx, store, "op/steady", tok, nil, nil)
	require.NoError(t, err)
	store.puts.Store(0)

	resolve := func(_ context.Context, token string, opts *poller.Options) (Op, error) {
		tok, err := opts.DecodeToken(token)
		if err != nil {
			return Op{}, err
		}
		var st struct{ Done int64 }
		if err := json.Unmarshal(tok.State, &st); err != nil {
			return Op{}, err
		}
		p, err := poller.Resume[any](&steadyOp{clock: h.clock, done: time.Unix(st.Done, 0)}, tok, opts)
		return Op{Poller: p, Host: "steady.example.com"}, err
	}
	e, err := New(store, resolve, h.options(Options{ExitWhenDone: true, Priors: PriorOptions{Disabled: true}}))
	require.NoError(t, err)
	run(t, ctx, e)

	polls := e.Stats().Polls
	require.Greater(t, polls, int64(5))
	// The first poll's token (nothing stored by this engine yet) and the
	// last one's: the polls in between only moved the schedule.
	assert.Equal(t, int64(2), store.puts.Load(), "%d polls", polls)
	r, err := store.Get(ctx, "op/steady")
	require.NoError(t, err)
	assert.Equal(t, poller.StatusSucceeded, r.Status)
	stored, err := poller.DecodeToken(r.Token, nil)
	require.NoError(t, err)
	assert.Equal(t, int(polls), stored.Polls, "the final token counts every poll")
}

package fleet

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/fleet/internal/fakecloud"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// harness is a fake cloud and a memory store on one virtual clock, and a
// record of every event the engines under test report.
type harness struct {
	clock *pollertest.Clock
	cloud *fakecloud.Cloud
	store *persist.MemoryStore

	mu     sync.Mutex
	events []Event
	done   map[string]int
}

func newHarness(auto bool) *harness {
	clk := pollertest.NewClock(epoch)
	if auto {
		clk = pollertest.NewAutoClock(epoch)
	}
	return &harness{
		clock: clk,
		cloud: fakecloud.New(clk),
		store: persist.NewMemoryStore(&persist.Options{Clock: clk}),
		done:  map[string]int{},
	}
}

func (h *harness) resolver() Resolver {
	return func(ctx context.Context, token string, opts *poller.Options) (Op, error) {
		p, spec, err := h.cloud.Resume(ctx, token, opts)
		if err != nil {
			return Op{}, err
		}
		return Op{Poller: p, Host: spec.Host, Kind: spec.Kind}, nil
	}
}

// add starts n operations from spec(i) and adds them under "op/<i>".
func (h *harness) add(t testing.TB, n int, spec func(i int) fakecloud.Spec) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range n {
		tok, err := h.cloud.Start(spec(i))
		require.NoError(t, err)
		keys[i] = fmt.Sprintf("op/%05d", i)
		_, err = Add(context.Background(), h.store, keys[i], tok, nil, nil)
		require.NoError(t, err)
	}
	return keys
}

// options are the engine options of a lockstep run on the harness.
func (h *harness) options(o Options) *Options {
	o.Clock = h.clock
	o.Lockstep = true
	prev := o.OnEvent
	o.OnEvent = func(ev Event) {
		h.mu.Lock()
		h.events = append(h.events, ev)
		if ev.Kind == EventDone {
			h.done[ev.Key]++
		}
		h.mu.Unlock()
		if prev != nil {
			prev(ev)
		}
	}
	return &o
}

func (h *harness) engine(t testing.TB, o Options) *Engine {
	t.Helper()
	e, err := New(h.store, h.resolver(), h.options(o))
	require.NoError(t, err)
	return e
}

// run runs e until it returns (ExitWhenDone or ctx), within a real-time
// bound that only a hung test reaches.
func run(t testing.TB, ctx context.Context, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	require.NoError(t, e.Run(ctx))
	require.NoError(t, context.Cause(ctx), "the engine did not finish in time")
}

func (h *harness) doneCounts() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.done))
	for k, v := range h.done {
		out[k] = v
	}
	return out
}

func (h *harness) eventsOf(key string) []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Event
	for _, ev := range h.events {
		if ev.Key == key {
			out = append(out, ev)
		}
	}
	return out
}

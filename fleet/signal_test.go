package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/fleet/internal/fakecloud"
	"github.com/lrokit/lrokit/poller"
)

// stepper drives an engine in lockstep on the harness's manual clock.
type stepper struct {
	t      *testing.T
	h      *harness
	e      *Engine
	cancel context.CancelFunc
	done   chan error
}

// startSignaled runs an engine whose operations are also named
// "https://api.example.com/things/<key>" (Op.Match).
func startSignaled(t *testing.T, h *harness, o Options) *stepper {
	t.Helper()
	base := h.resolver()
	resolve := func(ctx context.Context, token string, opts *poller.Options) (Op, error) {
		op, err := base(ctx, token, opts)
		if err == nil {
			tok, _ := poller.DecodeToken(token, nil)
			var st struct{ Start int64 }
			_ = json.Unmarshal(tok.State, &st)
			op.Match = []string{fmt.Sprintf("https://api.example.com/things/%d", st.Start)}
		}
		return op, err
	}
	o.Priors.Disabled = true
	o.ClaimInterval, o.LeaseTTL = time.Hour, 24*time.Hour
	e, err := New(h.store, resolve, h.options(o))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	s := &stepper{t: t, h: h, e: e, cancel: cancel, done: make(chan error, 1)}
	mark := h.clock.Made()
	go func() { s.done <- e.Run(ctx) }()
	s.idle(mark)
	t.Cleanup(s.stop)
	return s
}

func (s *stepper) idle(mark uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(s.t, s.h.clock.WaitForTimerAfter(ctx, mark), "the engine did not go idle")
}

// to lets the engine do everything due up to at, then sets the clock to at.
func (s *stepper) to(at time.Time) {
	for {
		next, ok := s.h.clock.Next()
		if !ok || next.After(at) {
			break
		}
		mark := s.h.clock.Made()
		s.h.clock.Set(next)
		s.idle(mark)
	}
	s.h.clock.Set(at)
}

// signal sends sig and waits until the engine is idle again.
func (s *stepper) signal(sig Signal) int {
	mark := s.h.clock.Made()
	n := s.e.Signal(sig)
	if n > 0 {
		s.idle(mark)
	}
	return n
}

func (s *stepper) stop() {
	s.cancel()
	<-s.done
}

func requests(h *harness, host string) int {
	n, _ := h.cloud.Host(host).Counts()
	return n
}

func thing(start time.Time) string {
	return fmt.Sprintf("https://API.example.com/things/%d/?from=event", start.UnixNano())
}

func TestSignal_PollsANamedOperationAtOnceAndOnlyOnce(t *testing.T) {
	h := newHarness(false)
	start := h.clock.Now()
	keys := h.add(t, 1, func(int) fakecloud.Spec {
		return fakecloud.Spec{Host: "api.example.com", Kind: "k", Duration: 10 * time.Minute}
	})
	// Without the signal the first poll would come after 18 min.
	s := startSignaled(t, h, Options{Policy: poller.Policy{Floor: 20 * time.Minute, Cap: 20 * time.Minute}})
	s.to(start.Add(10*time.Minute + 2*time.Second))
	before := requests(h, "api.example.com")
	require.Empty(t, h.doneCounts(), "not polled since it completed")

	// Three copies of the same notification, by ref and by key.
	assert.Equal(t, 1, s.signal(Signal{Source: "test", Refs: []string{thing(start)}}))
	assert.Equal(t, 0, s.signal(Signal{Refs: []string{thing(start)}}), "done: a duplicate is late")
	assert.Equal(t, 0, s.signal(Signal{Keys: keys}))

	assert.Equal(t, 1, requests(h, "api.example.com")-before, "one poll for three copies")
	evs := s.h.eventsOf(keys[0])
	last := evs[len(evs)-1]
	assert.Equal(t, EventDone, last.Kind)
	assert.Equal(t, start.Add(10*time.Minute+2*time.Second), last.At, "polled the instant the signal came")
	st := s.e.SignalStats()
	assert.Equal(t, SignalStats{Received: 3, Matched: 1, Unmatched: 2, Delivered: 1}, st)
}

func TestSignal_ForgedOrUnknownRefsPollNothing(t *testing.T) {
	h := newHarness(false)
	start := h.clock.Now()
	h.add(t, 1, func(int) fakecloud.Spec {
		return fakecloud.Spec{Host: "api.example.com", Kind: "k", Duration: 10 * time.Minute}
	})
	s := startSignaled(t, h, Options{})
	s.to(start.Add(3 * time.Minute))
	before := requests(h, "api.example.com")
	for _, ref := range []string{"", "https://evil.example/things/1", "/", "arn:aws:x", "op/00000", string(make([]byte, 5000))} {
		assert.Zero(t, s.signal(Signal{Refs: []string{ref}}), "%q", ref)
	}
	assert.Zero(t, s.signal(Signal{Keys: []string{"op/unknown"}}))
	assert.Equal(t, before, requests(h, "api.example.com"))
}

func TestSignal_StillRunningMeansPollAgainOnSchedule(t *testing.T) {
	// An early (or forged) signal costs one poll; the poll says running,
	// and the operation is not reported done.
	h := newHarness(false)
	start := h.clock.Now()
	keys := h.add(t, 1, func(int) fakecloud.Spec {
		return fakecloud.Spec{Host: "api.example.com", Kind: "k", Duration: 10 * time.Minute}
	})
	s := startSignaled(t, h, Options{Policy: poller.Policy{Floor: 20 * time.Minute, Cap: 20 * time.Minute}})
	s.to(start.Add(5 * time.Minute))
	before := requests(h, "api.example.com")
	require.Equal(t, 1, s.signal(Signal{Keys: keys}))
	assert.Equal(t, 1, requests(h, "api.example.com")-before)
	assert.Empty(t, h.doneCounts())
	// Signals right after a poll wait for the gap.
	before = requests(h, "api.example.com")
	require.Equal(t, 1, s.signal(Signal{Keys: keys}))
	assert.Equal(t, 0, requests(h, "api.example.com")-before, "within the gap")
	s.to(start.Add(5*time.Minute + time.Second))
	assert.Equal(t, 1, requests(h, "api.example.com")-before, "at the gap")
	assert.Zero(t, s.e.SignalStats().Delivered)
}

func TestSignal_ADeliveringSourceStretchesPollsWithinBounds(t *testing.T) {
	h := newHarness(false)
	start := h.clock.Now()
	// op 0 ends at 1 min and is signaled; op 1 (same host and kind) runs
	// 5 h with no signal; op 2 runs on another kind. Polls without a
	// signal are 18-22 min apart, stretched to an hour while trusted.
	specs := []fakecloud.Spec{
		{Host: "api.example.com", Kind: "k", Duration: time.Minute},
		{Host: "api.example.com", Kind: "k", Duration: 5 * time.Hour},
		{Host: "api.example.com", Kind: "other", Duration: 5 * time.Hour},
	}
	keys := h.add(t, 3, func(i int) fakecloud.Spec { return specs[i] })
	s := startSignaled(t, h, Options{
		Policy:  poller.Policy{Floor: 20 * time.Minute, Cap: 20 * time.Minute},
		Signals: SignalOptions{Quiet: time.Hour, Trust: 2 * time.Hour},
	})
	s.to(start.Add(time.Minute + time.Second))
	require.Equal(t, 1, s.signal(Signal{Keys: keys[:1]}))
	require.Equal(t, 1, h.doneCounts()[keys[0]])
	s.to(start.Add(5*time.Hour - time.Minute))

	polls := func(key string, from, to time.Duration) []time.Time {
		var out []time.Time
		for _, ev := range h.eventsOf(key) {
			if ev.Kind == EventPolled && !ev.At.Before(start.Add(from)) && ev.At.Before(start.Add(to)) {
				out = append(out, ev.At)
			}
		}
		return out
	}
	// Trusted from 1m1s to 2h1m: op 1's polls are Quiet apart there.
	trusted := polls(keys[1], 2*time.Minute, 2*time.Hour)
	require.Greater(t, len(trusted), 1)
	for i := 1; i < len(trusted); i++ {
		assert.GreaterOrEqual(t, trusted[i].Sub(trusted[i-1]), time.Hour, "stretched to Quiet")
	}
	// Another kind learned nothing; after Trust the stretch lapses.
	for _, ps := range [][]time.Time{polls(keys[2], 2*time.Minute, 2*time.Hour), polls(keys[1], 3*time.Hour, 5*time.Hour)} {
		require.GreaterOrEqual(t, len(ps), 2)
		for i := 1; i < len(ps); i++ {
			assert.LessOrEqual(t, ps[i].Sub(ps[i-1]), 22*time.Minute, "poll-only schedule (cap + jitter)")
		}
	}
}

func TestTokenMatchKeys(t *testing.T) {
	tok := func(provider, state string) string {
		s, err := poller.Token{Version: poller.TokenVersion, Provider: provider, Kind: "x", State: json.RawMessage(state), Created: epoch}.Encode()
		require.NoError(t, err)
		return s
	}
	tests := []struct {
		name, token string
		want        []string
	}{
		{"azure async", tok("azure", `{"method":"PUT","url":"https://management.azure.com/subscriptions/S/resourceGroups/RG/providers/P/t/n?api-version=1","poll":"https://management.azure.com/subscriptions/S/providers/P/locations/l/operationStatuses/op1?api-version=1"}`),
			[]string{"subscriptions/s/resourcegroups/rg/providers/p/t/n", "subscriptions/s/providers/p/locations/l/operationstatuses/op1"}},
		{"rest POST action names its resource", tok("rest", `{"method":"POST","url":"https://api.contoso.com/v1.0/databases/db1/backup"}`),
			[]string{"v1.0/databases/db1/backup", "v1.0/databases/db1"}},
		{"gcp longrunning", tok("gcp", `{"name":"projects/p/locations/l/operations/op-1"}`), []string{"projects/p/locations/l/operations/op-1"}},
		{"gcp compute", tok("gcp", `{"project":"p","zone":"z","name":"operation-1"}`), []string{"operation-1", "projects/p/zones/z/operations/operation-1"}},
		{"aws stack", tok("aws", `{"region":"eu-west-1","input":{"StackName":"arn:aws:cloudformation:eu-west-1:1:stack/web/guid"}}`),
			[]string{"web"}},
		{"aws instances", tok("aws", `{"input":{"InstanceIds":["i-1"]}}`), []string{"i-1"}},
		{"unknown provider", tok("fake", `{"url":"https://x/y"}`), nil},
		{"not a token", "garbage", nil},
		{"bad state", tok("azure", `{"url":7}`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ElementsMatch(t, tt.want, tokenMatchKeys(tt.token, nil))
		})
	}
}

func TestMatchKeys(t *testing.T) {
	tests := []struct {
		id   string
		want []string
	}{
		{"/subscriptions/S/resourceGroups/RG", []string{"subscriptions/s/resourcegroups/rg"}},
		{"https://h.example/a/b/?q=1#f", []string{"h.example/a/b", "a/b"}},
		{"//compute.googleapis.com/projects/p/zones/z/instances/i", []string{"compute.googleapis.com/projects/p/zones/z/instances/i", "projects/p/zones/z/instances/i"}},
		{"arn:aws:ec2:r:1:instance/i-9", []string{"arn:aws:ec2:r:1:instance/i-9", "i-9"}},
		{"arn:aws:sns:r:1:topic", []string{"arn:aws:sns:r:1:topic", "topic"}},
		{"arn:aws:lambda:r:1:function:f", []string{"arn:aws:lambda:r:1:function:f", "f"}},
		{"  ", nil},
		{"http://[::1", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, MatchKeys(tt.id), tt.id)
	}
}

func TestSignal_EarlyStaleOrLostSignalsNeverChangeTheResult(t *testing.T) {
	h := newHarness(false)
	start := h.clock.Now()
	keys := h.add(t, 2, func(i int) fakecloud.Spec {
		return fakecloud.Spec{Host: "api.example.com", Kind: "k", Duration: 3 * time.Minute, Fail: i == 1}
	})
	s := startSignaled(t, h, Options{})
	// Out of order: the "completed" notifications of both arrive before
	// they complete; then nothing more comes (the real ones are lost).
	s.to(start.Add(time.Minute))
	require.Equal(t, 2, s.signal(Signal{Keys: keys}))
	require.Empty(t, h.doneCounts(), "a signal is not a result")
	s.to(start.Add(10 * time.Minute))
	assert.Equal(t, map[string]int{keys[0]: 1, keys[1]: 1}, h.doneCounts(), "the schedule found both")
	for i, want := range []poller.Status{poller.StatusSucceeded, poller.StatusFailed} {
		evs := h.eventsOf(keys[i])
		assert.Equal(t, want, evs[len(evs)-1].Obs.Status)
	}
}

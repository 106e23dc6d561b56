package poller_test

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// nopOp is the cheapest possible adapter: it measures the core alone.
type nopOp struct{ obs poller.Observation }

func (o *nopOp) Poll(context.Context) (poller.Observation, error) { return o.obs, nil }
func (o *nopOp) Result(context.Context, any) error                { return nil }
func (o *nopOp) Token() (poller.Token, error) {
	return poller.Token{Provider: "test", Kind: "nop"}, nil
}

// BenchmarkPollStep is the core's own overhead per poll: one Poll and its
// scheduling decision, without the provider client. Untraced (no
// TracerProvider) it allocates nothing, as before tracing existed;
// "traced" shows the price of a recorded span per poll.
func BenchmarkPollStep(b *testing.B) {
	for _, tc := range []struct {
		name    string
		obs     poller.Observation
		timeout time.Duration
		tp      trace.TracerProvider
	}{
		{"schedule", poller.Observation{Status: poller.StatusRunning, Progress: -1}, 0, nil},
		{"hint", poller.Observation{Status: poller.StatusRunning, Progress: -1, RetryAfter: 5 * time.Second}, 0, nil},
		{"timeout", poller.Observation{Status: poller.StatusRunning, Progress: -1}, 30 * time.Second, nil},
		{"traced", poller.Observation{Status: poller.StatusRunning, Progress: -1}, 0, sdktrace.NewTracerProvider()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			clock := pollertest.NewClock(epoch)
			p, err := poller.New[struct{}](&nopOp{obs: tc.obs}, &poller.Options{Clock: clock, PollTimeout: tc.timeout, TracerProvider: tc.tp})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Poll(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkResumeToken(b *testing.B) {
	p, _ := poller.New[struct{}](&nopOp{obs: poller.Observation{Status: poller.StatusRunning}}, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.ResumeToken(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPollAllocs guards the core's cost per poll (allocation counts are
// deterministic): no allocation for a poll and its scheduling decision; a
// per-poll timeout costs context.WithTimeout's.
func TestPollAllocs(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		obs     poller.Observation
		timeout time.Duration
		most    float64
	}{
		{"schedule", poller.Observation{Status: poller.StatusRunning, Progress: -1}, 0, 0},
		{"hint", poller.Observation{Status: poller.StatusRunning, Progress: -1, RetryAfter: 5 * time.Second}, 0, 0},
		{"timeout", poller.Observation{Status: poller.StatusRunning, Progress: -1}, 30 * time.Second, 4},
	} {
		p, err := poller.New[struct{}](&nopOp{obs: tc.obs}, &poller.Options{Clock: pollertest.NewClock(epoch), PollTimeout: tc.timeout})
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = p.Poll(ctx) }); n > tc.most {
			t.Errorf("%s: %v allocations per poll, want at most %v", tc.name, n, tc.most)
		}
	}
	// A token taken and encoded into a reused buffer after every poll:
	// the Last observation's copy only (nopOp's token has no state).
	p, _ := poller.New[struct{}](&nopOp{obs: poller.Observation{Status: poller.StatusRunning}}, nil)
	var buf []byte
	n := testing.AllocsPerRun(100, func() {
		tok, _ := p.Token()
		buf, _ = p.AppendToken(buf[:0], tok)
	})
	if n > 1 {
		t.Errorf("token and encode: %v allocations, want at most 1", n)
	}
}

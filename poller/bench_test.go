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
		name string
		obs  poller.Observation
		tp   trace.TracerProvider
	}{
		{"schedule", poller.Observation{Status: poller.StatusRunning, Progress: -1}, nil},
		{"hint", poller.Observation{Status: poller.StatusRunning, Progress: -1, RetryAfter: 5 * time.Second}, nil},
		{"traced", poller.Observation{Status: poller.StatusRunning, Progress: -1}, sdktrace.NewTracerProvider()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			clock := pollertest.NewClock(epoch)
			p, err := poller.New[struct{}](&nopOp{obs: tc.obs}, &poller.Options{Clock: clock, TracerProvider: tc.tp})
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

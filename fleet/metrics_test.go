package fleet

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/lrokit/lrokit/fleet/internal/fakecloud"
	"github.com/lrokit/lrokit/internal/tracecheck"
	"github.com/lrokit/lrokit/poller"
)

// countingProvider counts what the engine records through the metric API.
type countingProvider struct {
	noop.MeterProvider
	adds map[string]*atomic.Int64
}

func (p countingProvider) Meter(string, ...metric.MeterOption) metric.Meter {
	return countingMeter{p: p}
}

type countingMeter struct {
	noop.Meter
	p countingProvider
}

func (m countingMeter) Int64Counter(name string, _ ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	return countingCounter{n: m.p.adds[name]}, nil
}

func (m countingMeter) Float64Histogram(name string, _ ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	return countingHistogram{n: m.p.adds[name]}, nil
}

type countingCounter struct {
	noop.Int64Counter
	n *atomic.Int64
}

func (c countingCounter) Add(context.Context, int64, ...metric.AddOption) { c.n.Add(1) }

type countingHistogram struct {
	noop.Float64Histogram
	n *atomic.Int64
}

func (c countingHistogram) Record(context.Context, float64, ...metric.RecordOption) { c.n.Add(1) }

func TestEngine_RecordsMetricsOnlyWithAMeterProvider(t *testing.T) {
	names := []string{"lrokit.fleet.requests", "lrokit.fleet.poll.duration", "lrokit.fleet.operations.completed"}
	mp := countingProvider{adds: map[string]*atomic.Int64{}}
	for _, n := range names {
		mp.adds[n] = new(atomic.Int64)
	}
	h := newHarness(true)
	h.add(t, 5, func(int) fakecloud.Spec { return fakecloud.Spec{Host: "h", Kind: "k", Duration: time.Minute} })
	run(t, context.Background(), h.engine(t, Options{ExitWhenDone: true, MeterProvider: mp}))
	polls := mp.adds["lrokit.fleet.requests"].Load()
	assert.Greater(t, polls, int64(5), "every poll is counted")
	assert.Equal(t, polls, mp.adds["lrokit.fleet.poll.duration"].Load(), "and timed")
	assert.Equal(t, int64(5), mp.adds["lrokit.fleet.operations.completed"].Load())
}

func TestEngine_TracesPollsOnlyWithATracerProvider(t *testing.T) {
	rec := tracecheck.New()
	h := newHarness(true)
	h.add(t, 3, func(int) fakecloud.Spec { return fakecloud.Spec{Host: "h", Kind: "k", Duration: time.Minute} })
	e := h.engine(t, Options{ExitWhenDone: true, TracerProvider: rec})
	run(t, context.Background(), e)
	polls := rec.Named(poller.SpanPoll)
	assert.Equal(t, e.Stats().Polls, int64(len(polls)), "one span per poll")
	assert.Empty(t, rec.Named(poller.SpanWait), "the engine polls; it does not Wait")
}

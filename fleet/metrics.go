package fleet

import (
	"context"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// Stats is a snapshot of an engine's state and counters.
type Stats struct {
	// Held is the number of operations the engine holds.
	Held int
	// InFlight is the number of polls in progress.
	InFlight int
	// Overdue is the number of held operations whose poll is more than
	// Options.OverdueAfter late (host rate limits or too few workers).
	Overdue int
	// Polls, Throttles and Errors count requests and their outcomes since
	// the engine was created.
	Polls, Throttles, Errors int64
	// Claimed, Completed and Released count operations taken, finished
	// (EventDone) and let go (EventReleased).
	Claimed, Completed, Released int64
	// Keyless counts releases of records sealed with a key this engine
	// does not hold (Options.SealKeys), each claim round.
	Keyless int64
	// Hosts holds one entry per host polled, sorted by name.
	Hosts []HostStats
}

// HostStats is one host's share of Stats.
type HostStats struct {
	Host string
	// Queued is the number of held operations on this host, not in flight.
	Queued int
	// Requests, Throttles and Errors count polls to this host and their
	// outcomes.
	Requests, Throttles, Errors int64
	// Rate is the host's current rate limit, in requests per second, and
	// Nominal its configured one.
	Rate, Nominal float64
	// PausedUntil is when the host's last Retry-After pause ends.
	PausedUntil time.Time
	// MeanLatency is the mean duration of a poll to this host.
	MeanLatency time.Duration
}

type counters struct {
	polls, throttles, errors     int64
	claimed, completed, released int64
	keyless                      int64
}

// Stats returns a snapshot of the engine. It is safe to call at any time.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock.Now()
	s := Stats{
		Held: len(e.ops), InFlight: e.inflight,
		Polls: e.counters.polls, Throttles: e.counters.throttles, Errors: e.counters.errors,
		Claimed: e.counters.claimed, Completed: e.counters.completed, Released: e.counters.released,
		Keyless: e.counters.keyless,
	}
	late := now.Add(-e.opts.OverdueAfter)
	for _, en := range e.ops {
		if !en.inflight && en.due.Before(late) {
			s.Overdue++
		}
	}
	for _, h := range e.hosts {
		hs := HostStats{
			Host: h.name, Queued: h.queued(), Requests: h.requests, Throttles: h.throttles, Errors: h.errors,
			Rate: h.lim.rate, Nominal: h.lim.nominal, PausedUntil: h.lim.pausedUntil,
		}
		if h.requests > 0 {
			hs.MeanLatency = h.latency / time.Duration(h.requests)
		}
		s.Hosts = append(s.Hosts, hs)
	}
	slices.SortFunc(s.Hosts, func(a, b HostStats) int { return strings.Compare(a.Host, b.Host) })
	return s
}

// metrics are the engine's OpenTelemetry instruments.
type metrics struct {
	// enabled is false without a MeterProvider: recording then costs
	// nothing, not even the attribute sets the no-op instruments drop.
	enabled   bool
	requests  metric.Int64Counter
	latency   metric.Float64Histogram
	completed metric.Int64Counter
}

var (
	outcomeOK        = attribute.String("outcome", "ok")
	outcomeThrottled = attribute.String("outcome", "throttled")
	outcomeError     = attribute.String("outcome", "error")
)

func newMetrics(mp metric.MeterProvider, e *Engine) (*metrics, error) {
	var met metrics
	met.enabled = mp != nil
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	m := mp.Meter("github.com/lrokit/lrokit/fleet")
	var err error
	if met.requests, err = m.Int64Counter("lrokit.fleet.requests",
		metric.WithDescription("Polls sent, by host and outcome (ok, throttled, error)."), metric.WithUnit("{request}")); err != nil {
		return nil, err
	}
	if met.latency, err = m.Float64Histogram("lrokit.fleet.poll.duration",
		metric.WithDescription("Duration of one poll, by host."), metric.WithUnit("s")); err != nil {
		return nil, err
	}
	if met.completed, err = m.Int64Counter("lrokit.fleet.operations.completed",
		metric.WithDescription("Operations that reached a terminal status, by kind and status."), metric.WithUnit("{operation}")); err != nil {
		return nil, err
	}
	held, err := m.Int64ObservableGauge("lrokit.fleet.operations.held",
		metric.WithDescription("Operations this engine holds."), metric.WithUnit("{operation}"))
	if err != nil {
		return nil, err
	}
	inflight, err := m.Int64ObservableGauge("lrokit.fleet.operations.inflight",
		metric.WithDescription("Polls in progress."), metric.WithUnit("{operation}"))
	if err != nil {
		return nil, err
	}
	overdue, err := m.Int64ObservableGauge("lrokit.fleet.operations.overdue",
		metric.WithDescription("Held operations whose poll is late by more than the overdue threshold."), metric.WithUnit("{operation}"))
	if err != nil {
		return nil, err
	}
	hostRate, err := m.Float64ObservableGauge("lrokit.fleet.host.rate",
		metric.WithDescription("Current adaptive rate limit, by host."), metric.WithUnit("{request}/s"))
	if err != nil {
		return nil, err
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := e.Stats()
		o.ObserveInt64(held, int64(s.Held))
		o.ObserveInt64(inflight, int64(s.InFlight))
		o.ObserveInt64(overdue, int64(s.Overdue))
		for _, h := range s.Hosts {
			o.ObserveFloat64(hostRate, h.Rate, metric.WithAttributes(attribute.String("host", h.Host)))
		}
		return nil
	}, held, inflight, overdue, hostRate)
	if err != nil {
		return nil, err
	}
	return &met, nil
}

// recordPoll records one poll to h.
func (m *metrics) recordPoll(h *host, outcome attribute.KeyValue, latency time.Duration) {
	if !m.enabled {
		return
	}
	ctx := context.Background()
	hostAttr := attribute.String("host", h.name)
	m.requests.Add(ctx, 1, metric.WithAttributes(hostAttr, outcome))
	m.latency.Record(ctx, latency.Seconds(), metric.WithAttributes(hostAttr))
}

package fleet

import (
	"context"
	"log/slog"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// pollWork polls one operation once and saves what it saw.
type pollWork struct {
	sent time.Time // when the scheduler handed it out

	pollAt   time.Time
	obs      poller.Observation
	err      error
	latency  time.Duration
	canceled bool // the engine shut down during the poll; nothing was saved
	save     saveWork
}

func (w *pollWork) run(ctx context.Context, e *Engine) {
	p := w.save.en.op.Poller
	w.pollAt = e.clock.Now()
	w.obs, w.err = p.Poll(ctx)
	w.latency = e.clock.Now().Sub(w.pollAt)
	if w.err != nil && ctx.Err() != nil {
		w.canceled = true
		return
	}
	w.save.pollErr = w.err
	w.save.run(ctx, e)
}

func (w *pollWork) apply(e *Engine, _ *housekeeping, now time.Time) {
	en := w.save.en
	en.inflight = false
	if !w.canceled {
		e.countPoll(en.host, w, now)
	}
	if e.ops[en.rec.Key] != en {
		return // superseded by a new claim of the same operation
	}
	if w.canceled {
		// Shutting down; the stored token is the one before this poll.
		e.schedule(en, now)
		return
	}
	e.saved(&w.save, w, now)
}

func (e *Engine) countPoll(h *host, w *pollWork, now time.Time) {
	h.requests++
	h.latency += w.latency
	e.counters.polls++
	outcome := outcomeOK
	switch {
	case w.err == nil:
		h.lim.succeeded(now)
	case poller.IsThrottled(w.err):
		outcome = outcomeThrottled
		h.throttles++
		e.counters.throttles++
		ra := poller.RetryAfterOf(w.err)
		if h.lim.throttled(now, w.sent, ra) {
			e.log.LogAttrs(context.Background(), slog.LevelWarn, "fleet: host throttled, rate lowered",
				slog.String("host", h.name), slog.Float64("rate", h.lim.rate), slog.Duration("retry_after", ra),
				slog.Time("paused_until", h.lim.pausedUntil))
		}
		e.ready.update(h)
	default:
		outcome = outcomeError
		h.errors++
		e.counters.errors++
	}
	e.met.recordPoll(h, outcome, w.latency)
}

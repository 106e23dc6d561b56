package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// Run drives the engine until ctx ends: it claims operations from the store
// (new ones, and those whose owner's lease lapsed), polls each when its
// poller wants, within its host's rate limit, saves every poll's token and
// observation to the store before scheduling the next, and reports events.
// Restarting an engine on the same store continues every operation from its
// last saved token, without a repeated initial request.
//
// When ctx ends, Run shuts down gracefully: it stops starting polls, lets
// those in flight finish and saves them (up to Options.ShutdownTimeout),
// stores learned durations, and releases its leases so other engines take
// over at once. It then returns nil. It returns an error only for a
// misconfiguration or if it is already running. With Options.ExitWhenDone
// it also returns nil once no unfinished operation is left in the store.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	if e.running {
		e.mu.Unlock()
		return errors.New("fleet: engine is already running")
	}
	e.running = true
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.running = false
		e.mu.Unlock()
	}()

	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	tasks := make(chan work, e.opts.Workers)
	results := make(chan work, e.opts.Workers)
	var wg sync.WaitGroup
	for range e.opts.Workers {
		wg.Go(func() {
			for w := range tasks {
				w.run(workCtx, e)
				results <- w
			}
		})
	}
	defer wg.Wait()
	defer close(tasks)

	if !e.opts.Priors.Disabled {
		docs, err := loadPriors(ctx, e.store, e.opts.Priors.Keep)
		if err != nil {
			e.log.LogAttrs(ctx, slog.LevelWarn, "fleet: cannot load learned durations", slog.String("error", err.Error()))
		}
		e.mu.Lock()
		e.priors.synced(docs, nil)
		e.mu.Unlock()
	}

	now := e.clock.Now()
	hk := &housekeeping{claimAt: now, renewAt: now.Add(e.opts.LeaseTTL / 3), flushAt: now.Add(e.opts.Priors.FlushInterval)}
	e.log.LogAttrs(ctx, slog.LevelInfo, "fleet: engine started", slog.String("owner", e.opts.Owner),
		slog.Int("workers", e.opts.Workers), slog.Int("capacity", e.opts.Capacity))
	for {
		e.mu.Lock()
		now = e.clock.Now()
		running := ctx.Err() == nil
		if running {
			e.dispatch(now, hk, tasks)
		}
		wake := e.nextWake(hk)
		idle := e.inflight == 0
		finished := e.opts.ExitWhenDone && idle && len(e.ops) == 0 && hk.nothingLeft && !e.claimNow
		events := e.takeEvents()
		e.mu.Unlock()
		e.deliver(events)
		if !running || finished {
			break
		}
		select {
		case <-e.kick:
			continue // Add or Wake (perhaps from OnEvent) changed the schedule
		default:
		}

		var timer poller.Timer
		var timerC <-chan time.Time
		if !wake.IsZero() && (!e.opts.Lockstep || idle) {
			timer = e.clock.NewTimer(max(wake.Sub(now), time.Millisecond))
			timerC = timer.C()
		}
		select {
		case w := <-results:
			e.mu.Lock()
			e.apply(w, hk)
			for drained := false; !drained; {
				select {
				case w := <-results:
					e.apply(w, hk)
				default:
					drained = true
				}
			}
			e.mu.Unlock()
		case <-e.kick:
		case <-timerC:
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
	}
	e.shutdown(ctx, results, hk, cancelWork)
	return nil
}

// shutdown lets the tasks in flight finish (canceling them after
// ShutdownTimeout), stores learned durations and releases every lease.
func (e *Engine) shutdown(ctx context.Context, results <-chan work, hk *housekeeping, cancelWork context.CancelFunc) {
	timeout := time.AfterFunc(e.opts.ShutdownTimeout, cancelWork)
	defer timeout.Stop()
	for {
		e.mu.Lock()
		n := e.inflight
		events := e.takeEvents()
		e.mu.Unlock()
		e.deliver(events)
		if n == 0 {
			break
		}
		w := <-results
		e.mu.Lock()
		e.apply(w, hk)
		e.mu.Unlock()
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.opts.ShutdownTimeout)
	defer cancel()
	e.mu.Lock()
	learn := &learnWork{fresh: e.priors.pending()}
	rel := &releaseWork{leases: make(map[string]persist.Lease, len(e.ops))}
	for k, en := range e.ops {
		rel.leases[k] = en.rec.Lease
	}
	e.mu.Unlock()
	if len(learn.fresh) > 0 {
		learn.run(bg, e)
		if learn.err != nil {
			e.log.LogAttrs(bg, slog.LevelWarn, "fleet: cannot store learned durations", slog.String("error", learn.err.Error()))
		}
	}
	rel.run(bg, e)
	e.mu.Lock()
	rel.apply(e, hk, e.clock.Now())
	e.mu.Unlock()
	e.log.LogAttrs(bg, slog.LevelInfo, "fleet: engine stopped", slog.String("owner", e.opts.Owner),
		slog.Int("released", rel.released))
}

func (e *Engine) takeEvents() []Event {
	ev := e.events
	e.events = nil
	return ev
}

func (e *Engine) deliver(events []Event) {
	if e.opts.OnEvent == nil {
		return
	}
	for _, ev := range events {
		e.opts.OnEvent(ev)
	}
}

// dispatch starts the work that is due at now, as long as workers are free.
func (e *Engine) dispatch(now time.Time, hk *housekeeping, tasks chan<- work) {
	e.noticeMisses(now)
	free := e.opts.Workers - e.inflight
	send := func(w work) {
		e.inflight++
		free--
		tasks <- w
	}
	if free > 0 && !hk.claiming && (e.claimNow || !now.Before(hk.claimAt)) {
		hk.claimAt = now.Add(e.opts.ClaimInterval)
		if room := e.opts.Capacity - len(e.ops); room > 0 {
			hk.claiming, e.claimNow = true, false
			send(&claimWork{limit: min(room, e.opts.ClaimBatch), checkLeft: len(e.ops) == 0})
		}
	}
	if free > 0 && !hk.renewing && !now.Before(hk.renewAt) {
		hk.renewAt = now.Add(e.opts.LeaseTTL / 3)
		if len(e.ops) > 0 {
			leases := make(map[string]persist.Lease, len(e.ops))
			for k, en := range e.ops {
				leases[k] = en.rec.Lease
			}
			hk.renewing = true
			send(&renewWork{leases: leases})
		}
	}
	if free > 0 && !hk.flushing && !now.Before(hk.flushAt) {
		hk.flushAt = now.Add(e.opts.Priors.FlushInterval)
		if fresh := e.priors.pending(); len(fresh) > 0 {
			hk.flushing = true
			send(&learnWork{fresh: fresh})
		}
	}
	for free > 0 && len(e.ready) > 0 {
		h := e.ready[0]
		if h.readyAt().After(now) {
			break
		}
		if h.promote(now) {
			e.ready.update(h)
			continue
		}
		en := h.first()
		if !now.Before(en.leaseUntil) {
			h.pop()
			e.ready.update(h)
			e.release(en, fmt.Errorf("fleet: lease on %q lapsed before it could be renewed: %w", en.rec.Key, persist.ErrLeaseLost))
			continue
		}
		if en.deferred {
			// An open hold: decide again, and poll only if it is time.
			if at, again := e.decide(en, now); at.After(now) {
				en.due, en.deferred = at, again
				h.fix(en)
				e.ready.update(h)
				continue
			}
		}
		if wait := h.lim.reserve(now); wait > 0 {
			h.notBefore = now.Add(wait)
			e.ready.update(h)
			continue
		}
		h.pop()
		e.ready.update(h)
		en.inflight, en.wake, en.deferred = true, false, false
		if en.unsaved {
			send(&saveWork{en: en})
		} else {
			send(&pollWork{sent: now, save: saveWork{en: en}})
		}
	}
}

// nextWake is when the scheduler next has something to start; zero when
// only a task's result can give it work (no worker is free).
func (e *Engine) nextWake(hk *housekeeping) time.Time {
	if e.inflight >= e.opts.Workers {
		return time.Time{}
	}
	var wake time.Time
	earliest := func(t time.Time) {
		if wake.IsZero() || t.Before(wake) {
			wake = t
		}
	}
	if !hk.claiming {
		earliest(hk.claimAt)
	}
	if !hk.renewing && len(e.ops) > 0 {
		earliest(hk.renewAt)
	}
	if !hk.flushing {
		earliest(hk.flushAt)
	}
	if len(e.ready) > 0 {
		earliest(e.ready[0].readyAt())
	}
	if at, ok := e.sig.nextMiss(); ok {
		earliest(at)
	}
	return wake
}

// apply takes a finished piece of work into the scheduler's state.
func (e *Engine) apply(w work, hk *housekeeping) {
	e.inflight--
	w.apply(e, hk, e.clock.Now())
}

// unqueue takes en out of its host's queue.
func (e *Engine) unqueue(en *entry) {
	if en.host != nil && en.idx >= 0 {
		en.host.remove(en)
		e.ready.update(en.host)
	}
}

func (e *Engine) hostFor(name string, now time.Time) *host {
	h := e.hosts[name]
	if h == nil {
		h = &host{name: name, lim: newHostLimiter(e.opts.Limits, name, now), idx: -1}
		e.hosts[name] = h
	}
	return h
}

func (e *Engine) event(kind EventKind, en *entry, now time.Time, err error) Event {
	p := en.op.Poller
	return Event{
		Kind: kind, Key: en.rec.Key, Host: en.op.Host, OpKind: en.op.Kind, At: now,
		Obs: p.Last(), Err: err, Polls: p.Polls(), Elapsed: now.Sub(p.Created()),
	}
}

// clip cuts s to at most n bytes of valid UTF-8.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

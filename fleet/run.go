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

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

type taskKind uint8

const (
	taskPoll taskKind = iota + 1
	taskClaim
	taskRenew
	taskFlush
)

// task is one unit of work for the pool: a poll and its save, a claim, a
// round of lease renewals, or a flush of learned durations.
type task struct {
	kind taskKind
	en   *entry
	sent time.Time
	// claim
	limit     int
	checkLeft bool
	// renew
	leases map[string]persist.Lease
	// flush
	fresh map[string][]float64
}

type result struct {
	task
	// poll
	polled   bool
	pollAt   time.Time
	obs      poller.Observation
	err      error
	latency  time.Duration
	canceled bool
	gaveUp   bool
	rec      persist.Record
	saveErr  error
	// claim
	claimed  []*entry
	rejected []rejection
	left     int
	// renew
	renewed map[string]time.Time
	lost    map[string]error
	// flush
	docs map[string][]float64
	// claim, renew, flush
	taskErr error
}

type rejection struct {
	key string
	err error
}

// housekeeping is the scheduler's own timetable.
type housekeeping struct {
	claimAt, renewAt, flushAt    time.Time
	claiming, renewing, flushing bool
	nothingLeft                  bool
}

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
	tasks := make(chan task, e.opts.Workers)
	results := make(chan result, e.opts.Workers)
	var wg sync.WaitGroup
	for range e.opts.Workers {
		wg.Go(func() {
			for t := range tasks {
				results <- e.runTask(workCtx, t)
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
		case r := <-results:
			e.mu.Lock()
			e.apply(r, hk)
			for drained := false; !drained; {
				select {
				case r := <-results:
					e.apply(r, hk)
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
func (e *Engine) shutdown(ctx context.Context, results <-chan result, hk *housekeeping, cancelWork context.CancelFunc) {
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
		r := <-results
		e.mu.Lock()
		e.apply(r, hk)
		e.mu.Unlock()
	}
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.opts.ShutdownTimeout)
	defer cancel()
	e.mu.Lock()
	fresh := e.priors.pending()
	leases := make(map[string]persist.Lease, len(e.ops))
	for k, en := range e.ops {
		leases[k] = en.rec.Lease
	}
	e.mu.Unlock()
	if len(fresh) > 0 {
		if _, err := flushPriors(bg, e.store, fresh, e.opts.Priors.Keep); err != nil {
			e.log.LogAttrs(bg, slog.LevelWarn, "fleet: cannot store learned durations", slog.String("error", err.Error()))
		}
	}
	released := 0
	for k, l := range leases {
		if err := e.store.Release(bg, k, l); err == nil {
			released++
		}
	}
	e.mu.Lock()
	for _, en := range e.ops {
		e.unqueue(en)
	}
	clear(e.ops)
	e.mu.Unlock()
	e.log.LogAttrs(bg, slog.LevelInfo, "fleet: engine stopped", slog.String("owner", e.opts.Owner),
		slog.Int("released", released))
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
func (e *Engine) dispatch(now time.Time, hk *housekeeping, tasks chan<- task) {
	free := e.opts.Workers - e.inflight
	send := func(t task) {
		e.inflight++
		free--
		tasks <- t
	}
	if free > 0 && !hk.claiming && (e.claimNow || !now.Before(hk.claimAt)) {
		hk.claimAt = now.Add(e.opts.ClaimInterval)
		if room := e.opts.Capacity - len(e.ops); room > 0 {
			hk.claiming, e.claimNow = true, false
			send(task{kind: taskClaim, limit: min(room, e.opts.ClaimBatch), checkLeft: len(e.ops) == 0})
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
			send(task{kind: taskRenew, leases: leases})
		}
	}
	if free > 0 && !hk.flushing && !now.Before(hk.flushAt) {
		hk.flushAt = now.Add(e.opts.Priors.FlushInterval)
		if fresh := e.priors.pending(); len(fresh) > 0 {
			hk.flushing = true
			send(task{kind: taskFlush, fresh: fresh})
		}
	}
	for free > 0 && len(e.ready) > 0 {
		h := e.ready[0]
		if h.readyAt().After(now) {
			break
		}
		en := h.queue[0]
		if !now.Before(en.leaseUntil) {
			h.pop()
			e.ready.update(h)
			e.release(en, fmt.Errorf("fleet: lease on %q lapsed before it could be renewed: %w", en.rec.Key, persist.ErrLeaseLost))
			continue
		}
		if wait := h.lim.reserve(now); wait > 0 {
			h.notBefore = now.Add(wait)
			e.ready.update(h)
			continue
		}
		h.pop()
		e.ready.update(h)
		en.inflight, en.wake = true, false
		send(task{kind: taskPoll, en: en, sent: now})
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
	return wake
}

func (e *Engine) runTask(ctx context.Context, t task) result {
	switch t.kind {
	case taskPoll:
		return e.runPoll(ctx, t)
	case taskClaim:
		return e.runClaim(ctx, t)
	case taskRenew:
		return e.runRenew(ctx, t)
	default:
		r := result{task: t}
		r.docs, r.taskErr = flushPriors(ctx, e.store, t.fresh, e.opts.Priors.Keep)
		return r
	}
}

// runPoll polls once (unless the last poll's state is still unsaved) and
// saves the token and observation, fenced by the lease.
func (e *Engine) runPoll(ctx context.Context, t task) result {
	r := result{task: t}
	en := t.en
	p := en.op.Poller
	key := en.rec.Key
	if !en.unsaved {
		r.pollAt = e.clock.Now()
		r.obs, r.err = p.Poll(ctx)
		r.latency = e.clock.Now().Sub(r.pollAt)
		r.polled = true
		if r.err != nil && ctx.Err() != nil {
			r.canceled = true
			return r
		}
	}
	rec := en.rec
	tok, err := p.ResumeToken()
	if err != nil {
		r.saveErr = fmt.Errorf("fleet: resume token of %q: %w", key, err)
		return r
	}
	rec.Token = tok
	if last := p.Last(); last.Status != "" {
		rec.Status, rec.Detail = last.Status, clip(last.Detail, persist.MaxDetailLen)
	}
	var pe *poller.PollError
	if errors.As(r.err, &pe) && pe.Final {
		r.gaveUp = true
		rec.Status, rec.Detail = poller.StatusFailed, clip("fleet gave up: "+pe.Error(), persist.MaxDetailLen)
	}
	out, err := e.store.Put(ctx, rec)
	if err != nil {
		r.saveErr = err
		if errors.Is(err, persist.ErrConflict) {
			// Someone replaced the record (a new token under the same key):
			// let it be claimed afresh.
			_ = e.store.Release(ctx, key, rec.Lease)
		}
		return r
	}
	// A terminal record is never claimed again: its lease needs no release
	// (one round trip less per operation) and simply lapses.
	out.Token = ""
	r.rec = out
	return r
}

func (e *Engine) runClaim(ctx context.Context, t task) result {
	r := result{task: t, left: -1}
	recs, err := e.store.Claim(ctx, e.opts.Owner, e.opts.LeaseTTL, t.limit)
	r.taskErr = err
	for _, rec := range recs {
		if strings.HasPrefix(rec.Key, ReservedPrefix) {
			_ = e.store.Release(ctx, rec.Key, rec.Lease)
			continue
		}
		op, err := e.resolveRecord(ctx, rec)
		if err != nil {
			r.rejected = append(r.rejected, rejection{key: rec.Key, err: err})
			// A record sealed with a key this engine lacks (not given, or
			// rotated out here but not everywhere) may be sound: release it
			// for an engine holding the key, never fail it.
			if errors.Is(err, poller.ErrInvalidToken) && !errors.Is(err, poller.ErrSealKeyUnavailable) {
				bad := rec
				bad.Status, bad.Detail = poller.StatusFailed, clip("fleet: token cannot be resumed: "+err.Error(), persist.MaxDetailLen)
				_, _ = e.store.Put(ctx, bad)
			}
			_ = e.store.Release(ctx, rec.Key, rec.Lease)
			continue
		}
		rec.Token = ""
		r.claimed = append(r.claimed, &entry{rec: rec, op: op, idx: -1, leaseUntil: rec.Lease.Expires})
	}
	if len(recs) == 0 && err == nil && t.checkLeft {
		r.left, r.taskErr = countUnfinished(ctx, e.store)
	}
	return r
}

func (e *Engine) resolveRecord(ctx context.Context, rec persist.Record) (Op, error) {
	opts := &poller.Options{
		Policy: e.opts.Policy, Clock: e.clock, Logger: e.log,
		PollTimeout: e.opts.PollTimeout, SealKey: e.opts.SealKey, SealKeys: e.opts.SealKeys,
	}
	op, err := e.resolve(ctx, rec.Token, opts)
	if err != nil {
		return Op{}, fmt.Errorf("fleet: resume %q: %w", rec.Key, err)
	}
	if op.Poller == nil {
		return Op{}, fmt.Errorf("fleet: resume %q: the resolver returned no poller", rec.Key)
	}
	return op, nil
}

// countUnfinished counts the operations in s that are not terminal.
func countUnfinished(ctx context.Context, s persist.Store) (int, error) {
	recs, err := List(ctx, s, persist.Filter{})
	n := 0
	for _, r := range recs {
		if !r.Status.Terminal() {
			n++
		}
	}
	return n, err
}

// renewFanOut is how many renewals a round runs at once when the store
// renews one lease per call.
const renewFanOut = 8

// renewBatchSize caps the leases one persist.BatchRenewer call carries, so
// that one statement stays small however many operations the engine holds.
const renewBatchSize = 1000

// runRenew renews every lease in t: with one call per renewBatchSize leases
// when the store is a persist.BatchRenewer, else with one Renew per lease.
func (e *Engine) runRenew(ctx context.Context, t task) result {
	if br, ok := e.store.(persist.BatchRenewer); ok {
		return e.runRenewBatch(ctx, t, br)
	}
	r := result{task: t, renewed: map[string]time.Time{}, lost: map[string]error{}}
	keys := make(chan string)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range min(renewFanOut, len(t.leases)) {
		wg.Go(func() {
			for key := range keys {
				nl, err := e.store.Renew(ctx, key, t.leases[key], e.opts.LeaseTTL)
				mu.Lock()
				switch {
				case err == nil:
					r.renewed[key] = nl.Expires
				case errors.Is(err, persist.ErrLeaseLost) || errors.Is(err, persist.ErrNotFound):
					r.lost[key] = err
				default:
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		})
	}
	for key := range t.leases {
		if ctx.Err() != nil {
			break
		}
		keys <- key
	}
	close(keys)
	wg.Wait()
	if len(errs) > 0 {
		r.taskErr = fmt.Errorf("fleet: %d lease renewals failed, first: %w", len(errs), errs[0])
	}
	return r
}

// runRenewBatch renews t's leases through br. A lease br does not return
// is lost, as when Renew fails with persist.ErrLeaseLost.
func (e *Engine) runRenewBatch(ctx context.Context, t task, br persist.BatchRenewer) result {
	r := result{task: t, renewed: map[string]time.Time{}, lost: map[string]error{}}
	var errs []error
	batch := make(map[string]persist.Lease, min(renewBatchSize, len(t.leases)))
	renew := func() {
		got, err := br.RenewBatch(ctx, batch, e.opts.LeaseTTL)
		for key, l := range got {
			if _, asked := batch[key]; asked {
				r.renewed[key] = l.Expires
			}
		}
		if err != nil {
			errs = append(errs, err) // the leases not renewed are retried next round
		} else {
			for key, l := range batch {
				if _, ok := got[key]; !ok {
					r.lost[key] = fmt.Errorf("fleet: lease on %q (epoch %d) was not renewed: it lapsed or another engine claimed it: %w",
						key, l.Epoch, persist.ErrLeaseLost)
				}
			}
		}
		clear(batch)
	}
	for key, l := range t.leases {
		if ctx.Err() != nil {
			break
		}
		batch[key] = l
		if len(batch) == renewBatchSize {
			renew()
		}
	}
	if len(batch) > 0 && ctx.Err() == nil {
		renew()
	}
	if len(errs) > 0 {
		r.taskErr = fmt.Errorf("fleet: %d lease renewal batches failed, first: %w", len(errs), errs[0])
	}
	return r
}

// apply takes a task's result into the scheduler's state.
func (e *Engine) apply(r result, hk *housekeeping) {
	e.inflight--
	now := e.clock.Now()
	switch r.kind {
	case taskPoll:
		e.applyPoll(r, now)
	case taskClaim:
		hk.claiming = false
		e.applyClaim(r, now, hk)
	case taskRenew:
		hk.renewing = false
		if r.taskErr != nil {
			e.log.LogAttrs(context.Background(), slog.LevelWarn, "fleet: lease renewal", slog.String("error", r.taskErr.Error()))
		}
		for key, until := range r.renewed {
			if en := e.ops[key]; en != nil && en.rec.Lease.Epoch == r.leases[key].Epoch {
				en.leaseUntil = until
			}
		}
		for key, err := range r.lost {
			en := e.ops[key]
			if en == nil || en.rec.Lease.Epoch != r.leases[key].Epoch {
				continue
			}
			if en.inflight {
				en.lost = true
				continue
			}
			e.unqueue(en)
			e.release(en, err)
		}
	case taskFlush:
		hk.flushing = false
		if r.taskErr != nil {
			e.log.LogAttrs(context.Background(), slog.LevelWarn, "fleet: cannot store learned durations", slog.String("error", r.taskErr.Error()))
		}
		e.priors.synced(r.docs, r.fresh)
	}
}

func (e *Engine) applyClaim(r result, now time.Time, hk *housekeeping) {
	ctx := context.Background()
	if r.taskErr != nil {
		e.log.LogAttrs(ctx, slog.LevelWarn, "fleet: claim", slog.String("error", r.taskErr.Error()))
	}
	hk.nothingLeft = len(r.claimed) == 0 && len(r.rejected) == 0 && r.left == 0
	if len(r.claimed) == e.opts.ClaimBatch {
		e.claimNow = true // more may be waiting
	}
	for _, rj := range r.rejected {
		switch {
		case !errors.Is(rj.err, poller.ErrSealKeyUnavailable):
			e.log.LogAttrs(ctx, slog.LevelWarn, "fleet: cannot resume operation", slog.String("key", rj.key), slog.String("error", rj.err.Error()))
		case !e.keyless[rj.key]:
			// Reclaimed every round until an engine with the key takes
			// it: warn once per key, count every time.
			e.keyless[rj.key] = true
			e.log.LogAttrs(ctx, slog.LevelWarn, "fleet: operation released: sealed with a key this engine does not hold (set the current key, or keep the old one in SealKeys)",
				slog.String("key", rj.key), slog.String("error", rj.err.Error()))
		}
		if errors.Is(rj.err, poller.ErrSealKeyUnavailable) {
			e.counters.keyless++
		}
		e.counters.released++
		e.events = append(e.events, Event{Kind: EventReleased, Key: rj.key, At: now, Err: rj.err})
	}
	for _, en := range r.claimed {
		key := en.rec.Key
		if old := e.ops[key]; old != nil {
			// This engine's own lease lapsed and it claimed the operation
			// again: the new lease supersedes the old entry.
			if old.inflight {
				old.lost = true
			} else {
				e.unqueue(old)
			}
		}
		e.ops[key] = en
		en.host = e.hostFor(en.op.Host, now)
		p := en.op.Poller
		en.due = p.NextPollAt()
		en.prevPoll = now
		hold, sample := e.priors.expected(en.op.Kind, key)
		if p.Last().Hinted {
			// The server chose the next poll (Retry-After): a learned
			// duration does not override it, and the operation is an
			// unbiased sample.
			hold, sample = 0, !e.priors.opts.Disabled && en.op.Kind != ""
		}
		en.sample = sample
		if p.Polls() == 0 {
			en.prevPoll = p.Created()
			if hold > 0 {
				if t := p.Created().Add(hold); t.After(en.due) {
					en.due = t
				}
			}
		}
		en.host.push(en)
		e.ready.update(en.host)
		e.counters.claimed++
		e.events = append(e.events, e.event(EventClaimed, en, now, nil))
	}
	if len(r.claimed) > 0 {
		e.log.LogAttrs(ctx, slog.LevelInfo, "fleet: claimed operations", slog.String("owner", e.opts.Owner),
			slog.Int("claimed", len(r.claimed)), slog.Int("held", len(e.ops)))
	}
}

func (e *Engine) applyPoll(r result, now time.Time) {
	en := r.en
	en.inflight = false
	key := en.rec.Key
	h := en.host
	if r.polled && !r.canceled {
		e.countPoll(h, r, now)
	}
	if e.ops[key] != en {
		return // superseded by a new claim of the same operation
	}
	ctx := context.Background()
	switch {
	case r.canceled:
		// Shutting down; the stored token is the one before this poll.
		e.requeue(en, now)
		return
	case en.lost:
		e.release(en, fmt.Errorf("fleet: lease on %q lost: %w", key, persist.ErrLeaseLost))
		return
	case r.saveErr != nil && (errors.Is(r.saveErr, persist.ErrLeaseLost) || errors.Is(r.saveErr, persist.ErrConflict) || errors.Is(r.saveErr, persist.ErrNotFound)):
		e.release(en, r.saveErr)
		return
	case r.saveErr != nil:
		// The store is unreachable: keep the state, save it before polling again.
		en.unsaved = true
		en.saveFails++
		backoff := min(time.Second<<min(en.saveFails-1, 6), time.Minute)
		e.log.LogAttrs(ctx, slog.LevelWarn, "fleet: cannot save operation", slog.String("key", key),
			slog.Int("attempt", en.saveFails), slog.Duration("retry_in", backoff), slog.String("error", r.saveErr.Error()))
		en.due = now.Add(backoff)
		en.host.push(en)
		e.ready.update(en.host)
		return
	}
	en.unsaved, en.saveFails = false, 0
	en.rec = r.rec
	p := en.op.Poller
	if en.rec.Status.Terminal() {
		last := p.Last()
		var err error
		switch {
		case r.gaveUp:
			err = r.err
			e.log.LogAttrs(ctx, slog.LevelError, "fleet: gave up on operation", slog.String("key", key), slog.String("error", r.err.Error()))
		case last.Status != poller.StatusSucceeded:
			err = last.Err
		case en.sample && r.polled:
			mid := en.prevPoll.Add(r.pollAt.Sub(en.prevPoll) / 2)
			e.priors.observe(en.op.Kind, mid.Sub(p.Created()))
		}
		delete(e.ops, key)
		e.counters.completed++
		e.met.completed.Add(ctx, 1, metric.WithAttributes(attribute.String("kind", en.op.Kind), attribute.String("status", string(en.rec.Status))))
		e.events = append(e.events, e.event(EventDone, en, now, err))
		if e.opts.ExitWhenDone && len(e.ops) == 0 {
			e.claimNow = true
		}
		return
	}
	if r.polled {
		e.events = append(e.events, e.event(EventPolled, en, now, r.err))
		en.prevPoll = r.pollAt
	}
	e.requeue(en, now)
}

func (e *Engine) countPoll(h *host, r result, now time.Time) {
	h.requests++
	h.latency += r.latency
	e.counters.polls++
	outcome := outcomeOK
	switch {
	case r.err == nil:
		h.lim.succeeded(now)
	case poller.IsThrottled(r.err):
		outcome = outcomeThrottled
		h.throttles++
		e.counters.throttles++
		ra := poller.RetryAfterOf(r.err)
		if h.lim.throttled(now, r.sent, ra) {
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
	e.met.recordPoll(h, outcome, r.latency)
}

// requeue queues en for its next poll.
func (e *Engine) requeue(en *entry, now time.Time) {
	en.due = en.op.Poller.NextPollAt()
	if en.wake {
		en.due, en.wake = now, false
	}
	en.host.push(en)
	e.ready.update(en.host)
}

// unqueue takes en out of its host's queue.
func (e *Engine) unqueue(en *entry) {
	if en.host != nil && en.idx >= 0 {
		en.host.remove(en)
		e.ready.update(en.host)
	}
}

// release forgets en, which is no longer this engine's, and reports it.
func (e *Engine) release(en *entry, err error) {
	key := en.rec.Key
	if e.ops[key] == en {
		delete(e.ops, key)
	}
	e.counters.released++
	e.log.LogAttrs(context.Background(), slog.LevelWarn, "fleet: operation released", slog.String("key", key), slog.String("error", err.Error()))
	e.events = append(e.events, e.event(EventReleased, en, e.clock.Now(), err))
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

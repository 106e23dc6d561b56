package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// saveWork stores an operation's token and last observation, fenced by its
// lease. A poll saves through it; on its own it saves a state that an
// unreachable store refused earlier, before the operation is polled again.
type saveWork struct {
	en      *entry
	pollErr error // the poll's error, when a poll preceded the save

	rec     heldRecord // as stored
	gaveUp  bool
	err     error
	digest  uint64 // of the token stored, when digested
	skipped bool   // nothing but the schedule changed: nothing was written
}

// tokenSource is a Poller whose token can be compared before it is encoded
// (*poller.Poller[T] is one).
type tokenSource interface {
	Token() (poller.Token, error)
	AppendToken(dst []byte, t poller.Token) ([]byte, error)
}

// tokenBufs are the workers' encoding buffers.
var tokenBufs = sync.Pool{New: func() any { return new([]byte) }}

// token returns the operation's resume token, or skip when it differs from
// the one stored only in its schedule bookkeeping (poller.Token.Digest): a
// poll that saw nothing new. Skipping keeps crash safety (persist.Tracker's
// OnPoll explains why): the engine that claims the record next polls it at
// once. A lost lease is noticed by the renewals, not by saves.
func (w *saveWork) token(p Poller) (tok string, skip bool, err error) {
	ts, ok := p.(tokenSource)
	if !ok {
		tok, err = p.ResumeToken()
		return tok, false, err
	}
	pt, err := ts.Token()
	if err != nil {
		return "", false, err
	}
	en := w.en
	w.digest = pt.Digest()
	if w.pollErr == nil && !en.unsaved && en.digested && w.digest == en.digest {
		return "", true, nil
	}
	buf := tokenBufs.Get().(*[]byte)
	defer tokenBufs.Put(buf)
	if *buf, err = ts.AppendToken((*buf)[:0], pt); err != nil {
		return "", false, err
	}
	return string(*buf), false, nil
}

func (w *saveWork) run(ctx context.Context, e *Engine) {
	en := w.en
	p := en.op.Poller
	key := en.rec.Key
	tok, skip, err := w.token(p)
	if err != nil {
		w.err = fmt.Errorf("fleet: resume token of %q: %w", key, err)
		return
	}
	if skip {
		w.rec, w.skipped = en.rec, true
		return
	}
	rec := en.rec.record(tok)
	if last := p.Last(); last.Status != "" {
		rec.Status, rec.Detail = last.Status, clip(last.Detail, persist.MaxDetailLen)
	}
	var pe *poller.PollError
	if errors.As(w.pollErr, &pe) && pe.Final {
		w.gaveUp = true
		rec.Status, rec.Detail = poller.StatusFailed, clip("fleet gave up: "+pe.Error(), persist.MaxDetailLen)
	}
	out, err := e.store.Put(ctx, rec)
	if err != nil {
		w.err = err
		if errors.Is(err, persist.ErrConflict) {
			// Someone replaced the record (a new token under the same key):
			// let it be claimed afresh.
			_ = e.store.Release(ctx, key, rec.Lease)
		}
		return
	}
	// A terminal record is never claimed again: its lease needs no release
	// (one round trip less per operation) and simply lapses.
	w.rec = heldOf(out)
}

func (w *saveWork) apply(e *Engine, _ *housekeeping, now time.Time) {
	w.en.inflight = false
	if e.ops[w.en.rec.Key] != w.en {
		return // superseded by a new claim of the same operation
	}
	e.saved(w, nil, now)
}

// saved takes a save's outcome (after poll p, nil when none) into the
// scheduler's state: the operation is done, released, or queued again.
func (e *Engine) saved(w *saveWork, p *pollWork, now time.Time) {
	en := w.en
	key := en.rec.Key
	ctx := context.Background()
	switch {
	case en.lost:
		e.release(en, fmt.Errorf("fleet: lease on %q lost: %w", key, persist.ErrLeaseLost))
		return
	case w.err != nil && (errors.Is(w.err, persist.ErrLeaseLost) || errors.Is(w.err, persist.ErrConflict) || errors.Is(w.err, persist.ErrNotFound)):
		e.release(en, w.err)
		return
	case w.err != nil:
		// The store is unreachable: keep the state, save it before polling again.
		en.unsaved = true
		en.saveFails++
		backoff := min(time.Second<<min(en.saveFails-1, 6), time.Minute)
		e.log.LogAttrs(ctx, slog.LevelWarn, "fleet: cannot save operation", slog.String("key", key),
			slog.Int("attempt", en.saveFails), slog.Duration("retry_in", backoff), slog.String("error", w.err.Error()))
		en.due, en.deferred = now.Add(backoff), false
		en.host.push(en)
		e.ready.update(en.host)
		return
	}
	en.unsaved, en.saveFails = false, 0
	en.rec = w.rec
	_, en.digested = en.op.Poller.(tokenSource)
	en.digest = w.digest
	if en.rec.Status.Terminal() {
		e.finished(en, w, p, now)
		return
	}
	if p != nil {
		e.events = append(e.events, e.event(EventPolled, en, now, p.err))
		en.prevPoll = p.pollAt
	}
	e.schedule(en, now)
}

// finished forgets a terminal operation, learns its duration when it is a
// sample, and reports it.
func (e *Engine) finished(en *entry, w *saveWork, p *pollWork, now time.Time) {
	ctx := context.Background()
	key := en.rec.Key
	last := en.op.Poller.Last()
	var err error
	switch {
	case w.gaveUp:
		err = w.pollErr
		e.log.LogAttrs(ctx, slog.LevelError, "fleet: gave up on operation", slog.String("key", key), slog.String("error", err.Error()))
	case last.Status != poller.StatusSucceeded:
		err = last.Err
	case en.sample && p != nil:
		mid := en.prevPoll.Add(p.pollAt.Sub(en.prevPoll) / 2)
		if e.priors.observe(en.op.Kind, mid.Sub(en.op.Poller.Created())) {
			e.rehold(en.op.Kind, now)
		}
		e.rerank()
	}
	e.priors.unwatch(en)
	e.sig.finished(en, now)
	e.sig.remove(en)
	delete(e.ops, key)
	e.counters.completed++
	e.met.completed.Add(ctx, 1, metric.WithAttributes(attribute.String("kind", en.op.Kind), attribute.String("status", string(en.rec.Status))))
	e.events = append(e.events, e.event(EventDone, en, now, err))
	if e.opts.ExitWhenDone && len(e.ops) == 0 {
		e.claimNow = true
	}
}

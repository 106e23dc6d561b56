package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// claimWork takes up to limit operations from the store and resumes them.
type claimWork struct {
	limit     int
	checkLeft bool // count the unfinished operations when none is claimable

	claimed  []*entry
	rejected []rejection
	left     int // unfinished operations in the store; -1 when not counted
	err      error
}

type rejection struct {
	key string
	err error
}

func (w *claimWork) run(ctx context.Context, e *Engine) {
	w.left = -1
	recs, err := e.store.Claim(ctx, e.opts.Owner, e.opts.LeaseTTL, w.limit)
	w.err = err
	skipped := 0
	for _, rec := range recs {
		// An intent is a begin that never stored its token: only that
		// begin, run again, can tell whether its operation exists.
		if strings.HasPrefix(rec.Key, ReservedPrefix) || persist.IsIntent(rec.Token) {
			_ = e.store.Release(ctx, rec.Key, rec.Lease)
			skipped++
			continue
		}
		op, err := e.resolveRecord(ctx, rec)
		if err != nil {
			w.rejected = append(w.rejected, rejection{key: rec.Key, err: err})
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
		match := matchKeysOf(op.Match)
		match = append(match, tokenMatchKeys(rec.Token, e.opts.SealKey)...)
		rec.Token = ""
		w.claimed = append(w.claimed, &entry{rec: heldOf(rec), op: heldOp{Poller: op.Poller, Host: op.Host, Kind: op.Kind}, idx: -1, leaseUntil: rec.Lease.Expires, match: hashKeys(match)})
	}
	if len(recs) == skipped && err == nil && w.checkLeft {
		w.left, w.err = countUnfinished(ctx, e.store)
	}
}

func (w *claimWork) apply(e *Engine, hk *housekeeping, now time.Time) {
	hk.claiming = false
	ctx := context.Background()
	if w.err != nil {
		e.log.LogAttrs(ctx, slog.LevelWarn, "fleet: claim", slog.String("error", w.err.Error()))
	}
	hk.nothingLeft = len(w.claimed) == 0 && len(w.rejected) == 0 && w.left == 0
	if len(w.claimed) == e.opts.ClaimBatch {
		e.claimNow = true // more may be waiting
	}
	for _, rj := range w.rejected {
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
	for _, en := range w.claimed {
		key := en.rec.Key
		if old := e.ops[key]; old != nil {
			// This engine's own lease lapsed and it claimed the operation
			// again: the new lease supersedes the old entry.
			if old.inflight {
				old.lost = true
			} else {
				e.unqueue(old)
			}
			e.priors.unwatch(old)
			e.sig.remove(old)
		}
		e.ops[key] = en
		e.sig.add(en)
		en.host = e.hostFor(en.op.Host, now)
		p := en.op.Poller
		en.prevPoll = now
		if p.Polls() == 0 {
			en.prevPoll = p.Created()
		}
		// A server's Retry-After makes the operation an unbiased sample:
		// no learned hold applies to it.
		en.sample = e.priors.sampled(en.op.Kind, key) || (p.Last().Hinted && !e.priors.opts.Disabled && en.op.Kind != "")
		e.priors.watch(en)
		e.schedule(en, now)
		e.counters.claimed++
		e.events = append(e.events, e.event(EventClaimed, en, now, nil))
	}
	if len(w.claimed) > 0 {
		e.log.LogAttrs(ctx, slog.LevelInfo, "fleet: claimed operations", slog.String("owner", e.opts.Owner),
			slog.Int("claimed", len(w.claimed)), slog.Int("held", len(e.ops)))
	}
}

func (e *Engine) resolveRecord(ctx context.Context, rec persist.Record) (Op, error) {
	opts := &poller.Options{
		Policy: e.opts.Policy, Clock: e.clock, Logger: e.log,
		PollTimeout: e.opts.PollTimeout, SealKey: e.opts.SealKey, SealKeys: e.opts.SealKeys, TracerProvider: e.opts.TracerProvider,
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

// countUnfinished counts the operations in s that are not terminal, intents
// aside (no worker can finish them).
func countUnfinished(ctx context.Context, s persist.Store) (int, error) {
	recs, err := List(ctx, s, persist.Filter{})
	n := 0
	for _, r := range recs {
		if !r.Status.Terminal() && !persist.IsIntent(r.Token) {
			n++
		}
	}
	return n, err
}

package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lrokit/lrokit/persist"
)

// renewFanOut is how many renewals a round runs at once when the store
// renews one lease per call.
const renewFanOut = 8

// renewBatchSize caps the leases one persist.BatchRenewer call carries, so
// that one statement stays small however many operations the engine holds.
const renewBatchSize = 1000

// renewWork renews every lease the engine holds: with one call per
// renewBatchSize leases when the store is a persist.BatchRenewer, else with
// one Renew per lease.
type renewWork struct {
	leases map[string]persist.Lease

	renewed map[string]time.Time
	lost    map[string]error
	err     error
}

func (w *renewWork) run(ctx context.Context, e *Engine) {
	w.renewed, w.lost = map[string]time.Time{}, map[string]error{}
	if br, ok := e.store.(persist.BatchRenewer); ok {
		w.runBatch(ctx, e, br)
		return
	}
	keys := make(chan string)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range min(renewFanOut, len(w.leases)) {
		wg.Go(func() {
			for key := range keys {
				nl, err := e.store.Renew(ctx, key, w.leases[key], e.opts.LeaseTTL)
				mu.Lock()
				switch {
				case err == nil:
					w.renewed[key] = nl.Expires
				case errors.Is(err, persist.ErrLeaseLost) || errors.Is(err, persist.ErrNotFound):
					w.lost[key] = err
				default:
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		})
	}
	for key := range w.leases {
		if ctx.Err() != nil {
			break
		}
		keys <- key
	}
	close(keys)
	wg.Wait()
	if len(errs) > 0 {
		w.err = fmt.Errorf("fleet: %d lease renewals failed, first: %w", len(errs), errs[0])
	}
}

// runBatch renews through br. A lease br does not return is lost, as when
// Renew fails with persist.ErrLeaseLost.
func (w *renewWork) runBatch(ctx context.Context, e *Engine, br persist.BatchRenewer) {
	var errs []error
	batch := make(map[string]persist.Lease, min(renewBatchSize, len(w.leases)))
	renew := func() {
		got, err := br.RenewBatch(ctx, batch, e.opts.LeaseTTL)
		for key, l := range got {
			if _, asked := batch[key]; asked {
				w.renewed[key] = l.Expires
			}
		}
		if err != nil {
			errs = append(errs, err) // the leases not renewed are retried next round
		} else {
			for key, l := range batch {
				if _, ok := got[key]; !ok {
					w.lost[key] = fmt.Errorf("fleet: lease on %q (epoch %d) was not renewed: it lapsed or another engine claimed it: %w",
						key, l.Epoch, persist.ErrLeaseLost)
				}
			}
		}
		clear(batch)
	}
	for key, l := range w.leases {
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
		w.err = fmt.Errorf("fleet: %d lease renewal batches failed, first: %w", len(errs), errs[0])
	}
}

func (w *renewWork) apply(e *Engine, hk *housekeeping, _ time.Time) {
	hk.renewing = false
	if w.err != nil {
		e.log.LogAttrs(context.Background(), slog.LevelWarn, "fleet: lease renewal", slog.String("error", w.err.Error()))
	}
	for key, until := range w.renewed {
		if en := e.ops[key]; en != nil && en.rec.Lease.Epoch == w.leases[key].Epoch {
			en.leaseUntil = until
		}
	}
	for key, err := range w.lost {
		en := e.ops[key]
		if en == nil || en.rec.Lease.Epoch != w.leases[key].Epoch {
			continue
		}
		if en.inflight {
			en.lost = true
			continue
		}
		e.unqueue(en)
		e.release(en, err)
	}
}

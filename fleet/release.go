package fleet

import (
	"context"
	"log/slog"
	"time"

	"github.com/lrokit/lrokit/persist"
)

// releaseWork gives back every lease the engine holds when it stops, so
// other engines take the operations over at once instead of after the ttl.
type releaseWork struct {
	leases map[string]persist.Lease

	released int
}

func (w *releaseWork) run(ctx context.Context, e *Engine) {
	for k, l := range w.leases {
		if err := e.store.Release(ctx, k, l); err == nil {
			w.released++
		}
	}
}

func (w *releaseWork) apply(e *Engine, _ *housekeeping, _ time.Time) {
	for _, en := range e.ops {
		e.unqueue(en)
		e.priors.unwatch(en)
		e.sig.remove(en)
	}
	clear(e.ops)
}

// release forgets en, which is no longer this engine's, and reports it.
func (e *Engine) release(en *entry, err error) {
	key := en.rec.Key
	if e.ops[key] == en {
		delete(e.ops, key)
	}
	e.priors.unwatch(en)
	e.sig.remove(en)
	e.counters.released++
	e.log.LogAttrs(context.Background(), slog.LevelWarn, "fleet: operation released", slog.String("key", key), slog.String("error", err.Error()))
	e.events = append(e.events, e.event(EventReleased, en, e.clock.Now(), err))
}

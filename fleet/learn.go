package fleet

import (
	"context"
	"log/slog"
	"time"
)

// learnWork merges the durations learned since the last flush into the
// store, where other engines and later runs read them.
type learnWork struct {
	fresh map[string][]float64

	docs map[string][]float64
	err  error
}

func (w *learnWork) run(ctx context.Context, e *Engine) {
	w.docs, w.err = flushPriors(ctx, e.store, w.fresh, e.opts.Priors.Keep)
}

func (w *learnWork) apply(e *Engine, hk *housekeeping, _ time.Time) {
	hk.flushing = false
	if w.err != nil {
		e.log.LogAttrs(context.Background(), slog.LevelWarn, "fleet: cannot store learned durations", slog.String("error", w.err.Error()))
	}
	e.priors.synced(w.docs, w.fresh)
}

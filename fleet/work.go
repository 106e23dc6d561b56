package fleet

import (
	"context"
	"time"
)

// work is one kind of work the engine hands to its pool: claim, poll, save,
// renew, learn (flush learned durations) or release. run does the slow part
// on a worker, without the scheduler's lock; apply takes the outcome into the
// scheduler's state, under the lock, at now. Each kind lives in its own file
// with both steps, so the scheduler never switches on what a result is.
type work interface {
	run(ctx context.Context, e *Engine)
	apply(e *Engine, hk *housekeeping, now time.Time)
}

// housekeeping is the scheduler's own timetable.
type housekeeping struct {
	claimAt, renewAt, flushAt    time.Time
	claiming, renewing, flushing bool
	nothingLeft                  bool
}

package fleet

import (
	"time"

	"github.com/lrokit/lrokit/poller"
)

// EventKind says what an Event reports.
type EventKind uint8

// The events an engine reports.
const (
	// EventClaimed: the engine took the operation (a new one, one whose
	// owner's lease lapsed, or one it held before a restart).
	EventClaimed EventKind = iota + 1
	// EventPolled: a poll that did not end the operation, with what it
	// saw, or its error (Err) when the state could not be learned.
	EventPolled
	// EventDone: the operation reached a terminal status (Err is its
	// *poller.OperationError when it failed or was canceled), or the engine
	// gave up on it (Err is the final *poller.PollError). Reported once per
	// operation: the store records the terminal status, under the lease,
	// before the event.
	EventDone
	// EventReleased: the engine no longer holds the operation although it
	// is not done: its lease was lost to another engine (Err says why),
	// the record changed under it, or its token could not be resumed here.
	EventReleased
)

func (k EventKind) String() string {
	switch k {
	case EventClaimed:
		return "claimed"
	case EventPolled:
		return "polled"
	case EventDone:
		return "done"
	case EventReleased:
		return "released"
	}
	return "unknown"
}

// Event is one thing that happened to one operation.
type Event struct {
	Kind EventKind
	// Key is the operation's key in the store.
	Key string
	// Host and OpKind are the Resolver's Op.Host and Op.Kind (empty when
	// the token could not be resolved).
	Host, OpKind string
	// At is when it happened, on the engine's clock.
	At time.Time
	// Obs is the operation's last observation.
	Obs poller.Observation
	// Err: see each EventKind.
	Err error
	// Polls counts the operation's polls so far, across engines.
	Polls int
	// Elapsed is the time since the operation started.
	Elapsed time.Duration
}

package fleet

import (
	"container/heap"
	"time"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// entry is one held operation. The scheduler owns it, except for op while a
// task holds it (inflight).
type entry struct {
	rec  heldRecord // as last stored
	op   heldOp
	host *host
	due  time.Time // when the scheduler polls it next
	idx  int       // index in host.queue or host.due; -1 when not queued

	leaseUntil time.Time // as this engine last confirmed it
	prevPoll   time.Time
	saveFails  int
	kp         *kindPrior // its kind's learned state, for urgency; nil without
	digest     uint64     // poller.Token.Digest of the token stored
	match      []matchKey // its keys in the signal index (see MatchKeys, signal.go)

	// Flags, together (issue 17: an entry per waiting operation).
	inflight bool
	wake     bool
	sample   bool // its duration counts for the priors
	unsaved  bool // the last poll's state is not stored yet
	lost     bool // the lease went while a task held it
	deferred bool // due is when to decide again, not to poll (an open hold)
	isDue    bool // queued in host.due rather than host.queue
	watched  bool // a sample the priors follow while it runs
	digested bool // digest is the stored token's (see saveWork.token)
	signaled bool // a Signal asked for the next poll (signal.go)
}

// heldRecord is what an entry keeps of its record between saves: what Put
// writes back, without the token (the store has it) or the update time
// (the store sets it): every waiting operation holds one (issue 17).
type heldRecord struct {
	Key, Provider string
	Status        poller.Status
	Detail        string
	Labels        map[string]string
	Generation    int64
	ExpiresAt     time.Time
	Lease         persist.Lease
}

func heldOf(r persist.Record) heldRecord {
	return heldRecord{Key: r.Key, Provider: r.Provider, Status: r.Status, Detail: r.Detail, Labels: r.Labels,
		Generation: r.Generation, ExpiresAt: r.ExpiresAt, Lease: r.Lease}
}

// record is the record to Put with token.
func (h heldRecord) record(token string) persist.Record {
	return persist.Record{Key: h.Key, Token: token, Provider: h.Provider, Status: h.Status, Detail: h.Detail, Labels: h.Labels,
		Generation: h.Generation, ExpiresAt: h.ExpiresAt, Lease: h.Lease}
}

// heldOp is what an entry keeps of the Resolver's Op (its Match is in the
// signal index, hashed).
type heldOp struct {
	Poller     Poller
	Host, Kind string
}

// host is the queue and rate limit of one host. Operations wait in queue
// until they are due; then, in due, they are polled most urgent first (see
// pollsFirst), within the host's rate limit. The scheduler takes the host
// ready first.
type host struct {
	name  string
	lim   *hostLimiter
	queue []*entry // waiting: min-heap by due
	due   []*entry // due, not yet polled: min-heap by urgency
	idx   int      // index in Engine.ready; -1 when absent
	// notBefore is when the rate limit next has a token, as last computed.
	notBefore time.Time

	requests, throttles, errors int64
	latency                     time.Duration // sum over requests
}

// queued counts the operations waiting on the host.
func (h *host) queued() int { return len(h.queue) + len(h.due) }

// first is the operation the host polls next: the most urgent of those due,
// or the one due first.
func (h *host) first() *entry {
	if len(h.due) > 0 {
		return h.due[0]
	}
	return h.queue[0]
}

// readyAt is when the host can send its next request: an operation is due,
// its pause is over and its bucket holds a token.
func (h *host) readyAt() time.Time {
	var t time.Time
	switch {
	case len(h.due) > 0:
		t = h.due[0].due // due already: promoted at or before now
		if len(h.queue) > 0 && h.queue[0].due.Before(t) {
			t = h.queue[0].due
		}
	default:
		t = h.queue[0].due
	}
	if h.lim.pausedUntil.After(t) {
		t = h.lim.pausedUntil
	}
	if h.notBefore.After(t) {
		t = h.notBefore
	}
	return t
}

// push queues en as waiting; promote moves it among the due ones.
func (h *host) push(en *entry) {
	heap.Push((*opHeap)(h), en)
}

// promote moves the operations due by now from the waiting queue to the
// due ones. It reports whether it moved any.
func (h *host) promote(now time.Time) bool {
	moved := false
	for len(h.queue) > 0 && !h.queue[0].due.After(now) {
		en := heap.Pop((*opHeap)(h)).(*entry)
		en.isDue = true
		heap.Push((*dueHeap)(h), en)
		moved = true
	}
	return moved
}

// pop takes the operation first returns.
func (h *host) pop() *entry {
	if len(h.due) > 0 {
		en := heap.Pop((*dueHeap)(h)).(*entry)
		en.isDue = false
		return en
	}
	return heap.Pop((*opHeap)(h)).(*entry)
}

// fix takes en's new due time (and flags) into account: it waits again
// until promoted.
func (h *host) fix(en *entry) {
	h.remove(en)
	h.push(en)
}

func (h *host) remove(en *entry) {
	switch {
	case en.idx < 0:
	case en.isDue:
		heap.Remove((*dueHeap)(h), en.idx)
		en.isDue = false
	default:
		heap.Remove((*opHeap)(h), en.idx)
	}
}

// reorder restores both heaps after the due times of entries in them
// changed in place; entries no longer due go back to waiting.
func (h *host) reorder(now time.Time) {
	var back []*entry
	kept := h.due[:0]
	for _, en := range h.due {
		if en.due.After(now) {
			en.isDue = false
			back = append(back, en)
			continue
		}
		kept = append(kept, en)
	}
	clear(h.due[len(kept):])
	h.due = kept
	for i, en := range h.due {
		en.idx = i
	}
	heap.Init((*dueHeap)(h))
	heap.Init((*opHeap)(h))
	for _, en := range back {
		h.push(en)
	}
}

// opHeap is the waiting queue of a host.
type opHeap host

func (q *opHeap) Len() int           { return len(q.queue) }
func (q *opHeap) Less(i, j int) bool { return dueFirst(q.queue[i], q.queue[j]) }

// dueFirst orders a host's waiting queue: the operation due first, and
// among those due at once, by key, so that the order never depends on the
// heap's history (the benchmark's runs are reproducible).
func dueFirst(a, b *entry) bool {
	if c := a.due.Compare(b.due); c != 0 {
		return c < 0
	}
	return a.rec.Key < b.rec.Key
}

func (q *opHeap) Swap(i, j int) { swapEntries(q.queue, i, j) }
func (q *opHeap) Push(x any)    { pushEntry(&q.queue, x.(*entry)) }
func (q *opHeap) Pop() any      { return popEntry(&q.queue) }

// swapEntries, pushEntry and popEntry are the container/heap plumbing of
// both of a host's heaps: entries know their index in the one they are in.
func swapEntries(q []*entry, i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].idx, q[j].idx = i, j
}

func pushEntry(q *[]*entry, en *entry) {
	en.idx = len(*q)
	*q = append(*q, en)
}

func popEntry(q *[]*entry) *entry {
	n := len(*q) - 1
	en := (*q)[n]
	(*q)[n] = nil
	*q = (*q)[:n]
	en.idx = -1
	if n == 0 {
		*q = nil // let a drained host's backing array go
	}
	return en
}

// dueHeap is the due operations of a host, most urgent first.
type dueHeap host

func (q *dueHeap) Len() int { return len(q.due) }
func (q *dueHeap) Less(i, j int) bool {
	a, b := q.due[i], q.due[j]
	return pollsFirst(a.urgency(), b.urgency(), a.rec.Key, b.rec.Key)
}
func (q *dueHeap) Swap(i, j int) { swapEntries(q.due, i, j) }
func (q *dueHeap) Push(x any)    { pushEntry(&q.due, x.(*entry)) }
func (q *dueHeap) Pop() any      { return popEntry(&q.due) }

// hostHeap orders the hosts that have queued operations by readyAt.
type hostHeap []*host

func (hs hostHeap) Len() int           { return len(hs) }
func (hs hostHeap) Less(i, j int) bool { return hs[i].readyAt().Before(hs[j].readyAt()) }
func (hs hostHeap) Swap(i, j int) {
	hs[i], hs[j] = hs[j], hs[i]
	hs[i].idx, hs[j].idx = i, j
}
func (hs *hostHeap) Push(x any) {
	h := x.(*host)
	h.idx = len(*hs)
	*hs = append(*hs, h)
}
func (hs *hostHeap) Pop() any {
	old := *hs
	n := len(old) - 1
	h := old[n]
	old[n] = nil
	*hs = old[:n]
	h.idx = -1
	return h
}

// update puts h in its place: in the heap when it has queued operations,
// out of it when not.
func (hs *hostHeap) update(h *host) {
	switch {
	case h.queued() == 0 && h.idx >= 0:
		heap.Remove(hs, h.idx)
	case h.queued() == 0:
	case h.idx >= 0:
		heap.Fix(hs, h.idx)
	default:
		heap.Push(hs, h)
	}
}

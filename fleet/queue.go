package fleet

import (
	"container/heap"
	"time"

	"github.com/lrokit/lrokit/persist"
)

// entry is one held operation. The scheduler owns it, except for op while a
// task holds it (inflight).
type entry struct {
	rec  persist.Record // as last stored, without its token
	op   Op
	host *host
	due  time.Time // when the scheduler polls it next
	idx  int       // index in host.queue; -1 when not queued

	leaseUntil time.Time // as this engine last confirmed it
	prevPoll   time.Time
	saveFails  int
	inflight   bool
	wake       bool
	sample     bool   // its duration counts for the priors
	unsaved    bool   // the last poll's state is not stored yet
	lost       bool   // the lease went while a task held it
	deferred   bool   // due is when to decide again, not to poll (an open hold)
	watched    bool   // a sample the priors follow while it runs
	digested   bool   // digest is the stored token's (see saveWork.token)
	digest     uint64 // poller.Token.Digest of the token stored

	// Push signals (signal.go).
	signaled bool       // a Signal asked for the next poll
	match    []matchKey // its keys in the signal index (see MatchKeys)
}

// host is the queue and rate limit of one host. The scheduler pops the
// operation due first, from the host ready first.
type host struct {
	name  string
	lim   *hostLimiter
	queue []*entry // min-heap by due
	idx   int      // index in Engine.ready; -1 when absent
	// notBefore is when the rate limit next has a token, as last computed.
	notBefore time.Time

	requests, throttles, errors int64
	latency                     time.Duration // sum over requests
}

// readyAt is when the host can send its next request: its first operation
// is due, its pause is over and its bucket holds a token.
func (h *host) readyAt() time.Time {
	t := h.queue[0].due
	if h.lim.pausedUntil.After(t) {
		t = h.lim.pausedUntil
	}
	if h.notBefore.After(t) {
		t = h.notBefore
	}
	return t
}

func (h *host) push(en *entry) { heap.Push((*opHeap)(h), en) }
func (h *host) pop() *entry    { return heap.Pop((*opHeap)(h)).(*entry) }
func (h *host) fix(en *entry)  { heap.Fix((*opHeap)(h), en.idx) }
func (h *host) remove(en *entry) {
	if en.idx >= 0 {
		heap.Remove((*opHeap)(h), en.idx)
	}
}

type opHeap host

func (q *opHeap) Len() int           { return len(q.queue) }
func (q *opHeap) Less(i, j int) bool { return q.queue[i].due.Before(q.queue[j].due) }
func (q *opHeap) Swap(i, j int) {
	q.queue[i], q.queue[j] = q.queue[j], q.queue[i]
	q.queue[i].idx, q.queue[j].idx = i, j
}
func (q *opHeap) Push(x any) {
	en := x.(*entry)
	en.idx = len(q.queue)
	q.queue = append(q.queue, en)
}
func (q *opHeap) Pop() any {
	n := len(q.queue) - 1
	en := q.queue[n]
	q.queue[n] = nil
	q.queue = q.queue[:n]
	en.idx = -1
	if n == 0 {
		q.queue = nil // let a drained host's backing array go
	}
	return en
}

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
	case len(h.queue) == 0 && h.idx >= 0:
		heap.Remove(hs, h.idx)
	case len(h.queue) == 0:
	case h.idx >= 0:
		heap.Fix(hs, h.idx)
	default:
		heap.Push(hs, h)
	}
}

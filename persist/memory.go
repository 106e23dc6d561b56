package persist

import (
	"context"
	"sync"
	"time"
)

// MemoryStore keeps records in the process's memory, with the same semantics
// as the other stores: for tests and single-process tools. It is safe for
// concurrent use.
type MemoryStore struct {
	e    engine
	mu   sync.RWMutex
	recs map[string]Record
}

var (
	_ Store        = (*MemoryStore)(nil)
	_ Leaser       = (*MemoryStore)(nil)
	_ Sweeper      = (*MemoryStore)(nil)
	_ BatchRenewer = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(opts *Options) *MemoryStore {
	m := &MemoryStore{recs: map[string]Record{}}
	m.e = engine{t: memTable{m}, l: memLocker{&m.mu}, clock: opts.clock()}
	return m
}

// Put writes r if r.Generation matches (see Store).
func (m *MemoryStore) Put(ctx context.Context, r Record) (Record, error) { return m.e.put(ctx, r) }

// Get returns the record under key, or ErrNotFound.
func (m *MemoryStore) Get(ctx context.Context, key string) (Record, error) { return m.e.get(ctx, key) }

// Delete removes the record under key if its generation matches (see Store).
func (m *MemoryStore) Delete(ctx context.Context, key string, generation int64) error {
	return m.e.delete(ctx, key, generation)
}

// List returns the records f selects, sorted by key.
func (m *MemoryStore) List(ctx context.Context, f Filter) ([]Record, error) { return m.e.list(ctx, f) }

// Claim leases up to limit claimable records to owner (see Leaser).
func (m *MemoryStore) Claim(ctx context.Context, owner string, ttl time.Duration, limit int) ([]Record, error) {
	return m.e.claim(ctx, owner, ttl, limit)
}

// Renew extends a held lease (see Leaser).
func (m *MemoryStore) Renew(ctx context.Context, key string, lease Lease, ttl time.Duration) (Lease, error) {
	return m.e.renew(ctx, key, lease, ttl)
}

// RenewBatch extends many held leases at once (see BatchRenewer).
func (m *MemoryStore) RenewBatch(ctx context.Context, leases map[string]Lease, ttl time.Duration) (map[string]Lease, error) {
	return m.e.renewBatch(ctx, leases, ttl)
}

// Release gives a lease up (see Leaser).
func (m *MemoryStore) Release(ctx context.Context, key string, lease Lease) error {
	return m.e.release(ctx, key, lease)
}

// Sweep removes expired records (see Sweeper).
func (m *MemoryStore) Sweep(ctx context.Context) (int, error) { return m.e.sweep(ctx) }

// Close does nothing; it lets a MemoryStore stand where an io.Closer is
// expected, like the other stores.
func (m *MemoryStore) Close() error { return nil }

type memTable struct{ m *MemoryStore }

func (t memTable) load(key string) (Record, bool, error) {
	r, ok := t.m.recs[key]
	r.Labels = cloneLabels(r.Labels)
	return r, ok, nil
}

func (t memTable) save(r Record) error {
	r.Labels = cloneLabels(r.Labels)
	t.m.recs[r.Key] = r
	return nil
}

func (t memTable) remove(key string) error {
	delete(t.m.recs, key)
	return nil
}

func (t memTable) scan() ([]Record, error) {
	out := make([]Record, 0, len(t.m.recs))
	for _, r := range t.m.recs {
		r.Labels = cloneLabels(r.Labels)
		out = append(out, r)
	}
	return out, nil
}

type memLocker struct{ mu *sync.RWMutex }

func (l memLocker) lock() (func(), error) {
	l.mu.Lock()
	return l.mu.Unlock, nil
}

func (l memLocker) rlock() (func(), error) {
	l.mu.RLock()
	return l.mu.RUnlock, nil
}

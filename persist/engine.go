package persist

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// table is what the memory and file stores keep records in. The engine
// holds the right lock around every call.
type table interface {
	// load returns the record under key; false when there is none.
	load(key string) (Record, bool, error)
	// save writes r whole, replacing any record under r.Key.
	save(r Record) error
	// remove deletes the record under key.
	remove(key string) error
	// scan returns every readable record, and an error naming each record
	// that could not be read.
	scan() ([]Record, error)
}

// locker guards a table, within the process and, for files, across
// processes.
type locker interface {
	lock() (unlock func(), err error)  // exclusive
	rlock() (unlock func(), err error) // shared
}

// engine implements the store semantics (compare-and-swap, expiry, leases,
// fencing) over a table, for the memory and file stores; the PostgreSQL
// store implements the same in SQL.
type engine struct {
	t     table
	l     locker
	clock poller.Clock
}

func (e *engine) now() time.Time { return storedTime(e.clock.Now()) }

// checkWrite decides whether a Put of r may replace cur (exists false: no
// live record): the fence first, then the generation.
func checkWrite(r, cur Record, exists bool, now time.Time) error {
	if r.Lease.Owner != "" {
		if !exists || cur.Lease.Owner != r.Lease.Owner || cur.Lease.Epoch != r.Lease.Epoch || !cur.Lease.Held(now) {
			return fmt.Errorf("persist: put %q under the lease of %q (epoch %d): %w", r.Key, r.Lease.Owner, r.Lease.Epoch, ErrLeaseLost)
		}
	}
	switch {
	case !exists && r.Generation != 0:
		return fmt.Errorf("persist: put %q at generation %d: the record does not exist: %w", r.Key, r.Generation, ErrConflict)
	case exists && r.Generation == 0:
		return fmt.Errorf("persist: create %q: the record exists (generation %d): %w", r.Key, cur.Generation, ErrConflict)
	case exists && r.Generation != cur.Generation:
		return fmt.Errorf("persist: put %q at generation %d: the stored generation is %d: %w", r.Key, r.Generation, cur.Generation, ErrConflict)
	}
	return nil
}

func (e *engine) put(ctx context.Context, r Record) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	r, err := prepare(r)
	if err != nil {
		return Record{}, err
	}
	unlock, err := e.l.lock()
	if err != nil {
		return Record{}, err
	}
	defer unlock()
	now := e.now()
	cur, ok, err := e.t.load(r.Key)
	if err != nil {
		return Record{}, err
	}
	if ok && expired(cur, now) {
		if err := e.t.remove(cur.Key); err != nil {
			return Record{}, err
		}
		ok = false
	}
	if err := checkWrite(r, cur, ok, now); err != nil {
		return Record{}, err
	}
	r.Generation, r.Lease = 1, Lease{}
	if ok {
		r.Generation, r.Lease = cur.Generation+1, cur.Lease
	}
	r.Updated = now
	if err := e.t.save(r); err != nil {
		return Record{}, err
	}
	return r, nil
}

func (e *engine) get(ctx context.Context, key string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if err := ValidateKey(key); err != nil {
		return Record{}, err
	}
	unlock, err := e.l.rlock()
	if err != nil {
		return Record{}, err
	}
	r, ok, err := e.t.load(key)
	unlock()
	switch {
	case err != nil:
		return Record{}, err
	case !ok:
		return Record{}, fmt.Errorf("persist: get %q: %w", key, ErrNotFound)
	case expired(r, e.now()):
		if err := e.removeExpired(key); err != nil {
			return Record{}, err
		}
		return Record{}, fmt.Errorf("persist: get %q: %w", key, ErrNotFound)
	}
	return r, nil
}

// removeExpired removes the record under key if it is still expired.
func (e *engine) removeExpired(key string) error {
	unlock, err := e.l.lock()
	if err != nil {
		return err
	}
	defer unlock()
	r, ok, err := e.t.load(key)
	if err != nil || !ok || !expired(r, e.now()) {
		return err
	}
	return e.t.remove(key)
}

func (e *engine) delete(ctx context.Context, key string, generation int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ValidateKey(key); err != nil {
		return err
	}
	unlock, err := e.l.lock()
	if err != nil {
		return err
	}
	defer unlock()
	cur, ok, err := e.t.load(key)
	if err != nil {
		return err
	}
	if ok && expired(cur, e.now()) {
		if err := e.t.remove(key); err != nil {
			return err
		}
		ok = false
	}
	switch {
	case !ok:
		return fmt.Errorf("persist: delete %q: %w", key, ErrNotFound)
	case generation != 0 && generation != cur.Generation:
		return fmt.Errorf("persist: delete %q at generation %d: the stored generation is %d: %w", key, generation, cur.Generation, ErrConflict)
	}
	return e.t.remove(key)
}

func (e *engine) list(ctx context.Context, f Filter) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := validFilter(f); err != nil {
		return nil, err
	}
	unlock, err := e.l.rlock()
	if err != nil {
		return nil, err
	}
	all, scanErr := e.t.scan()
	unlock()
	now := e.now()
	out := all[:0]
	for _, r := range all {
		if !expired(r, now) && f.match(r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Record) int { return strings.Compare(a.Key, b.Key) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	if scanErr != nil {
		return out, fmt.Errorf("persist: list: %w", scanErr)
	}
	return out, nil
}

func (e *engine) claim(ctx context.Context, owner string, ttl time.Duration, limit int) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := validClaim(owner, ttl, limit); err != nil {
		return nil, err
	}
	unlock, err := e.l.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Unreadable records cannot be worked on; Get and List report them.
	all, _ := e.t.scan()
	now := e.now()
	var cands []Record
	for _, r := range all {
		if claimable(r, now) {
			cands = append(cands, r)
		}
	}
	slices.SortFunc(cands, func(a, b Record) int {
		if claimBefore(a, b) {
			return -1
		}
		return 1
	})
	cands = cands[:min(limit, len(cands))]
	out := make([]Record, 0, len(cands))
	for _, r := range cands {
		r.Lease = Lease{Owner: owner, Expires: storedTime(now.Add(ttl)), Epoch: r.Lease.Epoch + 1}
		if err := e.t.save(r); err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// leased loads the record under key and checks that lease is its current
// lease (held, unless released is being asked for).
func (e *engine) leased(key string, lease Lease, mustHold bool, op string) (Record, error) {
	r, ok, err := e.t.load(key)
	if err != nil {
		return Record{}, err
	}
	now := e.now()
	if !ok || expired(r, now) || r.Lease.Owner == "" || r.Lease.Owner != lease.Owner || r.Lease.Epoch != lease.Epoch || (mustHold && !r.Lease.Held(now)) {
		return Record{}, fmt.Errorf("persist: %s %q for %q (epoch %d): %w", op, key, lease.Owner, lease.Epoch, ErrLeaseLost)
	}
	return r, nil
}

func (e *engine) renew(ctx context.Context, key string, lease Lease, ttl time.Duration) (Lease, error) {
	if err := ctx.Err(); err != nil {
		return Lease{}, err
	}
	if err := ValidateKey(key); err != nil {
		return Lease{}, err
	}
	if ttl <= 0 {
		return Lease{}, fmt.Errorf("persist: renew: lease ttl %v is not positive: %w", ttl, ErrInvalid)
	}
	unlock, err := e.l.lock()
	if err != nil {
		return Lease{}, err
	}
	defer unlock()
	r, err := e.leased(key, lease, true, "renew")
	if err != nil {
		return Lease{}, err
	}
	r.Lease.Expires = storedTime(e.now().Add(ttl))
	if err := e.t.save(r); err != nil {
		return Lease{}, err
	}
	return r.Lease, nil
}

func (e *engine) renewBatch(ctx context.Context, leases map[string]Lease, ttl time.Duration) (map[string]Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := validRenewBatch(leases, ttl); err != nil {
		return nil, err
	}
	out := make(map[string]Lease, len(leases))
	if len(leases) == 0 {
		return out, nil
	}
	unlock, err := e.l.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	now := e.now()
	until := storedTime(now.Add(ttl))
	for key, l := range leases {
		r, ok, err := e.t.load(key)
		// An unreadable record cannot be worked on (Get and List report
		// it): its lease is left to lapse rather than failing the others.
		if err != nil || !ok || expired(r, now) || r.Lease.Owner == "" || r.Lease.Owner != l.Owner || r.Lease.Epoch != l.Epoch || !r.Lease.Held(now) {
			continue
		}
		r.Lease.Expires = until
		if err := e.t.save(r); err != nil {
			return out, fmt.Errorf("persist: renew %q: %w", key, err)
		}
		out[key] = r.Lease
	}
	return out, nil
}

func (e *engine) release(ctx context.Context, key string, lease Lease) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ValidateKey(key); err != nil {
		return err
	}
	unlock, err := e.l.lock()
	if err != nil {
		return err
	}
	defer unlock()
	r, err := e.leased(key, lease, false, "release")
	if err != nil {
		return err
	}
	r.Lease.Owner, r.Lease.Expires = "", e.now()
	return e.t.save(r)
}

func (e *engine) sweep(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	unlock, err := e.l.lock()
	if err != nil {
		return 0, err
	}
	defer unlock()
	all, _ := e.t.scan()
	now := e.now()
	n := 0
	for _, r := range all {
		if expired(r, now) {
			if err := e.t.remove(r.Key); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

package persist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lrokit/lrokit/poller"
)

// Record is one operation's entry in a store: its resume token and what was
// last observed of it.
type Record struct {
	// Key is the caller's name for the operation, e.g. "deploy/prod/aks".
	// See ValidateKey for what a key may hold.
	Key string
	// Token is the poller's resume token.
	Token string
	// Provider names the token's adapter. Put fills it from an unsealed
	// token when empty.
	Provider string
	// Status is the last observed status. Put fills it from an unsealed
	// token's last observation when empty. Records with a terminal status
	// are never claimed.
	Status poller.Status
	// Detail is the provider's own word for the status.
	Detail string
	// Labels are the caller's key/value pairs, for List filters.
	Labels map[string]string
	// Generation is bumped by every successful Put and is the
	// compare-and-swap guard: Put and Delete name the generation they read.
	// Leases (Claim, Renew, Release) do not bump it.
	Generation int64
	// Updated is when the record was last written, set by the store.
	Updated time.Time
	// ExpiresAt is when the record stops existing; zero means never.
	// Expired records are never returned, Get removes them, Sweep removes
	// them all.
	ExpiresAt time.Time
	// Lease is the worker lease on the record, as Claim, Renew and Release
	// left it. Put never changes it; a Put of a record that carries a lease
	// (Lease.Owner set) is fenced: see Leaser.
	Lease Lease
}

// Lease is a worker's claim on a record (see Leaser).
type Lease struct {
	// Owner names the worker holding the lease; empty when none does.
	Owner string
	// Expires is when the lease lapses: a lease is held while the store's
	// clock is before Expires.
	Expires time.Time
	// Epoch is the fencing token: it grows by one at every Claim of the
	// record, so a write under an older claim is recognised and refused.
	Epoch int64
}

// Held reports whether the lease is held by someone at now.
func (l Lease) Held(now time.Time) bool { return l.Owner != "" && now.Before(l.Expires) }

// Filter selects records for List. The zero Filter selects all.
type Filter struct {
	// Prefix selects keys that start with it.
	Prefix string
	// Status selects records whose status is any of these; empty selects
	// any status.
	Status []poller.Status
	// Labels selects records that carry every one of these pairs.
	Labels map[string]string
	// After selects keys that sort after it (byte-wise), for paging.
	After string
	// Limit caps the number of records returned; zero means no cap.
	Limit int
}

// Store keeps records. Implementations are safe for concurrent use, and the
// stores of this package also across processes (file and PostgreSQL).
type Store interface {
	// Put writes r and returns it as stored (new Generation and Updated).
	// r.Generation must equal the stored generation, or 0 to create a record
	// that does not exist; otherwise Put fails with ErrConflict. A Put of a
	// record whose Lease.Owner is set is fenced (see Leaser).
	Put(ctx context.Context, r Record) (Record, error)
	// Get returns the record stored under key, or ErrNotFound.
	Get(ctx context.Context, key string) (Record, error)
	// Delete removes the record under key if its generation is generation;
	// generation 0 removes whatever is stored. It fails with ErrNotFound
	// or ErrConflict.
	Delete(ctx context.Context, key string, generation int64) error
	// List returns the records f selects, sorted by key.
	List(ctx context.Context, f Filter) ([]Record, error)
}

// Leaser hands records out to a fleet of workers. Every store of this
// package implements it.
//
// Fencing: the record Claim returns carries its Lease; a Put of it (or of
// any record whose Lease.Owner is set) succeeds only while that same lease
// (owner and epoch) is still held, and fails with ErrLeaseLost otherwise. So
// a worker whose lease lapsed, and whose record another worker claimed since,
// cannot overwrite it. A Put whose Lease is zero is not fenced: generation
// compare-and-swap still applies.
type Leaser interface {
	// Claim leases to owner, for ttl, up to limit records that are not
	// terminal, not expired and not leased (or whose lease lapsed).
	// Records never leased come first, then those whose lease lapsed
	// longest ago. Concurrent claimers never receive the same record.
	Claim(ctx context.Context, owner string, ttl time.Duration, limit int) ([]Record, error)
	// Renew extends a held lease to ttl from now and returns it. It fails
	// with ErrLeaseLost when the lease lapsed or another claim replaced it.
	Renew(ctx context.Context, key string, lease Lease, ttl time.Duration) (Lease, error)
	// Release gives the lease up, so that the record can be claimed at
	// once. It fails with ErrLeaseLost when another claim replaced it.
	Release(ctx context.Context, key string, lease Lease) error
}

// BatchRenewer renews many leases in one call: a worker renews every lease
// it holds with one round trip instead of one Renew each. Every store of
// this package implements it.
type BatchRenewer interface {
	// RenewBatch extends each of leases (by key) to ttl from now, with the
	// same rules as Renew, and returns the leases it renewed, by key. A key
	// missing from the result was not renewed because its lease is lost:
	// it lapsed (a lapsed lease is never revived: another worker may have
	// claimed the record since), was released, was replaced by another
	// claim, or its record is gone or cannot be read. Epochs never change.
	// An error means the call as a whole failed; the result then holds the
	// leases renewed before it did, if any.
	RenewBatch(ctx context.Context, leases map[string]Lease, ttl time.Duration) (map[string]Lease, error)
}

// Sweeper removes expired records. Every store of this package implements it.
type Sweeper interface {
	// Sweep removes every record whose ExpiresAt has passed and reports
	// how many it removed.
	Sweep(ctx context.Context) (int, error)
}

var (
	// ErrNotFound reports that no record is stored under the key.
	ErrNotFound = errors.New("record not found")
	// ErrConflict reports a compare-and-swap failure: the record changed
	// since the caller read it (or exists, when creating). Read it again.
	ErrConflict = errors.New("record changed since it was read (generation mismatch)")
	// ErrLeaseLost reports that the caller's lease is no longer held: it
	// lapsed, was released, or another worker claimed the record since.
	ErrLeaseLost = errors.New("lease lost")
	// ErrInvalid reports a key, record or argument the store refuses (see
	// the limits).
	ErrInvalid = errors.New("invalid input")
	// ErrCorrupt reports stored data that cannot be read; see CorruptError.
	ErrCorrupt = errors.New("corrupt record")
	// ErrNewerVersion reports data written by a newer lrokit, in a format
	// this one does not read.
	ErrNewerVersion = errors.New("stored by a newer lrokit: upgrade lrokit")
)

// CorruptError reports one stored record that cannot be read. Other records
// stay readable.
type CorruptError struct {
	// Where names the record: a file path, or a key in a table.
	Where string
	// Err says what is wrong.
	Err error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("persist: %s is corrupt: %v", e.Where, e.Err)
}

// Unwrap returns the cause.
func (e *CorruptError) Unwrap() error { return e.Err }

// Is reports target == ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Limits on what a store accepts; larger input fails with ErrInvalid.
const (
	// MaxKeyLen is the longest key, in bytes.
	MaxKeyLen = 512
	// MaxTokenLen is the largest token, in bytes: the largest token
	// poller.DecodeToken reads.
	MaxTokenLen = poller.MaxTokenSize
	// MaxDetailLen is the longest Detail, in bytes.
	MaxDetailLen = 4 << 10
	// MaxLabels is the most labels a record carries.
	MaxLabels = 64
	// MaxLabelKeyLen and MaxLabelValueLen bound each label, in bytes.
	MaxLabelKeyLen   = 128
	MaxLabelValueLen = 1024
	// MaxOwnerLen is the longest lease owner, in bytes.
	MaxOwnerLen = 256
)

// ValidateKey reports whether key can name a record. A key is non-empty
// UTF-8 of at most MaxKeyLen bytes without control characters; "/"
// separates segments ("deploy/prod/aks"), none of which may be empty, "."
// or "..". Errors wrap ErrInvalid.
func ValidateKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("persist: key %s: %w", why, ErrInvalid) }
	switch {
	case key == "":
		return bad("is empty")
	case len(key) > MaxKeyLen:
		return bad(fmt.Sprintf("is %d bytes, more than the %d allowed", len(key), MaxKeyLen))
	case !utf8.ValidString(key):
		return bad("is not valid UTF-8")
	}
	for _, c := range key {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) {
			return bad(fmt.Sprintf("%q holds control character %U", safeKey(key), c))
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return bad(fmt.Sprintf("%q has an empty segment (leading, trailing or double \"/\")", key))
		case ".", "..":
			return bad(fmt.Sprintf("%q has a %q segment", key, seg))
		}
	}
	return nil
}

// safeKey quotes only the printable start of a key for error messages.
func safeKey(key string) string {
	if len(key) > 64 {
		key = key[:64] + "…"
	}
	return strings.ToValidUTF8(key, "?")
}

func validText(what, s string, max int) error {
	switch {
	case len(s) > max:
		return fmt.Errorf("%s is %d bytes, more than the %d allowed: %w", what, len(s), max, ErrInvalid)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8: %w", what, ErrInvalid)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%s holds a NUL byte: %w", what, ErrInvalid)
	}
	return nil
}

func validOwner(owner string) error {
	if owner == "" {
		return fmt.Errorf("lease owner is empty: %w", ErrInvalid)
	}
	return validText("lease owner", owner, MaxOwnerLen)
}

// prepare validates r for Put and normalizes it (see normalize), and fills
// Provider and Status from an unsealed token when they are empty.
func prepare(r Record) (Record, error) {
	r, err := normalize(r)
	if err != nil {
		return Record{}, err
	}
	if (r.Provider == "" || r.Status == "") && r.Token != "" {
		if tok, err := poller.DecodeToken(r.Token, nil); err == nil {
			if r.Provider == "" {
				r.Provider = tok.Provider
			}
			if r.Status == "" && tok.Last != nil {
				r.Status = tok.Last.Status
			}
		}
	}
	return r, nil
}

// normalize validates r against the limits and normalizes it: status
// spelling, times to the microsecond in UTC (what every store keeps), empty
// labels to nil.
func normalize(r Record) (Record, error) {
	if err := ValidateKey(r.Key); err != nil {
		return Record{}, err
	}
	if r.Generation < 0 {
		return Record{}, fmt.Errorf("persist: put %q: negative generation: %w", r.Key, ErrInvalid)
	}
	for _, f := range []struct {
		what string
		s    string
		max  int
	}{{"token", r.Token, MaxTokenLen}, {"provider", r.Provider, MaxLabelKeyLen}, {"detail", r.Detail, MaxDetailLen}} {
		if err := validText(f.what, f.s, f.max); err != nil {
			return Record{}, fmt.Errorf("persist: put %q: %w", r.Key, err)
		}
	}
	if r.Lease.Owner != "" {
		if err := validOwner(r.Lease.Owner); err != nil {
			return Record{}, fmt.Errorf("persist: put %q: %w", r.Key, err)
		}
	}
	if r.Status != "" {
		st, ok := poller.ParseStatus(string(r.Status))
		if !ok {
			return Record{}, fmt.Errorf("persist: put %q: status %q is not one of NotStarted, Running, Succeeded, Failed, Canceled: %w",
				r.Key, safeKey(string(r.Status)), ErrInvalid)
		}
		r.Status = st
	}
	if len(r.Labels) > MaxLabels {
		return Record{}, fmt.Errorf("persist: put %q: %d labels, more than the %d allowed: %w", r.Key, len(r.Labels), MaxLabels, ErrInvalid)
	}
	for k, v := range r.Labels {
		if k == "" {
			return Record{}, fmt.Errorf("persist: put %q: empty label key: %w", r.Key, ErrInvalid)
		}
		if err := validText("label key", k, MaxLabelKeyLen); err != nil {
			return Record{}, fmt.Errorf("persist: put %q: %w", r.Key, err)
		}
		if err := validText("label value", v, MaxLabelValueLen); err != nil {
			return Record{}, fmt.Errorf("persist: put %q: %w", r.Key, err)
		}
	}
	r.Labels = cloneLabels(r.Labels)
	r.Updated = storedTime(r.Updated)
	r.ExpiresAt = storedTime(r.ExpiresAt)
	r.Lease.Expires = storedTime(r.Lease.Expires)
	for _, t := range []struct {
		what string
		t    time.Time
	}{{"updated", r.Updated}, {"expiry", r.ExpiresAt}, {"lease expiry", r.Lease.Expires}} {
		// Every store keeps times as RFC 3339 in UTC, which has four-digit
		// years: a time outside them could be read but never written back.
		if y := t.t.Year(); !t.t.IsZero() && (y < 1 || y > 9999) {
			return Record{}, fmt.Errorf("persist: put %q: %s time is outside the years 1 to 9999: %w", r.Key, t.what, ErrInvalid)
		}
	}
	return r, nil
}

func validFilter(f Filter) error {
	if f.Limit < 0 {
		return fmt.Errorf("persist: list: negative limit: %w", ErrInvalid)
	}
	if err := validText("prefix", f.Prefix, MaxKeyLen); err != nil {
		return fmt.Errorf("persist: list: %w", err)
	}
	if err := validText("after", f.After, MaxKeyLen); err != nil {
		return fmt.Errorf("persist: list: %w", err)
	}
	for k, v := range f.Labels {
		if err := validText("label key", k, MaxLabelKeyLen); err != nil {
			return fmt.Errorf("persist: list: %w", err)
		}
		if err := validText("label value", v, MaxLabelValueLen); err != nil {
			return fmt.Errorf("persist: list: %w", err)
		}
	}
	for _, s := range f.Status {
		if _, ok := poller.ParseStatus(string(s)); !ok {
			return fmt.Errorf("persist: list: status %q is not one of NotStarted, Running, Succeeded, Failed, Canceled: %w", safeKey(string(s)), ErrInvalid)
		}
	}
	return nil
}

// match reports whether r passes f's prefix, after, status and label tests.
func (f Filter) match(r Record) bool {
	if !strings.HasPrefix(r.Key, f.Prefix) || (f.After != "" && r.Key <= f.After) {
		return false
	}
	if len(f.Status) > 0 {
		ok := false
		for _, s := range f.Status {
			if st, _ := poller.ParseStatus(string(s)); st == r.Status {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for k, v := range f.Labels {
		if got, ok := r.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func validRenewBatch(leases map[string]Lease, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("persist: renew: lease ttl %v is not positive: %w", ttl, ErrInvalid)
	}
	for key := range leases {
		if err := ValidateKey(key); err != nil {
			return fmt.Errorf("persist: renew: %w", err)
		}
	}
	return nil
}

func validClaim(owner string, ttl time.Duration, limit int) error {
	if err := validOwner(owner); err != nil {
		return fmt.Errorf("persist: claim: %w", err)
	}
	if ttl <= 0 {
		return fmt.Errorf("persist: claim: lease ttl %v is not positive: %w", ttl, ErrInvalid)
	}
	if limit <= 0 {
		return fmt.Errorf("persist: claim: limit %d is not positive: %w", limit, ErrInvalid)
	}
	return nil
}

// storedTime is t as every store keeps it: UTC, microsecond precision (the
// precision of PostgreSQL's timestamptz), no monotonic reading.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

func cloneLabels(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func expired(r Record, now time.Time) bool {
	return !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt)
}

// claimable reports whether Claim may hand r out at now.
func claimable(r Record, now time.Time) bool {
	return !r.Status.Terminal() && !expired(r, now) && !r.Lease.Held(now)
}

// claimBefore orders claimable records: never leased first, then by how
// long ago the lease lapsed, then by key.
func claimBefore(a, b Record) bool {
	if !a.Lease.Expires.Equal(b.Lease.Expires) {
		return a.Lease.Expires.Before(b.Lease.Expires)
	}
	return a.Key < b.Key
}

// Options configure a store. The zero value (or nil) works.
type Options struct {
	// Clock is the time source for Updated, expiry and leases; nil means
	// poller.SystemClock. Stores shared by several machines rely on their
	// clocks agreeing to within a small part of the lease ttl.
	Clock poller.Clock
}

func (o *Options) clock() poller.Clock {
	if o == nil || o.Clock == nil {
		return poller.SystemClock
	}
	return o.Clock
}

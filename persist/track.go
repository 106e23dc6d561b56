package persist

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// Source is what a Tracker saves. *poller.Poller[T] implements it.
type Source interface {
	// ResumeToken returns the token to continue waiting from.
	ResumeToken() (string, error)
	// Last returns the last observation.
	Last() poller.Observation
}

// TrackOptions configure Track. The zero value (or nil) works.
type TrackOptions struct {
	// Labels are set on the record, over the labels already stored.
	Labels map[string]string
	// ExpiresAt, when set, is the record's expiry; zero keeps the stored one.
	ExpiresAt time.Time
	// OnError is called when a save made by OnPoll fails, for instance to
	// stop the wait on ErrLeaseLost. The wait itself goes on otherwise, and
	// the next poll saves again.
	OnError func(error)
}

// Tracker keeps one operation's record up to date: after every poll it saves
// the poller's resume token and last observation, by compare-and-swap, so a
// process killed at any moment can resume from the last saved state (and
// never needs to send the operation's initial request again).
//
// Use it from the goroutine that runs the wait; its methods are safe for
// concurrent use nonetheless.
type Tracker struct {
	ctx   context.Context
	store Store
	src   Source
	opts  TrackOptions

	mu  sync.Mutex
	rec Record
	err error

	// What OnPoll needs to skip a save (see OnPoll).
	buf    []byte
	digest uint64 // of the token last saved, when saved
	saved  bool
}

// tokenSource is a Source whose token can be compared before it is encoded
// (*poller.Poller[T] is one).
type tokenSource interface {
	Token() (poller.Token, error)
	AppendToken(dst []byte, t poller.Token) ([]byte, error)
}

// Track saves src's current state under key at once — creating the record,
// or taking over the one stored there (keeping its labels, lease and
// provider) — and returns a Tracker whose OnPoll saves it again after every
// poll. ctx bounds the saves OnPoll makes.
//
// Call Track right after the operation's initial request returned, before
// the first poll: from then on the store holds a token to resume from.
//
// If the stored record carries a lease (a fleet worker's claim), saves are
// fenced by it and fail with ErrLeaseLost once it is gone.
func Track(ctx context.Context, s Store, key string, src Source, opts *TrackOptions) (*Tracker, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	t := &Tracker{ctx: ctx, store: s, src: src}
	if opts != nil {
		t.opts = *opts
	}
	cur, err := s.Get(ctx, key)
	switch {
	case err == nil:
		t.rec = cur
	case errors.Is(err, ErrNotFound):
		t.rec = Record{Key: key}
	default:
		return nil, fmt.Errorf("persist: track %q: %w", key, err)
	}
	if err := t.Save(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// OnPoll saves the current state; it has the signature of
// poller.WaitOptions.OnPoll. A failed save is kept (see Err) and passed to
// TrackOptions.OnError.
//
// For a source that is a *poller.Poller, OnPoll skips the save when the
// token differs from the one last saved only in its schedule bookkeeping
// (next poll time, last poll time, poll count; see poller.Token.Digest),
// which is most polls of a long operation. Crash safety holds: the stored
// token has the same adapter state, last observation, creation time and
// deadline, so a process resuming from it continues the same schedule
// (delays derive from the creation time) and only polls at once, its
// stored next-poll time being past; a resumed poller may count fewer polls.
// Every change of state is saved before the next poll. A record held under
// a lease is saved after every poll, so that a lost lease is noticed
// (ErrLeaseLost) at the next poll.
func (t *Tracker) OnPoll(poller.Observation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.err = t.save(t.ctx, t.rec.Lease.Owner == "")
	if t.err != nil && t.opts.OnError != nil {
		t.opts.OnError(t.err)
	}
}

// Save saves the source's current resume token and last observation. On a
// compare-and-swap conflict (another writer updated the record) it reads the
// generation again and retries, keeping its own lease so that fencing still
// holds.
func (t *Tracker) Save(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.err = t.save(ctx, false)
	return t.err
}

// save writes the source's state; mayskip lets it skip a token that
// changed only in its schedule bookkeeping since the last save.
func (t *Tracker) save(ctx context.Context, mayskip bool) error {
	key := t.rec.Key
	var tok string
	ts, digested := t.src.(tokenSource)
	var digest uint64
	if digested {
		pt, err := ts.Token()
		if err != nil {
			return fmt.Errorf("persist: track %q: resume token: %w", key, err)
		}
		digest = pt.Digest()
		if mayskip && t.saved && digest == t.digest {
			return nil
		}
		if t.buf, err = ts.AppendToken(t.buf[:0], pt); err != nil {
			return fmt.Errorf("persist: track %q: resume token: %w", key, err)
		}
		tok = string(t.buf)
	} else {
		var err error
		if tok, err = t.src.ResumeToken(); err != nil {
			return fmt.Errorf("persist: track %q: resume token: %w", key, err)
		}
	}
	last := t.src.Last()
	for attempt := 1; ; attempt++ {
		r := t.rec
		r.Token, r.Status, r.Detail = tok, last.Status, last.Detail
		if len(t.opts.Labels) > 0 {
			r.Labels = cloneLabels(r.Labels)
			if r.Labels == nil {
				r.Labels = map[string]string{}
			}
			for k, v := range t.opts.Labels {
				r.Labels[k] = v
			}
		}
		if !t.opts.ExpiresAt.IsZero() {
			r.ExpiresAt = t.opts.ExpiresAt
		}
		out, err := t.store.Put(ctx, r)
		if err == nil {
			t.rec = out
			t.digest, t.saved = digest, digested
			return nil
		}
		if !errors.Is(err, ErrConflict) || attempt == 3 {
			return fmt.Errorf("persist: track %q: %w", key, err)
		}
		cur, gerr := t.store.Get(ctx, key)
		switch {
		case gerr == nil:
			t.rec.Generation = cur.Generation
		case errors.Is(gerr, ErrNotFound):
			t.rec.Generation = 0 // deleted under us: the token must not be lost
		default:
			return fmt.Errorf("persist: track %q: %w", key, gerr)
		}
	}
}

// Err returns the error of the last save, nil when it succeeded.
func (t *Tracker) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Record returns the record as last saved.
func (t *Tracker) Record() Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.rec
	r.Labels = cloneLabels(r.Labels)
	return r
}

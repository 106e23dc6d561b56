package persist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// FileStore keeps one file per record in a directory: the embedded default,
// and the store to hand between CI jobs as an artifact.
//
// Each record file is JSON, named after its key (see Open for the layout),
// and replaced atomically: written to a temporary file, synced, renamed over
// the old one, and the directory synced, so a crash at any moment leaves the
// old record or the new one, never a torn one. A lock file in the directory
// serializes writers across processes (flock on Unix, LockFileEx on
// Windows). A record file that cannot be read yields a *CorruptError naming
// it, and every other record stays readable.
type FileStore struct {
	dir string
	lk  *dirLock
	e   engine
}

var (
	_ Store        = (*FileStore)(nil)
	_ Leaser       = (*FileStore)(nil)
	_ Sweeper      = (*FileStore)(nil)
	_ BatchRenewer = (*FileStore)(nil)
)

const (
	lockName   = ".lock"
	tempPrefix = ".tmp-"
)

// OpenFileStore opens the store in dir, creating the directory (mode 0700)
// if it does not exist, and removes temporary files a crashed writer left.
func OpenFileStore(dir string, opts *Options) (*FileStore, error) {
	if dir == "" {
		return nil, fmt.Errorf("persist: file store needs a directory: %w", ErrInvalid)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("persist: file store directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("persist: create file store directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(abs, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("persist: open file store lock: %w", err)
	}
	s := &FileStore{dir: abs, lk: &dirLock{f: f}}
	s.e = engine{t: fileTable{dir: abs}, l: s.lk, clock: opts.clock()}
	if err := s.removeTemps(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// Dir returns the store's directory, absolute.
func (s *FileStore) Dir() string { return s.dir }

// Put writes r if r.Generation matches (see Store).
func (s *FileStore) Put(ctx context.Context, r Record) (Record, error) { return s.e.put(ctx, r) }

// Get returns the record under key, ErrNotFound, or a *CorruptError naming
// the record's file.
func (s *FileStore) Get(ctx context.Context, key string) (Record, error) { return s.e.get(ctx, key) }

// Delete removes the record under key if its generation matches (see Store).
func (s *FileStore) Delete(ctx context.Context, key string, generation int64) error {
	return s.e.delete(ctx, key, generation)
}

// List returns the records f selects, sorted by key. When some record files
// cannot be read, it returns every readable record that f selects together
// with an error wrapping a *CorruptError for each unreadable file.
func (s *FileStore) List(ctx context.Context, f Filter) ([]Record, error) { return s.e.list(ctx, f) }

// Claim leases up to limit claimable records to owner (see Leaser).
// Unreadable record files are skipped.
func (s *FileStore) Claim(ctx context.Context, owner string, ttl time.Duration, limit int) ([]Record, error) {
	return s.e.claim(ctx, owner, ttl, limit)
}

// Renew extends a held lease (see Leaser).
func (s *FileStore) Renew(ctx context.Context, key string, lease Lease, ttl time.Duration) (Lease, error) {
	return s.e.renew(ctx, key, lease, ttl)
}

// RenewBatch extends many held leases at once (see BatchRenewer). Unreadable record files are
// not renewed.
func (s *FileStore) RenewBatch(ctx context.Context, leases map[string]Lease, ttl time.Duration) (map[string]Lease, error) {
	return s.e.renewBatch(ctx, leases, ttl)
}

// Release gives a lease up (see Leaser).
func (s *FileStore) Release(ctx context.Context, key string, lease Lease) error {
	return s.e.release(ctx, key, lease)
}

// Sweep removes expired records and the temporary files of crashed writers
// (see Sweeper).
func (s *FileStore) Sweep(ctx context.Context) (int, error) {
	if err := s.removeTemps(); err != nil {
		return 0, err
	}
	return s.e.sweep(ctx)
}

// Close releases the directory's lock file. The store is unusable after.
func (s *FileStore) Close() error {
	s.lk.mu.Lock()
	defer s.lk.mu.Unlock()
	if s.lk.closed {
		return nil
	}
	s.lk.closed = true
	return s.lk.f.Close()
}

// removeTemps deletes temporary files: they are only written under the
// exclusive lock, so any seen while holding it belongs to a dead writer.
func (s *FileStore) removeTemps() error {
	unlock, err := s.lk.lock()
	if err != nil {
		return err
	}
	defer unlock()
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("persist: read file store directory: %w", err)
	}
	for _, de := range ents {
		if strings.HasPrefix(de.Name(), tempPrefix) {
			if err := os.Remove(filepath.Join(s.dir, de.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("persist: remove stale temporary file: %w", err)
			}
		}
	}
	return nil
}

// dirLock is the store's lock: a RWMutex within the process, and the lock
// file across processes. Shared holders within the process share one shared
// file lock, taken by the first and dropped by the last.
type dirLock struct {
	mu      sync.RWMutex
	rmu     sync.Mutex
	readers int
	f       *os.File
	closed  bool
}

var errClosed = errors.New("persist: file store is closed")

func (l *dirLock) lock() (func(), error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, errClosed
	}
	if err := lockFile(l.f, true); err != nil {
		l.mu.Unlock()
		return nil, fmt.Errorf("persist: lock file store: %w", err)
	}
	return func() {
		unlockFile(l.f)
		l.mu.Unlock()
	}, nil
}

func (l *dirLock) rlock() (func(), error) {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil, errClosed
	}
	l.rmu.Lock()
	if l.readers == 0 {
		if err := lockFile(l.f, false); err != nil {
			l.rmu.Unlock()
			l.mu.RUnlock()
			return nil, fmt.Errorf("persist: lock file store: %w", err)
		}
	}
	l.readers++
	l.rmu.Unlock()
	return func() {
		l.rmu.Lock()
		l.readers--
		if l.readers == 0 {
			unlockFile(l.f)
		}
		l.rmu.Unlock()
		l.mu.RUnlock()
	}, nil
}

// fileTable is the directory of record files.
type fileTable struct{ dir string }

func (t fileTable) path(key string) string { return filepath.Join(t.dir, fileName(key)) }

func (t fileTable) load(key string) (Record, bool, error) {
	p := t.path(key)
	r, err := readRecordFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Record{}, false, nil
	case err != nil:
		return Record{}, false, err
	case r.Key != key:
		return Record{}, false, &CorruptError{Where: "record file " + p, Err: fmt.Errorf("it holds key %q, not %q", safeKey(r.Key), safeKey(key))}
	}
	return r, true, nil
}

func readRecordFile(p string) (Record, error) {
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Record{}, err
		}
		return Record{}, fmt.Errorf("persist: read record file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return Record{}, fmt.Errorf("persist: read record file: %w", err)
	}
	r, err := decodeRecord(b)
	switch {
	case errors.Is(err, ErrNewerVersion):
		return Record{}, fmt.Errorf("persist: record file %s: %w", p, err)
	case err != nil:
		return Record{}, &CorruptError{Where: "record file " + p, Err: err}
	}
	return r, nil
}

func (t fileTable) save(r Record) error {
	b, err := encodeRecord(r)
	if err != nil {
		return fmt.Errorf("persist: encode %q: %w", r.Key, err)
	}
	tmp, err := os.CreateTemp(t.dir, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("persist: write %q: %w", r.Key, err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), t.path(r.Key))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("persist: write %q: %w", r.Key, err)
	}
	if err := syncDir(t.dir); err != nil {
		return fmt.Errorf("persist: write %q: sync directory: %w", r.Key, err)
	}
	return nil
}

func (t fileTable) remove(key string) error {
	if err := os.Remove(t.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("persist: remove %q: %w", key, err)
	}
	if err := syncDir(t.dir); err != nil {
		return fmt.Errorf("persist: remove %q: sync directory: %w", key, err)
	}
	return nil
}

func (t fileTable) scan() ([]Record, error) {
	ents, err := os.ReadDir(t.dir)
	if err != nil {
		return nil, fmt.Errorf("persist: read file store directory: %w", err)
	}
	var out []Record
	var errs []error
	for _, de := range ents {
		name := de.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, recordExt) || de.IsDir() {
			continue
		}
		p := filepath.Join(t.dir, name)
		r, err := readRecordFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			errs = append(errs, err)
			continue
		case fileName(r.Key) != name:
			errs = append(errs, &CorruptError{Where: "record file " + p, Err: fmt.Errorf("it holds key %q, which belongs in %s", safeKey(r.Key), fileName(r.Key))})
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

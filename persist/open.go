package persist

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
)

// Open opens the store a DSN names:
//
//   - "mem:" — a new, empty MemoryStore;
//   - "file:///abs/dir", "file:rel/dir", or a plain path ("./state",
//     "C:\state") — a FileStore in that directory, created if missing;
//   - "postgres://…" or "postgresql://…" — a PostgresStore. Two query
//     parameters are lrokit's, removed before the DSN reaches the driver:
//     schema (the schema to keep the table in, created if missing; default:
//     the connection's search_path) and table (default "lrokit_records").
//     Both must be lower-case SQL identifiers of at most 48 bytes.
//
// Every store Open returns also implements Leaser, Sweeper and io.Closer;
// close it when done. Errors never quote the DSN.
func Open(ctx context.Context, dsn string) (Store, error) { return OpenWith(ctx, dsn, nil) }

// OpenWith is Open with options (a clock for tests).
func OpenWith(ctx context.Context, dsn string, opts *Options) (Store, error) {
	kind, target, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "mem":
		return NewMemoryStore(opts), nil
	case "file":
		return OpenFileStore(target, opts)
	default:
		return OpenPostgresStore(ctx, target, opts)
	}
}

// parseDSN classifies dsn as "mem", "file" (target: the directory) or
// "postgres" (target: the DSN).
func parseDSN(dsn string) (kind, target string, err error) {
	lower := strings.ToLower(dsn)
	switch {
	case strings.TrimSpace(dsn) == "":
		return "", "", fmt.Errorf("persist: empty store DSN: %w", ErrInvalid)
	case strings.IndexByte(dsn, 0) >= 0:
		return "", "", fmt.Errorf("persist: store DSN holds a NUL byte: %w", ErrInvalid)
	case lower == "mem:" || lower == "mem://":
		return "mem", "", nil
	case strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://"):
		return "postgres", "postgres" + dsn[strings.Index(dsn, ":"):], nil
	case strings.HasPrefix(lower, "file:"):
		u, err := url.Parse(dsn)
		if err != nil {
			return "", "", fmt.Errorf("persist: file DSN is not a valid URL: %w", ErrInvalid)
		}
		p := u.Path
		if u.Opaque != "" {
			p, err = url.PathUnescape(u.Opaque)
			if err != nil {
				return "", "", fmt.Errorf("persist: file DSN path is malformed: %w", ErrInvalid)
			}
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", "", fmt.Errorf("persist: file DSN names host %q; only local directories are supported: %w", safeKey(u.Host), ErrInvalid)
		}
		if runtime.GOOS == "windows" && len(p) >= 3 && p[0] == '/' && p[2] == ':' {
			p = p[1:] // file:///C:/dir
		}
		if p == "" {
			return "", "", fmt.Errorf("persist: file DSN names no directory: %w", ErrInvalid)
		}
		return "file", filepath.FromSlash(p), nil
	}
	if i := strings.Index(dsn, "://"); i > 0 && !strings.ContainsAny(dsn[:i], `/\.`) {
		return "", "", fmt.Errorf("persist: unknown store scheme %q (want mem:, file:, postgres:// or a path): %w", safeKey(dsn[:i]), ErrInvalid)
	}
	if strings.HasPrefix(lower, "mem:") {
		return "", "", fmt.Errorf("persist: memory DSN is just \"mem:\": %w", ErrInvalid)
	}
	return "file", dsn, nil
}

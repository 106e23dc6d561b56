package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// Seal keys come from the environment, never from a flag (flags show up
// in process listings):
//
//	LROKIT_SEAL_KEY   the current key: tokens are sealed with it when
//	                  written and must be sealed (with it or an older key)
//	                  when read. At least 32 bytes.
//	LROKIT_SEAL_KEYS  older keys still accepted when reading, comma-
//	                  separated, for rotation.
//
// Each key is its raw bytes, or "base64:" followed by standard or URL-safe
// base64 (padded or not), or "hex:" followed by hex: use an encoded form
// for random keys and for keys holding a comma.
const (
	sealKeyEnv  = "LROKIT_SEAL_KEY"
	sealKeysEnv = "LROKIT_SEAL_KEYS"
)

// parseSealKey decodes one key from the environment.
func parseSealKey(v string) ([]byte, error) {
	switch {
	case strings.HasPrefix(v, "base64:"):
		enc := strings.TrimRight(strings.TrimPrefix(v, "base64:"), "=")
		for _, e := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			if b, err := e.DecodeString(enc); err == nil {
				return b, nil
			}
		}
		return nil, errors.New(`its "base64:" value is not base64`)
	case strings.HasPrefix(v, "hex:"):
		b, err := hex.DecodeString(strings.TrimPrefix(v, "hex:"))
		if err != nil {
			return nil, errors.New(`its "hex:" value is not hex`)
		}
		return b, nil
	}
	return []byte(v), nil
}

// sealKeys reads LROKIT_SEAL_KEY and LROKIT_SEAL_KEYS. Errors (a key too
// short or badly encoded, older keys without a current one) name the
// variable, never the key, and mean exit 2.
func sealKeys() (current []byte, older [][]byte, err error) {
	bad := func(name string, why error) error {
		return usageErr("%s: %v (see lrokit --help: seal keys)", name, why)
	}
	if v := os.Getenv(sealKeyEnv); v != "" {
		k, err := parseSealKey(v)
		if err != nil {
			return nil, nil, bad(sealKeyEnv, err)
		}
		if len(k) < poller.MinSealKeySize {
			return nil, nil, bad(sealKeyEnv, fmt.Errorf("the key is %d bytes; at least %d are required (for example base64: and 32 random bytes)", len(k), poller.MinSealKeySize))
		}
		current = k
	}
	if v := os.Getenv(sealKeysEnv); v != "" {
		if current == nil {
			return nil, nil, bad(sealKeysEnv, fmt.Errorf("older keys are given but %s, the current key, is not set", sealKeyEnv))
		}
		for i, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			k, err := parseSealKey(part)
			if err != nil {
				return nil, nil, bad(sealKeysEnv, fmt.Errorf("key %d: %w", i+1, err))
			}
			if len(k) < poller.MinSealKeySize {
				return nil, nil, bad(sealKeysEnv, fmt.Errorf("key %d is %d bytes; at least %d are required", i+1, len(k), poller.MinSealKeySize))
			}
			older = append(older, k)
		}
	}
	return current, older, nil
}

// sealKey is the current seal key; the root command checked the
// environment before any command runs.
func sealKey() []byte {
	k, _, _ := sealKeys()
	return k
}

// olderSealKeys are the older keys accepted for rotation.
func olderSealKeys() [][]byte {
	_, older, _ := sealKeys()
	return older
}

// sealOptions are the poller options that carry the seal keys.
func sealOptions() poller.Options {
	k, older, _ := sealKeys()
	return poller.Options{SealKey: k, SealKeys: older}
}

// tokenSource is TOKEN-SOURCE: --token, --token-file or --store + --key.
type tokenSource struct {
	token, file, store, key string
}

func (s *tokenSource) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.token, "token", "", "the resume token itself")
	fs.StringVar(&s.file, "token-file", "", `a file holding the token ("-" for stdin); written back after every poll`)
	fs.StringVar(&s.store, "store", "", `a token store: a directory, "file:///dir", "mem:" or "postgres://..."`)
	fs.StringVar(&s.key, "key", "", "the operation's key in --store")
}

// check validates that exactly one source is named.
func (s *tokenSource) check(required bool) error {
	n := 0
	for _, set := range []bool{s.token != "", s.file != "", s.store != ""} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return usageErr("give only one of --token, --token-file, --store")
	case n == 0 && required:
		return usageErr("name the token: --token STRING, --token-file PATH or --store DSN --key KEY")
	case (s.store != "") != (s.key != ""):
		return usageErr("--store and --key go together")
	}
	return nil
}

// load reads the token.
func (s *tokenSource) load(ctx context.Context, stdin io.Reader) (string, error) {
	switch {
	case s.token != "":
		return s.token, nil
	case s.file == "-":
		b, err := io.ReadAll(io.LimitReader(stdin, poller.MaxTokenSize+1))
		if err != nil {
			return "", usageErr("reading the token from stdin: %v", err)
		}
		return string(b), nil
	case s.file != "":
		f, err := os.Open(s.file)
		if err != nil {
			return "", usageErr("reading the token file: %v", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, poller.MaxTokenSize+1))
		if err != nil {
			return "", usageErr("reading the token file: %v", err)
		}
		return string(b), nil
	case s.store != "":
		st, err := openStore(ctx, s.store)
		if err != nil {
			return "", err
		}
		defer closeStore(st)
		r, err := st.Get(ctx, s.key)
		if errors.Is(err, persist.ErrNotFound) {
			return "", usageErr("no token under key %q in the store", s.key)
		}
		if err != nil {
			return "", withCode(storeErrCode(err), fmt.Errorf("reading key %q from the store: %w", s.key, err))
		}
		return r.Token, nil
	}
	return "", usageErr("no token source")
}

// describe names the source in messages (never the token itself).
func (s *tokenSource) describe() string {
	switch {
	case s.store != "":
		return fmt.Sprintf("key %q in the store", s.key)
	case s.file == "-":
		return "stdin"
	case s.file != "":
		return "the token file"
	}
	return "the token"
}

// writable reports whether save has somewhere to write.
func (s *tokenSource) writable() bool { return (s.file != "" && s.file != "-") || s.store != "" }

// saveFile writes the token atomically to the token file.
func (s *tokenSource) saveFile(token string) error {
	return writeFileAtomic(s.file, []byte(token+"\n"))
}

func openStore(ctx context.Context, dsn string) (persist.Store, error) {
	st, err := persist.Open(ctx, dsn)
	if err != nil {
		return nil, withCode(storeErrCode(err), fmt.Errorf("opening the store: %w", err))
	}
	return st, nil
}

// storeErrCode is the exit code of a store error: a DSN, key or record the
// store refuses is the caller's to fix (usage); anything else (a database
// that is down, a full or read-only disk) is the store's.
func storeErrCode(err error) int {
	switch {
	case errors.Is(err, persist.ErrInvalid), errors.Is(err, persist.ErrCorrupt), errors.Is(err, persist.ErrNewerVersion):
		return exitUsage
	}
	return exitStore
}

func closeStore(st persist.Store) {
	if c, ok := st.(io.Closer); ok {
		_ = c.Close()
	}
}

// writeFileAtomic replaces path with data so that a reader (or a crash)
// sees the old or the new content, never a torn one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// The rename is durable once the directory is synced: an intent must
	// be on disk before its request is sent.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// output is where begin/adopt put a new token: stdout, --token-file, or
// --store + --key.
type output struct {
	file, store, key string
	labels           []string
}

func (o *output) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.file, "token-file", "", "write the token to this file instead of stdout")
	fs.StringVar(&o.store, "store", "", `save the token in this store ("file:///dir", a directory, "mem:", "postgres://...")`)
	fs.StringVar(&o.key, "key", "", "the operation's key in --store")
	fs.StringArrayVar(&o.labels, "label", nil, "a label k=v for the stored record (repeatable)")
}

func (o *output) check() error {
	if (o.store != "") != (o.key != "") {
		return usageErr("--store and --key go together")
	}
	if o.store != "" && o.file != "" {
		return usageErr("give --token-file or --store, not both")
	}
	for _, l := range o.labels {
		if !strings.Contains(l, "=") {
			return usageErr("--label wants k=v, got %q", l)
		}
	}
	return nil
}

func (o *output) labelMap() map[string]string {
	if len(o.labels) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, l := range o.labels {
		k, v, _ := strings.Cut(l, "=")
		m[k] = v
	}
	return m
}

// source returns the token source that reads back what o wrote.
func (o *output) source() tokenSource {
	return tokenSource{file: o.file, store: o.store, key: o.key}
}

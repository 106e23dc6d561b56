package persist_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/persist"
)

func openFile(t *testing.T, dir string) *persist.FileStore {
	t.Helper()
	s, err := persist.OpenFileStore(dir, nil)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestFileStoreCorruptFileIsNamedAndOthersStayReadable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openFile(t, dir)
	for _, k := range []string{"a", "b", "c"} {
		_, err := s.Put(ctx, persist.Record{Key: k, Token: "tok-" + k})
		require.NoError(t, err)
	}
	bad := filepath.Join(dir, "b.json")
	tests := []struct {
		name    string
		content string
		why     string
	}{
		{"truncated", `{"lrokit_record":1,"key":"b","tok`, "not a JSON record file"},
		{"garbage", "\x00\x01\x02", "not a JSON record file"},
		{"empty", "", "not a JSON record file"},
		{"foreign JSON", `{"hello":"world"}`, `no "lrokit_record" version field`},
		{"wrong type", `{"lrokit_record":1,"key":"b","generation":"one"}`, "wrong type"},
		{"invalid record", `{"lrokit_record":1,"key":"b","token":"t","generation":1,"status":"Exploded"}`, "invalid record"},
		{"zero generation", `{"lrokit_record":1,"key":"b","token":"t","generation":0}`, "generation"},
		{"another key", `{"lrokit_record":1,"key":"a","token":"t","generation":1}`, `holds key "a"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(bad, []byte(tc.content), 0o600))
			_, err := s.Get(ctx, "b")
			require.ErrorIs(t, err, persist.ErrCorrupt)
			var ce *persist.CorruptError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), bad, "the error names the file")
			assert.Contains(t, err.Error(), tc.why)

			for _, k := range []string{"a", "c"} {
				r, err := s.Get(ctx, k)
				require.NoError(t, err)
				assert.Equal(t, "tok-"+k, r.Token)
			}
			all, err := s.List(ctx, persist.Filter{})
			require.ErrorIs(t, err, persist.ErrCorrupt)
			assert.Contains(t, err.Error(), bad)
			require.Len(t, all, 2, "List still returns the readable records")
			assert.Equal(t, "a", all[0].Key)
			assert.Equal(t, "c", all[1].Key)

			_, err = s.Put(ctx, persist.Record{Key: "b", Token: "new"})
			assert.ErrorIs(t, err, persist.ErrCorrupt, "a corrupt record is never silently replaced")
		})
	}
	require.NoError(t, os.Remove(bad))
	_, err := s.List(ctx, persist.Filter{})
	require.NoError(t, err)
}

func TestFileStoreMisplacedRecordIsReportedByList(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openFile(t, dir)
	_, err := s.Put(ctx, persist.Record{Key: "a", Token: "t"})
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "a.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "copy.json"), b, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a record"), 0o600))
	all, err := s.List(ctx, persist.Filter{})
	require.ErrorIs(t, err, persist.ErrCorrupt)
	assert.Contains(t, err.Error(), filepath.Join(dir, "copy.json"))
	assert.NotContains(t, err.Error(), "README", "files that are not *.json are not records")
	require.Len(t, all, 1)
}

func TestFileStoreRefusesNewerFormatSayingUpgrade(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openFile(t, dir)
	p := filepath.Join(dir, "future.json")
	require.NoError(t, os.WriteFile(p, []byte(`{"lrokit_record":2,"key":"future","shiny":true}`), 0o600))
	_, err := s.Get(ctx, "future")
	require.ErrorIs(t, err, persist.ErrNewerVersion)
	assert.NotErrorIs(t, err, persist.ErrCorrupt)
	assert.Contains(t, err.Error(), "upgrade")
	assert.Contains(t, err.Error(), p)
	_, err = s.List(ctx, persist.Filter{})
	require.ErrorIs(t, err, persist.ErrNewerVersion)
	_, err = s.Put(ctx, persist.Record{Key: "future", Token: "t"})
	require.ErrorIs(t, err, persist.ErrNewerVersion, "a newer record is not overwritten")
}

func TestFileStoreNeverWritesOutsideItsDirectory(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "store")
	s := openFile(t, dir)
	for _, k := range []string{"../escape", "a/../../escape", "/etc/escape", "..", "a/b/../../../escape", "x\x00/../escape"} {
		_, err := s.Put(ctx, persist.Record{Key: k, Token: "t"})
		require.ErrorIs(t, err, persist.ErrInvalid, k)
	}
	for _, k := range []string{"deploy/prod/aks", "a/b/c/d", `..\..\win`, "...", "a/.../b", "con", ".lock", ".tmp-x"} {
		_, err := s.Put(ctx, persist.Record{Key: k, Token: "t"})
		require.NoError(t, err, k)
	}
	ents, err := os.ReadDir(root)
	require.NoError(t, err)
	require.Len(t, ents, 1, "nothing but the store directory in its parent")
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if p != dir {
			assert.False(t, d.IsDir(), "no subdirectory %s", p)
		}
		return nil
	})
	require.NoError(t, err)
	ents, err = os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{".lock", "deploy%2Fprod%2Faks.json", "a%2Fb%2Fc%2Fd.json", "%2E%2E%5C%2E%2E%5Cwin.json",
		"%2E%2E%2E.json", "a%2F%2E%2E%2E%2Fb.json", "%63on.json", "%2Elock.json", "%2Etmp-x.json"}, names)
	all, err := s.List(ctx, persist.Filter{})
	require.NoError(t, err)
	assert.Len(t, all, 8)
	_, err = s.Get(ctx, "../escape")
	assert.ErrorIs(t, err, persist.ErrInvalid)
}

func TestFileStoreRemovesTemporaryFilesOfCrashedWriters(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".tmp-123456")
	require.NoError(t, os.WriteFile(stale, []byte(`{"lrokit_record":1,"key":"half`), 0o600))
	s := openFile(t, dir)
	_, err := os.Stat(stale)
	assert.ErrorIs(t, err, os.ErrNotExist)

	require.NoError(t, os.WriteFile(stale, nil, 0o600))
	_, err = s.Sweep(context.Background())
	require.NoError(t, err)
	_, err = os.Stat(stale)
	assert.ErrorIs(t, err, os.ErrNotExist, "Sweep removes them too")
}

func TestFileStoreFilesArePrivateJSON(t *testing.T) {
	dir := t.TempDir()
	s := openFile(t, dir)
	_, err := s.Put(context.Background(), persist.Record{Key: "a", Token: "lrokit1.secretish", Labels: map[string]string{"k": "v"}})
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "a.json"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), "{\n  \"lrokit_record\": 1,"), "human-readable JSON with its version first:\n%s", b)
	if filepath.Separator == '/' {
		st, err := os.Stat(filepath.Join(dir, "a.json"))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	}
}

func TestFileStoreAfterCloseFails(t *testing.T) {
	s, err := persist.OpenFileStore(t.TempDir(), nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "closing twice is harmless")
	_, err = s.Put(context.Background(), persist.Record{Key: "a", Token: "t"})
	assert.ErrorContains(t, err, "closed")
	_, err = s.Get(context.Background(), "a")
	assert.ErrorContains(t, err, "closed")
}

func TestTwoFileStoresOnOneDirectoryShareRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := openFile(t, dir), openFile(t, dir)
	r, err := a.Put(ctx, persist.Record{Key: "k", Token: "t1"})
	require.NoError(t, err)
	got, err := b.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, r, got)
	_, err = b.Put(ctx, persist.Record{Key: "k", Token: "t2", Generation: r.Generation})
	require.NoError(t, err)
	_, err = a.Put(ctx, r)
	require.ErrorIs(t, err, persist.ErrConflict)
}

func TestFileStoreRenewBatchSkipsACorruptRecordAndRenewsTheOthers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openFile(t, dir)
	for _, k := range []string{"a", "b", "c"} {
		_, err := s.Put(ctx, persist.Record{Key: k, Token: "tok-" + k})
		require.NoError(t, err)
	}
	recs, err := s.Claim(ctx, "w", time.Minute, 3)
	require.NoError(t, err)
	require.Len(t, recs, 3)
	leases := map[string]persist.Lease{}
	for _, r := range recs {
		leases[r.Key] = r.Lease
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.json"), []byte("\x00"), 0o600))

	got, err := s.RenewBatch(ctx, leases, time.Hour)
	require.NoError(t, err, "one unreadable record does not fail the renewal of the others")
	assert.ElementsMatch(t, []string{"a", "c"}, slices.Collect(maps.Keys(got)))
}

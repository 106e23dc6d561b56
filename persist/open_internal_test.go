package persist

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		dsn, kind, target string
	}{
		{"mem:", "mem", ""},
		{"MEM:", "mem", ""},
		{"mem://", "mem", ""},
		{"file:///var/lib/lrokit", "file", filepath.FromSlash("/var/lib/lrokit")},
		{"file://localhost/var/lib/lrokit", "file", filepath.FromSlash("/var/lib/lrokit")},
		{"file:state/ops", "file", filepath.FromSlash("state/ops")},
		{"file:///tmp/with%20space", "file", filepath.FromSlash("/tmp/with space")},
		{"./state", "file", "./state"},
		{"/abs/state", "file", "/abs/state"},
		{"state", "file", "state"},
		{"mem", "file", "mem"},
		{`C:\state`, "file", `C:\state`},
		{"dir/with://inside", "file", "dir/with://inside"},
		{"postgres://u:p@h/db?sslmode=disable", "postgres", "postgres://u:p@h/db?sslmode=disable"},
		{"POSTGRESQL://h/db", "postgres", "postgres://h/db"},
	}
	for _, tc := range tests {
		t.Run(tc.dsn, func(t *testing.T) {
			kind, target, err := parseDSN(tc.dsn)
			require.NoError(t, err)
			assert.Equal(t, tc.kind, kind)
			assert.Equal(t, tc.target, target)
		})
	}
}

func TestParseDSNRefusesUnknownOrMalformed(t *testing.T) {
	for _, dsn := range []string{"", "  ", "ftp://host/x", "redis://h", "mem:name", "file://remote/x", "file:", "a\x00b", "file:%zz"} {
		t.Run(dsn, func(t *testing.T) {
			_, _, err := parseDSN(dsn)
			require.ErrorIs(t, err, ErrInvalid)
		})
	}
}

func TestParseDSNWindowsDrive(t *testing.T) {
	if runtime.GOOS != "windows" {
		t.Skip("drive letters are Windows paths")
	}
	_, target, err := parseDSN("file:///C:/state")
	require.NoError(t, err)
	assert.Equal(t, `C:\state`, target)
}

func TestSplitPostgresDSN(t *testing.T) {
	conn, schema, table, err := splitPostgresDSN("postgres://u:secret@h:5432/db?sslmode=disable&schema=ops&table=tokens&application_name=x")
	require.NoError(t, err)
	assert.Equal(t, "postgres://u:secret@h:5432/db?application_name=x&sslmode=disable", conn, "lrokit's parameters never reach the driver")
	assert.Equal(t, "ops", schema)
	assert.Equal(t, "tokens", table)

	conn, schema, table, err = splitPostgresDSN("host=h dbname=db")
	require.NoError(t, err)
	assert.Equal(t, "host=h dbname=db", conn)
	assert.Equal(t, "", schema)
	assert.Equal(t, DefaultTable, table)

	for _, dsn := range []string{
		"postgres://h/db?schema=Ops", "postgres://h/db?schema=a-b", "postgres://h/db?table=x;drop", "postgres://h/db?schema=",
		"postgres://h/db?table=" + string(make([]byte, 60)), "postgres://h/db?%zz", "postgres://u:p@[::1/db?password=hunter2",
	} {
		_, _, _, err := splitPostgresDSN(dsn)
		require.ErrorIs(t, err, ErrInvalid, dsn)
		assert.NotContains(t, err.Error(), "hunter2")
		assert.NotContains(t, err.Error(), "postgres://")
	}
}

package persist

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileNameIsSafeAndReversible(t *testing.T) {
	tests := []struct {
		key, want string
	}{
		{"deploy/prod/aks", "deploy%2Fprod%2Faks.json"},
		{"plain-key_1", "plain-key_1.json"},
		{"Ab", "%41b.json"},
		{"aB", "a%42.json"},
		{"a.b", "a%2Eb.json"},
		{".hidden", "%2Ehidden.json"},
		{"...", "%2E%2E%2E.json"},
		{"con", "%63on.json"},
		{"nul", "%6Eul.json"},
		{"com7", "%63om7.json"},
		{"lpt1", "%6Cpt1.json"},
		{"console", "console.json"},
		{"a%2Fb", "a%252%46b.json"},
		{`c:\x`, "c%3A%5Cx.json"},
		{"é", "%C3%A9.json"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			require.NoError(t, ValidateKey(tc.key))
			got := fileName(tc.key)
			assert.Equal(t, tc.want, got)
			back, ok := keyFromName(got)
			require.True(t, ok)
			assert.Equal(t, tc.key, back)
		})
	}
}

func TestLongKeysGetHashedNamesThatStayApart(t *testing.T) {
	a := strings.Repeat("/", 1) + strings.Repeat("x", 300)
	keys := []string{
		strings.Repeat("x", 300), strings.Repeat("x", 299) + "y", strings.Repeat("X", 300),
		strings.Repeat("x/", 150) + "z", strings.Repeat("é", 200), a[1:] + "q",
	}
	seen := map[string]string{}
	for _, k := range keys {
		require.NoError(t, ValidateKey(k))
		n := fileName(k)
		assert.LessOrEqual(t, len(n), maxNameBase+len(recordExt), "name of %q", k)
		assert.Contains(t, n, "~")
		assert.Equal(t, strings.ToLower(n[:strings.Index(n, "~")]) != "", true)
		_, ok := keyFromName(n)
		assert.False(t, ok, "hashed names are resolved through the file's content")
		if prev, dup := seen[strings.ToLower(n)]; dup {
			t.Fatalf("keys %q and %q share file name %s", prev, k, n)
		}
		seen[strings.ToLower(n)] = k
	}
}

func TestKeyFromNameRefusesForeignNames(t *testing.T) {
	for _, n := range []string{
		"notes.txt", ".json", "A.json", "a%2f.json", "a%2.json", "a%zz.json", "%2E%2E.json", "a%2F%2Fb.json",
		"con.json", "a~0123.json", "a.b.json", "%00.json",
	} {
		_, ok := keyFromName(n)
		assert.False(t, ok, n)
	}
}

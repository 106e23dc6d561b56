package retryafter_test

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/retryafter"
)

const vectorDir = "../testdata/retryafter"

// saturatedMs is math.MaxInt64 ns truncated to ms; as want_ms it demands
// exactly the maximum duration (see testdata/retryafter/README.md).
const saturatedMs = math.MaxInt64 / int64(time.Millisecond)

type vectorFile struct {
	Function string   `json:"function"`
	Vectors  []vector `json:"vectors"`
}

type vector struct {
	Name      string              `json:"name"`
	Rule      string              `json:"rule"`
	Now       time.Time           `json:"now"`
	Value     *string             `json:"value"`
	Headers   map[string][]string `json:"headers"`
	WantMs    *int64              `json:"want_ms"`
	WantError bool                `json:"want_error"`
	WantOK    *bool               `json:"want_ok"`
}

func loadVectors(t *testing.T) []vectorFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(vectorDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	var files []vectorFile
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var f vectorFile
		require.NoError(t, dec.Decode(&f), p)
		files = append(files, f)
	}
	return files
}

func wantDuration(ms int64) time.Duration {
	if ms == saturatedMs {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ms) * time.Millisecond
}

func TestVectors(t *testing.T) {
	files := loadVectors(t)
	names := map[string]bool{}
	total := 0
	for _, f := range files {
		for _, v := range f.Vectors {
			require.NotEmpty(t, v.Name)
			require.NotEmpty(t, v.Rule, v.Name)
			require.False(t, v.Now.IsZero(), "%s: now missing", v.Name)
			require.False(t, names[v.Name], "duplicate vector name %q", v.Name)
			names[v.Name] = true
			total++
			switch f.Function {
			case "Parse":
				runParseVector(t, v)
			case "FromHeader":
				runHeaderVector(t, v)
			default:
				t.Fatalf("unknown function %q", f.Function)
			}
		}
	}
	assert.GreaterOrEqual(t, total, 45)
}

func runParseVector(t *testing.T, v vector) {
	require.NotNil(t, v.Value, "%s: value missing", v.Name)
	require.Nil(t, v.Headers, "%s: headers in a Parse vector", v.Name)
	require.Nil(t, v.WantOK, "%s: want_ok in a Parse vector", v.Name)
	require.True(t, (v.WantMs != nil) != v.WantError, "%s: need exactly one of want_ms, want_error", v.Name)
	t.Run(v.Name, func(t *testing.T) {
		got, err := retryafter.Parse(*v.Value, v.Now)
		if v.WantError {
			require.ErrorIs(t, err, retryafter.ErrInvalid)
			assert.Zero(t, got)
			return
		}
		require.NoError(t, err)
		assert.Equal(t, wantDuration(*v.WantMs), got)
	})
}

func runHeaderVector(t *testing.T, v vector) {
	require.NotNil(t, v.Headers, "%s: headers missing", v.Name)
	require.Nil(t, v.Value, "%s: value in a FromHeader vector", v.Name)
	require.False(t, v.WantError, "%s: want_error in a FromHeader vector", v.Name)
	require.NotNil(t, v.WantMs, "%s: want_ms missing", v.Name)
	require.NotNil(t, v.WantOK, "%s: want_ok missing", v.Name)
	t.Run(v.Name, func(t *testing.T) {
		got, ok := retryafter.FromHeader(http.Header(v.Headers), v.Now)
		assert.Equal(t, *v.WantOK, ok)
		assert.Equal(t, wantDuration(*v.WantMs), got)
	})
}

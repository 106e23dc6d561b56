package retryafter_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lrokit/lrokit/retryafter"
)

// fuzzNow is 2026-01-01T00:00:00Z.
const fuzzNow = 1767225600

func FuzzParse(f *testing.F) {
	for _, v := range []string{
		"", "0", "007", " 30\t", "99999999999999999999999", "+5", "-5", "1.5", "1e3", "5s", "5, 6",
		"Sun, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994",
		"Thu, 01 Jan 2026 00:01:30 PST",
		"Mon, 30 Feb 2026 00:00:00 GMT",
		"Wed, 31 Dec 2025 23:59:60 GMT",
	} {
		f.Add(v, int64(fuzzNow))
	}
	f.Add("Saturday, 01-Jan-01 00:00:00 GMT", int64(-62135596800))
	f.Fuzz(func(t *testing.T, value string, nowUnix int64) {
		now := time.Unix(nowUnix, 0).UTC()
		d, err := retryafter.Parse(value, now)
		if err != nil {
			if !errors.Is(err, retryafter.ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", value, err)
			}
			if d != 0 {
				t.Fatalf("Parse(%q) = %v with error", value, d)
			}
			return
		}
		if d < 0 {
			t.Fatalf("Parse(%q) = %v, want >= 0", value, d)
		}
	})
}

// FuzzFromHeader takes one argument per field; "" leaves the field out and
// "\n" separates field lines.
func FuzzFromHeader(f *testing.F) {
	f.Add("", "", "120", "", int64(fuzzNow))
	f.Add("1500", "2500", "10", "", int64(fuzzNow))
	f.Add("1.5", "2500", "10", "", int64(fuzzNow))
	f.Add("x", "y", "5\n6", "", int64(fuzzNow))
	f.Add("100\n100", "", "", "", int64(fuzzNow))
	f.Add("", "", "Thu, 01 Jan 2026 00:01:00 GMT", "Thu, 01 Jan 2026 00:00:00 GMT", int64(fuzzNow+300))
	f.Add("", "", "Thu Jan  1 00:01:00 2026", "Thursday, 01-Jan-26 00:00:00 GMT\nyesterday", int64(fuzzNow))
	f.Fuzz(func(t *testing.T, ms, xms, ra, date string, nowUnix int64) {
		h := http.Header{}
		for key, v := range map[string]string{
			"Retry-After-Ms":      ms,
			"X-Ms-Retry-After-Ms": xms,
			"Retry-After":         ra,
			"Date":                date,
		} {
			if v != "" {
				h[key] = strings.Split(v, "\n")
			}
		}
		now := time.Unix(nowUnix, 0).UTC()
		d, ok := retryafter.FromHeader(h, now)
		if !ok && d != 0 {
			t.Fatalf("FromHeader(%q) = %v, false", h, d)
		}
		if d < 0 {
			t.Fatalf("FromHeader(%q) = %v, want >= 0", h, d)
		}
		if ms == "" && xms == "" && date == "" && ra != "" && !strings.Contains(ra, "\n") {
			pd, err := retryafter.Parse(ra, now)
			if pd != d || (err == nil) != ok {
				t.Fatalf("FromHeader(%q) = %v, %v; Parse = %v, %v", h, d, ok, pd, err)
			}
		}
	})
}

package retryafter

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestParseErrorMessages(t *testing.T) {
	long := "Thu, 01 Jan 2026 00:01:30 GMT and then a long tail"
	tests := []struct {
		value string
		want  string
	}{
		{"", `retryafter: invalid value "": empty value`},
		{" \t", `retryafter: invalid value " \t": empty value`},
		{"+5", `retryafter: invalid value "+5": sign not allowed`},
		{"-5", `retryafter: invalid value "-5": sign not allowed`},
		{"1.5", `retryafter: invalid value "1.5": delay-seconds must be 1*DIGIT`},
		{"5s", `retryafter: invalid value "5s": delay-seconds must be 1*DIGIT`},
		{"soon", `retryafter: invalid value "soon": not delay-seconds or an HTTP-date`},
		{"Thu, 01 Jan 2026 00:01:30 PST", `retryafter: invalid value "Thu, 01 Jan 2026 00:01:30 PST": time zone must be GMT`},
		{"Thu, 01 Jan 2026 24:00:00 GMT", `retryafter: invalid value "Thu, 01 Jan 2026 24:00:00 GMT": impossible time of day`},
		{"Thu, 31 Apr 2026 00:00:00 GMT", `retryafter: invalid value "Thu, 31 Apr 2026 00:00:00 GMT": impossible date`},
		{"Fri, 01 Jan 2026 00:00:00 GMT", `retryafter: invalid value "Fri, 01 Jan 2026 00:00:00 GMT": weekday does not match date`},
		{long, `retryafter: invalid value "Thu, 01 Jan 2026 00:01:30 GMT and then a"...: not delay-seconds or an HTTP-date`},
		// The 40-byte cut would split "é"; it backs off to a rune boundary.
		{strings.Repeat("x", 39) + "é tail", `retryafter: invalid value "` + strings.Repeat("x", 39) + `"...: not delay-seconds or an HTTP-date`},
		{"\xff\x00", `retryafter: invalid value "\xff\x00": not delay-seconds or an HTTP-date`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			d, err := Parse(tt.value, testNow)
			require.ErrorIs(t, err, ErrInvalid)
			assert.Equal(t, tt.want, err.Error())
			assert.Zero(t, d)
		})
	}
}

func TestParseDigits(t *testing.T) {
	maxMs := fmt.Sprint(math.MaxInt64 / int64(time.Millisecond))
	tests := []struct {
		s    string
		unit time.Duration
		want time.Duration
		ok   bool
	}{
		{"0", time.Second, 0, true},
		{"1", time.Millisecond, time.Millisecond, true},
		{"9223372036", time.Second, 9223372036 * time.Second, true},
		{"9223372037", time.Second, maxDelay, true},
		{maxMs, time.Millisecond, time.Duration(math.MaxInt64/int64(time.Millisecond)) * time.Millisecond, true},
		{maxMs + "0", time.Millisecond, maxDelay, true},
		{"9223372036854775807", time.Nanosecond, maxDelay, true},
		{"9223372036854775808", time.Nanosecond, maxDelay, true},
		{"18446744073709551616", time.Second, maxDelay, true},
		{strings.Repeat("9", 400), time.Second, maxDelay, true},
		{strings.Repeat("0", 400) + "42", time.Second, 42 * time.Second, true},
		{"", time.Second, 0, false},
		{"99999999999999999999x", time.Second, 0, false},
		{"1 2", time.Second, 0, false},
	}
	for _, tt := range tests {
		d, ok := parseDigits(tt.s, tt.unit)
		assert.Equal(t, tt.ok, ok, tt.s)
		assert.Equal(t, tt.want, d, tt.s)
	}
}

// TestParseAgreesWithStdlibFormats formats every second day of several
// years (leap years, every weekday and month) with the standard library's
// layouts for the three HTTP-date forms and checks Parse reads them back.
func TestParseAgreesWithStdlibFormats(t *testing.T) {
	layouts := []string{
		http.TimeFormat,                  // IMF-fixdate
		"Monday, 02-Jan-06 15:04:05 GMT", // rfc850-date
		time.ANSIC,                       // asctime-date, day padded with SP
		"Mon Jan 02 15:04:05 2006",       // asctime-date, 2DIGIT day
	}
	base := time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC)
	now := base.Add(-time.Second)
	for at := base; at.Year() < 2043; at = at.Add(47*time.Hour + 13*time.Minute + 7*time.Second) {
		for _, layout := range layouts {
			v := at.Format(layout)
			d, err := Parse(v, now)
			require.NoError(t, err, v)
			require.Equal(t, at.Sub(now), d, v)
		}
	}
}

func TestFullYear(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return tm
	}
	tests := []struct {
		now  string
		yy   int
		date fields // month/day/clock only
		want int
	}{
		{"2026-01-01T00:00:00Z", 26, fields{month: 1, day: 1}, 2026},
		{"2026-01-01T00:00:00Z", 25, fields{month: 12, day: 31}, 2025},
		{"2026-01-01T00:00:00Z", 30, fields{month: 5, day: 10}, 2030},
		{"2026-01-01T00:00:00Z", 75, fields{month: 12, day: 31}, 2075},
		{"2026-01-01T00:00:00Z", 76, fields{month: 1, day: 1}, 2076},
		{"2026-01-01T00:00:00Z", 76, fields{month: 1, day: 1, second: 1}, 1976},
		{"2026-01-01T00:00:00Z", 99, fields{month: 1, day: 1}, 1999},
		{"2026-01-01T00:00:00Z", 0, fields{month: 1, day: 1}, 2000},
		{"2090-06-01T00:00:00Z", 1, fields{month: 1, day: 1}, 2101},
		{"2090-06-01T00:00:00Z", 40, fields{month: 6, day: 1}, 2140},
		{"2090-06-01T00:00:00Z", 41, fields{month: 1, day: 1}, 2041},
		{"2099-12-31T23:59:59Z", 0, fields{month: 1, day: 1}, 2100},
		{"2000-01-01T00:00:00Z", 50, fields{month: 1, day: 1}, 2050},
		{"2000-01-01T00:00:00Z", 51, fields{month: 1, day: 1}, 1951},
		// Resolution compares instants, so the caller's zone does not matter.
		{"2026-01-01T09:00:00+09:00", 76, fields{month: 1, day: 1}, 2076},
		{"2026-01-01T09:00:00+09:00", 76, fields{month: 1, day: 1, second: 1}, 1976},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%02d", tt.now, tt.yy), func(t *testing.T) {
			assert.Equal(t, tt.want, fullYear(tt.yy, tt.date, at(tt.now)))
		})
	}
}

func TestParseHTTPDateForms(t *testing.T) {
	tests := []struct {
		value string
		want  time.Time // zero: invalid
	}{
		{"Sun, 06 Nov 1994 08:49:37 GMT", time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)},
		{"Sunday, 06-Nov-94 08:49:37 GMT", time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)},
		{"Sun Nov  6 08:49:37 1994", time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)},
		{"Sun Nov 06 08:49:37 1994", time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)},
		{"Wed, 31 Dec 2025 23:59:60 GMT", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Wednesday, 31-Dec-25 23:59:60 GMT", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Wed Dec 31 23:59:60 2025", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Sat, 01 Jan 0000 00:00:00 GMT", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Fri, 31 Dec 9999 23:59:59 GMT", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"Tue, 29 Feb 2000 00:00:00 GMT", time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"Thu, 29 Feb 1900 00:00:00 GMT", time.Time{}}, // 1900 is not a leap year
		{"Tuesday, 29-Feb-00 00:00:00 GMT", time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"Sun, 06 Nov 1994 08:49:37 GMT ", time.Time{}},
		{"Sun, 06 Nov 1994 08:49:37 GMTX", time.Time{}},
		{"Sun, 06 Nov 1994 08:49:37  GMT", time.Time{}},
		{"Sun, 06 Nov 1994 08:49:37 G T", time.Time{}},
		{"Sun, 06 Nov 1994 08:49:37 ", time.Time{}},
		{"Sun, 06 Nov 1994 08:49:3", time.Time{}},
		{"Sun, 06 Nov 94 08:49:37 GMT", time.Time{}},
		{"Sun, 06-Nov-1994 08:49:37 GMT", time.Time{}},
		{"Sun 06 Nov 1994 08:49:37 GMT", time.Time{}},
		{"Sun,06 Nov 1994 08:49:37 GMT", time.Time{}},
		{"Sun, 06 Nov 1994 8:49:37 GMT", time.Time{}},
		{"Sun, 06 Nov 1994 08.49.37 GMT", time.Time{}},
		{"Sun, 06 Nov 1994 08:49:37 gmt", time.Time{}},
		{"sun, 06 Nov 1994 08:49:37 GMT", time.Time{}},
		{"SUN, 06 NOV 1994 08:49:37 GMT", time.Time{}},
		{"Sun, 06 November 1994 08:49:37 GMT", time.Time{}},
		{"Sunday, 06 Nov 1994 08:49:37 GMT", time.Time{}},
		{"Sun, 06-Nov-94 08:49:37 GMT", time.Time{}},
		{"Sunday, 6-Nov-94 08:49:37 GMT", time.Time{}},
		{"Sunday, 06-Nov-94 08:49:37", time.Time{}},
		{"Sunday,06-Nov-94 08:49:37 GMT", time.Time{}},
		{"Funday, 06-Nov-94 08:49:37 GMT", time.Time{}},
		{"Sun Nov   6 08:49:37 1994", time.Time{}},
		{"Sun Nov  06 08:49:37 1994", time.Time{}},
		{"Sun Nov 6 08:49:37 1994", time.Time{}},
		{"Sun Nov  6 08:49:37 94", time.Time{}},
		{"Sun Nov  6 08:49:37 1994 ", time.Time{}},
		{"Sun Nov  6 08:49:37", time.Time{}},
		{"Sunday Nov  6 08:49:37 1994", time.Time{}},
		{"Sun", time.Time{}},
		{"Su", time.Time{}},
		{"S", time.Time{}},
		{"\x00\x00\x00,", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, reason := parseHTTPDate(tt.value, testNow)
			if tt.want.IsZero() {
				assert.NotEmpty(t, reason)
				return
			}
			require.Empty(t, reason)
			assert.True(t, tt.want.Equal(got), "got %v", got)
		})
	}
}

func TestParseExtremeNow(t *testing.T) {
	nows := []time.Time{
		{},
		time.Unix(math.MinInt64, 0),
		time.Unix(math.MaxInt64, 0),
		time.Unix(-62135596800, 0), // year 1
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	values := []string{
		"5",
		"Sun, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT",
		"Fri, 31 Dec 9999 23:59:59 GMT",
	}
	for _, now := range nows {
		for _, v := range values {
			d, err := Parse(v, now)
			if err == nil {
				assert.GreaterOrEqual(t, d, time.Duration(0), "%q at %v", v, now)
			} else {
				assert.ErrorIs(t, err, ErrInvalid)
			}
		}
	}
	d, err := Parse("Fri, 31 Dec 9999 23:59:59 GMT", time.Time{})
	require.NoError(t, err)
	assert.Equal(t, maxDelay, d, "date - now beyond range saturates")
}

func TestFromHeaderEdgeCases(t *testing.T) {
	d, ok := FromHeader(nil, testNow)
	assert.False(t, ok)
	assert.Zero(t, d)

	t.Run("canonical key wins over non-canonical", func(t *testing.T) {
		h := http.Header{"Retry-After": {"5"}, "retry-after": {"6"}}
		d, ok := FromHeader(h, testNow)
		assert.True(t, ok)
		assert.Equal(t, 5*time.Second, d)
	})
	t.Run("empty canonical entry falls back to folded keys", func(t *testing.T) {
		h := http.Header{"Retry-After": {}, "retry-after": {"6"}}
		d, ok := FromHeader(h, testNow)
		assert.True(t, ok)
		assert.Equal(t, 6*time.Second, d)
	})
	t.Run("unicode case folding is not ascii case folding", func(t *testing.T) {
		// U+017F LATIN SMALL LETTER LONG S folds to "s" under Unicode rules.
		h := http.Header{"Retry-After-M\u017f": {"100"}, "Retry-After": {"6"}}
		d, ok := FromHeader(h, testNow)
		assert.True(t, ok)
		assert.Equal(t, 6*time.Second, d)
	})
	t.Run("non-canonical date key", func(t *testing.T) {
		h := http.Header{
			"date":        {"Thu, 01 Jan 2026 00:00:00 GMT"},
			"retry-after": {"Thu, 01 Jan 2026 00:01:00 GMT"},
		}
		d, ok := FromHeader(h, testNow.Add(time.Hour))
		assert.True(t, ok)
		assert.Equal(t, time.Minute, d)
	})
	t.Run("identical date lines are used", func(t *testing.T) {
		h := http.Header{
			"Date":        {"Thu, 01 Jan 2026 00:00:00 GMT", "Thursday, 01-Jan-26 00:00:00 GMT"},
			"Retry-After": {"Thu, 01 Jan 2026 00:01:00 GMT"},
		}
		d, ok := FromHeader(h, testNow.Add(time.Hour))
		assert.True(t, ok)
		assert.Equal(t, time.Minute, d)
	})
	t.Run("date lines in the past agree on zero", func(t *testing.T) {
		h := http.Header{"Retry-After": {"Sun, 06 Nov 1994 08:49:37 GMT", "Sat, 01 Jan 2000 00:00:00 GMT"}}
		d, ok := FromHeader(h, testNow)
		assert.True(t, ok)
		assert.Zero(t, d)
	})
	t.Run("set via Header.Set", func(t *testing.T) {
		h := http.Header{}
		h.Set("x-ms-retry-after-ms", "42")
		d, ok := FromHeader(h, testNow)
		assert.True(t, ok)
		assert.Equal(t, 42*time.Millisecond, d)
	})
}

func BenchmarkParse(b *testing.B) {
	for _, v := range []string{"120", "Thu, 01 Jan 2026 00:01:30 GMT", "Thursday, 01-Jan-26 00:02:00 GMT", "Thu Jan  1 00:00:10 2026", "1.5"} {
		b.Run(v, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Parse(v, testNow)
			}
		})
	}
}

func BenchmarkFromHeader(b *testing.B) {
	headers := map[string]http.Header{
		"ms":      {"Retry-After-Ms": {"1500"}, "Retry-After": {"2"}},
		"seconds": {"Retry-After": {"120"}, "Content-Type": {"application/json"}},
		"date":    {"Date": {"Thu, 01 Jan 2026 00:00:00 GMT"}, "Retry-After": {"Thu, 01 Jan 2026 00:01:30 GMT"}},
		"absent":  {"Content-Type": {"application/json"}, "Content-Length": {"42"}, "Server": {"x"}},
	}
	for name, h := range headers {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = FromHeader(h, testNow)
			}
		})
	}
}

package retryafter

import (
	"net/http"
	"strings"
	"time"
)

// Field names in net/http canonical form.
const (
	keyRetryAfterMs  = "Retry-After-Ms"
	keyXMsRetryAfter = "X-Ms-Retry-After-Ms"
	keyRetryAfter    = "Retry-After"
	keyDate          = "Date"
)

// FromHeader returns the delay a response's header asks the client to wait
// before retrying, and whether it asks for one at all.
//
// Fields are tried in order, the first valid one winning: retry-after-ms
// and then x-ms-retry-after-ms (milliseconds, 1*DIGIT with optional OWS),
// then Retry-After (see Parse). An absent or invalid field falls through to
// the next. A field sent on several lines is valid only if every line is
// valid and all yield the same delay (RFC 9110 §5.3: none of these fields
// is list-based). Field names are case-insensitive (RFC 9110 §5.1): the
// canonical key is tried first, then keys equal under ASCII case folding.
//
// An HTTP-date Retry-After is measured against the response's own Date
// field (RFC 9110 §6.6.1) when that holds a valid HTTP-date, so client
// clock skew does not distort the delay; otherwise against now.
//
// Millisecond values too large for a time.Duration saturate to the maximum
// duration. FromHeader never panics, and a returned delay is never
// negative; it returns (0, false) if no field is valid.
func FromHeader(h http.Header, now time.Time) (time.Duration, bool) {
	for _, key := range [...]string{keyRetryAfterMs, keyXMsRetryAfter} {
		if d, ok := agree(values(h, key), parseMillis); ok {
			return d, true
		}
	}
	vals := values(h, keyRetryAfter)
	if len(vals) == 0 {
		return 0, false
	}
	ref := responseDate(h, now)
	return agree(vals, func(v string) (time.Duration, bool) {
		d, err := Parse(v, ref)
		return d, err == nil
	})
}

// parseMillis parses a millisecond field value: OWS 1*DIGIT OWS.
func parseMillis(v string) (time.Duration, bool) {
	return parseDigits(trimOWS(v), time.Millisecond)
}

// responseDate returns the instant the Date field names, or now if Date is
// absent, invalid or its lines disagree.
func responseDate(h http.Header, now time.Time) time.Time {
	vals := values(h, keyDate)
	if len(vals) == 0 {
		return now
	}
	var date time.Time
	for i, v := range vals {
		t, reason := parseHTTPDate(trimOWS(v), now)
		if reason != "" || (i > 0 && !t.Equal(date)) {
			return now
		}
		date = t
	}
	return date
}

// agree parses every line of a field and returns the common delay; it
// fails if there are no lines, any line is invalid, or the lines disagree.
func agree(vals []string, parse func(string) (time.Duration, bool)) (time.Duration, bool) {
	var first time.Duration
	for i, v := range vals {
		d, ok := parse(v)
		if !ok || (i > 0 && d != first) {
			return 0, false
		}
		first = d
	}
	return first, len(vals) > 0
}

// values returns the lines of the field key (canonical form). If the
// canonical key holds nothing it gathers the lines of every key equal to
// key under ASCII case folding.
func values(h http.Header, key string) []string {
	if v := h.Values(key); len(v) > 0 {
		return v
	}
	var out []string
	for k, v := range h {
		// Equal lengths keep EqualFold to ASCII folding: key is ASCII and
		// the non-ASCII runes that fold to ASCII letters are multi-byte.
		if len(k) == len(key) && strings.EqualFold(k, key) {
			out = append(out, v...)
		}
	}
	return out
}

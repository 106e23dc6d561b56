package retryafter

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every error Parse returns; match it with
// [errors.Is].
var ErrInvalid = errors.New("retryafter: invalid value")

// maxDelay is the saturation value for delays too large to represent.
const maxDelay = time.Duration(math.MaxInt64)

// maxQuoted bounds how much of a bad value an error message repeats.
const maxQuoted = 40

// Parse parses one Retry-After field value (RFC 9110 §10.2.3) and returns
// the delay it asks for.
//
// The value is delay-seconds (1*DIGIT, leading zeros allowed) or an
// HTTP-date in IMF-fixdate, RFC 850 or asctime form (RFC 9110 §5.6.7),
// optionally surrounded by OWS (SP / HTAB). A date yields date - now, or 0
// if the date is not after now; an RFC 850 two-digit year is resolved
// against now. Delay-seconds too large for a time.Duration saturate to
// the maximum duration (math.MaxInt64 nanoseconds).
//
// On failure Parse returns 0 and an error wrapping ErrInvalid. It never
// panics and a successful result is never negative.
func Parse(value string, now time.Time) (time.Duration, error) {
	v := trimOWS(value)
	switch {
	case v == "":
		return 0, invalid(value, "empty value")
	case isDigit(v[0]):
		d, ok := parseDigits(v, time.Second)
		if !ok {
			return 0, invalid(value, "delay-seconds must be 1*DIGIT")
		}
		return d, nil
	case v[0] == '+' || v[0] == '-':
		return 0, invalid(value, "sign not allowed")
	}
	t, reason := parseHTTPDate(v, now)
	if reason != "" {
		return 0, invalid(value, reason)
	}
	return until(t, now), nil
}

// until returns t - ref clamped to [0, maxDelay].
func until(t, ref time.Time) time.Duration {
	return max(t.Sub(ref), 0)
}

// parseDigits parses s as 1*DIGIT counts of unit, saturating at maxDelay.
func parseDigits(s string, unit time.Duration) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	limit := int64(maxDelay / unit)
	var n int64
	saturated := false
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		if saturated {
			continue
		}
		d := int64(s[i] - '0')
		if n > (limit-d)/10 {
			saturated = true
			continue
		}
		n = n*10 + d
	}
	if saturated {
		return maxDelay, true
	}
	return time.Duration(n) * unit, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// trimOWS removes leading and trailing OWS (RFC 9110 §5.6.3: SP / HTAB).
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func invalid(value, reason string) error {
	return fmt.Errorf("%w %s: %s", ErrInvalid, quote(value), reason)
}

// quote quotes at most the first maxQuoted bytes of s, cut on a rune
// boundary, marking truncation with "...".
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	n := maxQuoted
	for n > maxQuoted-utf8.UTFMax && !utf8.RuneStart(s[n]) {
		n--
	}
	return strconv.Quote(s[:n]) + "..."
}

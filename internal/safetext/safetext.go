// Package safetext makes untrusted text fit to quote in an error message or
// a log line: short, and without control characters that could forge
// lines or move a terminal's cursor.
package safetext

import "strings"

// MaxQuote is how many bytes of untrusted text Clip keeps.
const MaxQuote = 40

// Clip returns the first MaxQuote bytes of s (and "…" when there were
// more) with every control character replaced by '?'. An invalid UTF-8
// sequence, including a rune cut at the end, becomes U+FFFD.
func Clip(s string) string {
	if len(s) > MaxQuote {
		s = s[:MaxQuote] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

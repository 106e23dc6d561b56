// Package retryafter parses the HTTP Retry-After field (RFC 9110 §10.2.3)
// and the millisecond-precision retry-after-ms and x-ms-retry-after-ms
// fields some APIs send alongside or instead of it.
//
// A Retry-After value is either delay-seconds (1*DIGIT) or an HTTP-date in
// any of the three forms RFC 9110 §5.6.7 obliges recipients to accept:
// IMF-fixdate, obsolete RFC 850 (two-digit year) and ANSI C asctime.
// Parsing is strict and follows the ABNF exactly: no signs, fractions,
// units, lists, time zones other than GMT, impossible dates or mismatched
// weekdays. Delays too large for a [time.Duration] saturate to its maximum;
// dates in the past yield zero.
//
// All functions are pure and safe for concurrent use.
package retryafter

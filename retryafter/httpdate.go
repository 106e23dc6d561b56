package retryafter

import (
	"strings"
	"time"
)

// Reasons parseHTTPDate reports; they end up in error messages.
const (
	reasonMalformed = "not delay-seconds or an HTTP-date"
	reasonZone      = "time zone must be GMT"
	reasonClock     = "impossible time of day"
	reasonDate      = "impossible date"
	reasonWeekday   = "weekday does not match date"
)

// Day and month names are case-sensitive (RFC 9110 §5.6.7 uses %s"...").
var (
	shortDays = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	longDays  = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	months    = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// fields are the components of an HTTP-date before validation.
type fields struct {
	weekday              time.Weekday
	year                 int
	month                time.Month
	day                  int
	hour, minute, second int
}

// parseHTTPDate parses s as one of the three HTTP-date forms of RFC 9110
// §5.6.7, with no surrounding whitespace. On failure it returns a non-empty
// reason. now resolves the two-digit year of the RFC 850 form.
func parseHTTPDate(s string, now time.Time) (time.Time, string) {
	var f fields
	var reason string
	switch {
	case len(s) > 3 && s[3] == ',':
		f, reason = parseIMFFixdate(s)
	case len(s) > 3 && s[3] == ' ':
		f, reason = parseASCTime(s)
	default:
		f, reason = parseRFC850(s, now)
	}
	if reason != "" {
		return time.Time{}, reason
	}
	return f.time()
}

// parseIMFFixdate parses `day-name "," SP day SP month SP year SP
// time-of-day SP GMT`, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
func parseIMFFixdate(s string) (fields, string) {
	c := cursor{s: s}
	var f fields
	f.weekday = time.Weekday(c.oneOf(shortDays[:]))
	c.lit(", ")
	f.day = c.digits(2)
	c.lit(" ")
	f.month = time.Month(c.oneOf(months[:]) + 1)
	c.lit(" ")
	f.year = c.digits(4)
	c.lit(" ")
	c.clock(&f)
	return f, c.gmt()
}

// parseRFC850 parses `day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP
// time-of-day SP GMT`, e.g. "Sunday, 06-Nov-94 08:49:37 GMT".
func parseRFC850(s string, now time.Time) (fields, string) {
	c := cursor{s: s}
	var f fields
	f.weekday = time.Weekday(c.oneOf(longDays[:]))
	c.lit(", ")
	f.day = c.digits(2)
	c.lit("-")
	f.month = time.Month(c.oneOf(months[:]) + 1)
	c.lit("-")
	yy := c.digits(2)
	c.lit(" ")
	c.clock(&f)
	if reason := c.gmt(); reason != "" {
		return f, reason
	}
	f.year = fullYear(yy, f, now)
	return f, ""
}

// parseASCTime parses `day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP
// time-of-day SP year`, e.g. "Sun Nov  6 08:49:37 1994".
func parseASCTime(s string) (fields, string) {
	c := cursor{s: s}
	var f fields
	f.weekday = time.Weekday(c.oneOf(shortDays[:]))
	c.lit(" ")
	f.month = time.Month(c.oneOf(months[:]) + 1)
	c.lit(" ")
	if strings.HasPrefix(c.s, " ") {
		c.lit(" ")
		f.day = c.digits(1)
	} else {
		f.day = c.digits(2)
	}
	c.lit(" ")
	c.clock(&f)
	c.lit(" ")
	f.year = c.digits(4)
	if c.bad || c.s != "" {
		return f, reasonMalformed
	}
	return f, ""
}

// fullYear applies RFC 9110 §5.6.7: a two-digit year that appears more than
// 50 years in the future means the most recent past year with the same
// last two digits.
func fullYear(yy int, f fields, now time.Time) int {
	limit := now.AddDate(50, 0, 0)
	y := now.Year()
	y = y - (y%100+100)%100 + 100 + yy
	for range 2 {
		if !time.Date(y, f.month, f.day, f.hour, f.minute, f.second, 0, time.UTC).After(limit) {
			break
		}
		y -= 100
	}
	return y
}

// time validates f and returns the instant it names.
func (f fields) time() (time.Time, string) {
	leap := f.second == 60 && f.hour == 23 && f.minute == 59
	if f.hour > 23 || f.minute > 59 || (f.second > 59 && !leap) {
		return time.Time{}, reasonClock
	}
	d := time.Date(f.year, f.month, f.day, 0, 0, 0, 0, time.UTC)
	if f.day < 1 || d.Day() != f.day || d.Month() != f.month {
		return time.Time{}, reasonDate
	}
	if d.Weekday() != f.weekday {
		return time.Time{}, reasonWeekday
	}
	// A leap second 23:59:60 normalises to 00:00:00 of the next day.
	return d.Add(time.Duration(f.hour)*time.Hour +
		time.Duration(f.minute)*time.Minute +
		time.Duration(f.second)*time.Second), ""
}

// cursor consumes s left to right; once a step fails, bad stays set and
// later steps are no-ops.
type cursor struct {
	s   string
	bad bool
}

func (c *cursor) lit(x string) {
	if c.bad || !strings.HasPrefix(c.s, x) {
		c.bad = true
		return
	}
	c.s = c.s[len(x):]
}

// digits consumes exactly n ASCII digits.
func (c *cursor) digits(n int) int {
	if c.bad || len(c.s) < n {
		c.bad = true
		return 0
	}
	v := 0
	for i := range n {
		if !isDigit(c.s[i]) {
			c.bad = true
			return 0
		}
		v = v*10 + int(c.s[i]-'0')
	}
	c.s = c.s[n:]
	return v
}

// oneOf consumes the first name that prefixes the input and returns its
// index.
func (c *cursor) oneOf(names []string) int {
	if !c.bad {
		for i, name := range names {
			if strings.HasPrefix(c.s, name) {
				c.s = c.s[len(name):]
				return i
			}
		}
	}
	c.bad = true
	return 0
}

// clock consumes time-of-day = hour ":" minute ":" second, 2DIGIT each.
func (c *cursor) clock(f *fields) {
	f.hour = c.digits(2)
	c.lit(":")
	f.minute = c.digits(2)
	c.lit(":")
	f.second = c.digits(2)
}

// gmt consumes the final SP GMT and requires the input to end there.
func (c *cursor) gmt() string {
	switch {
	case c.bad:
		return reasonMalformed
	case c.s == " GMT":
		return ""
	case len(c.s) > 1 && c.s[0] == ' ' && !strings.ContainsAny(c.s[1:], " \t"):
		return reasonZone
	}
	return reasonMalformed
}

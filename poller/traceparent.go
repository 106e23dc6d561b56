package poller

import (
	"encoding/hex"
	"encoding/json"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// ParseTraceparent reads a W3C Trace Context traceparent header value
// ("00-<trace-id>-<parent-id>-<flags>"). It reports false for anything
// malformed: a wrong length, upper-case or non-hex digits, version ff, an
// all-zero trace or parent id, or version 00 with trailing data. A later
// version may carry more fields after a dash (W3C Trace Context §3.2.4).
// It never panics, whatever the input.
func ParseTraceparent(s string) (trace.SpanContext, bool) {
	const size = 55 // 2+1+32+1+16+1+2
	if len(s) < size || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return trace.SpanContext{}, false
	}
	if !lowerHex(s[:2]) || s[:2] == "ff" || !lowerHex(s[3:35]) || !lowerHex(s[36:52]) || !lowerHex(s[53:55]) {
		return trace.SpanContext{}, false
	}
	if len(s) > size && (s[:2] == "00" || s[size] != '-') {
		return trace.SpanContext{}, false
	}
	var tid trace.TraceID
	var sid trace.SpanID
	var flags [1]byte
	_, _ = hex.Decode(tid[:], []byte(s[3:35]))
	_, _ = hex.Decode(sid[:], []byte(s[36:52]))
	_, _ = hex.Decode(flags[:], []byte(s[53:55]))
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.TraceFlags(flags[0]) & trace.FlagsSampled, Remote: true,
	})
	return sc, sc.IsValid()
}

// FormatTraceparent returns sc as a version-00 traceparent, or "" when sc is
// not valid.
func FormatTraceparent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	return "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// withoutTrace returns the JSON object raw without its traceparent.
func withoutTrace(raw []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	for k := range m {
		if strings.EqualFold(k, "traceparent") {
			delete(m, k)
		}
	}
	if b, err := json.Marshal(m); err == nil {
		return b
	}
	return raw
}

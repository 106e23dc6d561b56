package poller

import (
	"encoding/base64"
	"encoding/json"
	"hash/maphash"
	"math"
	"strconv"
	"time"
)

// AppendEncode appends the compact form of the token to dst and returns the
// extended buffer: the same bytes as Encode, and the same refusal of a
// token with Secrets (ErrSecretNeedsKey). With a buffer reused from one
// call to the next it allocates nothing; Encode allocates 8 times per call
// (BenchmarkTokenEncode). On error dst is returned unchanged.
//
// Tokens whose text needs JSON escaping (quotes, control characters, HTML
// characters, non-ASCII), whose state is not compact ASCII JSON, or whose
// times or progress encoding/json formats specially, are written by Encode
// and appended: the bytes are Encode's in every case.
func (t Token) AppendEncode(dst []byte) ([]byte, error) {
	if len(t.Secrets) > 0 {
		return dst, secretErr(t.Secrets)
	}
	start := len(dst)
	dst = append(dst, compactPrefix...)
	js := len(dst)
	out, ok := t.appendJSON(dst)
	if !ok {
		s, err := t.Encode()
		if err != nil {
			return dst[:start], err
		}
		return append(dst[:start], s...), nil
	}
	je := len(out)
	// The JSON is encoded after itself and moved down over it.
	out = base64.RawURLEncoding.AppendEncode(out, out[js:je])
	n := copy(out[js:], out[je:])
	return out[:js+n], nil
}

// appendJSON appends json.Marshal's bytes for the envelope without
// secrets (marshalWith(nil, "")), or reports false for a token it does not
// write the way encoding/json would.
func (t Token) appendJSON(b []byte) ([]byte, bool) {
	if t.Version == 0 {
		t.Version = TokenVersion
	}
	if t.Provider == "" || t.Kind == "" {
		return b, false
	}
	ok := true
	str := func(b []byte, s string) []byte {
		if !plainJSON(s) {
			ok = false
			return b
		}
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	tm := func(b []byte, key string, v time.Time) []byte {
		_, off := v.Zone()
		if y := v.Year(); y < 0 || y > 9999 || off <= -24*3600 || off >= 24*3600 {
			ok = false
			return b
		}
		b = append(b, key...)
		b = append(b, '"')
		b = v.AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	}
	b = append(b, `{"lrokit":`...)
	b = strconv.AppendInt(b, int64(t.Version), 10)
	b = append(b, `,"provider":`...)
	b = str(b, t.Provider)
	b = append(b, `,"kind":`...)
	b = str(b, t.Kind)
	if len(t.State) > 0 {
		if !compactASCIIJSON(t.State) {
			return b, false
		}
		b = append(b, `,"state":`...)
		b = append(b, t.State...)
	}
	b = tm(b, `,"created":`, t.Created)
	if !t.Polled.IsZero() {
		b = tm(b, `,"polled":`, t.Polled)
	}
	if !t.Next.IsZero() {
		b = tm(b, `,"next":`, t.Next)
	}
	if !t.Deadline.IsZero() {
		b = tm(b, `,"deadline":`, t.Deadline)
	}
	if t.Polls != 0 {
		b = append(b, `,"polls":`...)
		b = strconv.AppendInt(b, int64(t.Polls), 10)
	}
	if t.LowHints != 0 {
		b = append(b, `,"low_hints":`...)
		b = strconv.AppendInt(b, int64(t.LowHints), 10)
	}
	if l := t.Last; l != nil {
		b = append(b, `,"last":{"status":`...)
		b = str(b, string(l.Status))
		if l.Detail != "" {
			b = append(b, `,"detail":`...)
			b = str(b, l.Detail)
		}
		if l.Progress != 0 {
			if math.IsNaN(l.Progress) || math.IsInf(l.Progress, 0) {
				return b, false
			}
			b = append(b, `,"progress":`...)
			b = appendJSONFloat(b, l.Progress)
		}
		if l.Hinted {
			b = append(b, `,"hinted":true`...)
		}
		b = append(b, '}')
	}
	return append(b, '}'), ok
}

// plainJSON reports whether s is printable ASCII that encoding/json writes
// unescaped (no quote, backslash or HTML character).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// compactASCIIJSON reports whether raw is valid JSON that encoding/json
// copies unchanged into its output: no whitespace to compact, no HTML
// character or non-ASCII byte to escape.
func compactASCIIJSON(raw []byte) bool {
	for _, c := range raw {
		switch {
		case c <= ' ' || c >= 0x7f, c == '<', c == '>', c == '&':
			return false
		}
	}
	return json.Valid(raw)
}

// appendJSONFloat is encoding/json's float64 format.
func appendJSONFloat(b []byte, f float64) []byte {
	abs, format := math.Abs(f), byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// digestSeed keys Digest for the life of the process.
var digestSeed = maphash.MakeSeed()

// Digest returns a hash, for this process's life, of everything in the
// token a resumed poller continues from, except its schedule bookkeeping
// (Next, Polled and Polls): the adapter's state and secrets, the last
// observation, the creation time, the deadline and the hint counter. Two
// tokens with the same digest differ, but for a 2⁻⁶⁴ chance, at most in
// when the next poll is due and in how many polls were made, so a store
// that holds one of them need not be rewritten with the other (see
// persist.Tracker). It allocates nothing.
func (t Token) Digest() uint64 {
	h := maphash.String(digestSeed, t.Provider)
	mix := func(v uint64) { h = (h^v)*0x100000001b3 + 0x9e3779b97f4a7c15 }
	mix(maphash.String(digestSeed, t.Kind))
	mix(maphash.Bytes(digestSeed, t.State))
	mix(uint64(t.Version))
	mix(uint64(t.Created.UnixNano()))
	mix(uint64(t.Deadline.UnixNano()))
	mix(uint64(t.LowHints))
	var secrets uint64 // order-independent
	for k, v := range t.Secrets {
		secrets += maphash.String(digestSeed, k) ^ maphash.String(digestSeed, v)*31
	}
	mix(secrets)
	if l := t.Last; l != nil {
		mix(maphash.String(digestSeed, string(l.Status)))
		mix(maphash.String(digestSeed, l.Detail))
		mix(math.Float64bits(l.Progress))
		if l.Hinted {
			mix(1)
		}
	} else {
		mix(2)
	}
	return h
}

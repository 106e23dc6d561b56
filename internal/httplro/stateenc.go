package httplro

import "unicode/utf8"

// appendState appends st encoded as json.Marshal encodes it, byte for byte,
// and reports true; for what it does not write itself (a time in
// NotFoundSince, a control or non-ASCII character) it appends nothing and
// reports false, and the caller uses json.Marshal. It lets Token encode the
// state into the one buffer it returns, without keeping the last encoding
// in every operation (issue 17).
func appendState(b []byte, st *State) ([]byte, bool) {
	if !st.NotFoundSince.IsZero() {
		return b, false
	}
	start := len(b)
	b = append(b, '{')
	ok := true
	str := func(key, v string) {
		if v == "" || !ok {
			return
		}
		if len(b) > start+1 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		b, ok = appendJSONString(b, v)
	}
	flag := func(key string, v bool) {
		if !v {
			return
		}
		if len(b) > start+1 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `":true`...)
	}
	// The order and names of State's fields and JSON tags.
	str("method", st.Method)
	str("url", st.URL)
	str("poll", st.Poll)
	str("location", st.Location)
	str("content_location", st.ContentLocation)
	str("result", st.Result)
	str("final_state_via", st.FinalStateVia)
	str("result_path", st.ResultPath)
	flag("seen", st.Seen)
	flag("fallback", st.Fallback)
	str("outcome", string(st.Outcome))
	str("detail", st.Detail)
	str("code", st.Code)
	str("message", st.Message)
	flag("no_content", st.NoContent)
	if !ok {
		return b[:start], false
	}
	return append(b, '}'), true
}

// stateSize bounds the length of appendState's encoding of st.
func stateSize(st *State) int {
	n := 200 // keys, quotes, commas, braces and true
	for _, s := range [...]string{st.Method, st.URL, st.Poll, st.Location, st.ContentLocation, st.Result, st.FinalStateVia, st.ResultPath, string(st.Outcome), st.Detail, st.Code, st.Message} {
		n += len(s)
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '<', '>', '&':
				n += 5 // \u00XX
			case '"', '\\':
				n++
			}
		}
	}
	return n
}

// appendJSONString appends s quoted as encoding/json quotes it (with its
// HTML escaping), for printable ASCII; otherwise it reports false.
func appendJSONString(b []byte, s string) ([]byte, bool) {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= utf8.RuneSelf:
			return b, false
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '<' || c == '>' || c == '&':
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"'), true
}

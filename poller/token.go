package poller

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TokenVersion is the token format version this package writes. It reads
// every version up to this one.
const TokenVersion = 1

// MaxTokenSize is the largest encoded token DecodeToken accepts, in bytes.
const MaxTokenSize = 64 << 10

const (
	compactPrefix = "lrokit1."
	sealedPrefix  = "lrokit1s."
)

// ErrInvalidToken is wrapped by every error DecodeToken returns.
var ErrInvalidToken = errors.New("invalid resume token")

// Token is the resume-token envelope shared by every provider: everything
// needed to continue waiting on an operation in another process, and no
// credentials. Adapters fill Provider, Kind and State; the Poller fills the
// schedule fields.
//
// Its JSON form is human-inspectable; Encode gives a compact single-line form
// that is safe in a CI variable and in unquoted shell words. DecodeToken
// reads both.
type Token struct {
	// Version is the format version (TokenVersion when written).
	Version int `json:"lrokit"`
	// Provider names the adapter: "azure", "rest", "gcp", "aws".
	Provider string `json:"provider"`
	// Kind is the adapter's protocol or operation kind ("async",
	// "location", "longrunning", "cloudformation.StackCreateComplete").
	Kind string `json:"kind"`
	// State is the adapter's own state, a JSON object.
	State json.RawMessage `json:"state,omitempty"`
	// Created is when the operation started; the schedule derives from it.
	Created time.Time `json:"created"`
	// Polled is when the operation was last polled.
	Polled time.Time `json:"polled,omitzero"`
	// Next is the absolute time of the next poll: a resumed poller does not
	// poll before it.
	Next time.Time `json:"next,omitzero"`
	// Deadline is the absolute time the wait gives up; zero for none.
	Deadline time.Time `json:"deadline,omitzero"`
	// Polls counts the polls made so far, across resumptions.
	Polls int `json:"polls,omitempty"`
	// LowHints counts the server's consecutive hints below the floor.
	LowHints int `json:"low_hints,omitempty"`
	// Last is the last observation, without its error.
	Last *TokenObservation `json:"last,omitempty"`
}

// TokenObservation is the part of an Observation a token keeps.
type TokenObservation struct {
	Status   Status  `json:"status"`
	Detail   string  `json:"detail,omitempty"`
	Progress float64 `json:"progress,omitempty"`
	// Hinted records that the server gave the delay to the next poll
	// (Retry-After), which the token's Next reflects.
	Hinted bool `json:"hinted,omitempty"`
}

// Observation returns the kept observation; Progress of a token that stored
// none is ProgressUnknown.
func (o *TokenObservation) Observation() Observation {
	if o == nil {
		return Observation{Progress: ProgressUnknown}
	}
	p := o.Progress
	if p == 0 {
		p = ProgressUnknown
	}
	return Observation{Status: o.Status, Detail: o.Detail, Progress: p, Hinted: o.Hinted}
}

// Encode returns the compact single-line form: "lrokit1." followed by the
// unpadded base64url encoding of the JSON form.
func (t Token) Encode() (string, error) {
	b, err := t.marshal()
	if err != nil {
		return "", err
	}
	return compactPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Seal returns the compact form authenticated with HMAC-SHA256 under key, for
// stores the caller does not trust. DecodeToken with the same key verifies it.
func (t Token) Seal(key []byte) (string, error) {
	if len(key) == 0 {
		return "", errors.New("sealing a token needs a non-empty key")
	}
	b, err := t.marshal()
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	return sealedPrefix + payload + "." + base64.RawURLEncoding.EncodeToString(mac(key, payload)), nil
}

func (t Token) marshal() ([]byte, error) {
	if t.Version == 0 {
		t.Version = TokenVersion
	}
	if t.Provider == "" || t.Kind == "" {
		return nil, errors.New("token needs a provider and a kind")
	}
	return json.Marshal(t)
}

func mac(key []byte, payload string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(payload))
	return h.Sum(nil)
}

// DecodeToken parses a token in either form (compact or JSON), untrusted.
// With a key, the token must be sealed with it; without one, a sealed token
// is refused. Errors wrap ErrInvalidToken and never echo the token. A token
// of a newer format version is refused with an error that says to upgrade.
func DecodeToken(s string, key []byte) (Token, error) {
	if len(s) > MaxTokenSize {
		return Token{}, tokenErr("it is %d bytes, more than the %d allowed", len(s), MaxTokenSize)
	}
	s = strings.TrimSpace(s)
	var raw []byte
	switch {
	case s == "":
		return Token{}, tokenErr("it is empty")
	case strings.HasPrefix(s, sealedPrefix):
		if len(key) == 0 {
			return Token{}, tokenErr("it is sealed and no key was given")
		}
		rest := s[len(sealedPrefix):]
		dot := strings.LastIndexByte(rest, '.')
		if dot < 0 {
			return Token{}, tokenErr("its seal is missing")
		}
		payload, sig := rest[:dot], rest[dot+1:]
		want, err := base64.RawURLEncoding.DecodeString(sig)
		if err != nil || !hmac.Equal(want, mac(key, payload)) {
			return Token{}, tokenErr("its seal does not match the key (tampered, or sealed with another key)")
		}
		if raw, err = base64.RawURLEncoding.DecodeString(payload); err != nil {
			return Token{}, tokenErr("its payload is not base64url")
		}
	case len(key) > 0:
		return Token{}, tokenErr("it is not sealed, and a sealed token is required")
	case strings.HasPrefix(s, compactPrefix):
		var err error
		if raw, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(s[len(compactPrefix):], "=")); err != nil {
			return Token{}, tokenErr("its payload is not base64url")
		}
	case s[0] == '{':
		raw = []byte(s)
	case strings.HasPrefix(s, "lrokit"):
		return Token{}, tokenErr("its format prefix is unknown; it may come from a newer lrokit: upgrade")
	default:
		return Token{}, tokenErr("it is neither an lrokit token (lrokit1.…) nor its JSON form")
	}
	return decodeJSON(raw)
}

func decodeJSON(raw []byte) (Token, error) {
	var probe struct {
		Version json.RawMessage `json:"lrokit"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return Token{}, tokenErr("it is not valid JSON (%s)", jsonProblem(err))
	}
	var version int
	if len(probe.Version) == 0 {
		return Token{}, tokenErr(`it has no "lrokit" version field`)
	}
	if err := json.Unmarshal(probe.Version, &version); err != nil || version < 1 {
		return Token{}, tokenErr(`its "lrokit" version is not a positive integer`)
	}
	if version > TokenVersion {
		return Token{}, tokenErr("it is format version %d, newer than this lrokit reads (%d): upgrade lrokit", version, TokenVersion)
	}
	var t Token
	if err := json.Unmarshal(raw, &t); err != nil {
		return Token{}, tokenErr("a field has the wrong type (%s)", jsonProblem(err))
	}
	switch {
	case t.Provider == "":
		return Token{}, tokenErr("it names no provider")
	case t.Kind == "":
		return Token{}, tokenErr("it names no kind")
	case len(t.State) > 0 && !bytes.HasPrefix(bytes.TrimSpace(t.State), []byte("{")) && string(bytes.TrimSpace(t.State)) != "null":
		return Token{}, tokenErr("its state is not a JSON object")
	case t.Polls < 0 || t.LowHints < 0:
		return Token{}, tokenErr("its counters are negative")
	}
	if t.Last != nil {
		st, ok := ParseStatus(string(t.Last.Status))
		if !ok {
			return Token{}, tokenErr("its last status is not one of NotStarted, Running, Succeeded, Failed, Canceled")
		}
		t.Last.Status = st
	}
	return t, nil
}

// jsonProblem describes a JSON error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q", te.Field)
	}
	return "malformed"
}

func tokenErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, fmt.Sprintf(format, args...))
}

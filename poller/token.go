package poller

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lrokit/lrokit/internal/safetext"
)

// TokenVersion is the token format version this package writes. It reads
// every version up to this one.
const TokenVersion = 1

// MaxTokenSize is the largest encoded token DecodeToken accepts, in bytes.
const MaxTokenSize = 64 << 10

const compactPrefix = "lrokit1."

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
	// Trace is the W3C traceparent of the span that began the operation,
	// so a wait resumed anywhere links to it. A malformed one is dropped
	// on decode.
	Trace string `json:"traceparent,omitempty"`

	// Secrets are adapter state that is itself a credential, such as the
	// query string of a polling URL signed with a SAS or a function key.
	// They are never written in clear by Encode: Seal encrypts them
	// (AES-256-GCM, key derived from the seal key), and EncodeWithSecrets
	// writes them in clear only on the caller's explicit opt-in. The JSON
	// form of the struct leaves them out.
	Secrets map[string]string `json:"-"`
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
// unpadded base64url encoding of the JSON form. A token with Secrets is
// refused (ErrSecretNeedsKey): seal it, which encrypts them, or use
// EncodeWithSecrets.
func (t Token) Encode() (string, error) {
	if len(t.Secrets) > 0 {
		return "", secretErr(t.Secrets)
	}
	b, err := t.marshal()
	if err != nil {
		return "", err
	}
	return compactPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// EncodeWithSecrets is Encode with the token's Secrets written in clear:
// only for stores as well protected as the credentials those URLs carry
// (Options.PlaintextSecrets).
func (t Token) EncodeWithSecrets() (string, error) {
	b, err := t.marshalWith(t.Secrets, "")
	if err != nil {
		return "", err
	}
	return compactPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// ErrSecretNeedsKey is returned when a token holds a credential-bearing URL
// (Token.Secrets) and would be written in clear: seal tokens
// (Options.SealKey), which encrypts them, or opt in with
// Options.PlaintextSecrets.
var ErrSecretNeedsKey = errors.New("the token holds a credential-bearing URL and no seal key was given to encrypt it")

func secretErr(secrets map[string]string) error {
	names := make([]string, 0, len(secrets))
	for k := range secrets {
		names = append(names, k)
	}
	sort.Strings(names)
	return fmt.Errorf("%w (%s); set a seal key, or opt in to storing it in clear", ErrSecretNeedsKey, strings.Join(names, ", "))
}

// decodeJSON reads the JSON envelope. key and id are the seal key that
// verified it, which opens its encrypted secrets; nil for unsealed forms.
func decodeJSON(raw []byte, key []byte, id string) (Token, error) {
	var probe struct {
		Version json.RawMessage   `json:"lrokit"`
		Secrets map[string]string `json:"secrets"`
		Enc     string            `json:"enc"`
		Trace   json.RawMessage   `json:"traceparent"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return Token{}, tokenErr("it is not valid JSON (%s)", jsonProblem(err))
	}
	if len(probe.Trace) > 0 && probe.Trace[0] != '"' {
		raw = withoutTrace(raw) // optional: a traceparent of the wrong type is dropped
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
	switch {
	case probe.Enc != "" && key == nil:
		return Token{}, tokenErr("it holds an encrypted part but is not sealed")
	case probe.Enc != "":
		secrets, err := decryptSecrets(key, id, probe.Enc)
		if err != nil {
			return Token{}, err
		}
		t.Secrets = secrets
	case len(probe.Secrets) > 0 && key != nil:
		return Token{}, tokenErr("it is sealed but holds secrets in clear")
	case len(probe.Secrets) > 0:
		t.Secrets = probe.Secrets
	}
	if _, ok := ParseTraceparent(t.Trace); !ok {
		t.Trace = "" // untrusted and optional: never worth losing the token
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

func (t Token) marshal() ([]byte, error) { return t.marshalWith(nil, "") }

// marshalWith writes the JSON envelope with the token's secrets in clear
// (only on the caller's opt-in) or encrypted (sealing).
func (t Token) marshalWith(secrets map[string]string, enc string) ([]byte, error) {
	if t.Version == 0 {
		t.Version = TokenVersion
	}
	if t.Provider == "" || t.Kind == "" {
		return nil, errors.New("token needs a provider and a kind")
	}
	type plain Token // the fields without the methods
	return json.Marshal(struct {
		plain
		Secrets map[string]string `json:"secrets,omitempty"`
		Enc     string            `json:"enc,omitempty"`
	}{plain(t), secrets, enc})
}

// Check verifies that a decoded token belongs to provider and, when kinds
// are given, is one of them. Every adapter's Resume uses it, so a token for
// another adapter is refused the same way everywhere: an error wrapping
// ErrInvalidToken.
func (t Token) Check(provider string, kinds ...string) error {
	if t.Provider != provider {
		return tokenErr("it is for provider %q, not %q", safetext.Clip(t.Provider), provider)
	}
	if len(kinds) == 0 {
		return nil
	}
	for _, k := range kinds {
		if t.Kind == k {
			return nil
		}
	}
	return tokenErr("its kind %q is not one %s knows (%s)", safetext.Clip(t.Kind), provider, strings.Join(kinds, ", "))
}

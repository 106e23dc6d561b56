package persist

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// IntentPrefix starts every encoded Intent, so that an intent stored where a
// token is expected (a record's Token, a token file) is recognised at once.
const IntentPrefix = "lrokit-intent1."

// intentVersion is the intent format this package writes; it reads every
// version up to it.
const intentVersion = 1

// Limits on an intent's fields, in bytes; an intent beyond them is refused.
const (
	// MaxIntentTarget bounds Target.
	MaxIntentTarget = 4 << 10
	// MaxIntentInput bounds Input; a larger input is better kept by
	// digest only.
	MaxIntentInput = 32 << 10
	// maxIntentField bounds every other text field.
	maxIntentField = 256
)

// Intent is the write-ahead record of an operation about to be started:
// what is going to be sent, where, and under which idempotency key. Begin
// stores it before the initial request is sent, so a process killed between
// sending and storing the token leaves an intent from which a rerun finds
// (or safely re-sends) the operation instead of starting a second one.
//
// An intent holds no credentials: no request headers, and Target carries no
// query string (where signatures travel). Digest identifies the exact
// request instead.
type Intent struct {
	// Provider is the adapter that will poll the operation: "azure",
	// "rest", "gcp", "aws".
	Provider string `json:"provider"`
	// Method is the HTTP method or the API's method name, e.g. "PUT",
	// "CreateStack", "projects.locations.clusters.create".
	Method string `json:"method,omitempty"`
	// Target is the request's URL without its query string, or the API
	// and resource it acts on. Messages about the intent name it.
	Target string `json:"target"`
	// Digest identifies the exact request (e.g. "sha256:" + hex of the
	// method, full URL and body), so a rerun can tell the same request
	// from another one under the same key. Optional.
	Digest string `json:"digest,omitempty"`
	// Input is the request's input as JSON, when the caller chooses to
	// keep it (it must hold no secrets). Optional.
	Input json.RawMessage `json:"input,omitempty"`
	// IdempotencyKey is sent with the request where the API accepts one
	// (Google requestId, AWS ClientRequestToken/ClientToken, an
	// Idempotency-Key or Repeatability-Request-ID header), so that sending
	// it again starts nothing new. NewIdempotencyKey makes one.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Created is when the intent was first recorded.
	Created time.Time `json:"created"`
}

// intentJSON is an Intent's stored form, versioned.
type intentJSON struct {
	Version int `json:"lrokit_intent"`
	Intent
}

// NewIdempotencyKey returns a random version 4 UUID: the form Google's
// requestId wants (AIP-155) and AWS client tokens and Idempotency-Key
// headers accept.
func NewIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// IsIntent reports whether s, a stored token, is an encoded Intent rather
// than a resume token.
func IsIntent(s string) bool {
	return strings.HasPrefix(strings.TrimSpace(s), IntentPrefix)
}

func (in Intent) validate() error {
	bad := func(why string) error { return fmt.Errorf("persist: intent %s: %w", why, ErrInvalid) }
	for _, f := range []struct {
		what string
		s    string
		max  int
	}{{"provider", in.Provider, maxIntentField}, {"method", in.Method, maxIntentField}, {"target", in.Target, MaxIntentTarget},
		{"digest", in.Digest, maxIntentField}, {"idempotency key", in.IdempotencyKey, maxIntentField}} {
		if err := validText(f.what, f.s, f.max); err != nil {
			return fmt.Errorf("persist: intent: %w", err)
		}
	}
	switch {
	case in.Provider == "":
		return bad("names no provider")
	case in.Target == "":
		return bad("names no target")
	case len(in.Input) > MaxIntentInput:
		return bad(fmt.Sprintf("input is %d bytes, more than the %d allowed", len(in.Input), MaxIntentInput))
	case len(in.Input) > 0 && !json.Valid(in.Input):
		return bad("input is not JSON")
	case in.Created.IsZero() || in.Created.Year() < 1 || in.Created.Year() > 9999:
		return bad("creation time is missing or outside the years 1 to 9999")
	}
	return nil
}

// Encode returns the intent as one line: IntentPrefix + base64url(JSON).
// It fails with ErrInvalid on an intent DecodeIntent would refuse.
func (in Intent) Encode() (string, error) {
	in.Created = storedTime(in.Created)
	if err := in.validate(); err != nil {
		return "", err
	}
	if len(in.Input) > 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, in.Input); err != nil {
			return "", fmt.Errorf("persist: intent input: %w", ErrInvalid)
		}
		in.Input = buf.Bytes()
	}
	b, err := json.Marshal(intentJSON{Version: intentVersion, Intent: in})
	if err != nil {
		return "", fmt.Errorf("persist: encoding the intent: %w", err)
	}
	s := IntentPrefix + base64.RawURLEncoding.EncodeToString(b)
	if len(s) > MaxTokenLen {
		return "", fmt.Errorf("persist: intent is %d bytes encoded, more than the %d a record holds: %w", len(s), MaxTokenLen, ErrInvalid)
	}
	return s, nil
}

// DecodeIntent reads an encoded Intent. The input is untrusted (a file, a
// database row): it never panics, caps the size, and its errors wrap
// ErrInvalid (or ErrNewerVersion) without quoting the input.
func DecodeIntent(s string) (Intent, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxTokenLen {
		return Intent{}, fmt.Errorf("persist: intent is larger than %d bytes: %w", MaxTokenLen, ErrInvalid)
	}
	body, ok := strings.CutPrefix(s, IntentPrefix)
	if !ok {
		return Intent{}, fmt.Errorf("persist: not an intent (no %q prefix): %w", IntentPrefix, ErrInvalid)
	}
	b, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return Intent{}, fmt.Errorf("persist: intent is not base64url: %w", ErrInvalid)
	}
	var head struct {
		Version int `json:"lrokit_intent"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return Intent{}, fmt.Errorf("persist: intent is not a JSON object: %w", ErrInvalid)
	}
	switch {
	case head.Version > intentVersion:
		return Intent{}, fmt.Errorf("persist: intent format %d: %w", head.Version, ErrNewerVersion)
	case head.Version < 1:
		return Intent{}, fmt.Errorf("persist: intent has no format version: %w", ErrInvalid)
	}
	var ij intentJSON
	if err := json.Unmarshal(b, &ij); err != nil {
		return Intent{}, fmt.Errorf("persist: intent fields have the wrong types: %w", ErrInvalid)
	}
	in := ij.Intent
	in.Created = storedTime(in.Created)
	if err := in.validate(); err != nil {
		return Intent{}, err
	}
	if len(in.Input) > 0 {
		var buf bytes.Buffer
		_ = json.Compact(&buf, in.Input) // valid: checked above
		in.Input = buf.Bytes()
	}
	return in, nil
}

// DigestLabel is the label under which Begin keeps the intent's Digest on
// the record, so that the token that replaces the intent still says which
// request started it.
const DigestLabel = "lrokit.intent-digest"

var (
	// ErrStarted reports that Begin found the key holding the token of an
	// operation that has not finished: it was begun already, and nothing
	// was sent. Resume the stored token instead.
	ErrStarted = errors.New("an operation was already begun under this key")
	// ErrMayExist reports that an earlier begin recorded an intent and may
	// have sent its request, but the operation cannot be found and sending
	// again is not safe (no idempotency key, a method that is not
	// idempotent). A StartFunc returns it; check the target by hand.
	ErrMayExist = errors.New("an earlier begin may have started the operation")
)

// StartFunc sends an operation's initial request and returns its poller
// (any Source: *poller.Poller[T] is one). Send in.IdempotencyKey with the
// request where the API takes one.
//
// retry reports that a previous Begin recorded in and may or may not have
// sent it. The function then makes sure not to start a second operation:
// it re-sends with the same idempotency key where the API honours it (or the
// request is idempotent by itself, like an HTTP PUT to a resource's URL,
// RFC 9110 §9.2.2), adopts the operation when it can find it (get the
// resource, the operation, describe the stack), or returns an error
// wrapping ErrMayExist.
type StartFunc func(ctx context.Context, in Intent, retry bool) (Source, error)

// Begin starts an operation crash-safely under key. It records in as the
// key's intent before start sends anything; a store that cannot be written
// stops Begin with nothing sent. Then it calls start and saves the token of
// the poller start returns, and returns the Tracker that keeps saving it (as
// Track does).
//
// If the key already holds:
//   - an intent (a begin that never stored its token): start is called with
//     the stored intent, its idempotency key and creation time, and retry
//     true. When both intents carry a Digest and they differ, Begin fails
//     with ErrInvalid: the key belongs to another request.
//   - the token of an unfinished operation: Begin fails with ErrStarted and
//     sends nothing (with ErrInvalid when the record's DigestLabel names
//     another request than in.Digest).
//   - the token of a finished operation: it is replaced, as a new operation
//     under a reused key ("deploy/prod", daily).
//
// A zero in.Created means now; an empty in.IdempotencyKey gets a new one.
// When start fails, the intent stays, so that running Begin again
// reconciles. Two Begins racing on one key: one records its intent, the
// other fails with ErrConflict before sending.
func Begin(ctx context.Context, s Store, key string, in Intent, start StartFunc, opts *TrackOptions) (*Tracker, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if start == nil {
		return nil, fmt.Errorf("persist: begin %q: no start function: %w", key, ErrInvalid)
	}
	if in.Created.IsZero() {
		in.Created = time.Now()
	}
	if in.IdempotencyKey == "" {
		in.IdempotencyKey = NewIdempotencyKey()
	}
	cur, err := s.Get(ctx, key)
	retry := false
	switch {
	case errors.Is(err, ErrNotFound):
		cur = Record{Key: key}
	case err != nil:
		return nil, fmt.Errorf("persist: begin %q: reading the key: %w", key, err)
	case IsIntent(cur.Token):
		stored, derr := DecodeIntent(cur.Token)
		if derr != nil {
			return nil, fmt.Errorf("persist: begin %q: the stored intent: %w", key, derr)
		}
		if in.Digest != "" && stored.Digest != "" && in.Digest != stored.Digest {
			return nil, fmt.Errorf("persist: begin %q: the key holds the intent of a different request (%s %s): %w",
				key, stored.Method, stored.Target, ErrInvalid)
		}
		in, retry = stored, true
	case !cur.Status.Terminal():
		if d := cur.Labels[DigestLabel]; d != "" && in.Digest != "" && d != in.Digest {
			return nil, fmt.Errorf("persist: begin %q: the key holds an unfinished operation of a different request (status %s); nothing was sent: %w",
				key, cur.Status, ErrInvalid)
		}
		return nil, fmt.Errorf("persist: begin %q: %w (status %s); nothing was sent", key, ErrStarted, cur.Status)
	}
	if !retry {
		enc, err := in.Encode()
		if err != nil {
			return nil, fmt.Errorf("persist: begin %q: %w", key, err)
		}
		rec := cur
		rec.Token, rec.Provider, rec.Status, rec.Detail = enc, in.Provider, poller.StatusNotStarted, "intent recorded; no token yet"
		rec.Labels = cloneLabels(rec.Labels)
		if rec.Labels == nil {
			rec.Labels = map[string]string{}
		}
		if opts != nil {
			for k, v := range opts.Labels {
				rec.Labels[k] = v
			}
		}
		delete(rec.Labels, DigestLabel)
		if in.Digest != "" {
			rec.Labels[DigestLabel] = in.Digest
		}
		if _, err := s.Put(ctx, rec); err != nil {
			return nil, fmt.Errorf("persist: begin %q: recording the intent (nothing was sent): %w", key, err)
		}
	}
	src, err := start(ctx, in, retry)
	if err != nil {
		return nil, fmt.Errorf("persist: begin %q: %w", key, err)
	}
	if src == nil {
		return nil, fmt.Errorf("persist: begin %q: the start function returned no poller (the intent stays): %w", key, ErrInvalid)
	}
	// The operation exists now: its token must reach the store even if
	// the caller's context ended while start returned.
	tr, err := Track(context.WithoutCancel(ctx), s, key, src, opts)
	if err != nil {
		return nil, fmt.Errorf("persist: begin %q: the operation started but its token was not saved (the intent stays): %w", key, err)
	}
	tr.ctx = ctx
	return tr, nil
}

// IntentOf returns the intent r holds, and false when r holds a token.
func IntentOf(r Record) (Intent, bool, error) {
	if !IsIntent(r.Token) {
		return Intent{}, false, nil
	}
	in, err := DecodeIntent(r.Token)
	return in, true, err
}

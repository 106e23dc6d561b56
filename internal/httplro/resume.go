package httplro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/lrokit/lrokit/internal/trust"
	"github.com/lrokit/lrokit/poller"
)

// Resume rebuilds an operation from a resume token: an lrokit token of
// cfg.Provider (compact, JSON, or sealed with one of keys), or a token made
// by azcore's runtime.Poller[T].ResumeToken (async, op, loc and body
// kinds). Trust comes from cfg.Trusted alone: every URL in the token must
// be absolute and inside the caller's anchors, or the token is refused
// before any request with an error wrapping poller.ErrInvalidToken and
// ErrHostNotAllowed. It never panics, whatever the input.
func Resume(token string, cfg Config, key []byte, older ...[]byte) (*Op, poller.Token, error) {
	if cfg.Doer == nil {
		return nil, poller.Token{}, errors.New("no HTTP client or pipeline given")
	}
	if !validFinalStateVia(cfg.FinalStateVia) {
		return nil, poller.Token{}, fmt.Errorf("unknown final-state-via %q", cfg.FinalStateVia)
	}
	if cfg.ImportAzcore && len(token) <= poller.MaxTokenSize {
		if raw := bytes.TrimSpace([]byte(token)); isAzcoreToken(raw) {
			if len(key) > 0 || len(older) > 0 {
				return nil, poller.Token{}, fmt.Errorf("%w: an azcore token is not sealed, and a sealed token is required", poller.ErrInvalidToken)
			}
			kind, st, err := importAzcore(raw)
			if err != nil {
				return nil, poller.Token{}, err
			}
			op, err := rebuild(kind, st, nil, cfg)
			if err != nil {
				return nil, poller.Token{}, err
			}
			return op, poller.Token{Version: poller.TokenVersion, Provider: cfg.Provider, Kind: string(kind)}, nil
		}
	}
	tok, err := poller.DecodeToken(token, key, older...)
	if err != nil {
		return nil, poller.Token{}, err
	}
	if err := tok.Check(cfg.Provider, string(KindAsync), string(KindOperation), string(KindLocation), string(KindBody), string(KindDone)); err != nil {
		return nil, poller.Token{}, err
	}
	var st State
	if len(tok.State) > 0 {
		if err := json.Unmarshal(tok.State, &st); err != nil {
			return nil, poller.Token{}, fmt.Errorf("%w: its state does not decode", poller.ErrInvalidToken)
		}
	}
	op, err := rebuild(Kind(tok.Kind), st, tok.Secrets, cfg)
	if err != nil {
		return nil, poller.Token{}, err
	}
	return op, tok, nil
}

// rebuild validates a decoded state against the caller's anchors and
// returns its operation.
func rebuild(kind Kind, st State, secrets map[string]string, cfg Config) (*Op, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", poller.ErrInvalidToken, fmt.Sprintf(format, args...))
	}
	if !validFinalStateVia(st.FinalStateVia) {
		return nil, bad("its final-state-via is unknown")
	}
	if st.FinalStateVia == "" {
		st.FinalStateVia = cfg.FinalStateVia
	}
	if st.ResultPath == "" {
		st.ResultPath = cfg.ResultPath
	}
	st.Method = cleanMethod(st.Method)
	switch st.Method {
	case http.MethodPut, http.MethodPatch, http.MethodPost, http.MethodDelete:
	case "":
		if kind != KindLocation || st.URL != "" {
			return nil, bad("it names no method")
		}
	default:
		return nil, bad("its method is not PUT, PATCH, POST or DELETE")
	}
	o := &Op{cfg: cfg, proto: protocolOf(kind), st: st, trusted: cfg.Trusted}
	// Every URL the token names must be inside the caller's anchors, not
	// merely agree with the token's other URLs: an attacker edits them all.
	var orig *url.URL
	for _, f := range o.st.urlFields() {
		if *f.ref == "" {
			continue
		}
		if q, ok := secrets[f.name]; ok {
			u, err := url.Parse(*f.ref)
			if err != nil {
				return nil, bad("its %s URL does not parse", f.name)
			}
			u.RawQuery = q
			*f.ref = u.String()
		}
		u, err := trust.ParseAbsolute(*f.ref)
		if err != nil {
			return nil, bad("its %s URL is not an absolute URL", f.name)
		}
		if err := o.trusted.Check(u); err != nil {
			return nil, fmt.Errorf("%w: its %s URL is refused: %w", poller.ErrInvalidToken, f.name, err)
		}
		switch f.name {
		case "url":
			orig = u
		case "poll":
			o.poll = u
		}
	}
	switch kind {
	case KindAsync, KindOperation, KindLocation:
		if o.poll == nil {
			return nil, bad("it names no polling URL")
		}
	case KindBody:
		if orig == nil {
			return nil, bad("it names no resource URL")
		}
		o.poll = orig
	case KindDone:
		switch st.Outcome {
		case poller.StatusSucceeded, poller.StatusFailed, poller.StatusCanceled:
		default:
			return nil, bad("its outcome is not Succeeded, Failed or Canceled")
		}
		o.lastDone = &poller.Observation{Status: st.Outcome, Detail: st.Detail, Progress: poller.ProgressUnknown}
		if st.Outcome != poller.StatusSucceeded {
			msg := st.Message
			if st.Code == "" && msg == "" {
				msg = "the operation had " + strings.ToLower(string(st.Outcome)) + " in its initial response"
			}
			o.lastDone.Err = &poller.OperationError{Provider: cfg.Provider, Operation: o.Name(), Status: st.Outcome, Code: st.Code, Message: msg}
		}
	}
	if o.st.Fallback && orig == nil {
		return nil, bad("it follows the resource but names none")
	}
	if orig == nil && o.poll == nil {
		return nil, bad("it names no URL")
	}
	// The parsed original URL is kept only where it is polled: the body
	// protocol (o.poll is it) and the fallback to the resource.
	if kind == KindBody || o.st.Fallback {
		o.orig = orig
	}
	return o, nil
}

// azcore resume tokens are {"type":"<T's name>","token":{...}}; see
// azcore/internal/pollers.NewResumeToken.
func isAzcoreToken(raw []byte) bool {
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(raw, &probe) != nil {
		return false
	}
	_, hasToken := probe["token"]
	_, isOurs := probe["lrokit"]
	return hasToken && !isOurs
}

// azcoreToken is the union of the fields of azcore's async, op, loc and
// body pollers (azcore v1.x internal/pollers/*).
type azcoreToken struct {
	Type       string `json:"type"`
	AsyncURL   string `json:"asyncURL"`
	OpLocURL   string `json:"oplocURL"`
	PollURL    string `json:"pollURL"`
	LocURL     string `json:"locURL"`
	OrigURL    string `json:"origURL"`
	Method     string `json:"method"`
	FinalState string `json:"finalState"`
	ResultPath string `json:"resultPath"`
	State      string `json:"state"`
}

func importAzcore(raw []byte) (Kind, State, error) {
	bad := func(why string) error {
		return fmt.Errorf("%w: azcore token: %s", poller.ErrInvalidToken, why)
	}
	var wrapper struct {
		Token json.RawMessage `json:"token"`
	}
	if err := json.Unmarshal(raw, &wrapper); err != nil {
		return "", State{}, bad("it does not decode")
	}
	var fields map[string]json.RawMessage
	var t azcoreToken
	if json.Unmarshal(wrapper.Token, &fields) != nil || fields == nil || json.Unmarshal(wrapper.Token, &t) != nil {
		return "", State{}, bad("its token is not a JSON object")
	}
	st := State{FinalStateVia: t.FinalState}
	var kind Kind
	_, async := fields["asyncURL"]
	_, opLoc := fields["oplocURL"]
	switch {
	case async:
		kind, st.Poll, st.Location, st.URL, st.Method = KindAsync, t.AsyncURL, t.LocURL, t.OrigURL, t.Method
	case opLoc:
		kind, st.Poll, st.Location, st.URL, st.Method = KindOperation, t.OpLocURL, t.LocURL, t.OrigURL, t.Method
		st.ResultPath = t.ResultPath
	case t.Type == "body":
		// The body poller polls the resource itself, which only PUT and
		// PATCH use; PUT and PATCH share the final-GET rule.
		kind, st.URL, st.Method = KindBody, t.PollURL, http.MethodPut
	case t.Type == "loc":
		kind, st.Poll = KindLocation, t.PollURL
	case t.Type == "fake":
		return "", State{}, bad("fake-server tokens are not supported")
	default:
		return "", State{}, bad("its poller kind is unknown")
	}
	if kind != KindBody && st.Poll == "" {
		return "", State{}, bad("it has no polling URL")
	}
	if !validFinalStateVia(st.FinalStateVia) {
		return "", State{}, bad("its finalState is unknown")
	}
	return kind, st, nil
}

package httplro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/lrokit/lrokit/poller"
)

// ErrWrongToken is wrapped when a valid token belongs to another provider
// or protocol.
var ErrWrongToken = errors.New("resume token is not for this adapter")

// Resume rebuilds an operation from a resume token: an lrokit token of
// cfg.Provider (compact, JSON or sealed with key), or a token made by
// azcore's runtime.Poller[T].ResumeToken (async, op, loc and body kinds).
// Every URL in the token is checked like a URL from a response: absolute,
// https unless loopback, and on the original request's host or an allowed
// one. It never panics, whatever the input.
func Resume(token string, key []byte, cfg Config) (*Op, poller.Token, error) {
	if cfg.Doer == nil {
		return nil, poller.Token{}, errors.New("no HTTP client or pipeline given")
	}
	if cfg.ImportAzcore && len(token) <= poller.MaxTokenSize {
		if raw := bytes.TrimSpace([]byte(token)); isAzcoreToken(raw) {
			if len(key) > 0 {
				return nil, poller.Token{}, fmt.Errorf("%w: an azcore token is not sealed, and a sealed token is required", poller.ErrInvalidToken)
			}
			kind, st, err := importAzcore(raw)
			if err != nil {
				return nil, poller.Token{}, err
			}
			op, err := rebuild(kind, st, cfg)
			if err != nil {
				return nil, poller.Token{}, err
			}
			return op, poller.Token{Version: poller.TokenVersion, Provider: cfg.Provider, Kind: string(kind)}, nil
		}
	}
	tok, err := poller.DecodeToken(token, key)
	if err != nil {
		return nil, poller.Token{}, err
	}
	if tok.Provider != cfg.Provider {
		return nil, poller.Token{}, fmt.Errorf("%w: it is for provider %q, not %q", ErrWrongToken, clip(tok.Provider), cfg.Provider)
	}
	kind := Kind(tok.Kind)
	if !kind.valid() {
		return nil, poller.Token{}, fmt.Errorf("%w: unknown kind %q", ErrWrongToken, clip(tok.Kind))
	}
	var st State
	if len(tok.State) > 0 {
		if err := json.Unmarshal(tok.State, &st); err != nil {
			return nil, poller.Token{}, fmt.Errorf("%w: its state does not decode", poller.ErrInvalidToken)
		}
	}
	op, err := rebuild(kind, st, cfg)
	if err != nil {
		return nil, poller.Token{}, err
	}
	return op, tok, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// rebuild validates a decoded state and returns its operation.
func rebuild(kind Kind, st State, cfg Config) (*Op, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", poller.ErrInvalidToken, fmt.Sprintf(format, args...))
	}
	if !validFinalStateVia(cfg.FinalStateVia) {
		return nil, fmt.Errorf("unknown final-state-via %q", cfg.FinalStateVia)
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
	o := &Op{cfg: cfg, kind: kind, st: st}
	var origin *url.URL
	if st.URL != "" {
		u, err := url.Parse(st.URL)
		if err != nil {
			return nil, bad("its original URL does not parse")
		}
		if err := CheckOrigin(u, cfg.AllowHTTP); err != nil {
			return nil, bad("its original URL is refused: %v", err)
		}
		o.orig, origin = u, u
	}
	if kind == KindBody && o.orig == nil {
		return nil, bad("it names no resource URL")
	}
	if st.Poll != "" {
		u, err := url.Parse(st.Poll)
		if err != nil || !u.IsAbs() {
			return nil, bad("its polling URL is not absolute")
		}
		if origin == nil {
			// An imported azcore Location token names no original request:
			// its polling URL's host is the only one it may use.
			if err := CheckOrigin(u, cfg.AllowHTTP); err != nil {
				return nil, bad("its polling URL is refused: %v", err)
			}
			origin = u
		}
	}
	if origin == nil {
		return nil, bad("it names no URL")
	}
	o.hosts = NewHosts(origin, cfg.AllowedHosts, cfg.AllowHTTP)
	check := func(name, ref string) (*url.URL, error) {
		if ref == "" {
			return nil, nil
		}
		if u, err := url.Parse(ref); err != nil || !u.IsAbs() {
			return nil, bad("its %s URL is not absolute", name)
		}
		u, err := o.hosts.Resolve(nil, ref)
		if err != nil {
			return nil, fmt.Errorf("%w: its %s URL is refused: %w", poller.ErrInvalidToken, name, err)
		}
		return u, nil
	}
	var err error
	if o.poll, err = check("polling", st.Poll); err != nil {
		return nil, err
	}
	for _, c := range []struct{ name, ref string }{{"location", st.Location}, {"content-location", st.ContentLocation}, {"result", st.Result}} {
		if _, err := check(c.name, c.ref); err != nil {
			return nil, err
		}
	}
	switch kind {
	case KindAsync, KindOperation, KindLocation:
		if o.poll == nil {
			return nil, bad("it names no polling URL")
		}
	case KindBody:
		o.poll = o.orig
	case KindDone:
		switch st.Outcome {
		case poller.StatusSucceeded, poller.StatusFailed, poller.StatusCanceled:
		default:
			return nil, bad("its outcome is not Succeeded, Failed or Canceled")
		}
		o.lastDone = poller.Observation{Status: st.Outcome, Detail: st.Detail, Progress: poller.ProgressUnknown}
		if st.Outcome != poller.StatusSucceeded {
			msg := st.Message
			if st.Code == "" && msg == "" {
				msg = "the operation had " + strings.ToLower(string(st.Outcome)) + " in its initial response"
			}
			o.lastDone.Err = &poller.OperationError{Provider: cfg.Provider, Operation: o.Name(), Status: st.Outcome, Code: st.Code, Message: msg}
		}
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

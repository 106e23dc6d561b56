package httplro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"

	"github.com/lrokit/lrokit/internal/trust"
	"github.com/lrokit/lrokit/poller"
)

// InitialError reports an initial response that cannot start an operation
// although it is a 2xx: a 202 to POST or DELETE without a polling header, a
// polling URL that is relative (Azure), does not parse or is not trusted,
// or a body that cannot be read.
type InitialError struct {
	Msg string
	// Response is the initial response; its Body can be read again.
	Response *http.Response
	Err      error
}

func (e *InitialError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the cause.
func (e *InitialError) Unwrap() error { return e.Err }

// Start reads the operation's initial response. It first decides whether
// the response already finished the operation — and then no polling URL is
// looked at, let alone checked, since none will be requested — and
// otherwise chooses the protocol from the selection table (protocols) and
// checks the polling URL. A non-2xx initial response is an error built by
// Config.ResponseError.
func Start(resp *http.Response, cfg Config) (*Op, poller.Observation, error) {
	var none poller.Observation
	if resp == nil || resp.Request == nil || resp.Request.URL == nil {
		return nil, none, errors.New("the initial response has no Request (method and URL are needed)")
	}
	if cfg.Doer == nil {
		return nil, none, errors.New("no HTTP client or pipeline given")
	}
	if !validFinalStateVia(cfg.FinalStateVia) {
		return nil, none, fmt.Errorf("unknown final-state-via %q", cfg.FinalStateVia)
	}
	body, err := ReadBody(resp)
	if err != nil {
		return nil, none, err
	}
	method := cleanMethod(resp.Request.Method)
	orig := *resp.Request.URL
	orig.Fragment, orig.RawFragment = "", ""
	if err := CheckOrigin(&orig, cfg.AllowHTTP); err != nil {
		return nil, none, err
	}
	code := resp.StatusCode
	if code < 200 || code > 299 {
		return nil, none, cfg.respErr(resp, body)
	}
	// The caller sent this request itself: its origin is trusted for this
	// operation, on top of the caller's anchors.
	origin, err := trust.Origin(&orig)
	if err != nil {
		return nil, none, err
	}
	trusted, err := cfg.Trusted.With(origin)
	if err != nil {
		return nil, none, err
	}
	o := &Op{cfg: cfg, orig: &orig, trusted: trusted}
	o.st = State{Method: method, URL: orig.String(), FinalStateVia: cfg.FinalStateVia, ResultPath: cfg.ResultPath}
	fail := func(msg string, err error) (*Op, poller.Observation, error) {
		resp.Body = readerOf(body)
		return nil, none, &InitialError{Msg: msg, Response: resp, Err: err}
	}
	b, perr := ParseBody(body)
	if perr != nil {
		b = Body{Progress: poller.ProgressUnknown}
		// A 202's body is advisory; any other JSON body decides whether the
		// operation is finished, so one that cannot be read (truncated,
		// malformed) is an error here, not a silent success.
		if code != http.StatusAccepted && looksJSON(resp, body) && !json.Valid(body) {
			return fail(fmt.Sprintf("the initial response (%d %s) to %s %s has a body that cannot be read (%d bytes)", code, http.StatusText(code), method, Redact(&orig), len(body)), perr)
		}
	}
	h := resp.Header
	p := selectProtocol(method, code, h, &cfg)

	// 1. Finished or not, decided before any polling URL is used.
	word, terminal := "", false
	switch {
	case code == http.StatusAccepted:
		if p == nil {
			return fail(fmt.Sprintf("%s answered 202 Accepted without a polling header (Azure-AsyncOperation, Operation-Location or Location)", method), nil)
		}
		// A 202 is never a terminal answer while a polling URL is given.
		switch {
		case b.Status != "" && !MapState(b.Status).Terminal():
			word = b.Status
		case b.ProvisioningState != "" && !MapState(b.ProvisioningState).Terminal():
			word = b.ProvisioningState
		}
	case p == nil:
		word, terminal = "Succeeded", true // POST or DELETE answered 200/201/204
	default:
		word = p.initialWord(b, code, &cfg)
		terminal = word != "" && MapState(word).Terminal()
	}
	if terminal {
		return o.startDone(resp, body, b, word)
	}

	// 2. Still running: the polling URL must be absolute (Azure) and
	// trusted; other URLs are kept if usable, and refused at once only
	// when the final-result table will request them.
	o.proto = p
	if p.header != "" {
		u, err := o.resolve(&orig, h.Get(p.header), p.header)
		if err != nil {
			return fail("cannot poll the operation", err)
		}
		o.poll, o.st.Poll = u, u.String()
		if p.header != "Location" {
			if o.st.Location, err = o.secondary(h.Get("Location"), "Location", srcLocation); err != nil {
				return fail("cannot use the operation's result URL", err)
			}
		}
	} else {
		o.poll = o.orig
	}
	if cfg.REST {
		if o.st.ContentLocation, err = o.secondary(h.Get("Content-Location"), "Content-Location", srcContentLocation); err != nil {
			return fail("cannot use the operation's result URL", err)
		}
	}
	if word == "" {
		word = "Accepted"
		if code == http.StatusCreated {
			word = "Created"
		}
	}
	st := poller.StatusRunning
	if MapState(word) == poller.StatusNotStarted {
		st = poller.StatusNotStarted
	}
	return o, o.observe(fmt.Sprintf("initial %d response", resp.StatusCode), st, b.Detail(word), b.Progress, resp), nil
}

// startDone makes the operation of an initial response that finished it.
func (o *Op) startDone(resp *http.Response, body []byte, b Body, word string) (*Op, poller.Observation, error) {
	o.proto = nil // done: no protocol left to follow
	o.final = finalBody(body)
	o.st.NoContent = len(bytes.TrimSpace(body)) == 0
	if o.cfg.REST {
		// Only requested when the body is empty: kept if usable.
		o.st.ContentLocation, _ = o.secondary(resp.Header.Get("Content-Location"), "Content-Location", "")
		if resp.StatusCode == http.StatusCreated && o.st.Method != http.MethodPut && o.st.Method != http.MethodPatch {
			// 201 Created: Location names the new resource (RFC 9110 §15.3.2).
			o.st.Result, _ = o.secondary(resp.Header.Get("Location"), "Location", "")
		}
	}
	st := MapState(word)
	obs := o.observe(fmt.Sprintf("initial %d response", resp.StatusCode), st, b.Detail(word), b.Progress, resp)
	o.st.Outcome, o.st.Detail = st, obs.Detail
	if st != poller.StatusSucceeded {
		oe := o.opError(st, b, resp, body, "provisioningState is "+word)
		obs.Err = oe
		o.st.Code, o.st.Message = oe.Code, oe.Message
	}
	o.lastDone = &obs
	return o, obs, nil
}

// secondary resolves a URL that does not drive polling. One that cannot be
// used is dropped, unless the final-result table names src as a source for
// this operation: then the refusal is an error now rather than at Result.
func (o *Op) secondary(ref, what string, src source) (string, error) {
	if ref == "" {
		return "", nil
	}
	u, err := o.resolve(o.orig, ref, what)
	if err == nil {
		return u.String(), nil
	}
	if src != "" && slices.Contains(ruleFor(o.st.Method, o.kind(), o.st.FinalStateVia).Sources, src) {
		return "", err
	}
	return "", nil
}

// looksJSON reports whether a body is meant to be JSON: its Content-Type
// says so, or it starts like a JSON object or array.
func looksJSON(resp *http.Response, body []byte) bool {
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil && (mt == "application/json" || len(mt) > 5 && mt[len(mt)-5:] == "+json") {
			return true
		}
	}
	t := bytes.TrimSpace(body)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

package httplro

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/lrokit/lrokit/poller"
)

// InitialError reports an initial response that cannot start an operation
// although it is a 2xx (a 202 on POST or DELETE without a polling header, a
// polling header that does not parse or names a foreign host).
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

// Start reads the operation's initial response and chooses its protocol:
// Azure-AsyncOperation first, then Operation-Location, then Location, then
// the resource's provisioningState (PUT, PATCH). It returns the operation
// and what the initial response says. A non-2xx initial response is an
// error built by Config.ResponseError.
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
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, none, cfg.respErr(resp, body)
	}
	o := &Op{cfg: cfg, orig: &orig, hosts: NewHosts(&orig, cfg.AllowedHosts, cfg.AllowHTTP)}
	o.st = State{Method: method, URL: orig.String(), FinalStateVia: cfg.FinalStateVia, ResultPath: cfg.ResultPath}
	h := resp.Header
	code := resp.StatusCode
	b, perr := ParseBody(body)
	if perr != nil {
		b = Body{Progress: poller.ProgressUnknown}
	}
	fail := func(msg string, err error) (*Op, poller.Observation, error) {
		resp.Body = readerOf(body)
		return nil, none, &InitialError{Msg: msg, Response: resp, Err: err}
	}
	// softURL keeps a final-GET candidate and ignores it when it is junk:
	// another header drives polling.
	softURL := func(ref string) string {
		if ref == "" {
			return ""
		}
		u, err := o.hosts.Resolve(&orig, ref)
		if err != nil {
			return ""
		}
		return u.String()
	}
	if cfg.REST {
		o.st.ContentLocation = softURL(h.Get("Content-Location"))
	}
	pollWith := func(kind Kind, header string) error {
		u, err := o.hosts.Resolve(&orig, h.Get(header))
		if err != nil {
			return fmt.Errorf("the %s header: %w", header, err)
		}
		o.kind, o.poll, o.st.Poll = kind, u, u.String()
		return nil
	}
	word := ""
	switch aao, opl, loc := h.Get("Azure-AsyncOperation"), h.Get("Operation-Location"), h.Get("Location"); {
	case aao != "":
		if err := pollWith(KindAsync, "Azure-AsyncOperation"); err != nil {
			return fail("cannot poll the operation", err)
		}
		o.st.Location = softURL(loc)
		word = b.ProvisioningState
	case opl != "":
		if err := pollWith(KindOperation, "Operation-Location"); err != nil {
			return fail("cannot poll the operation", err)
		}
		o.st.Location = softURL(loc)
		word = b.Status
	case loc != "" && (!cfg.REST || code == http.StatusAccepted):
		if err := pollWith(KindLocation, "Location"); err != nil {
			return fail("cannot poll the operation", err)
		}
		word = b.ProvisioningState
		if cfg.REST && b.IsStatusMonitor() {
			word = b.Status
		}
	case code == http.StatusAccepted && (method == http.MethodPut || method == http.MethodPatch):
		o.kind = KindBody
	case code == http.StatusAccepted:
		return fail(fmt.Sprintf("%s answered 202 Accepted without a polling header (Azure-AsyncOperation, Operation-Location or Location)", method), nil)
	case method == http.MethodPut || method == http.MethodPatch:
		word = b.ProvisioningState
		switch {
		case code == http.StatusNoContent:
			word = "Succeeded"
		case word == "" && code == http.StatusCreated && !cfg.REST:
			// ARM: a 201 without provisioningState is still being created.
			o.kind = KindBody
			word = "Created"
		case word == "":
			word = "Succeeded"
		}
		if o.kind == "" && !MapState(word).Terminal() {
			o.kind = KindBody
		}
	default:
		word = "Succeeded"
		if cfg.REST && code == http.StatusCreated {
			// 201 Created: Location names the new resource (RFC 9110 §15.3.2).
			o.st.Result = softURL(h.Get("Location"))
		}
	}
	st := MapState(word)
	if code == http.StatusAccepted || word == "" {
		// A 202's body is not a terminal answer while a polling URL is given.
		if word == "" || st.Terminal() {
			word = "Accepted"
		}
		if st = MapState(word); st != poller.StatusNotStarted {
			st = poller.StatusRunning
		}
	}
	if st.Terminal() {
		o.kind = KindDone
		o.poll = nil
		o.st.Poll, o.st.Location = "", ""
		if len(body) > 0 || (o.st.Result == "" && o.st.ContentLocation == "") {
			o.final, o.haveFinal = body, true
		}
		o.st.NoContent = len(body) == 0
		obs := o.observe(st, b.Detail(word), b.Progress, resp)
		o.st.Outcome, o.st.Detail = st, obs.Detail
		if st != poller.StatusSucceeded {
			oe := o.opError(st, b, resp, body, "provisioningState is "+word)
			obs.Err = oe
			o.st.Code, o.st.Message = oe.Code, oe.Message
		}
		o.lastDone = obs
		return o, obs, nil
	}
	if o.poll == nil {
		o.poll = o.orig
	}
	return o, o.observe(st, b.Detail(word), b.Progress, resp), nil
}

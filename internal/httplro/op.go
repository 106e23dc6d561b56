package httplro

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lrokit/lrokit/internal/trust"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/retryafter"
)

// Op is one operation driven over HTTP. It implements poller.Operation,
// poller.Canceler, poller.Namer and poller.Locator. It is not safe for
// concurrent use.
type Op struct {
	cfg   Config
	proto *protocol // nil for KindDone; see kind
	st    State
	// orig is the original request's URL, parsed: nil for imported azcore
	// Location tokens, and nil for a resumed operation that does not poll
	// it (origURL parses st.URL, checked when resumed, when it is needed),
	// so that a waiting operation does not keep a second parsed URL.
	orig *url.URL
	poll *url.URL
	// trusted are the hosts this operation may request: the caller's
	// anchors, plus the origin of the request the caller sent (NewPoller).
	trusted trust.Anchors

	// In memory only: bodies are never put in tokens.
	statusBody []byte
	final      []byte              // nil until known; an empty body is noBody (see finalBody)
	lastDone   *poller.Observation // KindDone only

	wire wire // send's reuse between requests
}

// kind is the operation's protocol, or KindDone once nothing is left to
// follow (kept as the protocol alone: issue 17).
func (o *Op) kind() Kind {
	if o.proto == nil {
		return KindDone
	}
	return o.proto.kind
}

// noBody is the final body of an operation whose final response had none:
// known, and empty.
var noBody = []byte{}

// finalBody is body as Op.final, where nil means "not known yet".
func finalBody(body []byte) []byte {
	if body == nil {
		return noBody
	}
	return body
}

// Name returns the method and the original URL without its query string.
func (o *Op) Name() string {
	u := o.origURL()
	if u == nil {
		u = o.poll
	}
	if o.st.Method == "" {
		return Redact(u)
	}
	return o.st.Method + " " + Redact(u)
}

// Host returns the host polls go to (poller.Locator).
func (o *Op) Host() string {
	if o.poll != nil {
		return o.poll.Host
	}
	if u := o.origURL(); u != nil {
		return u.Host
	}
	return ""
}

// OperationType returns the method and, for Azure Resource Manager URLs,
// the resource type ("PUT Microsoft.ContainerService/managedClusters"), or
// else the host (poller.Locator).
func (o *Op) OperationType() string {
	u := o.origURL()
	if u == nil {
		u = o.poll
	}
	if u == nil {
		return o.st.Method
	}
	what := armResourceType(u.Path)
	if what == "" {
		what = u.Host
	}
	return strings.TrimSpace(o.st.Method + " " + what)
}

// origURL returns the original request's URL, or nil when the operation
// has none. A resumed operation that does not poll it parses it anew each
// time (its final GET, Name): st.URL was checked when it was resumed and
// is never changed.
func (o *Op) origURL() *url.URL {
	if o.orig != nil || o.st.URL == "" {
		return o.orig
	}
	u, err := trust.ParseAbsolute(o.st.URL)
	if err != nil {
		return nil
	}
	return u
}

// armResourceType reads an ARM resource path's type:
// ".../providers/Microsoft.Compute/virtualMachines/vm1/extensions/e1" is
// "Microsoft.Compute/virtualMachines/extensions".
func armResourceType(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	last := -1
	for i, s := range segs {
		if strings.EqualFold(s, "providers") && i+1 < len(segs) {
			last = i
		}
	}
	if last < 0 {
		return ""
	}
	typ := []string{segs[last+1]}
	for i := last + 2; i < len(segs); i += 2 {
		typ = append(typ, segs[i])
	}
	return strings.Join(typ, "/")
}

// Token returns the provider, the kind and the state. A URL whose query is
// a credential (trust.IsCapability) is written redacted, its query moved to
// the token's Secrets, which tokens never hold in clear.
//
// A token is taken after every poll (to be saved), so the common case costs
// one allocation, the state's encoding, without keeping the last one in
// every waiting operation (issue 17): URLs that cannot carry a credential
// (trust.MayBeCapability) are not parsed, and appendState writes the state
// straight into the buffer returned.
func (o *Op) Token() (poller.Token, error) {
	tok := poller.Token{Provider: o.cfg.Provider, Kind: string(o.kind())}
	st := &o.st
	for _, s := range [...]string{st.URL, st.Poll, st.Location, st.ContentLocation, st.Result} {
		if trust.MayBeCapability(s) {
			return o.tokenWithSecrets(tok)
		}
	}
	if b, ok := appendState(make([]byte, 0, stateSize(st)), st); ok {
		tok.State = b
		return tok, nil
	}
	b, err := json.Marshal(st)
	if err != nil {
		return poller.Token{}, err
	}
	tok.State = b
	return tok, nil
}

// tokenWithSecrets is Token for a state with a URL that may carry a
// credential.
func (o *Op) tokenWithSecrets(tok poller.Token) (poller.Token, error) {
	st := o.st
	for _, f := range st.urlFields() {
		if *f.ref == "" {
			continue
		}
		u, err := url.Parse(*f.ref)
		if err != nil || !trust.IsCapability(u) {
			continue
		}
		if tok.Secrets == nil {
			tok.Secrets = map[string]string{}
		}
		tok.Secrets[f.name] = u.RawQuery
		*f.ref = trust.RedactURL(u)
	}
	b, err := json.Marshal(&st)
	if err != nil {
		return poller.Token{}, err
	}
	tok.State = b
	return tok, nil
}

// observe makes an observation; rule says what in the answer decided st.
func (o *Op) observe(rule string, st poller.Status, detail string, progress float64, resp *http.Response) poller.Observation {
	obs := poller.Observation{Status: st, Detail: detail, Progress: progress, Rule: rule}
	if resp != nil {
		obs.RetryAfter, obs.Hinted = retryafter.FromHeader(resp.Header, o.cfg.now())
	}
	return obs
}

func (o *Op) opError(st poller.Status, b Body, resp *http.Response, body []byte, fallbackMsg string) *poller.OperationError {
	oe := &poller.OperationError{Provider: o.cfg.Provider, Operation: o.Name(), Status: st, Code: b.Code, Message: b.Message, Raw: body}
	if resp != nil {
		if c := resp.Header.Get("x-ms-error-code"); c != "" && oe.Code == "" {
			oe.Code = c
		}
		oe.Err = o.cfg.respErr(resp, body)
	}
	if oe.Code == "" && oe.Message == "" {
		oe.Message = fallbackMsg
	}
	return oe
}

// httpFailure classifies a response the protocol does not expect: 408, 429
// and 5xx are transient (with the server's Retry-After); the rest permanent.
func (o *Op) httpFailure(resp *http.Response, body []byte) error {
	err := o.cfg.respErr(resp, body)
	if poller.TransientHTTPStatus(resp.StatusCode) {
		ra, _ := retryafter.FromHeader(resp.Header, o.cfg.now())
		if resp.StatusCode == http.StatusTooManyRequests {
			return poller.Throttled(err, ra)
		}
		return poller.Transient(err, ra)
	}
	return err
}

func isGone(code int) bool { return code == http.StatusNotFound || code == http.StatusGone }

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func hasPollingHeader(h http.Header) bool {
	return h.Get("Azure-AsyncOperation") != "" || h.Get("Operation-Location") != "" || h.Get("Location") != ""
}

// Poll performs one round trip and reports the operation's state.
func (o *Op) Poll(ctx context.Context) (poller.Observation, error) {
	switch {
	case o.kind() == KindDone:
		return *o.lastDone, nil
	case o.st.Fallback:
		return pollResource(ctx, o)
	}
	return o.proto.poll(ctx, o)
}

// notReady applies Config.NotFoundGrace to a 404: it reports whether the
// response still counts as "not ready yet".
func (o *Op) notReady(code int) bool {
	if code != http.StatusNotFound || o.cfg.NotFoundGrace <= 0 {
		return false
	}
	now := o.cfg.now()
	if o.st.NotFoundSince.IsZero() || o.st.NotFoundSince.After(now) {
		o.st.NotFoundSince = now
	}
	return now.Sub(o.st.NotFoundSince) < o.cfg.NotFoundGrace
}

// gone handles a status URL that answered 404/410. A success must rest on
// a status the service gave, so the resource itself may stand in for the
// status URL only once that URL answered a valid status at least once
// (State.Seen) — the REST guidelines' "the state stays discoverable on the
// resource when the operation resource is no longer active" — and only for
// PUT, PATCH and DELETE, whose resource is the original URL. A status URL
// that 404s before any status, or a POST's, means the operation is not
// known (poller.ErrOperationNotFound).
func (o *Op) gone(resp *http.Response, body []byte) (poller.Observation, error) {
	if o.notReady(resp.StatusCode) {
		return o.observe(fmt.Sprintf("status URL %d before it exists", resp.StatusCode), poller.StatusRunning, "NotFound (not ready yet)", poller.ProgressUnknown, resp), nil
	}
	switch o.st.Method {
	case http.MethodPut, http.MethodPatch, http.MethodDelete:
		if u := o.origURL(); u != nil && o.st.Seen {
			// Polled from now on: parsed once.
			o.orig, o.st.Fallback = u, true
			return o.observe(fmt.Sprintf("status URL %d; the resource stands in", resp.StatusCode), poller.StatusRunning, fmt.Sprintf("status URL gone (%d); following the resource", resp.StatusCode), poller.ProgressUnknown, resp), nil
		}
	}
	why := "its status URL answered %d"
	if !o.st.Seen {
		why += " before it ever gave a status"
	}
	return poller.Observation{}, fmt.Errorf("%s: "+why+": %w", o.Name(), resp.StatusCode, poller.ErrOperationNotFound)
}

// pollResource reads the resource's own state: the body protocol, and the
// fallback when the status URL is gone.
func pollResource(ctx context.Context, o *Op) (poller.Observation, error) {
	resp, body, err := o.send(ctx, http.MethodGet, o.orig)
	if err != nil {
		return poller.Observation{}, err
	}
	code := resp.StatusCode
	del := o.st.Method == http.MethodDelete
	suffix := ""
	if o.st.Fallback {
		suffix = " (from the resource; status URL gone)"
	}
	switch {
	case isGone(code) && del:
		return o.observe(fmt.Sprintf("DELETE: resource answered %d", code), poller.StatusSucceeded, "Deleted"+suffix, poller.ProgressUnknown, resp), nil
	case isGone(code) && o.notReady(code):
		return o.observe(fmt.Sprintf("resource %d before it exists", code), poller.StatusRunning, "NotFound (not ready yet)", poller.ProgressUnknown, resp), nil
	case isGone(code):
		return poller.Observation{}, fmt.Errorf("%s: the resource answered %d: %w", o.Name(), code, poller.ErrOperationNotFound)
	case code < 200 || code > 299:
		return poller.Observation{}, o.httpFailure(resp, body)
	}
	o.st.NotFoundSince = time.Time{}
	if code == http.StatusAccepted {
		return o.observe("resource 202 Accepted", poller.StatusRunning, "Accepted"+suffix, poller.ProgressUnknown, resp), nil
	}
	b := Body{Progress: poller.ProgressUnknown}
	if code != http.StatusNoContent && len(bytes.TrimSpace(body)) > 0 {
		var perr error
		if b, perr = ParseBody(body); perr != nil && !json.Valid(body) {
			return poller.Observation{}, fmt.Errorf("%s: reading the resource: %w", o.Name(), perr)
		}
	}
	word := b.ProvisioningState
	if word == "" {
		// ARM: a resource without provisioningState has finished.
		word = "Succeeded"
	}
	st := MapState(word)
	if del {
		if st.Terminal() {
			// The delete's status URL is gone and the resource is still
			// there in a settled state: the delete did not happen.
			obs := o.observe("DELETE: resource still there, settled", poller.StatusFailed, word+suffix, poller.ProgressUnknown, resp)
			obs.Err = o.opError(poller.StatusFailed, Body{}, resp, body, "the status URL is gone and the resource still exists")
			return obs, nil
		}
		return o.observe("DELETE: resource properties.provisioningState", poller.StatusRunning, word+suffix, poller.ProgressUnknown, resp), nil
	}
	obs := o.observe(resourceRule(b), st, word+suffix, b.Progress, resp)
	switch st {
	case poller.StatusFailed, poller.StatusCanceled:
		obs.Err = o.opError(st, b, resp, body, "provisioningState is "+word)
	case poller.StatusSucceeded:
		o.final = finalBody(body)
	}
	return obs, nil
}

// Cancel asks the service to cancel by DELETE on the operation URL (REST
// guidelines): only protocols whose status resource is the operation
// support it; a 405 means the service does not.
func (o *Op) Cancel(ctx context.Context) error {
	if o.proto == nil || o.proto.cancel == nil || !o.proto.cancel(&o.cfg) || o.st.Fallback {
		return fmt.Errorf("%s: a %s operation cannot be canceled: %w", o.Name(), o.kind(), poller.ErrCancelNotSupported)
	}
	resp, body, err := o.send(ctx, http.MethodDelete, o.poll)
	if err != nil {
		return err
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		return nil
	case code == http.StatusMethodNotAllowed:
		return fmt.Errorf("%s: the service does not support cancellation (405): %w", o.Name(), poller.ErrCancelNotSupported)
	case isGone(code):
		return fmt.Errorf("%s: canceling: %w", o.Name(), poller.ErrOperationNotFound)
	}
	return o.httpFailure(resp, body)
}

func readerOf(b []byte) *nopBody { return &nopBody{Reader: bytes.NewReader(b)} }

type nopBody struct{ *bytes.Reader }

func (*nopBody) Close() error { return nil }

var _ interface {
	poller.Operation
	poller.Canceler
	poller.Namer
	poller.Locator
} = (*Op)(nil)

// cleanMethod upper-cases a method.
func cleanMethod(m string) string { return strings.ToUpper(strings.TrimSpace(m)) }

// resourceRule names what decided a resource's state.
func resourceRule(b Body) string {
	if b.ProvisioningState != "" {
		return "resource properties.provisioningState"
	}
	return "resource without provisioningState (ARM: done)"
}

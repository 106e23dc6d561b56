package httplro

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/retryafter"
)

// Kind names the protocol that drives an operation; it is the resume
// token's kind.
type Kind string

// The protocols, in the order the initial response selects them.
const (
	// KindAsync polls the Azure-AsyncOperation URL's status body.
	KindAsync Kind = "async"
	// KindOperation polls the Operation-Location URL's status body
	// (REST guidelines).
	KindOperation Kind = "operation"
	// KindLocation polls the Location URL: 202 while running.
	KindLocation Kind = "location"
	// KindBody polls the resource's properties.provisioningState (PUT, PATCH).
	KindBody Kind = "body"
	// KindDone is an operation that finished in its initial response.
	KindDone Kind = "done"
)

func (k Kind) valid() bool {
	switch k {
	case KindAsync, KindOperation, KindLocation, KindBody, KindDone:
		return true
	}
	return false
}

// Final-state-via values (the x-ms-long-running-operation-options of
// OpenAPI / TypeSpec).
const (
	FinalStateViaAzureAsyncOp = "azure-async-operation"
	FinalStateViaLocation     = "location"
	FinalStateViaOriginalURI  = "original-uri"
	FinalStateViaOpLocation   = "operation-location"
)

func validFinalStateVia(s string) bool {
	switch s {
	case "", FinalStateViaAzureAsyncOp, FinalStateViaLocation, FinalStateViaOriginalURI, FinalStateViaOpLocation:
		return true
	}
	return false
}

// ErrResultNotKept is returned by Result for a resumed operation that had
// finished in its initial response with a body that no URL can return again
// (a POST answered 200): resume tokens never hold response bodies.
var ErrResultNotKept = errors.New("the result of an operation that finished in its initial response is not kept in resume tokens")

// Config configures the shared engine for one front-end.
type Config struct {
	// Provider is the token provider name: "azure" or "rest".
	Provider string
	// Doer sends the requests.
	Doer Doer
	// FinalStateVia is one of the FinalStateVia* values or "".
	FinalStateVia string
	// AllowedHosts lists extra hosts polling URLs may use.
	AllowedHosts []string
	// AllowHTTP permits plain http to non-loopback hosts.
	AllowHTTP bool
	// REST turns on the async request-reply rules of reference 002: a
	// Location status endpoint may answer a status body or a 3xx when done,
	// 201 means created, and Content-Location names the final resource.
	REST bool
	// NotFoundGrace treats 404 from a status or result URL as "not ready
	// yet" for this long after the first such 404.
	NotFoundGrace time.Duration
	// ResponseError builds the error for an unexpected response (its Body
	// can be read again); nil means NewResponseError.
	ResponseError func(resp *http.Response, body []byte) error
	// ImportAzcore lets Resume accept azcore runtime.Poller resume tokens.
	ImportAzcore bool
	// Clock supplies "now" for Retry-After; nil means poller.SystemClock.
	Clock poller.Clock
	// ResultPath names the field of the final status body that holds the
	// result (TypeSpec @lroResult, e.g. "result"); "" for the whole body.
	ResultPath string
}

func (c *Config) now() time.Time {
	if c.Clock == nil {
		return poller.SystemClock.Now()
	}
	return c.Clock.Now()
}

func (c *Config) respErr(resp *http.Response, body []byte) error {
	resp.Body = readerOf(body)
	if c.ResponseError != nil {
		return c.ResponseError(resp, body)
	}
	return NewResponseError(resp, body)
}

// State is the engine's part of a resume token: URLs, method and
// final-state-via, and nothing from request headers.
type State struct {
	Method string `json:"method,omitempty"`
	// URL is the original request's URL (query kept: ARM needs api-version).
	URL string `json:"url,omitempty"`
	// Poll is the URL polled now.
	Poll string `json:"poll,omitempty"`
	// Location is the initial response's Location when another header
	// drives polling (a final-GET candidate).
	Location string `json:"location,omitempty"`
	// ContentLocation is the initial response's Content-Location (hybrid
	// model, reference 001).
	ContentLocation string `json:"content_location,omitempty"`
	// Result is the final resource URL learned while polling (a 3xx target
	// or resourceLocation).
	Result        string `json:"result,omitempty"`
	FinalStateVia string `json:"final_state_via,omitempty"`
	// ResultPath names the status body's field that holds the result
	// (imported from azcore Operation-Location tokens).
	ResultPath string `json:"result_path,omitempty"`
	// Fallback reports that the status URL is gone and the resource itself
	// is polled.
	Fallback bool `json:"fallback,omitempty"`
	// NotFoundSince is when a run of "not ready yet" 404s began.
	NotFoundSince time.Time `json:"not_found_since,omitzero"`
	// Outcome, Code, Message and NoContent describe a KindDone operation.
	Outcome   poller.Status `json:"outcome,omitempty"`
	Detail    string        `json:"detail,omitempty"`
	Code      string        `json:"code,omitempty"`
	Message   string        `json:"message,omitempty"`
	NoContent bool          `json:"no_content,omitempty"`
}

// Op is one operation driven over HTTP. It implements poller.Operation,
// poller.Canceler and poller.Namer. It is not safe for concurrent use.
type Op struct {
	cfg   Config
	kind  Kind
	st    State
	orig  *url.URL // nil for imported azcore Location tokens
	poll  *url.URL
	hosts Hosts

	// In memory only: bodies are never put in tokens.
	statusBody []byte
	final      []byte
	haveFinal  bool
	lastDone   poller.Observation
}

// Name returns the method and the original URL without its query string.
func (o *Op) Name() string {
	u := o.orig
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
	if o.orig != nil {
		return o.orig.Host
	}
	return ""
}

// OperationType returns the method and, for Azure Resource Manager URLs,
// the resource type ("PUT Microsoft.ContainerService/managedClusters"), or
// else the host (poller.Locator).
func (o *Op) OperationType() string {
	u := o.orig
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

// Token returns the provider, the kind and the state.
func (o *Op) Token() (poller.Token, error) {
	b, err := json.Marshal(o.st)
	if err != nil {
		return poller.Token{}, err
	}
	return poller.Token{Provider: o.cfg.Provider, Kind: string(o.kind), State: b}, nil
}

func (o *Op) observe(st poller.Status, detail string, progress float64, resp *http.Response) poller.Observation {
	obs := poller.Observation{Status: st, Detail: detail, Progress: progress}
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
	case o.kind == KindDone:
		return o.lastDone, nil
	case o.st.Fallback || o.kind == KindBody:
		return o.pollResource(ctx)
	case o.kind == KindLocation:
		return o.pollLocation(ctx)
	default:
		return o.pollStatus(ctx)
	}
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

// gone handles a status URL that answered 404/410 after the operation was
// accepted. PUT, PATCH and DELETE fall back to the resource itself
// (reference 001: the state stays discoverable when the tracking resource
// is no longer active); others are no longer known.
func (o *Op) gone(resp *http.Response, body []byte) (poller.Observation, error) {
	if o.notReady(resp.StatusCode) {
		return o.observe(poller.StatusRunning, "NotFound (not ready yet)", poller.ProgressUnknown, resp), nil
	}
	switch o.st.Method {
	case http.MethodPut, http.MethodPatch, http.MethodDelete:
		if o.orig != nil {
			o.st.Fallback = true
			return o.observe(poller.StatusRunning, fmt.Sprintf("status URL gone (%d); following the resource", resp.StatusCode), poller.ProgressUnknown, resp), nil
		}
	}
	return poller.Observation{}, fmt.Errorf("%s: status URL answered %d: %w", o.Name(), resp.StatusCode, poller.ErrOperationNotFound)
}

func (o *Op) pollStatus(ctx context.Context) (poller.Observation, error) {
	resp, body, err := o.send(ctx, http.MethodGet, o.poll)
	if err != nil {
		return poller.Observation{}, err
	}
	code := resp.StatusCode
	switch {
	case isGone(code):
		return o.gone(resp, body)
	case code < 200 || code > 299:
		return poller.Observation{}, o.httpFailure(resp, body)
	}
	o.st.NotFoundSince = time.Time{}
	b, perr := ParseBody(body)
	if code == http.StatusAccepted && hasPollingHeader(resp.Header) {
		// A 202 that still names a polling URL is not a terminal answer,
		// whatever its body says.
		word := "Accepted"
		if perr == nil && b.Status != "" && !MapState(b.Status).Terminal() {
			word = b.Status
		}
		return o.observe(poller.StatusRunning, b.Detail(word), b.Progress, resp), nil
	}
	if perr != nil {
		return poller.Observation{}, fmt.Errorf("%s: polling %s: %w", o.Name(), Redact(o.poll), perr)
	}
	if b.Status == "" {
		return poller.Observation{}, fmt.Errorf("%s: polling %s: %w: it has no status field", o.Name(), Redact(o.poll), ErrMalformedStatus)
	}
	st := MapState(b.Status)
	o.statusBody = body
	obs := o.observe(st, b.Detail(b.Status), b.Progress, resp)
	switch st {
	case poller.StatusFailed, poller.StatusCanceled:
		obs.Err = o.opError(st, b, resp, body, "status is "+b.Status)
	case poller.StatusSucceeded:
		o.st.Result = b.ResourceLocation
		if _, _, err := o.finalSource(); err != nil {
			return poller.Observation{}, err
		}
	}
	return obs, nil
}

func (o *Op) pollLocation(ctx context.Context) (poller.Observation, error) {
	resp, body, err := o.send(ctx, http.MethodGet, o.poll)
	if err != nil {
		return poller.Observation{}, err
	}
	code := resp.StatusCode
	switch {
	case isGone(code):
		return o.gone(resp, body)
	case isRedirect(code):
		// Reference 002: 302/303 to the finished resource.
		target, err := o.hosts.Resolve(o.poll, resp.Header.Get("Location"))
		if err != nil {
			return poller.Observation{}, fmt.Errorf("%s: status endpoint redirect refused: %w", o.Name(), err)
		}
		o.st.NotFoundSince = time.Time{}
		o.st.Result = target.String()
		o.final, o.haveFinal = nil, false
		return o.observe(poller.StatusSucceeded, http.StatusText(code), poller.ProgressUnknown, resp), nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusProxyAuthRequired || poller.TransientHTTPStatus(code):
		return poller.Observation{}, o.httpFailure(resp, body)
	case code >= 400:
		// Reference 002: an error is persisted at the status URL as a 4xx;
		// it is the operation's failure, not a transport error.
		b, _ := ParseBody(body)
		obs := o.observe(poller.StatusFailed, fmt.Sprintf("%d %s", code, http.StatusText(code)), poller.ProgressUnknown, resp)
		obs.Err = o.opError(poller.StatusFailed, b, resp, body, fmt.Sprintf("status URL answered %d", code))
		return obs, nil
	case code < 200:
		return poller.Observation{}, o.httpFailure(resp, body)
	}
	o.st.NotFoundSince = time.Time{}
	b, perr := ParseBody(body)
	if code == http.StatusAccepted {
		if loc := resp.Header.Get("Location"); loc != "" {
			// A new Location handed out mid-poll is followed, if allowed.
			u, err := o.hosts.Resolve(o.poll, loc)
			if err != nil {
				return poller.Observation{}, fmt.Errorf("%s: refusing the new Location: %w", o.Name(), err)
			}
			o.poll, o.st.Poll = u, u.String()
		}
		word := "Accepted"
		switch {
		case perr == nil && b.Status != "" && !MapState(b.Status).Terminal():
			word = b.Status
		case perr == nil && b.ProvisioningState != "" && !MapState(b.ProvisioningState).Terminal():
			word = b.ProvisioningState
		}
		// A 202 is never terminal, whatever its body says.
		st := poller.StatusRunning
		if MapState(word) == poller.StatusNotStarted {
			st = poller.StatusNotStarted
		}
		return o.observe(st, b.Detail(word), b.Progress, resp), nil
	}
	if perr == nil && o.cfg.REST && b.IsStatusMonitor() {
		st := MapState(b.Status)
		obs := o.observe(st, b.Detail(b.Status), b.Progress, resp)
		switch st {
		case poller.StatusFailed, poller.StatusCanceled:
			obs.Err = o.opError(st, b, resp, body, "status is "+b.Status)
		case poller.StatusSucceeded:
			o.statusBody, o.final, o.haveFinal = body, body, true
			o.st.Result = b.ResourceLocation
			if _, _, err := o.finalSource(); err != nil {
				return poller.Observation{}, err
			}
		}
		return obs, nil
	}
	if perr == nil && b.ProvisioningState != "" {
		st := MapState(b.ProvisioningState)
		obs := o.observe(st, b.ProvisioningState, b.Progress, resp)
		switch st {
		case poller.StatusFailed, poller.StatusCanceled:
			obs.Err = o.opError(st, b, resp, body, "provisioningState is "+b.ProvisioningState)
		case poller.StatusSucceeded:
			o.final, o.haveFinal = body, true
		}
		return obs, nil
	}
	// Any other 2xx: done, and the body is the result (ARM Location rule).
	o.final, o.haveFinal = body, true
	return o.observe(poller.StatusSucceeded, "Succeeded", poller.ProgressUnknown, resp), nil
}

// pollResource reads the resource's own state: KindBody polling, and the
// fallback when the status URL is gone.
func (o *Op) pollResource(ctx context.Context) (poller.Observation, error) {
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
		return o.observe(poller.StatusSucceeded, "Deleted"+suffix, poller.ProgressUnknown, resp), nil
	case isGone(code) && o.notReady(code):
		return o.observe(poller.StatusRunning, "NotFound (not ready yet)", poller.ProgressUnknown, resp), nil
	case isGone(code):
		return poller.Observation{}, fmt.Errorf("%s: the resource answered %d: %w", o.Name(), code, poller.ErrOperationNotFound)
	case code < 200 || code > 299:
		return poller.Observation{}, o.httpFailure(resp, body)
	}
	o.st.NotFoundSince = time.Time{}
	if code == http.StatusAccepted {
		return o.observe(poller.StatusRunning, "Accepted"+suffix, poller.ProgressUnknown, resp), nil
	}
	var b Body
	if code != http.StatusNoContent {
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
			obs := o.observe(poller.StatusFailed, word+suffix, poller.ProgressUnknown, resp)
			obs.Err = o.opError(poller.StatusFailed, Body{}, resp, body, "the status URL is gone and the resource still exists")
			return obs, nil
		}
		return o.observe(poller.StatusRunning, word+suffix, poller.ProgressUnknown, resp), nil
	}
	obs := o.observe(st, word+suffix, b.Progress, resp)
	switch st {
	case poller.StatusFailed, poller.StatusCanceled:
		obs.Err = o.opError(st, b, resp, body, "provisioningState is "+word)
	case poller.StatusSucceeded:
		o.final, o.haveFinal = body, true
	}
	return obs, nil
}

// finalSource applies the final-GET table. It returns a URL to GET, or the
// bytes already in memory (ok with a nil URL), or neither for "no result".
func (o *Op) finalSource() (*url.URL, []byte, error) {
	resolve := func(ref string) (*url.URL, []byte, error) {
		u, err := o.hosts.Resolve(o.poll, ref)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: final resource URL refused: %w", o.Name(), err)
		}
		return u, nil, nil
	}
	status := func() (*url.URL, []byte, error) {
		if o.haveFinal {
			return nil, o.final, nil
		}
		return nil, o.statusBody, nil
	}
	switch o.st.Method {
	case http.MethodDelete:
		return nil, nil, nil
	case http.MethodPut, http.MethodPatch:
		if o.haveFinal && (o.kind == KindBody || o.kind == KindDone || o.st.Fallback) {
			return nil, o.final, nil
		}
		return o.orig, nil, nil
	}
	// POST, or an imported token whose method is unknown.
	switch o.st.FinalStateVia {
	case FinalStateViaOriginalURI:
		if o.orig != nil {
			return o.orig, nil, nil
		}
	case FinalStateViaAzureAsyncOp:
		return status()
	case FinalStateViaOpLocation:
		if o.st.Result != "" {
			return resolve(o.st.Result)
		}
		return status()
	case FinalStateViaLocation:
		if o.st.Location != "" {
			return resolve(o.st.Location)
		}
	}
	if o.kind == KindDone {
		switch {
		case o.haveFinal:
			return nil, o.final, nil
		case o.st.Result != "":
			return resolve(o.st.Result)
		case o.st.ContentLocation != "":
			return resolve(o.st.ContentLocation)
		case o.st.NoContent:
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("%s: %w", o.Name(), ErrResultNotKept)
	}
	switch {
	case o.st.Result != "":
		return resolve(o.st.Result)
	case o.st.ContentLocation != "":
		return resolve(o.st.ContentLocation)
	case o.kind != KindLocation && o.st.Location != "":
		return resolve(o.st.Location)
	}
	return status()
}

// Result fetches the final payload per the final-GET table and decodes it
// into out. An empty body leaves out untouched.
func (o *Op) Result(ctx context.Context, out any) error {
	u, b, err := o.finalSource()
	if err != nil {
		return err
	}
	path := ""
	if u == nil {
		if o.kind == KindOperation {
			path = o.st.ResultPath
		}
		return decode(b, path, out)
	}
	for range maxRedirects + 1 {
		resp, body, err := o.send(ctx, http.MethodGet, u)
		if err != nil {
			return err
		}
		code := resp.StatusCode
		switch {
		case code >= 200 && code <= 299:
			o.st.NotFoundSince = time.Time{}
			o.final, o.haveFinal = body, true
			return decode(body, "", out)
		case isRedirect(code):
			if u, err = o.hosts.Resolve(u, resp.Header.Get("Location")); err != nil {
				return fmt.Errorf("%s: final GET redirect refused: %w", o.Name(), err)
			}
			continue
		case o.notReady(code):
			return poller.Transient(fmt.Errorf("%s: the result is not ready yet (404)", o.Name()), 0)
		}
		return fmt.Errorf("%s: final GET: %w", o.Name(), o.httpFailure(resp, body))
	}
	return fmt.Errorf("%s: final GET: more than %d redirects", o.Name(), maxRedirects)
}

func decode(b []byte, path string, out any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || out == nil {
		return nil
	}
	if path != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			return fmt.Errorf("decoding the final body: %w", err)
		}
		raw, ok := field(obj, path)
		if !ok {
			return nil
		}
		b = raw
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decoding the final body: %w", err)
	}
	return nil
}

// Cancel asks the service to cancel by DELETE on the operation URL (REST
// guidelines). Only Operation-Location operations and, for REST services,
// Location status monitors support it; a 405 means the service does not.
func (o *Op) Cancel(ctx context.Context) error {
	if !(o.kind == KindOperation || (o.kind == KindLocation && o.cfg.REST)) || o.st.Fallback {
		return fmt.Errorf("%s: a %s operation cannot be canceled: %w", o.Name(), o.kind, poller.ErrCancelNotSupported)
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
} = (*Op)(nil)

// cleanMethod upper-cases a method.
func cleanMethod(m string) string { return strings.ToUpper(strings.TrimSpace(m)) }

package httplro

import (
	"errors"
	"net/http"
	"time"

	"github.com/lrokit/lrokit/internal/trust"
	"github.com/lrokit/lrokit/poller"
)

// Kind names the protocol that drives an operation; it is the resume
// token's kind.
type Kind string

// The protocols, in the order the initial response selects them (see
// protocols).
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

// Final-state-via values (the x-ms-long-running-operation-options of
// OpenAPI, TypeSpec's final-state-via).
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

// ErrHostNotAllowed is wrapped by errors about a URL — in a response
// header, a status body, a redirect or a resume token — outside the hosts
// the caller trusts: following it could send the caller's credentials to
// another party. It is trust.ErrUntrusted.
var ErrHostNotAllowed = trust.ErrUntrusted

// Config configures the engine for one front-end. The front-end decides
// settings; the engine owns the protocol.
type Config struct {
	// Provider is the token provider name: "azure" or "rest".
	Provider string
	// Doer sends the requests.
	Doer Doer
	// FinalStateVia is one of the FinalStateVia* values or "".
	FinalStateVia string
	// ResultPath names the field of the final status body that holds the
	// result (TypeSpec @lroResult, e.g. "result"); "" for the whole body.
	ResultPath string
	// Trusted are the caller's trust anchors. NewPoller adds the origin of
	// the request the caller itself sent; Resume uses them alone.
	Trusted trust.Anchors
	// AllowHTTP permits a plain-http original request to a host that is
	// not loopback (rest.Options.AllowHTTP).
	AllowHTTP bool
	// AbsoluteOnly refuses relative polling URLs in response headers
	// (ARM requires absolute ones); otherwise they resolve against the
	// request URL (RFC 9110 §10.2.2).
	AbsoluteOnly bool
	// REST turns on the async request-reply rules of reference 002: a
	// Location status endpoint may answer a status body or a 3xx when done,
	// 201 means created, and Content-Location names the final resource.
	REST bool
	// GuardRedirects makes each request refuse, before anything is written,
	// a connection the transport opens for a redirect to an untrusted
	// host:port (for Doers whose redirect policy the engine does not own,
	// such as an azcore pipeline's transport).
	GuardRedirects bool
	// ImportAzcore lets Resume accept azcore runtime.Poller resume tokens.
	ImportAzcore bool
	// NotFoundGrace treats 404 from a status or result URL as "not ready
	// yet" for this long after the first such 404.
	NotFoundGrace time.Duration
	// ResponseError builds the error for an unexpected response (its Body
	// can be read again); nil means NewResponseError.
	ResponseError func(resp *http.Response, body []byte) error
	// Clock supplies "now" for Retry-After; nil means poller.SystemClock.
	Clock poller.Clock
	// Header is added to every request of the operation (polls, final
	// GETs, cancel), all of which go to trusted hosts only. It is never
	// written to tokens, logs or errors.
	Header http.Header
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
// final-state-via, and nothing from request headers. A URL whose query is
// a credential is kept here redacted, its query in the token's Secrets.
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
	// ResultPath names the status body's field that holds the result.
	ResultPath string `json:"result_path,omitempty"`
	// Seen reports that the status URL answered at least one valid status:
	// only then may a 404 from it fall back to the resource.
	Seen bool `json:"seen,omitempty"`
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

// urlFields lists the State's URL fields by token name, for the checks a
// resumed token gets and for secrets.
func (s *State) urlFields() []struct {
	name string
	ref  *string
} {
	return []struct {
		name string
		ref  *string
	}{{"url", &s.URL}, {"poll", &s.Poll}, {"location", &s.Location}, {"content_location", &s.ContentLocation}, {"result", &s.Result}}
}

package rest

import (
	"fmt"
	"net/http"
	"time"

	"github.com/lrokit/lrokit/internal/httplro"
	"github.com/lrokit/lrokit/internal/trust"
	"github.com/lrokit/lrokit/poller"
)

// Provider is the provider name in this package's resume tokens.
const Provider = "rest"

// FinalStateVia says where a POST's final result comes from (the same
// values as Azure's final-state-via). The empty value applies the default.
type FinalStateVia string

// The final-state-via values.
const (
	FinalStateViaAzureAsyncOp FinalStateVia = httplro.FinalStateViaAzureAsyncOp
	FinalStateViaLocation     FinalStateVia = httplro.FinalStateViaLocation
	FinalStateViaOriginalURI  FinalStateVia = httplro.FinalStateViaOriginalURI
	FinalStateViaOpLocation   FinalStateVia = httplro.FinalStateViaOpLocation
)

// ResponseError reports an HTTP response the protocol does not allow
// (a non-2xx initial response, a permanent error from a status URL, a
// failed final GET). It keeps the error code and message from the body (or
// x-ms-error-code), the raw body and the response.
type ResponseError = httplro.ResponseError

// InitialError reports a 2xx initial response that cannot start an
// operation: a 202 to POST or DELETE without a Location, or a polling URL
// that does not parse or names a host that is not allowed.
type InitialError = httplro.InitialError

// ErrHostNotAllowed is wrapped by errors about a URL, in a response or a
// resume token, whose host is neither the original request's nor allowed.
var ErrHostNotAllowed = httplro.ErrHostNotAllowed

// ErrResultNotKept is returned by Result for a resumed POST that finished in
// its initial response: its body is not in the token and no URL returns it.
var ErrResultNotKept = httplro.ErrResultNotKept

// ErrMalformedStatus is wrapped by poll errors about a status body that is
// empty, not JSON, or has no status field: a permanent error.
var ErrMalformedStatus = httplro.ErrMalformedStatus

// Options configure NewPoller and Resume. The zero value (or nil) works.
type Options struct {
	// Options are the poller's: policy, clock, logger, poll timeout,
	// deadline and seal key.
	poller.Options
	// FinalStateVia says where a POST's result comes from; "" for the
	// default. A token keeps the value it was made with.
	FinalStateVia FinalStateVia
	// AllowedHosts are the hosts polling and result URLs may use: "host",
	// "host:port", ".suffix" (every subdomain) or an origin
	// "https://host:port". NewPoller also trusts the initial request's
	// origin; Resume trusts nothing a token says, so a token resumes only
	// when its hosts are named here.
	AllowedHosts []string
	// AllowHTTP permits plain http to hosts that are not loopback (for
	// example inside a private network). By default such URLs are refused.
	AllowHTTP bool
	// Header is sent with every request the poller makes — polls, the
	// final GET, cancel — for APIs that authenticate with a header
	// (Authorization, an API key). Those requests only ever go to trusted
	// hosts (the request's origin and AllowedHosts), and the header is
	// never written to tokens, logs or errors; give it again when resuming.
	// For anything more (signing, refreshing tokens), use the client's
	// Transport.
	Header http.Header
	// NotFoundGrace treats a 404 from the status or result URL as "not
	// ready yet" for this long after the first 404 in a row, for services
	// that answer that way (reference 002, Considerations). Zero: a 404
	// means the status URL is gone.
	NotFoundGrace time.Duration
}

func (o *Options) config(client *http.Client) (httplro.Config, poller.Options, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if client == nil {
		client = http.DefaultClient
	}
	// Redirects are the protocol's business (a 302/303 from a status
	// endpoint means done) and each hop's host is checked, so the client
	// must not follow them by itself.
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	trusted, err := trust.Shared("rest.Options.AllowedHosts (CLI: --allow-host)", opts.AllowHTTP, opts.AllowedHosts...)
	if err != nil {
		return httplro.Config{}, opts.Options, err
	}
	return httplro.Config{
		Provider:      Provider,
		Doer:          &c,
		FinalStateVia: string(opts.FinalStateVia),
		Trusted:       trusted,
		AllowHTTP:     opts.AllowHTTP,
		REST:          true,
		NotFoundGrace: opts.NotFoundGrace,
		Clock:         opts.Clock,
		Header:        opts.Header.Clone(),
	}, opts.Options, nil
}

// NewPoller returns a poller for the operation whose initial response is
// resp (resp.Request gives the method and URL), sending its requests with
// client (nil means http.DefaultClient; its redirect policy is replaced).
// It reads and closes resp.Body, replacing it with a copy.
//
// The protocol is chosen like the azure package's (Azure-AsyncOperation,
// Operation-Location, Location, provisioningState), with the async
// request-reply rules: a 202's Location is a status endpoint that answers
// 202 while pending and a status body, 302/303 or 200/201/204 when done;
// a 4xx from it is the operation's failure; Content-Location names the
// final resource. A 201 Created or any other terminal 2xx is done at once.
// A non-2xx resp is returned as a *ResponseError.
func NewPoller[T any](resp *http.Response, client *http.Client, opts *Options) (*poller.Poller[T], error) {
	cfg, po, err := opts.config(client)
	if err != nil {
		return nil, fmt.Errorf("rest: %w", err)
	}
	op, initial, err := httplro.Start(resp, cfg)
	if err != nil {
		return nil, fmt.Errorf("rest: %w", err)
	}
	po.Initial = &initial
	return poller.New[T](op, &po)
}

// Resume returns a poller for the operation a resume token of this package
// names (compact, JSON, or sealed with opts.SealKey or one of
// opts.SealKeys). Trust comes from opts alone: every URL in the token must
// be inside AllowedHosts (https unless AllowHTTP or an http:// origin is
// named), or the token is refused before any request
// (poller.ErrInvalidToken, ErrHostNotAllowed).
func Resume[T any](token string, client *http.Client, opts *Options) (*poller.Poller[T], error) {
	cfg, po, err := opts.config(client)
	if err != nil {
		return nil, fmt.Errorf("rest: resuming: %w", err)
	}
	op, tok, err := httplro.Resume(token, cfg, po.SealKey, po.SealKeys...)
	if err != nil {
		return nil, fmt.Errorf("rest: resuming: %w", err)
	}
	return poller.Resume[T](op, tok, &po)
}

package azure

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/lrokit/lrokit/internal/httplro"
	"github.com/lrokit/lrokit/poller"
)

// Provider is the provider name in this package's resume tokens.
const Provider = "azure"

// FinalStateVia says where a POST's final result comes from, as the
// service's OpenAPI x-ms-long-running-operation-options or TypeSpec
// declares it. The empty value applies the default column of the final-GET
// table (see the package documentation).
type FinalStateVia string

// The final-state-via values.
const (
	FinalStateViaAzureAsyncOp FinalStateVia = httplro.FinalStateViaAzureAsyncOp
	FinalStateViaLocation     FinalStateVia = httplro.FinalStateViaLocation
	FinalStateViaOriginalURI  FinalStateVia = httplro.FinalStateViaOriginalURI
	FinalStateViaOpLocation   FinalStateVia = httplro.FinalStateViaOpLocation
)

// ErrHostNotAllowed is wrapped by errors about a polling or result URL, in a
// response header or a resume token, whose host is neither the original
// request's host nor in Options.AllowedHosts.
var ErrHostNotAllowed = httplro.ErrHostNotAllowed

// ErrResultNotKept is returned by Result for a resumed POST that finished in
// its initial response: its body is not in the token and no URL returns it.
var ErrResultNotKept = httplro.ErrResultNotKept

// ErrMalformedStatus is wrapped by poll errors about a status body that is
// empty, not JSON, or has no status field: a permanent error.
var ErrMalformedStatus = httplro.ErrMalformedStatus

// DefaultPolicy is merged under the caller's Options.Policy. Azure
// data-plane services often ask for Retry-After: 1, so the floor is 1 s.
var DefaultPolicy = poller.Policy{Floor: time.Second}

// Options configure NewPoller and Resume. The zero value (or nil) works.
type Options struct {
	// Options are the poller's: policy, clock, logger, poll timeout,
	// deadline and seal key.
	poller.Options
	// FinalStateVia says where a POST's result comes from; "" for the
	// default. A token keeps the value it was made with.
	FinalStateVia FinalStateVia
	// AllowedHosts are extra hosts polling and result URLs may use: "host",
	// "host:port", or ".suffix" for any subdomain. The initial request's
	// host is always allowed.
	AllowedHosts []string
	// PipelineRetries keeps the pipeline's own retry policy for polling and
	// final-GET requests. By default it is turned off for them, and the
	// poller's budgeted retries alone apply (see the package documentation).
	PipelineRetries bool
	// ResultPath names the field of the final status monitor that holds
	// the result, for operations whose TypeSpec marks one with @lroResult
	// (Azure.Core RPC operations use "result"). "" means the whole body.
	// A token keeps the value it was made with.
	ResultPath string
}

func (o *Options) config(pl runtime.Pipeline) (httplro.Config, poller.Options) {
	var opts Options
	if o != nil {
		opts = *o
	}
	po := opts.Options
	po.Policy = po.Policy.Merge(DefaultPolicy)
	return httplro.Config{
		Provider:      Provider,
		Doer:          pipelineDoer{pl: pl, retries: opts.PipelineRetries},
		FinalStateVia: string(opts.FinalStateVia),
		AllowedHosts:  opts.AllowedHosts,
		ImportAzcore:  true,
		ResponseError: func(resp *http.Response, _ []byte) error { return runtime.NewResponseError(resp) },
		Clock:         po.Clock,
		ResultPath:    opts.ResultPath,
	}, po
}

// NewPoller returns a poller for the operation whose initial response is
// resp (resp.Request gives the method and URL). It reads and closes
// resp.Body, replacing it with a copy.
//
// The protocol is chosen from resp: Azure-AsyncOperation, then
// Operation-Location, then Location, then the resource's provisioningState
// (PUT, PATCH). A 200, 201 or 204 that is already terminal gives a poller
// that is done at once. A non-2xx resp is returned as an
// *azcore.ResponseError; a 202 to POST or DELETE without a polling header,
// or a polling URL on a host that is not allowed, is an error too.
func NewPoller[T any](resp *http.Response, pl runtime.Pipeline, opts *Options) (*poller.Poller[T], error) {
	cfg, po := opts.config(pl)
	op, initial, err := httplro.Start(resp, cfg)
	if err != nil {
		return nil, fmt.Errorf("azure: %w", err)
	}
	po.Initial = &initial
	return poller.New[T](op, &po)
}

// Resume returns a poller for the operation a resume token names: a token
// from this package (compact, JSON, or sealed with opts.SealKey), or one
// made by azcore's runtime.Poller[T].ResumeToken. Every URL in the token
// must be absolute, https unless loopback, and on the original request's
// host or in AllowedHosts; a token that fails is refused before any request.
func Resume[T any](token string, pl runtime.Pipeline, opts *Options) (*poller.Poller[T], error) {
	cfg, po := opts.config(pl)
	op, tok, err := httplro.Resume(token, po.SealKey, cfg)
	if err != nil {
		return nil, fmt.Errorf("azure: resuming: %w", err)
	}
	return poller.Resume[T](op, tok, &po)
}

// pipelineDoer sends requests through an azcore pipeline, so its policies
// (credential, telemetry, logging, custom) apply.
type pipelineDoer struct {
	pl      runtime.Pipeline
	retries bool
}

func (d pipelineDoer) Do(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	if !d.retries {
		// One request per poll: the poller retries transient failures on
		// its own budgeted schedule (see doc.go).
		ctx = policy.WithRetryOptions(ctx, policy.RetryOptions{MaxRetries: -1})
	}
	req, err := runtime.NewRequest(ctx, r.Method, r.URL.String())
	if err != nil {
		return nil, errors.New("building the request failed")
	}
	for k, v := range r.Header {
		req.Raw().Header[k] = v
	}
	return d.pl.Do(req)
}

package azure

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	// Registers the clouds' Resource Manager endpoints in azcore/cloud.
	_ "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/lrokit/lrokit/internal/httplro"
	"github.com/lrokit/lrokit/internal/trust"
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

// ErrHostNotAllowed is wrapped by errors about a polling, result or
// redirect URL — in a response header, a status body or a resume token —
// outside the hosts the caller trusts: the cloud's Resource Manager
// endpoint, Options.AllowedHosts, and for NewPoller the initial request's
// own origin. Token refusals also wrap poller.ErrInvalidToken.
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
	// Cloud names the Azure cloud whose Resource Manager endpoint is
	// trusted (azcore/cloud: AzurePublic, AzureChina, AzureGovernment, or
	// your own configuration). The zero value means cloud.AzurePublic.
	Cloud cloud.Configuration
	// AllowedHosts are the other hosts polling and result URLs may use:
	// the data-plane services the caller talks to. Each is "host",
	// "host:port", ".suffix" (every subdomain, such as ".vault.azure.net")
	// or an origin "https://host:port". NewPoller also trusts the initial
	// request's origin; Resume trusts nothing a token says, so a data-plane
	// token resumes only when its host is named here.
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

// AllowedHostsOption names the setting that widens the trusted hosts, in
// refusals.
const allowedHostsOption = "azure.Options.AllowedHosts (CLI: --allow-host)"

func (o *Options) config(pl runtime.Pipeline) (httplro.Config, poller.Options, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	po := opts.Options
	po.Policy = po.Policy.Merge(DefaultPolicy)
	// Shared: one set for every Resume with the same cloud and hosts, not a
	// map per waiting operation (issue 17); identical patterns only.
	trusted, err := trust.Shared(allowedHostsOption, false, append(armEndpoints(opts.Cloud), opts.AllowedHosts...)...)
	if err != nil {
		return httplro.Config{}, po, err
	}
	return httplro.Config{
		Provider:       Provider,
		Doer:           pipelineDoer{pl: pl, retries: opts.PipelineRetries},
		FinalStateVia:  string(opts.FinalStateVia),
		ResultPath:     opts.ResultPath,
		Trusted:        trusted,
		AbsoluteOnly:   true,
		GuardRedirects: true,
		ImportAzcore:   true,
		ResponseError:  func(resp *http.Response, _ []byte) error { return runtime.NewResponseError(resp) },
		Clock:          po.Clock,
	}, po, nil
}

// armEndpoints returns the origin of the cloud's Resource Manager endpoint
// (management.azure.com for the public cloud).
func armEndpoints(c cloud.Configuration) []string {
	if len(c.Services) == 0 {
		c = cloud.AzurePublic
	}
	svc, ok := c.Services[cloud.ResourceManager]
	if !ok || svc.Endpoint == "" {
		return nil
	}
	u, err := url.Parse(svc.Endpoint)
	if err != nil || u.Host == "" {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}

// NewPoller returns a poller for the operation whose initial response is
// resp (resp.Request gives the method and URL). It reads and closes
// resp.Body, replacing it with a copy.
//
// A 200, 201 or 204 that is already terminal gives a poller that is done
// at once, whatever polling headers it carries. Otherwise the protocol is
// chosen from resp: Azure-AsyncOperation, then Operation-Location, then
// Location, then the resource's provisioningState (PUT, PATCH). A non-2xx
// resp is returned as an *azcore.ResponseError; a 202 to POST or DELETE
// without a polling header, a relative or untrusted polling URL, and a
// JSON body that cannot be read are errors too (*httplro.InitialError
// messages, wrapping ErrHostNotAllowed where a host is refused).
func NewPoller[T any](resp *http.Response, pl runtime.Pipeline, opts *Options) (*poller.Poller[T], error) {
	cfg, po, err := opts.config(pl)
	if err != nil {
		return nil, fmt.Errorf("azure: %w", err)
	}
	op, initial, err := httplro.Start(resp, cfg)
	if err != nil {
		return nil, fmt.Errorf("azure: %w", err)
	}
	po.Initial = &initial
	return poller.New[T](op, &po)
}

// Resume returns a poller for the operation a resume token names: a token
// from this package (compact, JSON, or sealed with opts.SealKey or one of
// opts.SealKeys), or one made by azcore's runtime.Poller[T].ResumeToken.
// Trust comes from opts alone: every URL in the token must be inside the
// cloud's Resource Manager endpoint or AllowedHosts, or the token is
// refused before any request (poller.ErrInvalidToken, ErrHostNotAllowed).
//
// Pollers resumed with the same Cloud and AllowedHosts share one immutable
// set of trusted hosts, however many Options values carry them (a fleet's
// Resolver makes one per operation); different hosts never share one.
func Resume[T any](token string, pl runtime.Pipeline, opts *Options) (*poller.Poller[T], error) {
	cfg, po, err := opts.config(pl)
	if err != nil {
		return nil, fmt.Errorf("azure: resuming: %w", err)
	}
	op, tok, err := httplro.Resume(token, cfg, po.SealKey, po.SealKeys...)
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
	if r.URL == nil || r.URL.Host == "" || (r.URL.Scheme != "http" && r.URL.Scheme != "https") {
		return nil, errors.New("building the request failed")
	}
	if !d.retries {
		// One request per poll: the poller retries transient failures on
		// its own budgeted schedule (see doc.go).
		r = r.WithContext(policy.WithRetryOptions(r.Context(), policy.RetryOptions{MaxRetries: -1}))
	}
	// The engine's request as it is, not printed and parsed again into a
	// new one (9 allocations per poll; BenchmarkPerPoll in bench/loopback).
	req, err := runtime.NewRequestFromRequest(r)
	if err != nil {
		return nil, errors.New("building the request failed")
	}
	return d.pl.Do(req)
}

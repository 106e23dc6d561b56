package resume

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	compute "google.golang.org/api/compute/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/lrokit/lrokit/aws"
	// Every built-in AWS waiter: a token may name any of them.
	_ "github.com/lrokit/lrokit/aws/waiters/all"
	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/gcp"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/rest"
)

// ErrNoClient is wrapped by the error Any returns when the token's provider
// needs a client that Clients does not hold.
var ErrNoClient = errors.New("no client for this provider")

// Clients holds what the caller already has for each provider. A nil client
// field means that provider's tokens cannot be resumed; Any says which is
// missing.
//
// Trust comes from these fields, never from a token (DESIGN.md, "Tokens"):
// the hosts a token may send the caller's credentials to are those the
// adapter options below name (Azure: the cloud's ARM endpoint and
// AllowedHosts; REST: AllowedHosts; Google: *.googleapis.com or
// GCPOptions.Endpoint; AWS: the service's own regional endpoint or
// AWSOptions.BaseEndpoint / the config's BaseEndpoint).
type Clients struct {
	// Azure is the azcore pipeline for "azure" tokens, with the caller's
	// credential policy.
	Azure *runtime.Pipeline
	// HTTP is the client for "rest" tokens; nil means http.DefaultClient.
	HTTP *http.Client
	// GCP returns the operations client for the API endpoint a "gcp"
	// longrunning token names ("" when it names none). Operations are
	// served by the API that created them, so one client per endpoint.
	// Any calls it only for an endpoint gcp.TrustEndpoint accepts.
	GCP func(ctx context.Context, endpoint string) (*lroauto.OperationsClient, error)
	// Compute is the Compute Engine service for "gcp" compute tokens.
	Compute *compute.Service
	// AWS is the config (credentials, retryer) for "aws" tokens.
	AWS *awssdk.Config

	// Options apply to every poller: policy, clock, logger, seal keys...
	// They replace the poller.Options embedded in the adapter options
	// below, which are ignored.
	Options poller.Options
	// AllowedHosts are extra hosts Azure and REST polling URLs may use,
	// added to AzureOptions.AllowedHosts and RESTOptions.AllowedHosts.
	AllowedHosts []string

	// AzureOptions, RESTOptions, GCPOptions and AWSOptions are each
	// adapter's own options (nil: the zero value), such as
	// azure.Options.PipelineRetries, rest.Options.AllowHTTP and
	// NotFoundGrace, gcp.Options.Endpoint, aws.Options.BaseEndpoint.
	AzureOptions *azure.Options
	RESTOptions  *rest.Options
	GCPOptions   *gcp.Options
	AWSOptions   *aws.Options
}

// azureOptions returns the caller's Azure options with the shared ones.
func (c Clients) azureOptions() *azure.Options {
	var o azure.Options
	if c.AzureOptions != nil {
		o = *c.AzureOptions
	}
	o.Options = c.Options
	o.AllowedHosts = append(append([]string(nil), o.AllowedHosts...), c.AllowedHosts...)
	return &o
}

// restOptions returns the caller's REST options with the shared ones.
func (c Clients) restOptions() *rest.Options {
	var o rest.Options
	if c.RESTOptions != nil {
		o = *c.RESTOptions
	}
	o.Options = c.Options
	o.AllowedHosts = append(append([]string(nil), o.AllowedHosts...), c.AllowedHosts...)
	return &o
}

// gcpOptions returns the caller's Google options with the shared ones.
func (c Clients) gcpOptions() *gcp.Options {
	var o gcp.Options
	if c.GCPOptions != nil {
		o = *c.GCPOptions
	}
	o.Options = c.Options
	return &o
}

// awsOptions returns the caller's AWS options with the shared ones.
func (c Clients) awsOptions() *aws.Options {
	var o aws.Options
	if c.AWSOptions != nil {
		o = *c.AWSOptions
	}
	o.Options = c.Options
	return &o
}

// Poller is a resumed operation of any provider, with its result as JSON.
// It has the methods of poller.Poller.
type Poller struct {
	// Provider and Kind are the token's.
	Provider, Kind string

	core   core
	wait   func(context.Context, *poller.WaitOptions) (json.RawMessage, error)
	result func(context.Context) (json.RawMessage, error)
}

// core is what every *poller.Poller[T] offers whatever its T.
type core interface {
	Poll(ctx context.Context) (poller.Observation, error)
	Done() bool
	Last() poller.Observation
	Polls() int
	Created() time.Time
	NextPollAt() time.Time
	Cancel(ctx context.Context) error
	ResumeToken() (string, error)
	Token() (poller.Token, error)
	Operation() poller.Operation
	Outcome() poller.Outcome
}

func wrap[T any](provider, kind string, p *poller.Poller[T], marshal func(T) ([]byte, error)) *Poller {
	toJSON := func(v T, err error) (json.RawMessage, error) {
		if err != nil {
			return nil, err
		}
		b, err := marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encoding the %s result as JSON: %w", provider, err)
		}
		return b, nil
	}
	return &Poller{
		Provider: provider, Kind: kind, core: p,
		wait: func(ctx context.Context, wo *poller.WaitOptions) (json.RawMessage, error) {
			return toJSON(p.Wait(ctx, wo))
		},
		result: func(ctx context.Context) (json.RawMessage, error) { return toJSON(p.Result(ctx)) },
	}
}

// Poll performs one round trip (see poller.Poller.Poll).
func (p *Poller) Poll(ctx context.Context) (poller.Observation, error) { return p.core.Poll(ctx) }

// Done reports whether the operation reached a terminal status.
func (p *Poller) Done() bool { return p.core.Done() }

// Last returns the last observation.
func (p *Poller) Last() poller.Observation { return p.core.Last() }

// Polls returns the number of polls made, across resumptions.
func (p *Poller) Polls() int { return p.core.Polls() }

// Created returns when the operation started.
func (p *Poller) Created() time.Time { return p.core.Created() }

// NextPollAt returns when the poller next wants to be polled.
func (p *Poller) NextPollAt() time.Time { return p.core.NextPollAt() }

// Cancel asks the provider to cancel the operation.
func (p *Poller) Cancel(ctx context.Context) error { return p.core.Cancel(ctx) }

// ResumeToken returns a fresh resume token.
func (p *Poller) ResumeToken() (string, error) { return p.core.ResumeToken() }

// Token returns the resume token as a struct.
func (p *Poller) Token() (poller.Token, error) { return p.core.Token() }

// Operation returns the adapter's operation.
func (p *Poller) Operation() poller.Operation { return p.core.Operation() }

// Outcome explains where the wait stands (see poller.Poller.Outcome).
func (p *Poller) Outcome() poller.Outcome { return p.core.Outcome() }

// Wait polls until the operation is terminal and returns its result as JSON
// (see poller.Poller.Wait).
func (p *Poller) Wait(ctx context.Context, opts *poller.WaitOptions) (json.RawMessage, error) {
	return p.wait(ctx, opts)
}

// Result returns the final result as JSON once the operation succeeded.
func (p *Poller) Result(ctx context.Context) (json.RawMessage, error) { return p.result(ctx) }

// Host returns the host the operation is polled on, the unit of per-host
// rate limits: the polling URL's host for Azure and REST, the API endpoint
// for Google, the service's regional endpoint for AWS. It falls back to the
// provider's name.
func (p *Poller) Host() string {
	if l, ok := p.core.Operation().(poller.Locator); ok && l.Host() != "" {
		return l.Host()
	}
	return p.Provider
}

// Type names the kind of operation, provider first, for learned durations:
// "azure PUT Microsoft.ContainerService/managedClusters",
// "aws cloudformation.StackCreateComplete".
func (p *Poller) Type() string {
	if l, ok := p.core.Operation().(poller.Locator); ok && l.OperationType() != "" {
		return p.Provider + " " + l.OperationType()
	}
	return p.Provider + " " + p.Kind
}

// Any returns a poller for whichever provider token names, built on the
// matching client in c. The result is raw JSON: the final body for Azure
// and REST, the protojson of the response for Google operations, the
// Compute operation, the last describe output for AWS.
func Any(ctx context.Context, token string, c Clients) (*Poller, error) {
	tok, err := c.Options.DecodeToken(token)
	if err != nil {
		return nil, err
	}
	switch tok.Provider {
	case azure.Provider:
		if c.Azure == nil {
			return nil, missing("azure", "an azcore runtime.Pipeline")
		}
		p, err := azure.Resume[json.RawMessage](token, *c.Azure, c.azureOptions())
		if err != nil {
			return nil, err
		}
		return wrap(tok.Provider, tok.Kind, p, rawJSON), nil
	case rest.Provider:
		p, err := rest.Resume[json.RawMessage](token, c.HTTP, c.restOptions())
		if err != nil {
			return nil, err
		}
		return wrap(tok.Provider, tok.Kind, p, rawJSON), nil
	case gcp.Provider:
		return resumeGCP(ctx, token, tok, c)
	case aws.Provider:
		if c.AWS == nil {
			return nil, missing("aws", "an aws.Config")
		}
		p, err := aws.Resume[any](token, *c.AWS, c.awsOptions())
		if err != nil {
			return nil, err
		}
		return wrap(tok.Provider, tok.Kind, p, func(v any) ([]byte, error) { return json.Marshal(v) }), nil
	}
	return nil, fmt.Errorf("%w: its provider %q is not one this lrokit knows (azure, rest, gcp, aws)", poller.ErrInvalidToken, printable(tok.Provider))
}

func resumeGCP(ctx context.Context, token string, tok poller.Token, c Clients) (*Poller, error) {
	opts := c.gcpOptions()
	if tok.Kind == gcp.KindCompute {
		if c.Compute == nil {
			return nil, missing("gcp compute", "a compute.Service")
		}
		p, err := gcp.ResumeCompute(token, c.Compute, opts)
		if err != nil {
			return nil, err
		}
		return wrap(tok.Provider, tok.Kind, p, func(op *compute.Operation) ([]byte, error) { return json.Marshal(op) }), nil
	}
	if c.GCP == nil {
		return nil, missing("gcp", "an OperationsClient factory")
	}
	endpoint, err := gcp.TokenEndpoint(token, append([][]byte{c.Options.SealKey}, c.Options.SealKeys...)...)
	if err != nil {
		return nil, err
	}
	// The factory builds a client with the caller's credentials: the
	// token's endpoint must be one the caller trusts before it is called.
	if err := gcp.TrustEndpoint(endpoint, opts.Endpoint); err != nil {
		return nil, fmt.Errorf("gcp: %w", err)
	}
	if endpoint == "" {
		endpoint = opts.Endpoint
	}
	client, err := c.GCP(ctx, endpoint)
	if err != nil {
		return nil, fmt.Errorf("gcp operations client for %q: %w", endpoint, err)
	}
	p, err := gcp.Resume[*anypb.Any](token, client, opts)
	if err != nil {
		return nil, err
	}
	return wrap(tok.Provider, tok.Kind, p, func(a *anypb.Any) ([]byte, error) {
		if a == nil {
			return []byte("null"), nil
		}
		if b, err := protojson.Marshal(a); err == nil {
			return b, nil
		}
		// The response's type is not linked into this program: keep it
		// as its type URL and wire bytes.
		return json.Marshal(map[string]any{"@type": a.GetTypeUrl(), "value": a.GetValue()})
	}), nil
}

func rawJSON(b json.RawMessage) ([]byte, error) {
	if len(b) == 0 {
		return []byte("null"), nil
	}
	return b, nil
}

func missing(provider, what string) error {
	return fmt.Errorf("resuming a %s token needs %s: %w", provider, what, ErrNoClient)
}

// printable keeps untrusted token text short and free of control characters.
func printable(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	out := []rune{}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			r = '?'
		}
		out = append(out, r)
	}
	return string(out)
}

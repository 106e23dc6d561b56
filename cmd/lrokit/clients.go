package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/pflag"
	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/lrokit/lrokit/gcp"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/resume"
)

// auth holds the flags that decide how clients authenticate.
type auth struct {
	noAuth   bool
	insecure bool
	scope    string
	hosts    []string
	// send are the caller's headers and request log (headers.go).
	send *sendOpts
}

func (a *auth) register(fs *pflag.FlagSet) {
	fs.BoolVar(&a.noAuth, "no-auth", false, "send no credentials (local endpoints and fakes; AWS requests are signed with a placeholder key)")
	fs.BoolVar(&a.insecure, "insecure", false, "gRPC without TLS; only for loopback endpoints")
	fs.StringVar(&a.scope, "scope", "", `Azure token scope (default "https://<host>/.default")`)
	fs.StringArrayVar(&a.hosts, "allow-host", nil, `extra host Azure/REST polling URLs may use ("host" or ".suffix"; repeatable)`)
}

// azurePipeline returns an azcore pipeline for requests to host, with a
// DefaultAzureCredential bearer-token policy unless --no-auth.
func (a *auth) azurePipeline(host string) (runtime.Pipeline, error) {
	var perCall []policy.Policy
	if !a.noAuth {
		cred, err := a.azureCredential()
		if err != nil {
			return runtime.Pipeline{}, fmt.Errorf("azure credentials (use --no-auth for local endpoints): %w", err)
		}
		scope := a.scope
		if scope == "" {
			scope = "https://" + stripPort(host) + "/.default"
		}
		perCall = append(perCall, runtime.NewBearerTokenPolicy(cred, []string{scope}, nil))
	}
	headers, logs := a.send.azurePolicies()
	return runtime.NewPipeline("lrokit", version, runtime.PipelineOptions{PerCall: headers, PerRetry: append(perCall, logs...)}, &policy.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: 2},
		Logging: policy.LogOptions{
			// Query strings can carry SAS signatures: never log them.
			AllowedQueryParams: []string{"api-version"},
		},
	}), nil
}

var _ azcore.TokenCredential = (*azidentity.DefaultAzureCredential)(nil)

// gcpClient returns an operations client for endpoint.
func (a *auth) gcpClient(ctx context.Context, endpoint string) (*lroauto.OperationsClient, error) {
	if endpoint == "" {
		return nil, usageErr("a Google operation is served by the API that created it: give --endpoint HOST:PORT (or --service NAME, e.g. container)")
	}
	opts := []option.ClientOption{option.WithEndpoint(endpoint)}
	if a.noAuth {
		opts = append(opts, option.WithoutAuthentication())
	}
	if a.insecure {
		if !isLoopback(endpoint) {
			return nil, usageErr("--insecure is only allowed for loopback endpoints")
		}
		opts = append(opts, option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())), option.WithoutAuthentication())
	}
	return lroauto.NewOperationsClient(ctx, opts...)
}

// computeService returns a Compute Engine client, on endpoint when given.
func (a *auth) computeService(ctx context.Context, endpoint string) (*compute.Service, error) {
	var opts []option.ClientOption
	if endpoint != "" {
		opts = append(opts, option.WithEndpoint(endpoint))
	}
	if a.noAuth {
		opts = append(opts, option.WithoutAuthentication(), option.WithHTTPClient(http.DefaultClient))
	}
	return compute.NewService(ctx, opts...)
}

// awsConfig loads the AWS default config chain (or a placeholder key with
// --no-auth) for region.
func (a *auth) awsConfig(ctx context.Context, region string) (awssdk.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	if a.noAuth {
		// Signed with a placeholder key: local endpoints (LocalStack,
		// fakes) route requests by the SigV4 scope but check no secret.
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("LROKITNOAUTH", "no-auth", "")))
	}
	if a.send != nil && a.send.reqLog != nil {
		opts = append(opts, awsconfig.WithHTTPClient(a.send.httpClient()))
	}
	return awsconfig.LoadDefaultConfig(ctx, opts...)
}

// clients builds resume.Clients for the provider a token names, and only it.
func (a *auth) clients(ctx context.Context, token string, popts poller.Options) (resume.Clients, error) {
	c := resume.Clients{Options: popts, AllowedHosts: a.hosts}
	tok, err := poller.DecodeToken(token, popts.SealKey)
	if err != nil {
		return c, err
	}
	switch tok.Provider {
	case "azure":
		host := tokenHost(tok)
		if err := a.trustAzure(host); err != nil {
			return c, err
		}
		pl, err := a.cachedPipeline(host)
		if err != nil {
			return c, err
		}
		c.Azure = &pl
	case "rest":
		c.HTTP = a.send.restClient(a.hosts)
	case "gcp":
		c.GCP = func(ctx context.Context, endpoint string) (*lroauto.OperationsClient, error) {
			if err := a.trustGoogle(endpoint); err != nil {
				return nil, err
			}
			return a.cachedGCPClient(ctx, endpoint)
		}
		if tok.Kind == "compute" {
			endpoint, err := gcp.TokenEndpoint(token, popts.SealKey)
			if err != nil {
				return c, err
			}
			if endpoint != "" {
				if err := a.trustGoogle(endpoint); err != nil {
					return c, err
				}
			}
			svc, err := a.computeService(ctx, endpoint)
			if err != nil {
				return c, err
			}
			c.Compute = svc
		}
	case "aws":
		cfg, err := a.cachedAWSConfig(ctx, jsonField(tok.State, "region"))
		if err != nil {
			return c, err
		}
		c.AWS = &cfg
	}
	return c, nil
}

// trustGoogle refuses to send Google credentials to an endpoint a token
// names unless it is a Google API endpoint: a tampered token must not
// collect them. --no-auth sends none, so any endpoint will do.
func (a *auth) trustGoogle(endpoint string) error {
	if a.noAuth || a.insecure && isLoopback(endpoint) || gcp.IsGoogleEndpoint(endpoint) {
		return nil
	}
	return usageErr("the token names the endpoint %q, not a Google API (*.googleapis.com): refusing to send credentials there (use --no-auth for local endpoints)", endpoint)
}

// azureSuffixes are the public and sovereign clouds' domains an Azure token
// may name when lrokit picks the credential scope itself.
var azureSuffixes = []string{".azure.com", ".azure.net", ".windows.net", ".microsoft.com", ".azure.cn", ".chinacloudapi.cn", ".usgovcloudapi.net", ".azure.us"}

// trustAzure refuses to request a token for a host that is not Azure's,
// unless the caller named the scope or allowed the host.
func (a *auth) trustAzure(host string) error {
	h := strings.ToLower(stripPort(host))
	if a.noAuth || a.scope != "" {
		return nil
	}
	for _, allowed := range a.hosts {
		if allowed = strings.ToLower(allowed); h == allowed || (strings.HasPrefix(allowed, ".") && strings.HasSuffix(h, allowed)) {
			return nil
		}
	}
	for _, suffix := range azureSuffixes {
		if strings.HasSuffix(h, suffix) {
			return nil
		}
	}
	return usageErr("the token's host %q is not an Azure domain: refusing to request credentials for it (give --scope or --allow-host, or --no-auth for local endpoints)", h)
}

// tokenHost is the host of the first URL in an HTTP token's state, used to
// pick the Azure credential scope; the adapter checks the URLs themselves.
func tokenHost(tok poller.Token) string {
	for _, f := range []string{"url", "poll"} {
		if u, err := url.Parse(jsonField(tok.State, f)); err == nil && u.Host != "" {
			return u.Host
		}
	}
	return "management.azure.com"
}

func stripPort(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

func isLoopback(endpoint string) bool {
	host := endpoint
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		host = u.Host
	}
	host = stripPort(host)
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
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

	"github.com/lrokit/lrokit/aws"
	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/gcp"
	"github.com/lrokit/lrokit/internal/trust"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/rest"
	"github.com/lrokit/lrokit/resume"
)

// auth holds the flags that decide how clients authenticate and which
// hosts may receive their credentials. Trust comes from these flags, never
// from a token (DESIGN.md, "Tokens").
type auth struct {
	noAuth      bool
	insecure    bool
	scope       string
	hosts       []string
	cloud       string
	awsEndpoint string
	gcpEndpoint string
	plaintext   bool
	// send are the caller's headers and request log (headers.go).
	send *sendOpts

	// cred replaces DefaultAzureCredential and transport the HTTP
	// transport, in tests.
	cred      azcore.TokenCredential
	transport *http.Client
}

// cloudEnv names the environment variable --cloud defaults to.
const cloudEnv = "AZURE_CLOUD"

func (a *auth) register(fs *pflag.FlagSet) {
	fs.BoolVar(&a.noAuth, "no-auth", false, "send no credentials (local endpoints and fakes; AWS requests are signed with a placeholder key)")
	fs.BoolVar(&a.insecure, "insecure", false, "gRPC without TLS; only for loopback endpoints")
	fs.StringVar(&a.cloud, "cloud", "", `the Azure cloud whose Resource Manager endpoint is trusted: public, china or usgov (default $`+cloudEnv+`, else public)`)
	fs.StringVar(&a.scope, "scope", "", `Azure token scope (default the cloud's Resource Manager, e.g. "https://management.azure.com/.default")`)
	fs.StringArrayVar(&a.hosts, "allow-host", nil, `a host Azure data-plane and REST URLs may use: "host", "host:port", ".suffix" or "http://host:port" (repeatable); a token's own hosts are never trusted`)
	fs.StringVar(&a.awsEndpoint, "endpoint-url", "", "AWS: the service endpoint (a VPC endpoint, LocalStack, a fake); a token's endpoint is used only if it is this one or AWS's own for its region")
	fs.StringVar(&a.gcpEndpoint, "gcp-endpoint", "", "Google: the API endpoint HOST:PORT or URL a token may name besides *.googleapis.com")
	fs.BoolVar(&a.plaintext, "plaintext-secrets", false, "write tokens holding a credential-bearing URL (SAS, function key) in clear when no seal key is set")
}

// azureCloud is a cloud's Resource Manager endpoint, the one Azure host
// trusted without --allow-host, and the default credential scope.
type azureCloud struct{ arm string }

var azureClouds = map[string]azureCloud{
	"public": {arm: "https://management.azure.com"},
	"china":  {arm: "https://management.chinacloudapi.cn"},
	"usgov":  {arm: "https://management.usgovcloudapi.net"},
}

// cloudAliases are the names other tools give the clouds in AZURE_CLOUD.
var cloudAliases = map[string]string{
	"azurecloud": "public", "azurepubliccloud": "public",
	"azurechinacloud": "china", "azureusgovernment": "usgov", "azureusgovernmentcloud": "usgov",
}

// azureCloud returns the chosen cloud: --cloud, else $AZURE_CLOUD, else
// public.
func (a *auth) azureCloud() (azureCloud, error) {
	name, from := a.cloud, "--cloud"
	if name == "" {
		name, from = os.Getenv(cloudEnv), cloudEnv
	}
	if name == "" {
		return azureClouds["public"], nil
	}
	key := strings.ToLower(strings.TrimSpace(name))
	if alias, ok := cloudAliases[key]; ok {
		key = alias
	}
	c, ok := azureClouds[key]
	if !ok {
		return azureCloud{}, usageErr("%s must be public, china or usgov, not %q", from, name)
	}
	return c, nil
}

// checkHosts validates --allow-host patterns.
func (a *auth) checkHosts() error {
	if _, err := trust.New("--allow-host", false, a.hosts...); err != nil {
		return usageErr("--allow-host: %v", err)
	}
	return nil
}

// azureScope is --scope, else the cloud's Resource Manager: never a host
// a token names.
func (a *auth) azureScope() (string, error) {
	if a.scope != "" {
		return a.scope, nil
	}
	c, err := a.azureCloud()
	if err != nil {
		return "", err
	}
	return c.arm + "/.default", nil
}

// azurePipeline returns an azcore pipeline with a bearer-token policy for
// the caller's scope (DefaultAzureCredential) unless --no-auth.
func (a *auth) azurePipeline() (runtime.Pipeline, error) {
	var perCall []policy.Policy
	if !a.noAuth {
		cred := a.cred
		if cred == nil {
			dc, err := a.azureCredential()
			if err != nil {
				return runtime.Pipeline{}, fmt.Errorf("azure credentials (use --no-auth for local endpoints): %w", err)
			}
			cred = dc
		}
		scope, err := a.azureScope()
		if err != nil {
			return runtime.Pipeline{}, err
		}
		perCall = append(perCall, runtime.NewBearerTokenPolicy(cred, []string{scope}, nil))
	}
	headers, logs := a.send.azurePolicies()
	return runtime.NewPipeline("lrokit", version, runtime.PipelineOptions{PerCall: headers, PerRetry: append(perCall, logs...)}, &policy.ClientOptions{
		Retry:     policy.RetryOptions{MaxRetries: 2},
		Transport: transporter(a.transport),
		Logging: policy.LogOptions{
			// Query strings can carry SAS signatures: never log them.
			AllowedQueryParams: []string{"api-version"},
		},
	}), nil
}

var _ azcore.TokenCredential = (*azidentity.DefaultAzureCredential)(nil)

// azureOptions are the anchors for Azure: the cloud's Resource Manager
// host and --allow-host.
func (a *auth) azureOptions(popts poller.Options) (*azure.Options, error) {
	c, err := a.azureCloud()
	if err != nil {
		return nil, err
	}
	// The engine trusts the Resource Manager endpoint of Options.Cloud:
	// a cloud of that endpoint alone, so --cloud china does not also
	// trust the public one.
	arm := cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{cloud.ResourceManager: {Endpoint: c.arm}}}
	return &azure.Options{Options: popts, Cloud: arm, AllowedHosts: a.hosts}, nil
}

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
	if a.transport == nil && a.send != nil && a.send.reqLog != nil {
		opts = append(opts, awsconfig.WithHTTPClient(a.send.httpClient()))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err == nil && a.transport != nil {
		// Set after loading: WithHTTPClient conflicts with AWS_CA_BUNDLE.
		cfg.HTTPClient = a.transport
	}
	return cfg, err
}

// clients builds resume.Clients for the provider a token names, and only
// it, with the caller's anchors: nothing here reads trust from the token.
func (a *auth) clients(ctx context.Context, token string, popts poller.Options) (resume.Clients, error) {
	popts.PlaintextSecrets = popts.PlaintextSecrets || a.plaintext
	c := resume.Clients{Options: popts, HTTP: a.transport, RESTOptions: &rest.Options{AllowedHosts: a.hosts}}
	if err := a.checkHosts(); err != nil {
		return c, err
	}
	tok, err := popts.DecodeToken(token)
	if err != nil {
		return c, err
	}
	switch tok.Provider {
	case azure.Provider:
		ao, err := a.azureOptions(popts)
		if err != nil {
			return c, err
		}
		c.AzureOptions = ao
		pl, err := a.cachedPipeline()
		if err != nil {
			return c, err
		}
		c.Azure = &pl
	case rest.Provider:
		c.HTTP = a.send.restClient(a.hosts, a.transport)
	case gcp.Provider:
		c.GCPOptions = &gcp.Options{Endpoint: a.gcpEndpoint}
		// resume.Any checks the token's endpoint (gcp.TrustEndpoint)
		// before it calls this.
		c.GCP = a.cachedGCPClient
		if tok.Kind == gcp.KindCompute {
			endpoint, err := gcp.TokenEndpoint(token, append([][]byte{popts.SealKey}, popts.SealKeys...)...)
			if err != nil {
				return c, err
			}
			if err := gcp.TrustEndpoint(endpoint, a.gcpEndpoint); err != nil {
				return c, err
			}
			svc, err := a.computeService(ctx, endpoint)
			if err != nil {
				return c, err
			}
			c.Compute = svc
		}
	case aws.Provider:
		cfg, err := a.cachedAWSConfig(ctx, jsonField(tok.State, "region"))
		if err != nil {
			return c, err
		}
		// An anchor, not an override: the token's endpoint must be this
		// one (or AWS's own), so a tampered token is refused, not
		// silently redirected.
		if a.awsEndpoint != "" {
			cfg.BaseEndpoint = awssdk.String(a.awsEndpoint)
		}
		c.AWS = &cfg
	}
	return c, nil
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

// transporter is c as an azcore transport; nil keeps azcore's default.
func transporter(c *http.Client) policy.Transporter {
	if c == nil {
		return nil
	}
	return c
}

package tamper_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	grpccreds "google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/lrokit/lrokit/aws"
	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/gcp"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/lrotest/awsfake"
	"github.com/lrokit/lrokit/lrotest/foreign"
	"github.com/lrokit/lrokit/lrotest/gcpfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/rest"
	"github.com/lrokit/lrokit/resume"
)

// key is the caller's seal key in the sealed cases.
var key = []byte("tamper-suite seal key, 32 bytes!")

// hostile is a host name an attacker owns; the foreign transport routes
// it (and every other host but the legitimate one) to the recorder.
const hostile = "attacker.example"

// rewrite is one tampering of a URL a token holds.
type rewrite struct {
	name string
	// to rewrites one URL; legit is the legitimate "host:port", f the
	// foreign server.
	to func(u *url.URL, legit string, f *foreign.Server) string
	// host is what the refusal must name ("" when the URL does not even
	// parse as one).
	host string
}

func pathQuery(u *url.URL) string {
	s := u.EscapedPath()
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	return s
}

// rewrites are the URL tamperings every HTTP adapter is held to.
var rewrites = []rewrite{
	{"both URLs rewritten to a foreign host", func(u *url.URL, _ string, _ *foreign.Server) string {
		return "https://" + hostile + pathQuery(u)
	}, hostile},
	{"other port, same host", func(u *url.URL, _ string, f *foreign.Server) string { return f.URL() + pathQuery(u) }, "127.0.0.1:"},
	{"userinfo in the URL", func(u *url.URL, legit string, _ *foreign.Server) string {
		return "https://" + legit + "@" + hostile + pathQuery(u)
	}, ""},
	{"upper-case foreign host", func(u *url.URL, _ string, _ *foreign.Server) string {
		return "https://" + strings.ToUpper(hostile) + pathQuery(u)
	}, hostile},
	{"IDN look-alike host", func(u *url.URL, _ string, _ *foreign.Server) string {
		return "https://аttacker.example" + pathQuery(u) // Cyrillic а
	}, ""},
	{"percent-encoded host", func(u *url.URL, _ string, _ *foreign.Server) string {
		return "https://%61ttacker.example" + pathQuery(u)
	}, ""},
	{"http downgrade", func(u *url.URL, legit string, _ *foreign.Server) string { return "http://" + legit + pathQuery(u) }, ""},
}

// rewriteState applies to to every absolute URL in a token's state.
func rewriteState(t *testing.T, token string, keys [][]byte, to func(*url.URL) string) poller.Token {
	t.Helper()
	var tok poller.Token
	var err error
	if len(keys) > 0 {
		tok, err = poller.DecodeToken(token, keys[0])
	} else {
		tok, err = poller.DecodeToken(token, nil)
	}
	require.NoError(t, err)
	var st any
	require.NoError(t, json.Unmarshal(tok.State, &st))
	n := 0
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			if u, err := url.Parse(x); err == nil && u.IsAbs() && u.Host != "" {
				n++
				return to(u)
			}
		case map[string]any:
			for k, y := range x {
				x[k] = walk(y)
			}
		case []any:
			for i, y := range x {
				x[i] = walk(y)
			}
		}
		return v
	}
	st = walk(st)
	require.NotZero(t, n, "the token holds no URL to tamper with")
	tok.State, err = json.Marshal(st)
	require.NoError(t, err)
	return tok
}

func encode(t *testing.T, tok poller.Token) string {
	t.Helper()
	s, err := tok.Encode()
	require.NoError(t, err)
	return s
}

// refused asserts a clear refusal and nothing credential-bearing abroad.
func refused(t *testing.T, err error, f *foreign.Server, host, option string) {
	t.Helper()
	require.Error(t, err, "the tampered token was accepted")
	assert.ErrorIs(t, err, poller.ErrInvalidToken)
	// A URL that is no host at all (user info, IDN, percent-encoding) is
	// refused as malformed; one that is a host names it and the option.
	if host != "" {
		assert.Contains(t, strings.ToLower(err.Error()), host, "the refusal names the host")
		if option != "" {
			assert.Contains(t, err.Error(), option, "the refusal names the option")
		}
	}
	assert.Zero(t, f.Credentialed(), "credential-bearing requests reached the foreign server: %+v", f.Requests())
	assert.Zero(t, f.Count(), "requests reached the foreign server: %+v", f.Requests())
}

// fakeCredential is an Azure credential that hands out a recognisable
// bearer token.
type fakeCredential struct{}

func (fakeCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "AZURE-BEARER-SECRET", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func host(s string) string { u, _ := url.Parse(s); return u.Host }

// azureEnv is a started Azure operation on a legitimate TLS fake, its
// token, and the caller's pipeline (bearer policy, foreign transport).
type azureEnv struct {
	legit *armfake.Server
	f     *foreign.Server
	pl    runtime.Pipeline
	token string
}

const thing = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Test/things/t1"

func newAzure(t *testing.T, popts poller.Options) *azureEnv {
	t.Helper()
	e := &azureEnv{legit: armfake.NewTLS(), f: foreign.New()}
	t.Cleanup(e.legit.Close)
	t.Cleanup(e.f.Close)
	e.legit.Load(armfake.LRO{Method: http.MethodPut, Path: thing, Protocol: armfake.AsyncOperation,
		Polls: []armfake.Response{armfake.Status("InProgress"), armfake.Status("Succeeded")}, Final: []armfake.Response{armfake.Resource("t1", "Succeeded")}}.Scenario())
	e.pl = runtime.NewPipeline("tamper", "v0", runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(fakeCredential{}, []string{"https://management.azure.com/.default"}, nil)},
	}, &policy.ClientOptions{Transport: &http.Client{Transport: e.f.Transport(host(e.legit.URL()))}, Retry: policy.RetryOptions{MaxRetries: -1}})
	req, err := runtime.NewRequest(context.Background(), http.MethodPut, e.legit.URL()+thing+"?"+armfake.APIVersion)
	require.NoError(t, err)
	resp, err := e.pl.Do(req)
	require.NoError(t, err)
	p, err := azure.NewPoller[json.RawMessage](resp, e.pl, &azure.Options{Options: popts})
	require.NoError(t, err)
	e.token, err = p.ResumeToken()
	require.NoError(t, err)
	return e
}

// caller is the caller's own Azure configuration: only the legitimate
// host is named.
func (e *azureEnv) options(popts poller.Options) *azure.Options {
	return &azure.Options{Options: popts, AllowedHosts: []string{host(e.legit.URL())}}
}

// resumeAndPoll resumes and, if that is wrongly accepted, polls once so
// that the foreign server's count shows what the acceptance cost.
func resumeAndPoll[T any](resumeFn func() (*poller.Poller[T], error)) error {
	p, err := resumeFn()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = p.Poll(ctx)
	if err == nil {
		return errors.New("the tampered token was resumed and polled")
	}
	return err
}

func TestAzure(t *testing.T) {
	for _, rw := range rewrites {
		t.Run(rw.name, func(t *testing.T) {
			e := newAzure(t, poller.Options{})
			tampered := encode(t, rewriteState(t, e.token, nil, func(u *url.URL) string { return rw.to(u, host(e.legit.URL()), e.f) }))
			err := resumeAndPoll(func() (*poller.Poller[json.RawMessage], error) {
				return azure.Resume[json.RawMessage](tampered, e.pl, e.options(poller.Options{}))
			})
			refused(t, err, e.f, rw.host, "AllowedHosts")
		})
	}
	t.Run("a redirect to a foreign host", func(t *testing.T) {
		e := newAzure(t, poller.Options{})
		e.legit.Handle(http.MethodGet, armfake.StatusPath, armfake.Response{Status: http.StatusFound}.WithHeader("Location", "https://"+hostile+"/steal"))
		p, err := azure.Resume[json.RawMessage](e.token, e.pl, e.options(poller.Options{}))
		require.NoError(t, err, "the token itself is sound")
		_, err = p.Poll(context.Background())
		require.Error(t, err, "the redirect was followed")
		assert.Zero(t, e.f.Credentialed(), "credentials followed the redirect: %+v", e.f.Requests())
	})
	t.Run("a sealed token re-encoded unsealed", func(t *testing.T) {
		e := newAzure(t, poller.Options{SealKey: key})
		tampered := encode(t, rewriteState(t, e.token, [][]byte{key}, func(u *url.URL) string { return e.f.URL() + pathQuery(u) }))
		err := resumeAndPoll(func() (*poller.Poller[json.RawMessage], error) {
			return azure.Resume[json.RawMessage](tampered, e.pl, e.options(poller.Options{SealKey: key}))
		})
		refused(t, err, e.f, "", "")
		assert.ErrorContains(t, err, "not sealed")
	})
}

// restEnv is azureEnv for the REST adapter: a plain http.Client with a
// credential header and a cookie jar.
func newREST(t *testing.T, popts poller.Options) (*armfake.Server, *foreign.Server, *http.Client, string) {
	t.Helper()
	legit, f := armfake.NewTLS(), foreign.New()
	t.Cleanup(legit.Close)
	t.Cleanup(f.Close)
	legit.Load(armfake.LRO{Method: http.MethodPut, Path: thing, Protocol: armfake.AsyncOperation,
		Polls: []armfake.Response{armfake.Status("InProgress"), armfake.Status("Succeeded")}, Final: []armfake.Response{armfake.Resource("t1", "Succeeded")}}.Scenario())
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	lu, _ := url.Parse(legit.URL())
	jar.SetCookies(lu, []*http.Cookie{{Name: "session", Value: "REST-COOKIE-SECRET"}})
	client := &http.Client{Jar: jar, Transport: headerTransport{f.Transport(lu.Host)}}
	req, err := http.NewRequest(http.MethodPut, legit.URL()+thing+"?"+armfake.APIVersion, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	p, err := rest.NewPoller[json.RawMessage](resp, client, &rest.Options{Options: popts})
	require.NoError(t, err)
	token, err := p.ResumeToken()
	require.NoError(t, err)
	return legit, f, client, token
}

// headerTransport adds the caller's API credential to every request.
type headerTransport struct{ next http.RoundTripper }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "ApiKey REST-SECRET")
	return h.next.RoundTrip(r)
}

func TestREST(t *testing.T) {
	for _, rw := range rewrites {
		t.Run(rw.name, func(t *testing.T) {
			legit, f, client, token := newREST(t, poller.Options{})
			tampered := encode(t, rewriteState(t, token, nil, func(u *url.URL) string { return rw.to(u, host(legit.URL()), f) }))
			err := resumeAndPoll(func() (*poller.Poller[json.RawMessage], error) {
				return rest.Resume[json.RawMessage](tampered, client, &rest.Options{AllowedHosts: []string{host(legit.URL())}})
			})
			refused(t, err, f, rw.host, "AllowedHosts")
		})
	}
	t.Run("a redirect to a foreign host", func(t *testing.T) {
		legit, f, client, token := newREST(t, poller.Options{})
		legit.Handle(http.MethodGet, armfake.StatusPath, armfake.Response{Status: http.StatusFound}.WithHeader("Location", "https://"+hostile+"/steal"))
		p, err := rest.Resume[json.RawMessage](token, client, &rest.Options{AllowedHosts: []string{host(legit.URL())}})
		require.NoError(t, err, "the token itself is sound")
		_, _ = p.Poll(context.Background())
		assert.Zero(t, f.Credentialed(), "credentials followed the redirect: %+v", f.Requests())
	})
	t.Run("a sealed token re-encoded unsealed", func(t *testing.T) {
		_, f, client, token := newREST(t, poller.Options{SealKey: key})
		tampered := encode(t, rewriteState(t, token, [][]byte{key}, func(u *url.URL) string { return f.URL() + pathQuery(u) }))
		err := resumeAndPoll(func() (*poller.Poller[json.RawMessage], error) {
			return rest.Resume[json.RawMessage](tampered, client, &rest.Options{Options: poller.Options{SealKey: key}})
		})
		refused(t, err, f, "", "")
	})
}

// newAWS adopts a stack on the legitimate fake with the caller's config:
// static credentials with a session token, the fake as the configured
// endpoint, and the foreign transport for every other host.
func newAWS(t *testing.T, popts poller.Options) (*awsfake.Server, *foreign.Server, awssdk.Config, string) {
	t.Helper()
	legit, f := awsfake.New(), foreign.New()
	t.Cleanup(legit.Close)
	t.Cleanup(f.Close)
	legit.Script(awsfake.Stack, "app", awsfake.Statuses("CREATE_IN_PROGRESS", "CREATE_COMPLETE")...)
	cfg := legit.Config()
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDTAMPER", "AWS-SECRET", "AWS-SESSION-TOKEN")
	cfg.HTTPClient = &http.Client{Transport: f.Transport("http://" + host(legit.URL()))}
	p, err := aws.NewPoller[any](cfg, "cloudformation.StackCreateComplete", &cloudformation.DescribeStacksInput{StackName: awssdk.String("app")}, &aws.Options{Options: popts})
	require.NoError(t, err)
	token, err := p.ResumeToken()
	require.NoError(t, err)
	return legit, f, cfg, token
}

func TestAWS(t *testing.T) {
	endpoints := []struct{ name, endpoint, host string }{
		{"both URLs rewritten to a foreign host", "https://" + hostile, hostile},
		{"other port, same host", "", "127.0.0.1:"},
		{"API Gateway endpoint", "https://abc123.execute-api." + awsfake.Region + ".amazonaws.com", "execute-api"},
		{"plain-http endpoint of the real service", "http://cloudformation." + awsfake.Region + ".amazonaws.com", "cloudformation"},
		{"real service host, other port", "https://cloudformation." + awsfake.Region + ".amazonaws.com:8443", "cloudformation"},
		{"userinfo in the URL", "https://cloudformation." + awsfake.Region + ".amazonaws.com@" + hostile, ""},
		{"upper-case foreign host", "https://" + strings.ToUpper(hostile), hostile},
		{"IDN look-alike host", "https://cloudformation." + awsfake.Region + ".amazоnaws.com", ""},
		{"percent-encoded host", "https://cloudformation." + awsfake.Region + ".amazon%61ws.com", ""},
		{"bucket host", "https://bucket.s3." + awsfake.Region + ".amazonaws.com", "s3"},
	}
	for _, c := range endpoints {
		t.Run(c.name, func(t *testing.T) {
			_, f, cfg, token := newAWS(t, poller.Options{})
			ep := c.endpoint
			if ep == "" {
				ep = f.URL()
			}
			tampered := encode(t, rewriteState(t, token, nil, func(*url.URL) string { return ep }))
			err := resumeAndPoll(func() (*poller.Poller[any], error) { return aws.Resume[any](tampered, cfg, nil) })
			refused(t, err, f, c.host, "BaseEndpoint")
		})
	}
	t.Run("a sealed token re-encoded unsealed", func(t *testing.T) {
		_, f, cfg, token := newAWS(t, poller.Options{SealKey: key})
		tampered := encode(t, rewriteState(t, token, [][]byte{key}, func(*url.URL) string { return f.URL() }))
		err := resumeAndPoll(func() (*poller.Poller[any], error) {
			return aws.Resume[any](tampered, cfg, &aws.Options{Options: poller.Options{SealKey: key}})
		})
		refused(t, err, f, "", "")
	})
	t.Run("a sealed token naming a foreign endpoint is refused all the same", func(t *testing.T) {
		_, f, cfg, _ := newAWS(t, poller.Options{})
		tok := rewriteState(t, func() string { _, _, _, tk := newAWS(t, poller.Options{}); return tk }(), nil, func(*url.URL) string { return f.URL() })
		sealed, err := tok.Seal(key)
		require.NoError(t, err)
		err = resumeAndPoll(func() (*poller.Poller[any], error) {
			return aws.Resume[any](sealed, cfg, &aws.Options{Options: poller.Options{SealKey: key}})
		})
		refused(t, err, f, "127.0.0.1:", "BaseEndpoint")
	})
}

// TestGCP resumes through resume.Any, whose client factory builds a real
// GAPIC OperationsClient with credentials (a static OAuth token over TLS)
// for whatever endpoint it is given: the endpoint must be checked first.
func TestGCP(t *testing.T) {
	ops, err := gcpfake.StartOperations()
	require.NoError(t, err)
	defer ops.Close()
	ops.Add("operations/op-1", gcpfake.Running(nil), gcpfake.Running(nil))
	client, err := ops.NewClient(context.Background())
	require.NoError(t, err)
	p, err := gcp.FromName[*anypb.Any]("operations/op-1", client, &gcp.Options{Endpoint: ops.Addr()})
	require.NoError(t, err)
	token, err := p.ResumeToken()
	require.NoError(t, err)
	client.Close()

	endpoints := []struct{ name, endpoint, host string }{
		{"both URLs rewritten to a foreign host", hostile + ":443", hostile},
		{"other port, same host", "", "127.0.0.1:"},
		{"googleapis look-alike", "longrunning.googleapis.com." + hostile + ":443", hostile},
		{"Google host, other port", "longrunning.googleapis.com:8443", "googleapis.com:8443"},
		{"Google host over http", "http://longrunning.googleapis.com/", "googleapis.com"},
		{"userinfo in the URL", "https://longrunning.googleapis.com@" + hostile + "/", ""},
		{"IDN look-alike host", "longrunning.googleapis.cоm:443", ""},
	}
	for _, c := range endpoints {
		t.Run(c.name, func(t *testing.T) {
			f := foreign.New()
			defer f.Close()
			ep := c.endpoint
			if ep == "" {
				ep = f.Addr()
			}
			tok, err := poller.DecodeToken(token, nil)
			require.NoError(t, err)
			tok.State = json.RawMessage(`{"name":"operations/op-1","endpoint":` + strconvQuote(ep) + `}`)
			calls := 0
			clients := resume.Clients{
				GCPOptions: &gcp.Options{Endpoint: ops.Addr()},
				GCP: func(ctx context.Context, endpoint string) (*lroauto.OperationsClient, error) {
					calls++
					return credentialedClient(ctx, endpoint, f)
				},
			}
			_, err = resume.Any(context.Background(), encode(t, tok), clients)
			if err == nil {
				err = errors.New("accepted")
			}
			refused(t, err, f, c.host, "gcp.Options.Endpoint")
			assert.Zero(t, calls, "the client factory was called for an untrusted endpoint")

			// Without a configured endpoint only *.googleapis.com is
			// trusted, so the same refusal holds.
			clients.GCPOptions = nil
			_, err = resume.Any(context.Background(), encode(t, tok), clients)
			refused(t, err, f, "", "gcp.Options.Endpoint")
			assert.Zero(t, calls)
		})
	}
}

// credentialedClient is a real OperationsClient with an OAuth token, whose
// connections all land on the foreign server (TLS, HTTP/2).
func credentialedClient(ctx context.Context, endpoint string, f *foreign.Server) (*lroauto.OperationsClient, error) {
	dial := func(ctx context.Context, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", f.Addr())
	}
	return lroauto.NewOperationsClient(ctx,
		option.WithEndpoint(endpoint),
		option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "GCP-SECRET"})),
		option.WithGRPCDialOption(grpc.WithContextDialer(dial)),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(grpccreds.NewTLS(&tls.Config{InsecureSkipVerify: true}))), //nolint:gosec // loopback test server
	)
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestRecorderSeesRealCredentials is the control: each credentialed client
// of this suite, pointed at the foreign server on purpose, is recorded
// there, so a zero count above means no request, not a blind recorder.
func TestRecorderSeesRealCredentials(t *testing.T) {
	t.Run("aws SigV4 and session token", func(t *testing.T) {
		_, f, cfg, token := newAWS(t, poller.Options{})
		p, err := aws.Resume[any](token, cfg, &aws.Options{BaseEndpoint: f.URL()}) // the caller's own choice
		require.NoError(t, err)
		_, _ = p.Poll(context.Background())
		require.NotZero(t, f.Count())
		r := f.Requests()[0]
		assert.Contains(t, r.Authorization, "AWS4-HMAC-SHA256 Credential=AKIDTAMPER/")
		assert.Equal(t, "AWS-SESSION-TOKEN", r.AmzSecurityToken)
	})
	t.Run("gcp OAuth over gRPC", func(t *testing.T) {
		f := foreign.New()
		defer f.Close()
		c, err := credentialedClient(context.Background(), f.Addr(), f)
		require.NoError(t, err)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = c.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: "operations/x"})
		require.NotZero(t, f.Count())
		assert.Equal(t, "Bearer GCP-SECRET", f.Requests()[0].Authorization)
	})
	t.Run("azure bearer and REST header and cookie", func(t *testing.T) {
		e := newAzure(t, poller.Options{})
		req, err := runtime.NewRequest(context.Background(), http.MethodGet, "https://"+hostile+"/x")
		require.NoError(t, err)
		if resp, err := e.pl.Do(req); err == nil {
			resp.Body.Close()
		}
		require.NotZero(t, e.f.Count())
		assert.Equal(t, "Bearer AZURE-BEARER-SECRET", e.f.Requests()[0].Authorization)

		legit, f, client, _ := newREST(t, poller.Options{})
		lu, _ := url.Parse(legit.URL())
		resp, err := client.Get("https://" + lu.Hostname() + ":" + strings.Split(f.Addr(), ":")[1] + "/x")
		require.NoError(t, err)
		resp.Body.Close()
		r := f.Requests()[0]
		assert.Equal(t, "ApiKey REST-SECRET", r.Authorization)
		assert.Equal(t, "session=REST-COOKIE-SECRET", r.Cookie, "a cookie jar ignores ports: the same host on another port gets the cookie")
	})
}

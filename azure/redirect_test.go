package azure_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/lrotest/armfake"
)

// A status endpoint that redirects to another port of the same host: Go's
// http.Client (azcore's default transport) would follow it and forward
// Authorization, since it compares host names only. The engine closes the
// connection to the untrusted host:port before the request is written.
func TestRedirectToAnUntrustedPortCarriesNoCredentials(t *testing.T) {
	foreign := armfake.NewTLS()
	defer foreign.Close()
	foreign.Handle("GET", "/steal", armfake.Status("Succeeded"))
	srv := armfake.NewTLS()
	defer srv.Close()
	srv.Load(armfake.Scenario{Routes: []armfake.Route{
		route("PUT", resourcePath, armfake.Accepted().WithHeader("Azure-AsyncOperation", armfake.StatusURL())),
		route("GET", armfake.StatusPath, armfake.Response{Status: http.StatusFound, Header: map[string]string{"Location": foreign.URL() + "/steal"}}),
	}})
	client := srv.Client() // follows redirects; trusts both servers' test certificate
	pl := runtime.NewPipeline("test", "v0", runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(staticCredential{}, []string{"https://management.azure.com/.default"}, nil)},
	}, &policy.ClientOptions{Transport: client, Retry: noRetries()})
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, autoOpts())
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	require.ErrorIs(t, err, azure.ErrHostNotAllowed)
	assert.Contains(t, err.Error(), "nothing was sent there")
	assert.Empty(t, foreign.Requests(), "the foreign port received no request at all")
	reqs := srv.Requests()
	require.NotEmpty(t, reqs)
	assert.Equal(t, "Bearer secret-bearer", reqs[0].Header.Get("Authorization"), "the trusted host did get the credential")
}

package azure_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
)

// Tests for the protocol defects of issue 12, each through the real azcore
// pipeline against armfake, played straight and resumed from a token on a
// new pipeline after the first poll.

// straightAndResumed runs play twice: as is, and resumed after one poll.
func straightAndResumed(t *testing.T, routes func() []armfake.Route, method string, opts func() *azure.Options, check func(t *testing.T, srv *armfake.Server, res json.RawMessage, err error)) {
	for _, resumed := range []bool{false, true} {
		name := "straight"
		if resumed {
			name = "resumed"
		}
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, routes()...)
			pl := newPipeline(srv.Client(), noRetries())
			p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, method), pl, opts())
			require.NoError(t, err)
			if resumed {
				_, err := p.Poll(context.Background())
				require.NoError(t, err)
				tok, err := p.ResumeToken()
				require.NoError(t, err)
				p, err = azure.Resume[json.RawMessage](tok, newPipeline(srv.Client(), noRetries()), trusting(opts(), srv))
				require.NoError(t, err)
			}
			res, err := p.Wait(context.Background(), nil)
			check(t, srv, res, err)
		})
	}
}

// Defect 1: the Location URL's final body is a PUT's or PATCH's result
// (azcore's loc poller returns it); the original URL is not read again.
func TestLocationFinalBodyIsThePutResult(t *testing.T) {
	for _, method := range []string{"PUT", "PATCH"} {
		t.Run(method, func(t *testing.T) {
			routes := func() []armfake.Route {
				return []armfake.Route{
					route(method, resourcePath, armfake.Accepted().WithHeader("Location", armfake.StatusURL())),
					route("GET", armfake.StatusPath, armfake.Accepted(), armfake.Accepted(), armfake.JSON(200, `{"name":"w1","from":"location"}`)),
					route("GET", resourcePath, armfake.JSON(200, `{"name":"w1","from":"original"}`)),
				}
			}
			straightAndResumed(t, routes, method, autoOpts, func(t *testing.T, srv *armfake.Server, res json.RawMessage, err error) {
				require.NoError(t, err, srv.Summary())
				assert.JSONEq(t, `{"name":"w1","from":"location"}`, string(res))
				assert.Equal(t, 0, srv.Count("GET", resourcePath), "no final GET of the original URL")
			})
		})
	}
}

// Defect 1, the other way: a Location that ends with 204 leaves the
// resource at its own URL.
func TestLocationBodilessFinalReadsTheResource(t *testing.T) {
	routes := func() []armfake.Route {
		return []armfake.Route{
			route("PUT", resourcePath, armfake.Accepted().WithHeader("Location", armfake.StatusURL())),
			route("GET", armfake.StatusPath, armfake.Accepted(), armfake.Response{Status: 204}),
			route("GET", resourcePath, armfake.JSON(200, resourceBody)),
		}
	}
	straightAndResumed(t, routes, "PUT", autoOpts, func(t *testing.T, srv *armfake.Server, res json.RawMessage, err error) {
		require.NoError(t, err, srv.Summary())
		assert.JSONEq(t, resourceBody, string(res))
	})
}

// Defect 2: a first response that is already finished ignores polling
// headers it will never use, even one naming a foreign host.
func TestFinishedFirstResponseIgnoresItsPollingHeaders(t *testing.T) {
	foreign := armfake.New()
	defer foreign.Close()
	for _, header := range []string{"Azure-AsyncOperation", "Location", "Operation-Location"} {
		t.Run(header, func(t *testing.T) {
			srv := newServer(t, route("PATCH", resourcePath, armfake.JSON(200, resourceBody).WithHeader(header, foreign.URL()+"/op?api-version=1")),
				route("GET", resourcePath, armfake.JSON(200, resourceBody))) // a resumed PATCH reads its resource again
			pl := newPipeline(srv.Client(), noRetries())
			p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PATCH"), pl, autoOpts())
			require.NoError(t, err)
			require.True(t, p.Done())
			res, err := p.Wait(context.Background(), nil)
			require.NoError(t, err)
			assert.JSONEq(t, resourceBody, string(res))
			tok, err := p.ResumeToken()
			require.NoError(t, err)
			assert.NotContains(t, tok, strings.TrimPrefix(foreign.URL(), "http://"))
			p2, err := azure.Resume[json.RawMessage](tok, pl, trusting(autoOpts(), srv))
			require.NoError(t, err)
			_, err = p2.Wait(context.Background(), nil)
			require.NoError(t, err)
		})
	}
	assert.Empty(t, foreign.Requests())
}

// Defect 3: ARM requires absolute polling URLs; a relative one is an error
// at NewPoller, never a poll.
func TestRelativePollingHeadersAreRefused(t *testing.T) {
	for _, tc := range []struct{ method, header string }{
		{"PUT", "Azure-AsyncOperation"}, {"POST", "Location"}, {"DELETE", "Operation-Location"},
	} {
		t.Run(tc.method+" "+tc.header, func(t *testing.T) {
			srv := newServer(t, route(tc.method, resourcePath, armfake.Accepted().WithHeader(tc.header, armfake.StatusPath+"?api-version=1")))
			pl := newPipeline(srv.Client(), noRetries())
			_, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, tc.method), pl, autoOpts())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.header)
			assert.Contains(t, err.Error(), "relative")
			assert.Equal(t, 0, srv.Count("GET", armfake.StatusPath))
		})
	}
}

// Defect 3: a DELETE whose status URL 404s at once is not reported as a
// success on the strength of the resource's 404.
func TestDeleteSuccessNeedsARealStatus(t *testing.T) {
	aao := armfake.Accepted().WithHeader("Azure-AsyncOperation", armfake.StatusURL())
	t.Run("gone before any status", func(t *testing.T) {
		srv := newServer(t, route("DELETE", resourcePath, aao),
			route("GET", armfake.StatusPath, armfake.Error(404, "NotFound", "x")),
			route("GET", resourcePath, armfake.Error(404, "ResourceNotFound", "x")))
		pl := newPipeline(srv.Client(), noRetries())
		p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "DELETE"), pl, autoOpts())
		require.NoError(t, err)
		_, err = p.Wait(context.Background(), nil)
		require.ErrorIs(t, err, poller.ErrOperationNotFound)
		assert.NotEqual(t, poller.StatusSucceeded, p.Last().Status)
		assert.Equal(t, 0, srv.Count("GET", resourcePath), "the resource is not consulted")
	})
	routes := func() []armfake.Route {
		return []armfake.Route{route("DELETE", resourcePath, aao),
			route("GET", armfake.StatusPath, armfake.Status("InProgress"), armfake.Error(404, "NotFound", "x")),
			route("GET", resourcePath, armfake.Error(404, "ResourceNotFound", "x"))}
	}
	t.Run("gone after a status", func(t *testing.T) {
		straightAndResumed(t, routes, "DELETE", autoOpts, func(t *testing.T, srv *armfake.Server, _ json.RawMessage, err error) {
			require.NoError(t, err, srv.Summary())
			assert.Equal(t, 1, srv.Count("GET", resourcePath))
		})
	})
}

// Defect 4: an initial 200 or 201 whose JSON body does not parse is an
// error at NewPoller that names the response, not a silent success.
func TestMalformedInitialBodyIsAnError(t *testing.T) {
	for _, tc := range []struct {
		name string
		resp armfake.Response
	}{
		{"truncated 200", armfake.JSON(200, `{"name":"w1","properties":{"provisioningState":"Succ`)},
		{"truncated 201", armfake.JSON(201, `{"name":"w1","sig":"SECRETSIG`)},
		{"not JSON with a JSON type", armfake.JSON(200, `<html>oops</html>`)},
		{"cut by the connection", armfake.Response{Status: 200, Header: map[string]string{"Content-Type": "application/json"}, Body: resourceBody, Fault: armfake.Truncate}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, route("PUT", resourcePath, tc.resp))
			pl := newPipeline(srv.Client(), noRetries())
			resp, err := pl.Do(mustRequest(t, "PUT", srv.URL()+resourcePath+"?"+armfake.APIVersion))
			if err != nil {
				return // the transport itself refused the cut body: nothing to wait on
			}
			p, err := azure.NewPoller[json.RawMessage](resp, pl, autoOpts())
			require.Error(t, err)
			assert.Nil(t, p)
			assert.NotContains(t, err.Error(), "SECRETSIG", "the body is not echoed")
			if tc.resp.Fault == armfake.NoFault {
				assert.Contains(t, err.Error(), "initial response")
				assert.Contains(t, err.Error(), "PUT")
				assert.Contains(t, err.Error(), "bytes")
			}
		})
	}
}

// Defect 5: Options.ResultPath names the result inside the status monitor
// (TypeSpec @lroResult), and the token keeps it.
func TestResultPathNamesTheResultAndTravelsInTheToken(t *testing.T) {
	routes := func() []armfake.Route {
		return []armfake.Route{
			route("POST", resourcePath, armfake.Accepted().WithHeader("Operation-Location", armfake.StatusURL())),
			route("GET", armfake.StatusPath, armfake.Status("Running"), armfake.JSON(200, `{"status":"Succeeded","result":{"data":"ok"}}`)),
		}
	}
	withPath := func() *azure.Options {
		o := autoOpts()
		o.ResultPath = "result"
		return o
	}
	straightAndResumed(t, routes, "POST", withPath, func(t *testing.T, srv *armfake.Server, res json.RawMessage, err error) {
		require.NoError(t, err, srv.Summary())
		assert.JSONEq(t, `{"data":"ok"}`, string(res))
	})
	// The resumed side's options need not repeat it: the token carries it.
	srv := newServer(t, routes()...)
	pl := newPipeline(srv.Client(), noRetries())
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "POST"), pl, withPath())
	require.NoError(t, err)
	tok, err := p.ResumeToken()
	require.NoError(t, err)
	p, err = azure.Resume[json.RawMessage](tok, pl, trusting(autoOpts(), srv))
	require.NoError(t, err)
	res, err := p.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"data":"ok"}`, string(res))

	// A status body without the named field is an error, not an empty result.
	srv = newServer(t, route("POST", resourcePath, armfake.Accepted().WithHeader("Operation-Location", armfake.StatusURL())),
		route("GET", armfake.StatusPath, armfake.Status("Succeeded")))
	pl = newPipeline(srv.Client(), noRetries())
	p, err = azure.NewPoller[json.RawMessage](start(t, srv, pl, "POST"), pl, withPath())
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"result"`)
	assert.False(t, errors.Is(err, poller.ErrInvalidToken))
}

func mustRequest(t *testing.T, method, url string) *policy.Request {
	t.Helper()
	req, err := runtime.NewRequest(context.Background(), method, url)
	require.NoError(t, err)
	return req
}

package azure_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

func autoOpts() *azure.Options {
	return &azure.Options{Options: poller.Options{Clock: pollertest.NewAutoClock(time.Now())}}
}

// trusting names srv among the hosts a resumed token may use: Resume
// trusts nothing a token says.
func trusting(o *azure.Options, srv *armfake.Server) *azure.Options {
	o.AllowedHosts = append(o.AllowedHosts, srv.URL())
	return o
}

func newServer(t *testing.T, routes ...armfake.Route) *armfake.Server {
	t.Helper()
	srv := armfake.New()
	t.Cleanup(srv.Close)
	srv.Load(armfake.Scenario{Routes: routes})
	return srv
}

func route(method, path string, script ...armfake.Response) armfake.Route {
	return armfake.Route{Method: method, Path: path, Script: script}
}

func TestNewPollerRejectsNonSuccessInitialResponseKeepingIt(t *testing.T) {
	srv := newServer(t, route("PUT", resourcePath, armfake.Error(409, "Conflict", "exists")))
	pl := newPipeline(srv.Client(), noRetries())
	_, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, nil)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "Conflict", re.ErrorCode)
	require.NotNil(t, re.RawResponse)
	assert.Equal(t, 409, re.RawResponse.StatusCode)
}

func TestNewPollerRejects202WithoutPollingHeaderOnPostAndDelete(t *testing.T) {
	for _, m := range []string{"POST", "DELETE"} {
		t.Run(m, func(t *testing.T) {
			srv := newServer(t, route(m, resourcePath, armfake.Accepted()))
			pl := newPipeline(srv.Client(), noRetries())
			_, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, m), pl, nil)
			require.ErrorContains(t, err, "without a polling header")
		})
	}
}

func TestNewPollerRejectsUnknownFinalStateVia(t *testing.T) {
	srv := newServer(t, route("PUT", resourcePath, armfake.JSON(200, resourceBody)))
	pl := newPipeline(srv.Client(), noRetries())
	_, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, &azure.Options{FinalStateVia: "somewhere"})
	require.ErrorContains(t, err, "final-state-via")
}

// A POST that finished in its initial response keeps its body in memory,
// never in the token: a resumed poller says so instead of inventing one.
func TestResumedPostThatFinishedAtOnceReportsResultNotKept(t *testing.T) {
	srv := newServer(t, route("POST", resourcePath, armfake.JSON(200, postBody)))
	pl := newPipeline(srv.Client(), noRetries())
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "POST"), pl, autoOpts())
	require.NoError(t, err)
	require.True(t, p.Done())
	res, err := p.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.JSONEq(t, postBody, string(res))

	tok, err := p.ResumeToken()
	require.NoError(t, err)
	p2, err := azure.Resume[json.RawMessage](tok, pl, trusting(autoOpts(), srv))
	require.NoError(t, err)
	_, err = p2.Wait(context.Background(), nil)
	require.ErrorIs(t, err, azure.ErrResultNotKept)
	assert.Equal(t, 1, len(srv.Requests()), "resuming a finished operation makes no request")
}

func TestObservationsCarryEveryRetryAfterForm(t *testing.T) {
	srv := newServer(t,
		route("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", armfake.StatusURL()).WithRetryAfter("2")),
		route("GET", armfake.StatusPath,
			armfake.Status("InProgress").WithRetryAfter("3"),
			armfake.Status("InProgress").WithRetryAfter("{date+30}"),
			armfake.Status("InProgress").WithHeader("retry-after-ms", "2500"),
			armfake.Status("InProgress").WithHeader("x-ms-retry-after-ms", "1500"),
			armfake.Status("InProgress").WithRetryAfter("0"),
			armfake.Status("InProgress"),
			armfake.Status("Succeeded")),
		route("GET", resourcePath, armfake.JSON(200, resourceBody)))
	clock := pollertest.NewAutoClock(time.Now())
	pl := newPipeline(srv.Client(), noRetries())
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, &azure.Options{Options: poller.Options{Clock: clock}})
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, p.Last().RetryAfter, "the initial response's Retry-After")
	assert.Equal(t, p.Created().Add(2*time.Second), p.NextPollAt())

	var obs []poller.Observation
	var at []time.Time
	_, err = p.Wait(context.Background(), &poller.WaitOptions{OnPoll: func(o poller.Observation) {
		obs = append(obs, o)
		at = append(at, clock.Now())
	}})
	require.NoError(t, err)
	require.Len(t, obs, 7)
	assert.Equal(t, 3*time.Second, obs[0].RetryAfter)
	assert.InDelta(t, 30, obs[1].RetryAfter.Seconds(), 1.5, "HTTP-date form, against the response's Date")
	assert.Equal(t, 2500*time.Millisecond, obs[2].RetryAfter)
	assert.Equal(t, 1500*time.Millisecond, obs[3].RetryAfter)
	assert.Equal(t, time.Duration(0), obs[4].RetryAfter)
	assert.True(t, obs[4].Hinted, "Retry-After: 0 is a hint")
	assert.False(t, obs[5].Hinted)
	assert.Equal(t, 3*time.Second, at[1].Sub(at[0]), "the poller waited what the server asked")
	assert.InDelta(t, 30, at[2].Sub(at[1]).Seconds(), 1.5)
}

func TestProgressComesFromPercentComplete(t *testing.T) {
	srv := newServer(t,
		route("POST", resourcePath, armfake.Response{Status: 202}.WithHeader("Operation-Location", armfake.StatusURL())),
		route("GET", armfake.StatusPath, armfake.JSON(200, `{"status":"running","percentComplete":"40"}`), armfake.JSON(200, `{"status":"succeeded"}`)))
	pl := newPipeline(srv.Client(), noRetries())
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "POST"), pl, autoOpts())
	require.NoError(t, err)
	assert.Equal(t, float64(poller.ProgressUnknown), p.Last().Progress)
	obs, err := p.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 40.0, obs.Progress)
	assert.Equal(t, "running", obs.Detail)
}

// The pipeline's own retry policy is off for polling requests by default:
// one request per poll, the poller's budget decides the rest.
func TestPollingMakesOneRequestPerPollDespitePipelineRetries(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "PipelineRetries"}[keep], func(t *testing.T) {
			srv := newServer(t,
				route("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", armfake.StatusURL())),
				route("GET", armfake.StatusPath,
					armfake.Error(503, "Busy", "busy"), armfake.Error(503, "Busy", "busy"), armfake.Error(503, "Busy", "busy"),
					armfake.Status("Succeeded")),
				route("GET", resourcePath, armfake.JSON(200, resourceBody)))
			pl := newPipeline(srv.Client(), policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: 2 * time.Millisecond})
			opts := autoOpts()
			opts.PipelineRetries = keep
			p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, opts)
			require.NoError(t, err)
			_, err = p.Poll(context.Background())
			if keep {
				require.NoError(t, err)
				assert.Equal(t, 4, srv.Count("GET", armfake.StatusPath), "the pipeline retried inside one poll")
				return
			}
			var pe *poller.PollError
			require.ErrorAs(t, err, &pe)
			assert.True(t, pe.Transient)
			assert.False(t, pe.Final)
			assert.Equal(t, 1, srv.Count("GET", armfake.StatusPath))
			_, err = p.Wait(context.Background(), nil)
			require.NoError(t, err)
			assert.Equal(t, 4, srv.Count("GET", armfake.StatusPath))
		})
	}
}

func TestTransientErrorsGiveUpAfterTheBudget(t *testing.T) {
	srv := newServer(t,
		route("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", armfake.StatusURL())),
		route("GET", armfake.StatusPath, armfake.Error(500, "InternalError", "boom")))
	pl := newPipeline(srv.Client(), policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond})
	opts := autoOpts()
	opts.Policy.RetryBudget = 4
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, opts)
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	var pe *poller.PollError
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.Final)
	assert.Equal(t, 5, srv.Count("GET", armfake.StatusPath), "worst case: RetryBudget+1 requests")
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "InternalError", re.ErrorCode)
}

func TestThrottledPollHonorsRetryAfter(t *testing.T) {
	srv := newServer(t,
		route("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", armfake.StatusURL())),
		route("GET", armfake.StatusPath, armfake.Error(429, "TooManyRequests", "slow").WithRetryAfter("17"), armfake.Status("Succeeded")),
		route("GET", resourcePath, armfake.JSON(200, resourceBody)))
	clock := pollertest.NewAutoClock(time.Now())
	pl := newPipeline(srv.Client(), noRetries())
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, &azure.Options{Options: poller.Options{Clock: clock}})
	require.NoError(t, err)
	_, err = p.Poll(context.Background())
	require.True(t, poller.IsThrottled(err))
	assert.Equal(t, 17*time.Second, poller.RetryAfterOf(err))
	assert.Equal(t, clock.Now().Add(17*time.Second), p.NextPollAt())
}

func TestHostileHeadersAreRefusedAndNothingReachesTheForeignHost(t *testing.T) {
	foreign := armfake.New()
	t.Cleanup(foreign.Close)
	foreign.Handle("GET", armfake.StatusPath, armfake.Status("Succeeded"))
	foreign.Handle("GET", "/things/t1", armfake.JSON(200, `{"stolen":true}`))
	evil := foreign.URL() + armfake.StatusPath + "?" + armfake.APIVersion

	t.Run("initial Azure-AsyncOperation", func(t *testing.T) {
		srv := newServer(t, route("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", evil)))
		pl := newPipeline(srv.Client(), noRetries())
		_, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, autoOpts())
		require.ErrorIs(t, err, azure.ErrHostNotAllowed)
		assert.NotContains(t, err.Error(), "api-version", "errors never echo a query string")
	})
	t.Run("initial Operation-Location", func(t *testing.T) {
		srv := newServer(t, route("POST", resourcePath, armfake.Response{Status: 202}.WithHeader("Operation-Location", evil)))
		pl := newPipeline(srv.Client(), noRetries())
		_, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "POST"), pl, autoOpts())
		require.ErrorIs(t, err, azure.ErrHostNotAllowed)
	})
	t.Run("Location handed out mid-poll", func(t *testing.T) {
		srv := newServer(t,
			route("POST", resourcePath, armfake.Accepted().WithHeader("Location", armfake.StatusURL())),
			route("GET", armfake.StatusPath, armfake.Accepted().WithHeader("Location", evil)))
		pl := newPipeline(srv.Client(), noRetries())
		p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "POST"), pl, autoOpts())
		require.NoError(t, err)
		_, err = p.Wait(context.Background(), nil)
		require.ErrorIs(t, err, azure.ErrHostNotAllowed)
		var pe *poller.PollError
		require.ErrorAs(t, err, &pe)
		assert.False(t, pe.Transient, "a refused URL is permanent")
	})
	t.Run("resourceLocation", func(t *testing.T) {
		srv := newServer(t,
			route("POST", resourcePath, armfake.Response{Status: 202}.WithHeader("Operation-Location", armfake.StatusURL())),
			route("GET", armfake.StatusPath, armfake.JSON(200, `{"status":"succeeded","resourceLocation":"`+foreign.URL()+`/things/t1"}`)))
		pl := newPipeline(srv.Client(), noRetries())
		p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "POST"), pl, autoOpts())
		require.NoError(t, err)
		_, err = p.Wait(context.Background(), nil)
		require.ErrorIs(t, err, azure.ErrHostNotAllowed)
	})
	assert.Empty(t, foreign.Requests(), "the foreign host received nothing")

	t.Run("AllowedHosts lets it through", func(t *testing.T) {
		srv := newServer(t,
			route("POST", resourcePath, armfake.Response{Status: 202}.WithHeader("Operation-Location", armfake.StatusURL())),
			route("GET", armfake.StatusPath, armfake.JSON(200, `{"status":"succeeded","resourceLocation":"`+foreign.URL()+`/things/t1"}`)))
		pl := newPipeline(srv.Client(), noRetries())
		opts := autoOpts()
		opts.AllowedHosts = []string{foreign.URL()} // an http:// origin: named with its scheme
		p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "POST"), pl, opts)
		require.NoError(t, err)
		res, err := p.Wait(context.Background(), nil)
		require.NoError(t, err)
		assert.JSONEq(t, `{"stolen":true}`, string(res))
		assert.Equal(t, 1, foreign.Count("GET", "/things/t1"))
	})
}

type staticCredential struct{}

func (staticCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "secret-bearer", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// With a real bearer-token policy over TLS, a hostile polling header never
// receives the caller's token.
func TestBearerTokenNeverSentToForeignHost(t *testing.T) {
	srv := armfake.NewTLS()
	t.Cleanup(srv.Close)
	foreign := armfake.NewTLS()
	t.Cleanup(foreign.Close)
	foreign.Handle("GET", armfake.StatusPath, armfake.Status("InProgress"))
	srv.Handle("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", armfake.StatusURL()))
	srv.Handle("GET", armfake.StatusPath, armfake.Accepted().WithHeader("Azure-AsyncOperation", armfake.StatusURL()).WithHeader("Location", foreign.URL()+armfake.StatusPath), armfake.Status("Succeeded"))
	srv.Handle("GET", resourcePath, armfake.JSON(200, resourceBody))
	pl := runtime.NewPipeline("lrokit-test", "v0", runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(staticCredential{}, []string{"https://management.azure.com/.default"}, nil)},
	}, &policy.ClientOptions{Transport: srv.Client(), Retry: noRetries()})
	resp := start(t, srv, pl, "PUT")
	p, err := azure.NewPoller[json.RawMessage](resp, pl, autoOpts())
	require.NoError(t, err)
	res, err := p.Wait(context.Background(), nil)
	require.NoError(t, err, "a Location on a 202 status response is not followed while Azure-AsyncOperation drives polling")
	assert.JSONEq(t, resourceBody, string(res))
	for _, r := range srv.Requests() {
		assert.Equal(t, "Bearer secret-bearer", r.Header.Get("Authorization"), "%s %s", r.Method, r.Path)
	}

	tok, err := p.ResumeToken()
	require.NoError(t, err)
	assert.NotContains(t, tok, "secret-bearer")

	srv.Handle("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", foreign.URL()+armfake.StatusPath))
	_, err = azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, autoOpts())
	require.ErrorIs(t, err, azure.ErrHostNotAllowed)
	assert.Empty(t, foreign.Requests())
}

func TestCancelDeletesTheOperation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer armfake.Response
		want   error
	}{
		{"accepted", armfake.Response{Status: 202}, nil},
		{"not supported", armfake.Error(405, "MethodNotAllowed", "no"), poller.ErrCancelNotSupported},
		{"gone", armfake.Error(404, "NotFound", "no"), poller.ErrOperationNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t,
				route("POST", resourcePath, armfake.Response{Status: 202}.WithHeader("Operation-Location", armfake.StatusURL())),
				route("DELETE", armfake.StatusPath, tc.answer),
				route("GET", armfake.StatusPath, armfake.Status("canceled")))
			pl := newPipeline(srv.Client(), noRetries())
			p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "POST"), pl, autoOpts())
			require.NoError(t, err)
			err = p.Cancel(context.Background())
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.want)
			}
			assert.Equal(t, 1, srv.Count("DELETE", armfake.StatusPath))
		})
	}
	t.Run("Azure-AsyncOperation cannot be canceled", func(t *testing.T) {
		srv := newServer(t, route("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", armfake.StatusURL())))
		pl := newPipeline(srv.Client(), noRetries())
		p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, autoOpts())
		require.NoError(t, err)
		require.ErrorIs(t, p.Cancel(context.Background()), poller.ErrCancelNotSupported)
		assert.Equal(t, 0, srv.Count("DELETE", armfake.StatusPath))
	})
}

func TestFailureIsDetectedBeforeAnyFinalGet(t *testing.T) {
	srv := newServer(t,
		route("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", armfake.StatusURL())),
		route("GET", armfake.StatusPath, armfake.StatusFailed("ZonalAllocationFailed", "no capacity")),
		route("GET", resourcePath, armfake.JSON(200, resourceBody)))
	pl := newPipeline(srv.Client(), noRetries())
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, autoOpts())
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	var oe *poller.OperationError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "ZonalAllocationFailed", oe.Code)
	assert.Equal(t, "no capacity", oe.Message)
	assert.JSONEq(t, `{"status":"Failed","error":{"code":"ZonalAllocationFailed","message":"no capacity"}}`, string(oe.Raw))
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re, "the azcore error is kept for errors.As")
	assert.Equal(t, "ZonalAllocationFailed", re.ErrorCode)
	assert.Equal(t, 0, srv.Count("GET", resourcePath), "no final GET after a failure")
	assert.NotContains(t, err.Error(), "api-version")
	assert.Equal(t, "PUT "+srv.URL()+resourcePath, oe.Operation, "the name has no query string")
}

func TestStatusURLGoneFallsBackToProvisioningStateAndSaysSo(t *testing.T) {
	srv := newServer(t,
		route("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", armfake.StatusURL())),
		route("GET", armfake.StatusPath, armfake.Status("InProgress"), armfake.Error(404, "NotFound", "expired")),
		route("GET", resourcePath, armfake.Resource("w1", "Updating"), armfake.JSON(200, resourceBody)))
	pl := newPipeline(srv.Client(), noRetries())
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, autoOpts())
	require.NoError(t, err)
	var details []string
	res, err := p.Wait(context.Background(), &poller.WaitOptions{OnPoll: func(o poller.Observation) { details = append(details, o.Detail) }})
	require.NoError(t, err)
	assert.JSONEq(t, resourceBody, string(res))
	require.Len(t, details, 4)
	assert.Equal(t, "InProgress", details[0])
	assert.Contains(t, details[1], "status URL gone")
	assert.Contains(t, details[2], "Updating")
	assert.Contains(t, details[3], "status URL gone")
	assert.Equal(t, 2, srv.Count("GET", armfake.StatusPath), "one status, one 404, and the gone status URL is not polled again")
	assert.Equal(t, 2, srv.Count("GET", resourcePath), "the final resource came with the last poll")
}

func TestTamperedTokensAreRefused(t *testing.T) {
	srv := newServer(t,
		route("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", armfake.StatusURL())),
		route("GET", armfake.StatusPath, armfake.Status("InProgress")))
	pl := newPipeline(srv.Client(), noRetries())
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, autoOpts())
	require.NoError(t, err)
	tok, err := p.Token()
	require.NoError(t, err)
	var st map[string]any
	require.NoError(t, json.Unmarshal(tok.State, &st))

	edit := func(f func(st map[string]any, tok *poller.Token)) string {
		t2 := tok
		cp := map[string]any{}
		for k, v := range st {
			cp[k] = v
		}
		f(cp, &t2)
		t2.State, _ = json.Marshal(cp)
		s, err := t2.Encode()
		require.NoError(t, err)
		return s
	}
	for _, tc := range []struct {
		name string
		tok  string
		want error
	}{
		{"foreign polling host", edit(func(st map[string]any, _ *poller.Token) { st["poll"] = "https://evil.example.com/op?x=1" }), azure.ErrHostNotAllowed},
		{"foreign location", edit(func(st map[string]any, _ *poller.Token) { st["location"] = "https://evil.example.com/r" }), azure.ErrHostNotAllowed},
		{"http to a public host", edit(func(st map[string]any, _ *poller.Token) {
			st["url"], st["poll"] = "http://example.com/r", "http://example.com/op"
		}), poller.ErrInvalidToken},
		{"relative polling URL", edit(func(st map[string]any, _ *poller.Token) { st["poll"] = "/op" }), poller.ErrInvalidToken},
		{"user info", edit(func(st map[string]any, _ *poller.Token) {
			st["poll"] = strings.Replace(srv.URL(), "http://", "http://u:p@", 1) + "/op"
		}), poller.ErrInvalidToken},
		{"ftp scheme", edit(func(st map[string]any, _ *poller.Token) { st["poll"] = "ftp://127.0.0.1/op" }), poller.ErrInvalidToken},
		{"unknown method", edit(func(st map[string]any, _ *poller.Token) { st["method"] = "GET" }), poller.ErrInvalidToken},
		{"unknown final-state-via", edit(func(st map[string]any, _ *poller.Token) { st["final_state_via"] = "x" }), poller.ErrInvalidToken},
		{"no polling URL", edit(func(st map[string]any, _ *poller.Token) { delete(st, "poll") }), poller.ErrInvalidToken},
		{"another provider", edit(func(_ map[string]any, t *poller.Token) { t.Provider = "rest" }), nil},
		{"unknown kind", edit(func(_ map[string]any, t *poller.Token) { t.Kind = "carrier-pigeon" }), nil},
		{"garbage", "lrokit1.!!!", poller.ErrInvalidToken},
		{"empty", "", poller.ErrInvalidToken},
		{"azcore fake token", `{"type":"T","token":{"type":"fake","fakeURL":"x"}}`, poller.ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := azure.Resume[json.RawMessage](tc.tok, pl, trusting(autoOpts(), srv))
			require.Error(t, err)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
			assert.NotContains(t, err.Error(), "x=1")
		})
	}
	assert.Equal(t, 0, srv.Count("GET", "/op"))
}

func TestSealedTokensNeedTheKey(t *testing.T) {
	srv := newServer(t,
		route("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", armfake.StatusURL())),
		route("GET", armfake.StatusPath, armfake.Status("Succeeded")),
		route("GET", resourcePath, armfake.JSON(200, resourceBody)))
	pl := newPipeline(srv.Client(), noRetries())
	opts := autoOpts()
	opts.SealKey = []byte("k1 is thirty-two bytes long.....")
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, opts)
	require.NoError(t, err)
	tok, err := p.ResumeToken()
	require.NoError(t, err)
	_, err = azure.Resume[json.RawMessage](tok, pl, trusting(autoOpts(), srv))
	require.ErrorIs(t, err, poller.ErrInvalidToken)
	wrong := autoOpts()
	wrong.SealKey = []byte("k2 is thirty-two bytes long.....")
	_, err = azure.Resume[json.RawMessage](tok, pl, wrong)
	require.ErrorIs(t, err, poller.ErrInvalidToken)
	p2, err := azure.Resume[json.RawMessage](tok, pl, trusting(opts, srv))
	require.NoError(t, err)
	res, err := p2.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.JSONEq(t, resourceBody, string(res))
	_, err = azure.Resume[json.RawMessage](`{"type":"x","token":{"asyncURL":"`+srv.URL()+`/op","origURL":"`+srv.URL()+`/r","method":"PUT"}}`, pl, opts)
	require.ErrorIs(t, err, poller.ErrInvalidToken, "an unsealed azcore token is refused when a key is required")
}

func TestResumedTokenKeepsFinalStateViaAndQuery(t *testing.T) {
	srv := newServer(t,
		route("POST", resourcePath, armfake.Response{Status: 202}.WithHeader("Azure-AsyncOperation", armfake.StatusURL()).WithHeader("Location", armfake.ResultURL())),
		route("GET", armfake.StatusPath, armfake.Status("InProgress"), armfake.JSON(200, `{"status":"Succeeded","output":1}`)),
		route("GET", armfake.ResultPath, armfake.JSON(200, postBody)))
	pl := newPipeline(srv.Client(), noRetries())
	opts := autoOpts()
	opts.FinalStateVia = azure.FinalStateViaAzureAsyncOp
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "POST"), pl, opts)
	require.NoError(t, err)
	tok, err := p.Token()
	require.NoError(t, err)
	assert.Equal(t, "azure", tok.Provider)
	assert.Equal(t, "async", tok.Kind)
	assert.Contains(t, string(tok.State), `"final_state_via":"azure-async-operation"`)
	assert.Contains(t, string(tok.State), armfake.APIVersion)
	enc, err := p.ResumeToken()
	require.NoError(t, err)
	p2, err := azure.Resume[json.RawMessage](enc, pl, trusting(autoOpts(), srv))
	require.NoError(t, err)
	res, err := p2.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"status":"Succeeded","output":1}`, string(res))
	assert.Equal(t, 0, srv.Count("GET", armfake.ResultPath))
}

func TestResultDecodesIntoTypedValues(t *testing.T) {
	type widget struct {
		Name       string `json:"name"`
		Properties struct {
			ProvisioningState string `json:"provisioningState"`
		} `json:"properties"`
	}
	srv := newServer(t,
		route("PUT", resourcePath, armfake.Resource("w1", "Creating").WithHeader("Azure-AsyncOperation", armfake.StatusURL())),
		route("GET", armfake.StatusPath, armfake.Status("Succeeded")),
		route("GET", resourcePath, armfake.JSON(200, resourceBody)))
	pl := newPipeline(srv.Client(), noRetries())
	p, err := azure.NewPoller[*widget](start(t, srv, pl, "PUT"), pl, autoOpts())
	require.NoError(t, err)
	assert.Equal(t, "Creating", p.Last().Detail)
	w, err := p.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, "w1", w.Name)
	assert.Equal(t, "Succeeded", w.Properties.ProvisioningState)

	srv.Handle("GET", resourcePath, armfake.JSON(200, `not json`))
	srv.Handle("GET", armfake.StatusPath, armfake.Status("Succeeded"))
	p, err = azure.NewPoller[*widget](start(t, srv, pl, "PUT"), pl, autoOpts())
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	require.ErrorContains(t, err, "decoding the final body")
}

func TestContextCancellationStopsWithAToken(t *testing.T) {
	srv := newServer(t,
		route("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", armfake.StatusURL())),
		route("GET", armfake.StatusPath, armfake.Status("InProgress")))
	pl := newPipeline(srv.Client(), noRetries())
	clock := pollertest.NewClock(time.Now())
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, "PUT"), pl, &azure.Options{Options: poller.Options{Clock: clock}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.Wait(ctx, nil)
	var we *poller.WaitError
	require.ErrorAs(t, err, &we)
	require.NotEmpty(t, we.Token)
	_, err = azure.Resume[json.RawMessage](we.Token, pl, trusting(autoOpts(), srv))
	require.NoError(t, err)
}

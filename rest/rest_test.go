package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
	"github.com/lrokit/lrokit/rest"
)

func route(method, path string, script ...armfake.Response) armfake.Route {
	return armfake.Route{Method: method, Path: path, Script: script}
}

func redirect(code int, to string) armfake.Response {
	return armfake.Response{Status: code, Header: map[string]string{"Location": to}}
}

type outcome struct {
	Status  poller.Status
	Result  string
	Code    string
	Message string
	Detail  string
	ErrIs   error
}

type restCase struct {
	name    string
	method  string
	path    string
	routes  []armfake.Route
	opts    rest.Options
	want    outcome
	details []string // expected Detail of each poll (straight run only)
}

func doInitial(t *testing.T, srv *armfake.Server, method, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL()+path, nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	return resp
}

func play(t *testing.T, c restCase, resumeAfter int) (outcome, []string, *armfake.Server) {
	t.Helper()
	srv := armfake.New()
	t.Cleanup(srv.Close)
	srv.Load(armfake.Scenario{Routes: c.routes})
	opts := c.opts
	opts.Clock = pollertest.NewAutoClock(time.Now())
	ctx := context.Background()
	p, err := rest.NewPoller[json.RawMessage](doInitial(t, srv, c.method, c.path), srv.Client(), &opts)
	require.NoError(t, err)
	if resumeAfter >= 0 {
		for i := 0; i < resumeAfter && !p.Done(); i++ {
			_, _ = p.Poll(ctx)
		}
		tok, err := p.ResumeToken()
		require.NoError(t, err)
		ropts := opts // Resume trusts only the hosts the caller names
		ropts.AllowedHosts = append(append([]string(nil), opts.AllowedHosts...), srv.URL())
		p, err = rest.Resume[json.RawMessage](tok, srv.Client(), &ropts)
		require.NoError(t, err)
	}
	var details []string
	res, err := p.Wait(ctx, &poller.WaitOptions{OnPoll: func(o poller.Observation) { details = append(details, o.Detail) }})
	got := outcome{Status: p.Last().Status}
	var oe *poller.OperationError
	switch {
	case errors.As(err, &oe):
		got.Code, got.Message, got.Detail = oe.Code, oe.Message, oe.Last.Detail
	case err != nil:
		got.ErrIs = err
	case len(res) > 0:
		got.Result = string(res)
	}
	return got, details, srv
}

func TestRESTProtocols(t *testing.T) {
	for _, c := range []restCase{
		{name: "async request-reply: 202 then 303 to the resource", method: "POST", path: "/v1/jobs",
			routes: []armfake.Route{
				route("POST", "/v1/jobs", armfake.Accepted().WithHeader("Location", "/v1/jobs/1/status")),
				route("GET", "/v1/jobs/1/status", armfake.Accepted(), armfake.Accepted(), redirect(303, "/v1/jobs/1")),
				route("GET", "/v1/jobs/1", armfake.JSON(200, `{"id":1}`)),
			},
			want: outcome{Status: poller.StatusSucceeded, Result: `{"id":1}`}, details: []string{"Accepted", "Accepted", "See Other"}},
		{name: "async request-reply: 302 whose target redirects again", method: "POST", path: "/v1/jobs",
			routes: []armfake.Route{
				route("POST", "/v1/jobs", armfake.Accepted().WithHeader("Location", "/v1/jobs/1/status")),
				route("GET", "/v1/jobs/1/status", redirect(302, "/v1/jobs/1")),
				route("GET", "/v1/jobs/1", redirect(307, "/v1/jobs/1/v2")),
				route("GET", "/v1/jobs/1/v2", armfake.JSON(200, `{"id":2}`)),
			},
			want: outcome{Status: poller.StatusSucceeded, Result: `{"id":2}`}},
		{name: "async request-reply: 200 with the result", method: "DELETE", path: "/v1/things/1",
			routes: []armfake.Route{
				route("DELETE", "/v1/things/1", armfake.Accepted().WithHeader("Location", "/v1/ops/9")),
				route("GET", "/v1/ops/9", armfake.Accepted(), armfake.Response{Status: 204}),
			},
			want: outcome{Status: poller.StatusSucceeded}},
		{name: "status endpoint 4xx is a failed operation with its body", method: "POST", path: "/v1/jobs",
			routes: []armfake.Route{
				route("POST", "/v1/jobs", armfake.Accepted().WithHeader("Location", "/v1/jobs/1/status")),
				route("GET", "/v1/jobs/1/status", armfake.Accepted(), armfake.Error(422, "InvalidImage", "image not found")),
			},
			want: outcome{Status: poller.StatusFailed, Code: "InvalidImage", Message: "image not found", Detail: "422 Unprocessable Entity"}},
		{name: "status.state conditions surface the newest reason", method: "POST", path: "/v1/vpcs",
			routes: []armfake.Route{
				route("POST", "/v1/vpcs", armfake.Accepted().WithHeader("Location", "/v1/vpcs/a/status")),
				route("GET", "/v1/vpcs/a/status",
					armfake.JSON(200, `{"status":{"state":"Creating","conditions":[{"lastTransitionTime":"2024-11-06T14:25:18Z","reason":"Scheduled","message":"queued"},{"lastTransitionTime":"2024-11-06T14:20:00Z","reason":"Old","message":"older"}]}}`),
					armfake.JSON(200, `{"status":{"state":"Failed","conditions":[{"lastTransitionTime":"2024-11-06T14:30:00Z","reason":"CIDRConflict","message":"overlaps 10.0.0.0/8"}]}}`)),
			},
			want:    outcome{Status: poller.StatusFailed, Code: "CIDRConflict", Message: "overlaps 10.0.0.0/8", Detail: "Failed (CIDRConflict: overlaps 10.0.0.0/8)"},
			details: []string{"Creating (Scheduled: queued)", "Failed (CIDRConflict: overlaps 10.0.0.0/8)"}},
		{name: "REST guidelines operation resource with resourceLocation", method: "POST", path: "/v1.0/databases",
			routes: []armfake.Route{
				route("POST", "/v1.0/databases", armfake.Accepted().WithHeader("Location", "{base}/v1.0/operations/123")),
				route("GET", "/v1.0/operations/123",
					armfake.JSON(200, `{"status":"notstarted"}`),
					armfake.JSON(200, `{"status":"running","percentComplete":"50"}`).WithRetryAfter("30"),
					armfake.JSON(200, `{"status":"succeeded","resourceLocation":"{base}/v1.0/databases/db1"}`)),
				route("GET", "/v1.0/databases/db1", armfake.JSON(200, `{"name":"db1"}`)),
			},
			want: outcome{Status: poller.StatusSucceeded, Result: `{"name":"db1"}`}, details: []string{"notstarted", "running", "succeeded"}},
		{name: "hybrid model: Content-Location names the resource", method: "POST", path: "/v1.0/databases",
			routes: []armfake.Route{
				route("POST", "/v1.0/databases", armfake.JSON(202, `{"name":"db1","state":"incomplete"}`).WithHeader("Location", "/v1.0/operations/7").WithHeader("Content-Location", "/v1.0/databases/db1")),
				route("GET", "/v1.0/operations/7", armfake.JSON(200, `{"status":"running"}`), armfake.JSON(200, `{"status":"succeeded"}`)),
				route("GET", "/v1.0/databases/db1", armfake.JSON(200, `{"name":"db1","state":"ready"}`)),
			},
			want: outcome{Status: poller.StatusSucceeded, Result: `{"name":"db1","state":"ready"}`}},
		{name: "Operation-Location with canceled status", method: "POST", path: "/v1/jobs",
			routes: []armfake.Route{
				route("POST", "/v1/jobs", armfake.Accepted().WithHeader("Operation-Location", "/v1/ops/1")),
				route("GET", "/v1/ops/1", armfake.JSON(200, `{"status":"running"}`), armfake.JSON(200, `{"status":"canceled","error":{"code":"UserCanceled","message":"by request"}}`)),
			},
			want: outcome{Status: poller.StatusCanceled, Code: "UserCanceled", Message: "by request", Detail: "canceled"}},
		{name: "404 from the status URL is not ready yet within the grace", method: "POST", path: "/v1/jobs",
			opts: rest.Options{NotFoundGrace: time.Minute},
			routes: []armfake.Route{
				route("POST", "/v1/jobs", armfake.Accepted().WithHeader("Location", "/v1/jobs/1/status")),
				route("GET", "/v1/jobs/1/status", armfake.Error(404, "NotFound", "not yet"), armfake.Error(404, "NotFound", "not yet"), armfake.JSON(200, `{"done":true}`)),
			},
			want: outcome{Status: poller.StatusSucceeded, Result: `{"done":true}`}},
		{name: "404 past the grace means the operation is gone", method: "POST", path: "/v1/jobs",
			opts: rest.Options{NotFoundGrace: 5 * time.Second, Options: poller.Options{Policy: poller.Policy{Floor: 2 * time.Second, Jitter: -1}}},
			routes: []armfake.Route{
				route("POST", "/v1/jobs", armfake.Accepted().WithHeader("Location", "/v1/jobs/1/status")),
				route("GET", "/v1/jobs/1/status", armfake.Error(404, "NotFound", "never")),
			},
			want: outcome{ErrIs: poller.ErrOperationNotFound}},
		{name: "404 from the result URL within the grace is retried", method: "POST", path: "/v1/jobs",
			opts: rest.Options{NotFoundGrace: time.Minute},
			routes: []armfake.Route{
				route("POST", "/v1/jobs", armfake.Accepted().WithHeader("Location", "/v1/jobs/1/status")),
				route("GET", "/v1/jobs/1/status", redirect(303, "/v1/results/1")),
				route("GET", "/v1/results/1", armfake.Error(404, "NotFound", "soon"), armfake.JSON(200, `[1,2,3]`)),
			},
			want: outcome{Status: poller.StatusSucceeded, Result: `[1,2,3]`}},
		{name: "201 Created is done at once", method: "POST", path: "/v1/items",
			routes: []armfake.Route{
				route("POST", "/v1/items", armfake.JSON(201, `{"id":"i1"}`).WithHeader("Location", "/v1/items/i1")),
				route("GET", "/v1/items/i1", armfake.JSON(200, `{"id":"i1"}`)),
			},
			want: outcome{Status: poller.StatusSucceeded, Result: `{"id":"i1"}`}},
		{name: "201 Created without a body reads its Location", method: "POST", path: "/v1/items",
			routes: []armfake.Route{
				route("POST", "/v1/items", armfake.Response{Status: 201, Header: map[string]string{"Location": "/v1/items/i2"}}),
				route("GET", "/v1/items/i2", armfake.JSON(200, `{"id":"i2"}`)),
			},
			want: outcome{Status: poller.StatusSucceeded, Result: `{"id":"i2"}`}},
		{name: "PUT with provisioningState", method: "PUT", path: "/v1/things/t",
			routes: []armfake.Route{
				route("PUT", "/v1/things/t", armfake.Resource("t", "Creating").WithStatus(200)),
				route("GET", "/v1/things/t", armfake.Resource("t", "Creating"), armfake.Resource("t", "Succeeded")),
			},
			want: outcome{Status: poller.StatusSucceeded, Result: `{"name":"t","properties":{"provisioningState":"Succeeded"}}`}},
		{name: "transient faults are retried", method: "POST", path: "/v1/jobs",
			routes: []armfake.Route{
				route("POST", "/v1/jobs", armfake.Accepted().WithHeader("Location", "/v1/jobs/1/status")),
				route("GET", "/v1/jobs/1/status", armfake.Error(503, "Busy", "b"), armfake.Response{Fault: armfake.Drop},
					armfake.Error(429, "Slow", "s").WithRetryAfter("3"), armfake.JSON(200, `{"ok":1}`)),
			},
			want: outcome{Status: poller.StatusSucceeded, Result: `{"ok":1}`}},
		{name: "401 from the status endpoint is an error, not a failure", method: "POST", path: "/v1/jobs",
			routes: []armfake.Route{
				route("POST", "/v1/jobs", armfake.Accepted().WithHeader("Location", "/v1/jobs/1/status")),
				route("GET", "/v1/jobs/1/status", armfake.Error(401, "Unauthorized", "token expired")),
			},
			want: outcome{ErrIs: &rest.ResponseError{}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []int{-1, 1} {
				got, details, srv := play(t, c, k)
				if c.want.ErrIs != nil {
					require.Error(t, got.ErrIs, "resume %d: %+v\n%s", k, got, srv.Summary())
					if re, ok := c.want.ErrIs.(*rest.ResponseError); ok {
						require.ErrorAs(t, got.ErrIs, &re)
					} else {
						require.ErrorIs(t, got.ErrIs, c.want.ErrIs)
					}
					continue
				}
				if got.Result != "" {
					require.JSONEq(t, c.want.Result, got.Result)
					got.Result = c.want.Result
				}
				require.Equal(t, c.want, got, "resume %d\n%s", k, srv.Summary())
				if k < 0 && c.details != nil {
					assert.Equal(t, c.details, details)
				}
				assert.Equal(t, 1, srv.Count(c.method, c.path), "the initial request is not repeated")
			}
		})
	}
}

func TestRedirectToForeignHostIsRefused(t *testing.T) {
	foreign := armfake.New()
	t.Cleanup(foreign.Close)
	foreign.Handle("GET", "/loot", armfake.JSON(200, `{}`))
	srv := armfake.New()
	t.Cleanup(srv.Close)
	srv.Handle("POST", "/v1/jobs", armfake.Accepted().WithHeader("Location", "/v1/jobs/1/status"))
	srv.Handle("GET", "/v1/jobs/1/status", redirect(303, foreign.URL()+"/loot?sig=secret"))
	p, err := rest.NewPoller[json.RawMessage](doInitial(t, srv, "POST", "/v1/jobs"), srv.Client(), &rest.Options{Options: poller.Options{Clock: pollertest.NewAutoClock(time.Now())}})
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	require.ErrorIs(t, err, rest.ErrHostNotAllowed)
	assert.NotContains(t, err.Error(), "secret")
	assert.Empty(t, foreign.Requests())

	srv.Handle("POST", "/v1/jobs", armfake.Accepted().WithHeader("Location", foreign.URL()+"/status"))
	_, err = rest.NewPoller[json.RawMessage](doInitial(t, srv, "POST", "/v1/jobs"), srv.Client(), nil)
	var ie *rest.InitialError
	require.ErrorAs(t, err, &ie)
	require.NotNil(t, ie.Response)
	require.ErrorIs(t, err, rest.ErrHostNotAllowed)
}

func TestHTTPToPublicHostsNeedsAllowHTTP(t *testing.T) {
	resp := &http.Response{StatusCode: 202, Header: http.Header{"Location": {"/status"}}, Body: http.NoBody,
		Request: &http.Request{Method: "POST", URL: &url.URL{Scheme: "http", Host: "api.example.com", Path: "/v1/jobs"}}}
	_, err := rest.NewPoller[json.RawMessage](resp, nil, nil)
	require.ErrorContains(t, err, "https is required")
	resp.Body = http.NoBody
	p, err := rest.NewPoller[json.RawMessage](resp, nil, &rest.Options{AllowHTTP: true})
	require.NoError(t, err)
	tok, err := p.ResumeToken()
	require.NoError(t, err)
	_, err = rest.Resume[json.RawMessage](tok, nil, nil)
	require.ErrorIs(t, err, poller.ErrInvalidToken, "the token is refused without AllowHTTP too")
	_, err = rest.Resume[json.RawMessage](tok, nil, &rest.Options{AllowHTTP: true})
	require.ErrorIs(t, err, rest.ErrHostNotAllowed, "AllowHTTP allows a scheme, not a host")
	_, err = rest.Resume[json.RawMessage](tok, nil, &rest.Options{AllowedHosts: []string{"api.example.com"}})
	require.ErrorIs(t, err, rest.ErrHostNotAllowed, "a named host is https unless AllowHTTP")
	_, err = rest.Resume[json.RawMessage](tok, nil, &rest.Options{AllowHTTP: true, AllowedHosts: []string{"api.example.com"}})
	require.NoError(t, err)
}

func TestNonSuccessInitialResponseIsAResponseError(t *testing.T) {
	srv := armfake.New()
	t.Cleanup(srv.Close)
	srv.Handle("POST", "/v1/jobs", armfake.Error(400, "BadRequest", "missing name").WithHeader("x-ms-error-code", "MissingName"))
	_, err := rest.NewPoller[json.RawMessage](doInitial(t, srv, "POST", "/v1/jobs"), srv.Client(), nil)
	var re *rest.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 400, re.StatusCode)
	assert.Equal(t, "MissingName", re.Code)
	assert.Equal(t, "missing name", re.Message)
	assert.JSONEq(t, `{"error":{"code":"BadRequest","message":"missing name"}}`, string(re.Raw))
	assert.Contains(t, re.Error(), "POST "+srv.URL()+"/v1/jobs")
}

func TestCancelOnLocationStatusMonitor(t *testing.T) {
	srv := armfake.New()
	t.Cleanup(srv.Close)
	srv.Handle("POST", "/v1/jobs", armfake.Accepted().WithHeader("Location", "/v1/jobs/1/status"))
	srv.Handle("DELETE", "/v1/jobs/1/status", armfake.Error(405, "MethodNotAllowed", "no"))
	p, err := rest.NewPoller[json.RawMessage](doInitial(t, srv, "POST", "/v1/jobs"), srv.Client(), nil)
	require.NoError(t, err)
	err = p.Cancel(context.Background())
	require.ErrorIs(t, err, poller.ErrCancelNotSupported)
	assert.Contains(t, err.Error(), "does not support cancellation")
}

func TestRestRefusesAzureAndAzcoreTokens(t *testing.T) {
	for _, tok := range []string{
		`{"lrokit":1,"provider":"azure","kind":"async","state":{"method":"PUT","url":"https://127.0.0.1/r","poll":"https://127.0.0.1/op"}}`,
		`{"type":"T","token":{"asyncURL":"https://127.0.0.1/op","origURL":"https://127.0.0.1/r","method":"PUT"}}`,
	} {
		_, err := rest.Resume[json.RawMessage](tok, nil, nil)
		require.Error(t, err)
	}
}

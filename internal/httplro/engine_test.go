package httplro

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/internal/trust"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
)

// drive runs an operation with a plain client: Start, Poll until terminal
// (at most 20 round trips, transient errors included), then Result. Halfway
// it round-trips the operation through its token.
func drive(t *testing.T, srv *armfake.Server, cfg Config, method string) (poller.Observation, json.RawMessage, error) {
	t.Helper()
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.Doer = &c
	cfg.Provider = "test"
	req, _ := http.NewRequest(method, srv.URL()+"/r?v=1", nil)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	op, obs, err := Start(resp, cfg)
	if err != nil {
		return obs, nil, err
	}
	for i := 0; i < 20 && !obs.Status.Terminal(); i++ {
		if i == 1 {
			tok, err := op.Token()
			require.NoError(t, err)
			enc, err := tok.Encode()
			require.NoError(t, err)
			// A resumed operation trusts only what the caller names.
			rcfg := cfg
			rcfg.Trusted = trust.MustNew("", false, srv.URL())
			op, _, err = Resume(enc, rcfg, nil)
			require.NoError(t, err)
		}
		o, err := op.Poll(context.Background())
		if err != nil {
			if poller.IsTransient(err) {
				continue
			}
			return obs, nil, err
		}
		obs = o
	}
	if !obs.Status.Terminal() {
		return obs, nil, errors.New("not terminal after 20 polls")
	}
	if obs.Status != poller.StatusSucceeded {
		return obs, nil, obs.Err
	}
	var out json.RawMessage
	err = op.Result(context.Background(), &out)
	return obs, out, err
}

func TestEngine(t *testing.T) {
	r := func(method, path string, script ...armfake.Response) armfake.Route {
		return armfake.Route{Method: method, Path: path, Script: script}
	}
	for _, tc := range []struct {
		name   string
		cfg    Config
		method string
		routes []armfake.Route
		want   string
		errIs  error
		status poller.Status
	}{
		{name: "async put", method: "PUT", routes: []armfake.Route{
			r("PUT", "/r", armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", "/op?v=1")),
			r("GET", "/op", armfake.Status("InProgress"), armfake.Error(500, "E", "e"), armfake.Status("Succeeded")),
			r("GET", "/r", armfake.JSON(200, `{"a":1}`))}, want: `{"a":1}`},
		{name: "operation post with result path", method: "POST", routes: []armfake.Route{
			r("POST", "/r", armfake.Response{Status: 202}.WithHeader("Operation-Location", "/op")),
			r("GET", "/op", armfake.Status("running"), armfake.JSON(200, `{"status":"succeeded","result":{"b":2}}`))}, want: `{"status":"succeeded","result":{"b":2}}`},
		{name: "location delete gone then resource gone", method: "DELETE", routes: []armfake.Route{
			r("DELETE", "/r", armfake.Accepted().WithHeader("Location", "/op")),
			r("GET", "/op", armfake.Accepted(), armfake.Error(404, "NotFound", "x"))}},
		{name: "body put", method: "PATCH", routes: []armfake.Route{
			r("PATCH", "/r", armfake.Resource("r", "Updating").WithStatus(202)),
			r("GET", "/r", armfake.Accepted(), armfake.Resource("r", "Updating"), armfake.Resource("r", "Succeeded"))},
			want: `{"name":"r","properties":{"provisioningState":"Succeeded"}}`},
		{name: "post gone", method: "POST", routes: []armfake.Route{
			r("POST", "/r", armfake.Accepted().WithHeader("Azure-AsyncOperation", "/op")),
			r("GET", "/op", armfake.Status("InProgress"), armfake.Error(410, "Gone", "x"))}, errIs: poller.ErrOperationNotFound},
		{name: "put resource gone", method: "PUT", routes: []armfake.Route{
			r("PUT", "/r", armfake.Resource("r", "Creating").WithStatus(201)),
			r("GET", "/r", armfake.Resource("r", "Creating"), armfake.Error(404, "NotFound", "x"))}, errIs: poller.ErrOperationNotFound},
		{name: "put resource 404 within grace", cfg: Config{NotFoundGrace: 1 << 62}, method: "PUT", routes: []armfake.Route{
			r("PUT", "/r", armfake.Resource("r", "Creating").WithStatus(201)),
			r("GET", "/r", armfake.Error(404, "NotFound", "x"), armfake.Error(404, "NotFound", "x"), armfake.JSON(200, `{}`))}, want: `{}`},
		{name: "resource 403 is permanent", method: "PUT", routes: []armfake.Route{
			r("PUT", "/r", armfake.Resource("r", "Creating").WithStatus(201)),
			r("GET", "/r", armfake.Resource("r", "Creating"), armfake.Error(403, "Forbidden", "x"))}, errIs: &ResponseError{}},
		{name: "status 400 is permanent", method: "POST", routes: []armfake.Route{
			r("POST", "/r", armfake.Accepted().WithHeader("Operation-Location", "/op")),
			r("GET", "/op", armfake.Status("running"), armfake.Error(400, "Bad", "x"))}, errIs: &ResponseError{}},
		{name: "final GET 403 is permanent", method: "PUT", routes: []armfake.Route{
			r("PUT", "/r", armfake.Accepted().WithHeader("Operation-Location", "/op")),
			r("GET", "/op", armfake.Status("succeeded")),
			r("GET", "/r", armfake.Error(403, "Forbidden", "x"))}, errIs: &ResponseError{}},
		{name: "rest location 200 resource", cfg: Config{REST: true}, method: "POST", routes: []armfake.Route{
			r("POST", "/r", armfake.Accepted().WithHeader("Location", "/op")),
			r("GET", "/op", armfake.JSON(202, `{"status":"notStarted"}`), armfake.JSON(200, `{"status":"Ready"}`))}, want: `{"status":"Ready"}`},
		{name: "rest resourceLocation", cfg: Config{REST: true}, method: "POST", routes: []armfake.Route{
			r("POST", "/r", armfake.Accepted().WithHeader("Location", "/op")),
			r("GET", "/op", armfake.JSON(200, `{"status":"succeeded","resourceLocation":"/x"}`)),
			r("GET", "/x", armfake.JSON(200, `true`))}, want: `true`},
		{name: "rest location provisioning state failed", cfg: Config{REST: true}, method: "POST", routes: []armfake.Route{
			r("POST", "/r", armfake.Accepted().WithHeader("Location", "/op")),
			r("GET", "/op", armfake.JSON(200, `{"properties":{"provisioningState":"Failed"}}`))}, status: poller.StatusFailed},
		{name: "rest 202 with new location", cfg: Config{REST: true}, method: "POST", routes: []armfake.Route{
			r("POST", "/r", armfake.Accepted().WithHeader("Location", "/op")),
			r("GET", "/op", armfake.JSON(202, `{"properties":{"provisioningState":"Running"}}`).WithHeader("Location", "/op2")),
			r("GET", "/op2", armfake.JSON(200, `[]`))}, want: `[]`},
		{name: "too many redirects", cfg: Config{REST: true}, method: "POST", routes: []armfake.Route{
			r("POST", "/r", armfake.Accepted().WithHeader("Location", "/op")),
			r("GET", "/op", armfake.Response{Status: 302, Header: map[string]string{"Location": "/loop"}}),
			r("GET", "/loop", armfake.Response{Status: 307, Header: map[string]string{"Location": "/loop"}})}, errIs: errors.New("more than")},
		{name: "bad redirect", cfg: Config{REST: true}, method: "POST", routes: []armfake.Route{
			r("POST", "/r", armfake.Accepted().WithHeader("Location", "/op")),
			r("GET", "/op", armfake.Response{Status: 302, Header: map[string]string{"Location": "https://evil.example/x"}})}, errIs: ErrHostNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := armfake.New()
			defer srv.Close()
			srv.Load(armfake.Scenario{Routes: tc.routes})
			obs, out, err := drive(t, srv, tc.cfg, tc.method)
			switch want := tc.errIs.(type) {
			case nil:
				if tc.status != "" {
					assert.Equal(t, tc.status, obs.Status)
					return
				}
				require.NoError(t, err, srv.Summary())
				if tc.want == "" {
					assert.Empty(t, out)
				} else {
					assert.JSONEq(t, tc.want, string(out))
				}
			case *ResponseError:
				require.ErrorAs(t, err, &want)
			default:
				if errors.Is(want, ErrHostNotAllowed) || errors.Is(want, poller.ErrOperationNotFound) {
					require.ErrorIs(t, err, want)
				} else {
					require.ErrorContains(t, err, want.Error())
				}
			}
		})
	}
}

func TestCancelKinds(t *testing.T) {
	srv := armfake.New()
	defer srv.Close()
	srv.Handle("POST", "/r", armfake.Accepted().WithHeader("Location", "/op"))
	srv.Handle("DELETE", "/op", armfake.Error(503, "Busy", "x"), armfake.Error(400, "Bad", "x"))
	req, _ := http.NewRequest("POST", srv.URL()+"/r", nil)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	op, _, err := Start(resp, Config{Provider: "rest", REST: true, Doer: srv.Client()})
	require.NoError(t, err)
	err = op.Cancel(context.Background())
	require.True(t, poller.IsTransient(err))
	err = op.Cancel(context.Background())
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "POST "+srv.URL()+"/r", op.Name())
}

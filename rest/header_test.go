package rest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller/pollertest"
	"github.com/lrokit/lrokit/rest"
)

// Options.Header reaches every request of the operation — polls, the final
// GET, cancel — and never the token.
func TestHeaderOnEveryRequestAndNeverInTheToken(t *testing.T) {
	srv := armfake.New()
	t.Cleanup(srv.Close)
	srv.Load(armfake.Scenario{Routes: []armfake.Route{
		{Method: "POST", Path: "/v1/jobs", Script: []armfake.Response{armfake.Accepted().WithHeader("Operation-Location", "/v1/ops/1")}},
		{Method: "GET", Path: "/v1/ops/1", Script: []armfake.Response{armfake.Status("running"), armfake.JSON(200, `{"status":"succeeded","resourceLocation":"/v1/things/1"}`)}},
		{Method: "DELETE", Path: "/v1/ops/1", Script: []armfake.Response{armfake.Accepted()}},
		{Method: "GET", Path: "/v1/things/1", Script: []armfake.Response{armfake.JSON(200, `{"id":1}`)}},
	}})
	hdr := http.Header{"Authorization": {"Bearer API-SECRET"}}
	opts := &rest.Options{Header: hdr}
	opts.Clock = pollertest.NewAutoClock(time.Now())
	p, err := rest.NewPoller[json.RawMessage](doInitial(t, srv, "POST", "/v1/jobs"), srv.Client(), opts)
	require.NoError(t, err)
	_, err = p.Poll(context.Background())
	require.NoError(t, err)
	require.NoError(t, p.Cancel(context.Background()))
	tok, err := p.ResumeToken()
	require.NoError(t, err)
	assert.NotContains(t, tok, "API-SECRET")
	ropts := &rest.Options{Header: hdr, AllowedHosts: []string{srv.URL()}}
	ropts.Clock = opts.Clock
	p, err = rest.Resume[json.RawMessage](tok, srv.Client(), ropts)
	require.NoError(t, err)
	res, err := p.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":1}`, string(res))
	reqs := srv.Requests()
	require.Len(t, reqs, 5)
	for _, r := range reqs[1:] { // the initial request is the caller's own
		assert.Equal(t, "Bearer API-SECRET", r.Header.Get("Authorization"), "%s %s", r.Method, r.Path)
	}
}

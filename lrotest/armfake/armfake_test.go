package armfake_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/lrotest/armfake"
)

func get(t *testing.T, c *http.Client, url string) (*http.Response, string, error) {
	t.Helper()
	// A fresh transport per request: net/http would otherwise retry an
	// idempotent request on a dropped, reused connection.
	c = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: c.Transport.(*http.Transport).TLSClientConfig}}
	resp, err := c.Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestScriptsServeInOrderAndRepeatTheLast(t *testing.T) {
	srv := armfake.New()
	defer srv.Close()
	srv.Handle("GET", "/a", armfake.JSON(202, `1`), armfake.JSON(200, `{"url":"{base}/x"}`))
	var codes []int
	for range 3 {
		resp, body, err := get(t, srv.Client(), srv.URL()+"/a?q=1")
		require.NoError(t, err)
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 200 {
			assert.Equal(t, `{"url":"`+srv.URL()+`/x"}`, body)
		}
	}
	assert.Equal(t, []int{202, 200, 200}, codes)
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, "q=1", reqs[0].RawQuery)
	assert.Equal(t, 3, reqs[2].N)
	assert.Equal(t, 3, srv.Count("get", "/a"))
	assert.Equal(t, "GET /a ×3", srv.Summary())

	resp, body, err := get(t, srv.Client(), srv.URL()+"/unscripted")
	require.NoError(t, err)
	assert.Equal(t, 404, resp.StatusCode)
	assert.Contains(t, body, "ResourceNotFound")
}

func TestFaults(t *testing.T) {
	srv := armfake.NewTLS()
	defer srv.Close()
	srv.Handle("GET", "/drop", armfake.Response{Fault: armfake.Drop})
	srv.Handle("GET", "/trunc", armfake.Response{Status: 200, Body: `{"status":"InProgress"}`, Fault: armfake.Truncate, Header: map[string]string{"X-A": "{base}"}})
	_, _, err := get(t, srv.Client(), srv.URL()+"/drop")
	require.Error(t, err)
	resp, _, err := get(t, srv.Client(), srv.URL()+"/trunc")
	require.True(t, errors.Is(err, io.ErrUnexpectedEOF), "%v", err)
	assert.Equal(t, srv.URL(), resp.Header.Get("X-A"))
	assert.True(t, strings.HasPrefix(srv.URL(), "https://127.0.0.1:"))
}

func TestDatePlaceholder(t *testing.T) {
	srv := armfake.New()
	defer srv.Close()
	srv.Handle("GET", "/d", armfake.Accepted().WithRetryAfter("{date+120}").WithStatus(202))
	resp, _, err := get(t, srv.Client(), srv.URL()+"/d")
	require.NoError(t, err)
	at, err := http.ParseTime(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	date, err := http.ParseTime(resp.Header.Get("Date"))
	require.NoError(t, err)
	assert.InDelta(t, 120, at.Sub(date).Seconds(), 1)
	assert.WithinDuration(t, time.Now().Add(2*time.Minute), at, 5*time.Second)
}

func TestLROShapes(t *testing.T) {
	for _, tc := range []struct {
		lro     armfake.LRO
		code    int
		headers []string
	}{
		{armfake.LRO{Method: "PUT", Path: "/r", Protocol: armfake.AsyncOperation}, 201, []string{"Azure-AsyncOperation"}},
		{armfake.LRO{Method: "POST", Path: "/r", Protocol: armfake.OperationLocation}, 202, []string{"Operation-Location", "Location"}},
		{armfake.LRO{Method: "DELETE", Path: "/r", Protocol: armfake.Location}, 202, []string{"Location"}},
		{armfake.LRO{Method: "PATCH", Path: "/r", Protocol: armfake.ProvisioningState, Final: []armfake.Response{armfake.Resource("r", "Succeeded")}}, 201, nil},
	} {
		sc := tc.lro.Scenario()
		initial := sc.Routes[0].Script[0]
		assert.Equal(t, tc.code, initial.Status, sc.Name)
		for _, h := range tc.headers {
			assert.NotEmpty(t, initial.Header[h], "%s: %s", sc.Name, h)
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
)

func TestAWaitThatTimesOutHandsOffAStillRunningOperation(t *testing.T) {
	srv := armLRO(running(100000)...)
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	r := inProcess(t, nil, "", append([]string{"azure", "begin", "--method", "PUT", "--url", resourceURL(srv), "--token-file", tokenFile}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)

	r = inProcess(t, nil, "", append([]string{"wait", "--allow-host", srv.URL(), "--token-file", tokenFile, "--timeout", "50ms"}, fast...)...)
	require.Equal(t, exitInterrupted, r.code, r.stderr)
	var out resultJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	assert.Equal(t, "still_running", out.Handoff)
	assert.Equal(t, poller.StatusRunning, out.Status)
	assert.Positive(t, out.Polls)
	assert.Positive(t, out.ElapsedSeconds)
	require.NotNil(t, out.NextPoll)
	assert.Empty(t, out.Token, "the token went back to its file")
	assert.False(t, out.TokenStale)

	// Run again: the same schedule goes on, polls counted across.
	r = inProcess(t, nil, "", append([]string{"wait", "--allow-host", srv.URL(), "--token-file", tokenFile, "--timeout", "500ms"}, fast...)...)
	require.Equal(t, exitInterrupted, r.code, r.stderr)
	var again resultJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &again))
	assert.Greater(t, again.Polls, out.Polls)
	assert.Greater(t, again.ElapsedSeconds, out.ElapsedSeconds, "elapsed counts from the operation's start")
	b, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	tok, err := poller.DecodeToken(string(b), nil)
	require.NoError(t, err)
	assert.Equal(t, again.Polls, tok.Polls)

	// With --token there is nowhere to save: the token is in the output.
	r = inProcess(t, nil, "", append([]string{"wait", "--allow-host", srv.URL(), "--token", string(b), "--timeout", "20ms"}, fast...)...)
	require.Equal(t, exitInterrupted, r.code, r.stderr)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	assert.NotEmpty(t, out.Token)
}

func TestRetryBudgetIsOneSettingWithAnUnlimitedDefault(t *testing.T) {
	for _, bad := range []string{"0", "-1", "many", "1.5"} {
		r := inProcess(t, nil, "", "wait", "--token", "x", "--retry-budget", bad)
		assert.Equal(t, exitUsage, r.code, bad)
		assert.Contains(t, r.stderr, "--retry-budget")
		r = inProcess(t, nil, "", "fleet", "run", "--store", "mem:", "--retry-budget", bad)
		assert.Equal(t, exitUsage, r.code, bad)
	}
	n, err := parseRetryBudget("unlimited")
	require.NoError(t, err)
	assert.Equal(t, poller.UnlimitedRetries, n)
	var w waitFlags
	w.retryBudget = "unlimited"
	assert.Equal(t, poller.UnlimitedRetries, w.options(context.Background()).Policy.RetryBudget, "the command line's default is the fleet's")

	srv := armLRO(armfake.Error(http.StatusServiceUnavailable, "ServerBusy", "down"))
	defer srv.Close()
	r := inProcess(t, nil, "", append([]string{"azure", "begin", "--method", "PUT", "--url", resourceURL(srv)}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	r = inProcess(t, nil, "", append([]string{"wait", "--allow-host", srv.URL(), "--token", string(r.stdout), "--retry-budget", "2"}, fast...)...)
	assert.Equal(t, exitPollError, r.code, r.stderr)
	assert.Contains(t, r.stderr, "gave up after 3 attempts")
	assert.Equal(t, 3, srv.Count(http.MethodGet, armfake.StatusPath))
}

func TestBeginUnderAKeyOrFileOfAnotherRunningRequestIsRefused(t *testing.T) {
	srv := armLRO(running(100)...)
	defer srv.Close()
	store := t.TempDir()
	begin := func(url string, dest ...string) result {
		return inProcess(t, nil, "", append(append([]string{"azure", "begin", "--method", "PUT", "--url", url}, dest...), fast...)...)
	}
	r := begin(resourceURL(srv), "--store", store, "--key", "k")
	require.Equal(t, exitOK, r.code, r.stderr)
	r = begin(resourceURL(srv)+"&other=1", "--store", store, "--key", "k")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "different request")
	r = begin(resourceURL(srv), "--store", store, "--key", "k")
	assert.Equal(t, exitOK, r.code, "the same request again: already begun")
	assert.Contains(t, r.stderr, "nothing was sent")
	assert.Equal(t, 1, srv.Count(http.MethodPut, resourcePath))

	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte("not a token\n"), 0o600))
	r = begin(resourceURL(srv), "--token-file", file)
	assert.Equal(t, exitUsage, r.code, "unknown content is never overwritten: %s", r.stderr)
	assert.Equal(t, 1, srv.Count(http.MethodPut, resourcePath))
}

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
)

// trusted are the flags that let the CLI talk to a loopback fake: no
// credentials, the fake's origin trusted.
func trusted(srv *armfake.Server) []string {
	return []string{"--no-auth", "--allow-host", srv.URL()}
}

// quick makes a real-clock wait on a fake take milliseconds.
var quick = []string{"--poll-floor", "1ms", "--poll-cap", "2ms"}

const restOpPath = "/jobs/build-42"

// restLRO is a REST (Operation-Location) POST whose status URL answers polls
// and accepts a cancel.
func restLRO(polls ...armfake.Response) *armfake.Server {
	srv := armfake.New()
	srv.Load(armfake.LRO{Method: http.MethodPost, Path: restOpPath, Protocol: armfake.OperationLocation,
		Polls: polls, Final: []armfake.Response{armfake.JSON(http.StatusOK, `{"artifact":"build-42.tar"}`)}}.Scenario())
	srv.Handle(http.MethodDelete, armfake.StatusPath, armfake.JSON(http.StatusOK, `{}`))
	return srv
}

func TestHeadersGoWithEveryRequestAndNowhereElse(t *testing.T) {
	srv := restLRO(append(running(3), armfake.Status("Succeeded"))...)
	defer srv.Close()
	const apiKey, bearer = "k3y-from-flag-77", "Bearer t0ken-from-env-99"
	env := []string{"LROKIT_TEST_BEARER=" + bearer}
	tokenFile := filepath.Join(t.TempDir(), "build.token")
	hdr := []string{"--header", "X-Api-Key: " + apiKey, "--header-env", "Authorization=LROKIT_TEST_BEARER"}

	var outputs []result
	run := func(want int, args ...string) {
		t.Helper()
		r := cliEnv(t, env, append(append(args, hdr...), trusted(srv)...)...)
		require.Equal(t, want, r.code, "lrokit %s: %s", args[0], r.stderr)
		outputs = append(outputs, r)
	}
	run(0, "rest", "begin", "--method", "POST", "--url", srv.URL()+restOpPath+"?"+armfake.APIVersion, "--token-file", tokenFile, "--verbose")
	run(0, "status", "--token-file", tokenFile, "--debug")
	run(0, "cancel", "--token-file", tokenFile)
	run(0, append([]string{"wait", "--token-file", tokenFile, "--progress", "json", "--debug"}, quick...)...)

	reqs := srv.Requests()
	require.GreaterOrEqual(t, len(reqs), 6, srv.Summary())
	kinds := map[string]bool{}
	for _, r := range reqs {
		kinds[r.Method+" "+r.Path] = true
		assert.Equal(t, apiKey, r.Header.Get("X-Api-Key"), "%s %s carries --header", r.Method, r.Path)
		assert.Equal(t, bearer, r.Header.Get("Authorization"), "%s %s carries --header-env", r.Method, r.Path)
	}
	for _, k := range []string{"POST " + restOpPath, "GET " + armfake.StatusPath, "DELETE " + armfake.StatusPath, "GET " + armfake.ResultPath} {
		assert.True(t, kinds[k], "the operation sent %s (got %v)", k, kinds)
	}

	tok, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	inspect := cli(t, "token", "inspect", "--token-file", tokenFile)
	require.Equal(t, 0, inspect.code, inspect.stderr)
	outputs = append(outputs, inspect)
	assert.Contains(t, outputs[0].stderr, "request POST 127.0.0.1:", "--verbose logs requests")
	assert.Contains(t, outputs[3].stderr, "lro poll", "--debug logs the poller's records")
	for _, secret := range []string{apiKey, bearer, "t0ken-from-env-99", "LROKIT_TEST_BEARER=", "X-Api-Key"} {
		assert.NotContains(t, string(tok), secret, "the token file")
		assert.NotContains(t, inspect.stdout, secret, "the decoded token")
		for i, o := range outputs {
			assert.NotContains(t, o.stdout+o.stderr, secret, "output of command %d", i)
		}
	}
}

func TestHeaderFlagsRefuseBadInput(t *testing.T) {
	for name, args := range map[string][]string{
		"no colon":         {"--header", "X-Api-Key"},
		"bad name":         {"--header", "Bad Name: v"},
		"unset variable":   {"--header-env", "Authorization=LROKIT_TEST_SURELY_UNSET"},
		"header-env shape": {"--header-env", "Authorization"},
	} {
		t.Run(name, func(t *testing.T) {
			r := cli(t, append([]string{"status", "--token", "x"}, args...)...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, "--header")
		})
	}
}

// storm is a status URL that fails transiently in bursts between answers.
func storm() []armfake.Response {
	return []armfake.Response{
		armfake.Status("InProgress"),
		armfake.Error(http.StatusServiceUnavailable, "ServerBusy", "try later"),
		armfake.Error(http.StatusTooManyRequests, "TooManyRequests", "slow down"),
		armfake.Error(http.StatusInternalServerError, "InternalError", "oops"),
		armfake.Status("InProgress"),
		armfake.Error(http.StatusBadGateway, "BadGateway", "upstream"),
		armfake.Status("Succeeded"),
	}
}

func beginREST(t *testing.T, srv *armfake.Server) string {
	t.Helper()
	tokenFile := filepath.Join(t.TempDir(), "op.token")
	r := cli(t, append([]string{"rest", "begin", "--method", "POST", "--url", srv.URL() + restOpPath, "--token-file", tokenFile}, trusted(srv)...)...)
	require.Equal(t, 0, r.code, r.stderr)
	return tokenFile
}

func TestTransientFailuresArePrinted(t *testing.T) {
	t.Run("plain, with request lines", func(t *testing.T) {
		srv := restLRO(storm()...)
		defer srv.Close()
		tokenFile := beginREST(t, srv)
		r := cli(t, append(append([]string{"wait", "--token-file", tokenFile, "--progress", "plain", "--retry-budget", "10", "--verbose"}, trusted(srv)...), quick...)...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, 4, strings.Count(r.stderr, "transient failure"), r.stderr)
		for _, want := range []string{"attempt 1, 9 of 10 retries left", "attempt 2, 8 of 10 retries left", "attempt 3, 7 of 10 retries left", "429", "503", "500", "502"} {
			assert.Contains(t, r.stderr, want)
		}
		assert.Regexp(t, `request GET 127\.0\.0\.1:\d+/providers/Microsoft\.Test/locations/westus/operations/op1 -> 503`, r.stderr)
		assert.NotContains(t, r.stderr, "api-version", "request lines carry no query")
	})
	t.Run("json", func(t *testing.T) {
		srv := restLRO(storm()...)
		defer srv.Close()
		tokenFile := beginREST(t, srv)
		r := cli(t, append(append([]string{"wait", "--token-file", tokenFile, "--progress", "json"}, trusted(srv)...), quick...)...)
		require.Equal(t, 0, r.code, r.stderr)
		var retries []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &m), "a JSON line: %q", line)
			if m["event"] == "retry" {
				retries = append(retries, m)
			}
		}
		require.Len(t, retries, 4, r.stderr)
		assert.Equal(t, 3.0, retries[2]["attempt"])
		assert.Nil(t, retries[2]["retries_left"], "unlimited by default")
		assert.Equal(t, 1.0, retries[3]["attempt"], "a good poll resets the count")
	})
	t.Run("the budget spent", func(t *testing.T) {
		srv := restLRO(storm()...)
		defer srv.Close()
		tokenFile := beginREST(t, srv)
		r := cli(t, append(append([]string{"wait", "--token-file", tokenFile, "--progress", "plain", "--retry-budget", "2"}, trusted(srv)...), quick...)...)
		assert.Equal(t, exitPollError, r.code, r.stderr)
		assert.Contains(t, r.stderr, "attempt 2, 0 of 2 retries left")
		assert.Contains(t, r.stderr, "gave up after 3 attempts")
	})
}

func TestUsageErrorsExit2(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "op.token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("lrokit1.AAAA\n"), 0o600))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"wiat"}, `unknown command "wiat" for "lrokit"; did you mean "wait"?`},
		{[]string{"fleet", "rn"}, `unknown command "rn" for "lrokit fleet"`},
		{[]string{"token", "inspct"}, `unknown command "inspct"`},
		{[]string{"status", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"wait", "a.token", "b.token"}, "one TOKEN-SOURCE at most"},
		{[]string{"waiters", "extra"}, "takes no arguments"},
		{[]string{"wait", "--token", "lrokit1.x", tokenFile}, "give the token source once"},
		{[]string{"wait", "no-such.token"}, "reading the token file"},
		{[]string{"wait"}, "name the token"},
		{[]string{"wait", tokenFile, "--progress", "fancy"}, "--progress must be"},
		{[]string{"status", tokenFile}, "invalid resume token"},
		{[]string{"wait", "--timeout", "soon", tokenFile}, "invalid argument"},
		{[]string{"lrokit1.SECRETTOKENBODY"}, "takes a command, not a token"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := cli(t, tt.args...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.want)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			assert.NotContains(t, r.stderr, "SECRETTOKENBODY")
		})
	}
	r := cli(t)
	assert.Equal(t, exitOK, r.code, "lrokit alone shows its help")
	assert.Contains(t, r.stdout+r.stderr, "Available Commands")
}

func TestPositionalTokenSource(t *testing.T) {
	srv := restLRO(running(1)...)
	defer srv.Close()
	tokenFile := beginREST(t, srv)
	tok, err := os.ReadFile(tokenFile)
	require.NoError(t, err)

	r := cli(t, append([]string{"status", tokenFile}, trusted(srv)...)...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"status":"Running"`)
	after, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	assert.NotEqual(t, string(tok), string(after), "a positional path is written back like --token-file")

	cmd := exec.Command(binary, "token", "inspect", "-")
	cmd.Stdin = strings.NewReader(string(after))
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.Contains(t, string(out), `"provider": "rest"`)
}

func TestNetworkErrorsSayWhatToDo(t *testing.T) {
	srv := restLRO(running(1)...)
	tokenFile := beginREST(t, srv)
	origin := srv.URL()
	srv.Close()
	r := cli(t, "status", tokenFile, "--no-auth", "--allow-host", origin)
	assert.Equal(t, exitPollError, r.code, r.stderr)
	assert.Regexp(t, `nothing is listening at 127\.0\.0\.1:\d+ \(connection refused\): check the URL or endpoint, then run the command again`, r.stderr)

	srv = restLRO(running(50)...)
	defer srv.Close()
	tokenFile = beginREST(t, srv)
	r = cli(t, "wait", tokenFile, "--timeout", "50ms", "--no-auth", "--allow-host", srv.URL(), "--poll-floor", "1ms", "--poll-cap", "2ms")
	assert.Equal(t, exitInterrupted, r.code, r.stderr)
	assert.Contains(t, r.stderr, "timed out (--timeout) while")
	assert.Contains(t, r.stderr, "run lrokit wait again to continue")
	assert.NotContains(t, r.stderr, "context deadline exceeded")
}

func TestVersionComesFromTheBuild(t *testing.T) {
	r := cli(t, "--version")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `^lrokit (\(devel\)|v\S+)( \([0-9a-f]{12}(, modified)?(, \S+)?\))?, go1\.\d+`, r.stdout)
	assert.NotContains(t, r.stdout, "dev,", "not the hard-coded placeholder")
}

func TestOutputFormats(t *testing.T) {
	srv := restLRO(running(5)...)
	defer srv.Close()
	tokenFile := beginREST(t, srv)

	yml := cli(t, append([]string{"status", tokenFile, "-o", "yaml"}, trusted(srv)...)...)
	require.Equal(t, 0, yml.code, yml.stderr)
	assert.Regexp(t, "^provider: rest\nkind: operation\nstatus: Running\n", yml.stdout, "yaml keeps the JSON names and order")

	tbl := cli(t, append([]string{"status", tokenFile, "--output", "table"}, trusted(srv)...)...)
	require.Equal(t, 0, tbl.code, tbl.stderr)
	assert.Regexp(t, `(?m)^PROVIDER\s+KIND\s+STATUS\s+DETAIL\s+PROGRESS\s+POLLS\s+NEXT POLL\n^rest\s+operation\s+Running\s+`, tbl.stdout)

	ins := cli(t, "token", "inspect", tokenFile, "-o", "yaml")
	require.Equal(t, 0, ins.code, ins.stderr)
	assert.Contains(t, ins.stdout, "provider: rest\n")
	ins = cli(t, "token", "inspect", tokenFile, "-o", "table")
	require.Equal(t, 0, ins.code, ins.stderr)
	assert.Regexp(t, `(?m)^FIELD\s+VALUE\n`, ins.stdout)
	assert.Regexp(t, `(?m)^provider\s+rest$`, ins.stdout)

	store := t.TempDir()
	add := cli(t, "fleet", "add", "--store", store, "--key", "builds/42", "--token-file", tokenFile, "--label", "team=ci")
	require.Equal(t, 0, add.code, add.stderr)
	ls := cli(t, "fleet", "ls", "--store", store, "-o", "json")
	require.Equal(t, 0, ls.code, ls.stderr)
	var recs []fleetRecordJSON
	require.NoError(t, json.Unmarshal([]byte(ls.stdout), &recs), ls.stdout)
	require.Len(t, recs, 1)
	assert.Equal(t, "builds/42", recs[0].Key)
	assert.Equal(t, map[string]string{"team": "ci"}, recs[0].Labels)
	ls = cli(t, "fleet", "ls", "--store", store)
	assert.Regexp(t, `(?m)^KEY\s+PROVIDER\s+STATUS`, ls.stdout, "table by default")
	ls = cli(t, "fleet", "ls", "--store", store, "-o", "xml")
	assert.Equal(t, exitUsage, ls.code)
	assert.Contains(t, ls.stderr, "--output must be json, table or yaml")
}

func TestEachCommandListsTheFlagsItHonours(t *testing.T) {
	tests := []struct {
		cmd        []string
		has, lacks []string
	}{
		{[]string{"azure", "begin"}, []string{"--no-auth", "--scope", "--allow-host", "--header-env"}, []string{"--insecure"}},
		{[]string{"rest", "begin"}, []string{"--allow-host", "--header"}, []string{"--insecure", "--scope", "--no-auth"}},
		{[]string{"gcp", "adopt"}, []string{"--no-auth", "--insecure"}, []string{"--scope", "--allow-host", "--header"}},
		{[]string{"gcp", "compute", "adopt"}, []string{"--no-auth"}, []string{"--scope", "--allow-host", "--insecure"}},
		{[]string{"aws", "adopt"}, []string{"--no-auth", "--region"}, []string{"--scope", "--allow-host", "--insecure", "--header"}},
		{[]string{"wait"}, []string{"--no-auth", "--insecure", "--scope", "--allow-host", "--header", "--retry-budget", "Azure 1s"}, nil},
		{[]string{"status"}, []string{"--output", "--header-env", "--insecure"}, []string{"--poll-floor"}},
		{[]string{"fleet", "run"}, []string{"--header", "--insecure", "--lease-ttl", "--claim-batch", "--capacity", "--host-rate"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.cmd, " "), func(t *testing.T) {
			r := cli(t, append(tt.cmd, "--help")...)
			require.Equal(t, 0, r.code, r.stderr)
			for _, f := range tt.has {
				assert.Contains(t, r.stdout, f)
			}
			for _, f := range tt.lacks {
				assert.NotContains(t, r.stdout, f+" ")
			}
		})
	}
	r := cli(t, "aws", "adopt", "--scope", "x", "--waiter", "cloudformation.StackCreateComplete", "--input", `{"StackName":"a"}`)
	assert.Equal(t, exitUsage, r.code, "a flag the command does not read is refused: %s", r.stderr)
	assert.Contains(t, r.stderr, "unknown flag: --scope")
}

func TestInsecureMeansTheSameOnAdoptAndWait(t *testing.T) {
	r := cli(t, "gcp", "adopt", "--name", "operations/x", "--endpoint", "example.com:443", "--insecure")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--insecure is only allowed for loopback endpoints")
}

func TestFleetRunSizingFlags(t *testing.T) {
	store := t.TempDir()
	var allow []string
	for i := range 3 {
		srv := restLRO(append(running(2), armfake.Status("Succeeded"))...)
		defer srv.Close()
		tokenFile := beginREST(t, srv)
		add := cli(t, "fleet", "add", "--store", store, "--key", "builds/"+string(rune('a'+i)), "--token-file", tokenFile)
		require.Equal(t, 0, add.code, add.stderr)
		allow = append(allow, "--allow-host", srv.URL())
	}
	host := strings.TrimPrefix(allow[1], "http://")
	r := cli(t, append(append([]string{"fleet", "run", "--store", store, "--until-done", "--no-auth",
		"--lease-ttl", "10s", "--claim-batch", "2", "--capacity", "4", "--host-rate", "50", "--host-rate", host + "=100"}, allow...), quick...)...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, 3, strings.Count(r.stdout, `"status":"Succeeded"`), r.stdout)

	for _, bad := range [][]string{
		{"--lease-ttl", "10ms"}, {"--claim-batch", "0"}, {"--capacity", "-1"},
		{"--claim-batch", "5", "--capacity", "4"}, {"--host-rate", "fast"}, {"--host-rate", "h=0"}, {"--host-rate", "=3"},
	} {
		r := cli(t, append([]string{"fleet", "run", "--store", store}, bad...)...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", bad, r.stderr)
	}
}

func TestRewaitingAFinishedToken(t *testing.T) {
	finished := func(t *testing.T, end armfake.Response, wantCode int) string {
		srv := restLRO(running(1)[0], end)
		tokenFile := beginREST(t, srv)
		r := cli(t, append(append([]string{"wait", tokenFile}, trusted(srv)...), quick...)...)
		require.Equal(t, wantCode, r.code, r.stderr)
		srv.Close() // from here on, any request fails
		return tokenFile
	}
	t.Run("failed and canceled answer from the token", func(t *testing.T) {
		for _, tt := range []struct {
			end  armfake.Response
			code int
			want string
		}{
			{armfake.StatusFailed("QuotaExceeded", "no cores"), exitFailed, `"status":"Failed"`},
			{armfake.Status("Canceled"), exitCanceled, `"status":"Canceled"`},
		} {
			tokenFile := finished(t, tt.end, tt.code)
			for range 2 {
				r := cli(t, "wait", tokenFile, "--no-auth", "--verbose")
				assert.Equal(t, tt.code, r.code, r.stderr)
				assert.Contains(t, r.stdout, tt.want)
				assert.Contains(t, r.stdout, `"ended":"from_token"`)
				assert.Contains(t, r.stderr, "nothing was sent")
				assert.NotContains(t, r.stderr, "request GET", "no request at all")
			}
		}
	})
	t.Run("succeeded, outcome only: exit 0 without the network", func(t *testing.T) {
		tokenFile := finished(t, armfake.Status("Succeeded"), exitOK)
		r := cli(t, "wait", tokenFile, "--no-auth", "--no-result", "--verbose")
		assert.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, `"status":"Succeeded"`)
		assert.NotContains(t, r.stderr, "request GET")
	})
	t.Run("succeeded, result wanted but unreachable: exit 5 that says so", func(t *testing.T) {
		tokenFile := finished(t, armfake.Status("Succeeded"), exitOK)
		src, err := os.ReadFile(tokenFile)
		require.NoError(t, err)
		r := cli(t, "wait", tokenFile, "--no-auth", "--allow-host", originOf(t, string(src)), "--retry-budget", "1", "--poll-floor", "1ms")
		assert.Equal(t, exitPollError, r.code, r.stderr)
		assert.Contains(t, r.stdout, `"status":"Succeeded"`)
		assert.Contains(t, r.stdout, `"ended":"result_unavailable"`)
		assert.Contains(t, r.stderr, "the operation succeeded, but its result could not be fetched")
	})
}

// originOf is the scheme and host of the token's operation URL.
func originOf(t *testing.T, token string) string {
	t.Helper()
	tok, err := poller.DecodeToken(strings.TrimSpace(token), nil)
	require.NoError(t, err)
	u, err := url.Parse(jsonField(tok.State, "url"))
	require.NoError(t, err)
	return u.Scheme + "://" + u.Host
}

func TestHeadersGoWithEveryAzureRequest(t *testing.T) {
	srv := armLRO(append(running(2), armfake.Status("Succeeded"))...)
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "aks.token")
	hdr := []string{"--header", "x-ms-client-tenant: t-secret-5", "--header-env", "X-Api-Key=LROKIT_TEST_KEY"}
	env := []string{"LROKIT_TEST_KEY=azure-k3y-31"}
	begin := cliEnv(t, env, append(append([]string{"azure", "begin", "--method", "PUT", "--url", resourceURL(srv), "--token-file", tokenFile}, hdr...), trusted(srv)...)...)
	require.Equal(t, 0, begin.code, begin.stderr)
	wait := cliEnv(t, env, append(append(append([]string{"wait", tokenFile}, hdr...), trusted(srv)...), quick...)...)
	require.Equal(t, 0, wait.code, wait.stderr)
	reqs := srv.Requests()
	require.GreaterOrEqual(t, len(reqs), 4, srv.Summary())
	for _, r := range reqs {
		assert.Equal(t, "t-secret-5", r.Header.Get("X-Ms-Client-Tenant"), "%s %s", r.Method, r.Path)
		assert.Equal(t, "azure-k3y-31", r.Header.Get("X-Api-Key"), "%s %s", r.Method, r.Path)
	}
	tok, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	for _, secret := range []string{"t-secret-5", "azure-k3y-31"} {
		assert.NotContains(t, string(tok)+begin.stdout+begin.stderr+wait.stdout+wait.stderr, secret)
	}
}

func TestRetriesShowOnTheLiveLine(t *testing.T) {
	srv := restLRO(storm()...)
	defer srv.Close()
	tokenFile := beginREST(t, srv)
	var out, errb strings.Builder
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, isTerminal: func() bool { return true }}
	code := a.run(context.Background(), append(append([]string{"wait", tokenFile}, trusted(srv)...), quick...))
	require.Equal(t, 0, code, errb.String())
	assert.Regexp(t, `rest: retrying in \S+ \(attempt 2, retries unlimited\) after: GET http://127\.0\.0\.1:\d+/providers/Microsoft\.Test/locations/westus/operations/op1: unexpected status 429`, errb.String())
	assert.Contains(t, out.String(), `"status":"Succeeded"`)
}

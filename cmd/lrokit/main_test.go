package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/lrotest/awsfake"
	"github.com/lrokit/lrokit/lrotest/gcpfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// binary is the lrokit command built once for the tests that run it as a
// user would, in its own process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lrokit-cli-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "lrokit")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fast are the flags that make a real-clock wait on a fake take milliseconds.
var fast = []string{"--no-auth", "--poll-floor", "1ms", "--poll-cap", "2ms"}

type result struct {
	stdout, stderr string
	code           int
}

// cli runs the built binary (with the loopback fakes trusted: withFakes).
func cli(t *testing.T, args ...string) result {
	t.Helper()
	return cliEnv(t, nil, withFakes(args)...)
}

// cliEnv runs the built binary with extra environment variables.
func cliEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{out.String(), errb.String(), code}
}

// inProcess runs the command line in this process, on clock (nil: real).
func inProcess(t *testing.T, clock poller.Clock, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, isTerminal: func() bool { return false }, clock: clock}
	code := a.run(context.Background(), withFakes(args))
	return result{out.String(), errb.String(), code}
}

const resourcePath = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Test/things/t1"

// fakes are the loopback servers the tests started: the hosts a test
// trusts. Resuming an Azure or REST token trusts only the hosts the caller
// names, so commands run with --no-auth against fakes get --allow-host for
// each (see withFakes); the tamper tests name their hosts themselves.
var fakes struct {
	sync.Mutex
	urls []string
}

// newFake starts an armfake server that withFakes trusts.
func newFake() *armfake.Server {
	srv := armfake.New()
	fakes.Lock()
	fakes.urls = append(fakes.urls, srv.URL())
	fakes.Unlock()
	return srv
}

// withFakes adds --allow-host for every fake to a command run with
// --no-auth that names no host itself and reads the flag (not the Google and
// AWS commands).
func withFakes(args []string) []string {
	if !slices.Contains(args, "--no-auth") || slices.Contains(args, "--allow-host") {
		return args
	}
	if len(args) > 0 && (args[0] == "gcp" || args[0] == "aws") {
		return args // their commands read no --allow-host
	}
	fakes.Lock()
	defer fakes.Unlock()
	out := slices.Clone(args)
	for _, u := range fakes.urls {
		out = append(out, "--allow-host", u)
	}
	return out
}

// armLRO loads an Azure-AsyncOperation PUT whose status URL answers polls.
func armLRO(polls ...armfake.Response) *armfake.Server {
	srv := newFake()
	srv.Load(armfake.LRO{Method: http.MethodPut, Path: resourcePath, Protocol: armfake.AsyncOperation,
		Polls: polls, Final: []armfake.Response{armfake.Resource("t1", "Succeeded")}}.Scenario())
	return srv
}

func running(n int) []armfake.Response {
	out := make([]armfake.Response, n)
	for i := range out {
		out[i] = armfake.Status("InProgress")
	}
	return out
}

func resourceURL(srv *armfake.Server) string {
	return srv.URL() + resourcePath + "?" + armfake.APIVersion
}

func TestBeginThenWaitAcrossTwoProcesses(t *testing.T) {
	srv := armLRO(append(running(3), armfake.Status("Succeeded"))...)
	defer srv.Close()

	begin := cli(t, append([]string{"azure", "begin", "--method", "PUT", "--url", resourceURL(srv), "--body", `{"location":"westeurope"}`}, fast...)...)
	require.Equal(t, 0, begin.code, begin.stderr)
	token := strings.TrimSpace(begin.stdout)
	assert.Regexp(t, `^lrokit1\.[A-Za-z0-9_-]+$`, token, "stdout holds the token and nothing else")
	assert.Equal(t, 1, strings.Count(begin.stdout, "\n"))

	wait := cli(t, append([]string{"wait", "--allow-host", srv.URL(), "--token", token, "--progress", "json"}, fast...)...)
	require.Equal(t, 0, wait.code, wait.stderr)
	var res resultJSON
	require.NoError(t, json.Unmarshal([]byte(wait.stdout), &res), "stdout is one JSON document: %q", wait.stdout)
	assert.Equal(t, poller.StatusSucceeded, res.Status)
	assert.JSONEq(t, `{"name":"t1","properties":{"provisioningState":"Succeeded"}}`, string(res.Result))
	for _, line := range strings.Split(strings.TrimSpace(wait.stderr), "\n") {
		assert.True(t, json.Valid([]byte(line)), "progress json lines: %q", line)
	}
	assert.Equal(t, 1, srv.Count(http.MethodPut, resourcePath), "the initial request is sent once")
}

func TestWaitKilledMidPollContinuesWhereItWas(t *testing.T) {
	srv := armLRO(append(running(400), armfake.Status("Succeeded"))...)
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	begin := cli(t, "azure", "begin", "--method", "PUT", "--url", resourceURL(srv), "--no-auth", "--token-file", tokenFile)
	require.Equal(t, 0, begin.code, begin.stderr)
	assert.Empty(t, begin.stdout, "with --token-file nothing goes to stdout")

	// First wait: killed with SIGKILL once it has saved a few polls.
	cmd := exec.Command(binary, withFakes(append([]string{"wait", "--token-file", tokenFile, "--progress", "plain"}, fast...))...)
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(30 * time.Second)
	var saved poller.Token
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(tokenFile)
		require.NoError(t, err)
		tok, err := poller.DecodeToken(string(b), nil)
		require.NoError(t, err, "the token file is never torn")
		if tok.Polls >= 20 {
			saved = tok
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.GreaterOrEqual(t, saved.Polls, 20)

	// Second wait: continues from the saved token and finishes.
	again := cli(t, append([]string{"wait", "--allow-host", srv.URL(), "--token-file", tokenFile}, fast...)...)
	require.Equal(t, 0, again.code, again.stderr)
	assert.Contains(t, again.stdout, `"status":"Succeeded"`)
	assert.Equal(t, 1, srv.Count(http.MethodPut, resourcePath), "no repeated initial request")
	b, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	final, err := poller.DecodeToken(string(b), nil)
	require.NoError(t, err)
	assert.Equal(t, poller.StatusSucceeded, final.Last.Status)
	assert.GreaterOrEqual(t, final.Polls, 400, "poll count carries over the kill")
	lost := srv.Count(http.MethodGet, armfake.StatusPath) - final.Polls
	assert.True(t, lost == 0 || lost == 1, "at most the poll in flight at the kill goes uncounted, got %d", lost)
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		polls    []armfake.Response
		args     []string
		wantCode int
		check    func(t *testing.T, r result, tokenFile string)
	}{
		{name: "succeeded", polls: []armfake.Response{armfake.Status("Succeeded")}, wantCode: exitOK},
		{
			name: "failed", polls: []armfake.Response{armfake.StatusFailed("QuotaExceeded", "no cores left")}, wantCode: exitFailed,
			check: func(t *testing.T, r result, _ string) {
				assert.Contains(t, r.stdout, `"code":"QuotaExceeded"`)
				assert.Contains(t, r.stderr, "no cores left")
			},
		},
		{name: "canceled", polls: []armfake.Response{armfake.Status("Canceled")}, wantCode: exitCanceled},
		{
			name: "timed out: token saved", polls: running(1), args: []string{"--timeout", "30ms"}, wantCode: exitInterrupted,
			check: func(t *testing.T, r result, tokenFile string) {
				b, err := os.ReadFile(tokenFile)
				require.NoError(t, err)
				tok, err := poller.DecodeToken(string(b), nil)
				require.NoError(t, err)
				assert.Positive(t, tok.Polls, "the wait polled before it timed out")
				assert.Equal(t, poller.StatusRunning, tok.Last.Status)
				assert.Contains(t, r.stdout, `"status":"Running"`)
			},
		},
		{name: "permanent poll error", polls: []armfake.Response{armfake.Error(http.StatusForbidden, "AuthorizationFailed", "no")}, wantCode: exitPollError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := armLRO(tt.polls...)
			defer srv.Close()
			tokenFile := filepath.Join(t.TempDir(), "token")
			r := inProcess(t, nil, "", append([]string{"azure", "begin", "--method", "PUT", "--url", resourceURL(srv), "--token-file", tokenFile}, fast...)...)
			require.Equal(t, 0, r.code, r.stderr)
			r = inProcess(t, nil, "", append(append([]string{"wait", "--allow-host", srv.URL(), "--token-file", tokenFile}, fast...), tt.args...)...)
			assert.Equal(t, tt.wantCode, r.code, "stderr: %s", r.stderr)
			assert.True(t, json.Valid([]byte(r.stdout)), "stdout carries only the result JSON: %q", r.stdout)
			if tt.check != nil {
				tt.check(t, r, tokenFile)
			}
		})
	}
}

func TestCorruptTokenIsAUsageErrorThatDoesNotEchoIt(t *testing.T) {
	for _, token := range []string{"lrokit1.Zm9vYmFyc2VjcmV0c2VjcmV0", "not-a-token-SECRETVALUE", `{"lrokit":9,"provider":"azure","kind":"SECRETVALUE"}`} {
		r := cli(t, "wait", "--token", token, "--no-auth")
		assert.Equal(t, exitUsage, r.code)
		assert.Empty(t, r.stdout)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
		assert.NotContains(t, r.stderr, "SECRETVALUE")
		assert.NotContains(t, r.stderr, "Zm9vYmFyc2VjcmV0c2VjcmV0")
	}
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{"wait"},
		{"wait", "--token", "x", "--token-file", "y"},
		{"wait", "--store", "mem:"},
		{"wait", "--token", "x", "--progress", "fancy"},
		{"azure", "begin", "--method", "GET", "--url", "https://h/x"},
		{"azure", "begin", "--method", "PUT", "--url", "not a url"},
		{"azure", "begin", "--method", "PUT", "--url", "https://h/x", "--body", "{nope"},
		{"rest", "begin", "--method", "PUT", "--url", "https://h/x", "--header", "nocolon"},
		{"gcp", "adopt", "--name", "operations/x", "--no-auth"},
		{"gcp", "compute", "adopt", "--project", "p", "--name", "n", "--zone", "z", "--global"},
		{"aws", "adopt", "--waiter", "nope.Nothing", "--input", "{}"},
		{"aws", "adopt", "--waiter", "cloudformation.StackCreateComplete", "--input", `{"NoSuchField":1}`},
		{"wait", "--bogus-flag"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := inProcess(t, nil, "", args...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Empty(t, r.stdout)
			assert.NotEmpty(t, r.stderr)
		})
	}
}

func TestTokenInspectAndStatus(t *testing.T) {
	srv := armLRO(armfake.Status("InProgress"), armfake.Status("Succeeded"))
	defer srv.Close()
	r := inProcess(t, nil, "", "azure", "begin", "--method", "PUT", "--url", resourceURL(srv), "--no-auth", "--header", "Authorization: Bearer SECRET-TOKEN")
	require.Equal(t, 0, r.code, r.stderr)
	token := strings.TrimSpace(r.stdout)

	r = inProcess(t, nil, token, "token", "inspect", "--token-file", "-")
	require.Equal(t, 0, r.code, r.stderr)
	var tok map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &tok))
	assert.Equal(t, "azure", tok["provider"])
	assert.NotContains(t, r.stdout, "SECRET-TOKEN", "request headers never reach the token")

	r = inProcess(t, nil, "", "status", "--token", token, "--no-auth", "--allow-host", srv.URL())
	require.Equal(t, 0, r.code, r.stderr)
	var st statusJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &st))
	assert.Equal(t, poller.StatusRunning, st.Status)
	assert.Equal(t, 1, st.Polls)
}

func TestStoreTokenSource(t *testing.T) {
	srv := armLRO(armfake.Status("InProgress"), armfake.Status("Succeeded"))
	defer srv.Close()
	dir := t.TempDir()
	r := inProcess(t, nil, "", append([]string{"azure", "begin", "--method", "PUT", "--url", resourceURL(srv), "--store", dir, "--key", "deploy/prod/thing"}, fast...)...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	r = inProcess(t, nil, "", append([]string{"wait", "--allow-host", srv.URL(), "--store", dir, "--key", "deploy/prod/thing"}, fast...)...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"status":"Succeeded"`)
	r = inProcess(t, nil, "", "token", "inspect", "--store", dir, "--key", "deploy/prod/thing")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"status": "Succeeded"`, "the store holds the final token")
	r = inProcess(t, nil, "", "wait", "--store", dir, "--key", "no/such/key")
	assert.Equal(t, exitUsage, r.code)
}

func TestWaitersListsTheRegistry(t *testing.T) {
	r := inProcess(t, nil, "", "waiters")
	require.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "cloudformation.StackCreateComplete")
	assert.Contains(t, r.stdout, "eks.ClusterActive")
}

func TestDemoRunsTheWholeStory(t *testing.T) {
	r := inProcess(t, pollertest.NewAutoClock(time.Now()), "", "demo")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	for _, want := range []string{"azure", "gcp", "aws", "Succeeded", "sent 1 time(s)"} {
		assert.Contains(t, r.stdout, want)
	}
}

func TestHelpDocumentsExitCodes(t *testing.T) {
	r := inProcess(t, nil, "", "--help")
	require.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "4  timed out or interrupted")
}

func TestGCPAdoptThenWait(t *testing.T) {
	ops, err := gcpfake.StartOperations()
	require.NoError(t, err)
	defer ops.Close()
	name := "projects/p/locations/us-central1/operations/op-1"
	done, _ := structpb.NewStruct(map[string]any{"name": "cluster-1"})
	ops.Add(name, gcpfake.Running(nil), gcpfake.Running(nil), gcpfake.Succeeded(done))

	r := inProcess(t, nil, "", "gcp", "adopt", "--name", name, "--endpoint", ops.Addr(), "--insecure", "--no-auth")
	require.Equal(t, 0, r.code, r.stderr)
	token := strings.TrimSpace(r.stdout)
	// A token naming a non-Google endpoint is trusted only when the caller
	// names that endpoint, credentials or not.
	for _, args := range [][]string{{"wait", "--token", token}, append([]string{"wait", "--token", token, "--insecure"}, fast...)} {
		r = inProcess(t, nil, "", args...)
		assert.Equal(t, exitUsage, r.code)
		assert.Contains(t, r.stderr, "--gcp-endpoint")
		assert.Contains(t, r.stderr, ops.Addr())
	}
	r = inProcess(t, nil, "", append([]string{"wait", "--token", token, "--insecure", "--gcp-endpoint", ops.Addr()}, fast...)...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"status":"Succeeded"`)
	assert.Contains(t, r.stdout, "cluster-1")

	r = inProcess(t, nil, "", "gcp", "adopt", "--name", name, "--no-auth")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "served by the API that created it")
}

func TestAWSAdoptThenWait(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Stack, "app", awsfake.Statuses("CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE")...)
	r := inProcess(t, nil, "", append([]string{"aws", "adopt", "--waiter", "cloudformation.StackCreateComplete", "--input", `{"StackName":"app"}`,
		"--region", "eu-west-1", "--endpoint-url", srv.URL()}, fast...)...)
	require.Equal(t, 0, r.code, r.stderr)
	token := strings.TrimSpace(r.stdout)
	r = inProcess(t, nil, "", append([]string{"wait", "--token", token}, fast...)...)
	assert.Equal(t, exitUsage, r.code, "a loopback endpoint is the caller's to name")
	assert.Contains(t, r.stderr, "--endpoint-url")
	r = inProcess(t, nil, "", append([]string{"wait", "--token", token, "--endpoint-url", srv.URL()}, fast...)...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"status":"Succeeded"`)
	assert.Contains(t, r.stdout, "CREATE_COMPLETE")
}

func TestFleetAddListRun(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Stack, "a", awsfake.Statuses("CREATE_IN_PROGRESS", "CREATE_COMPLETE")...)
	srv.Script(awsfake.Stack, "b", awsfake.Statuses("CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "ROLLBACK_COMPLETE")...)
	store := t.TempDir()
	adopt := func(stack string) string {
		r := inProcess(t, nil, "", append([]string{"aws", "adopt", "--waiter", "cloudformation.StackCreateComplete",
			"--input", `{"StackName":"` + stack + `"}`, "--region", "eu-west-1", "--endpoint-url", srv.URL()}, fast...)...)
		require.Equal(t, 0, r.code, r.stderr)
		return strings.TrimSpace(r.stdout)
	}
	for _, stack := range []string{"a", "b"} {
		r := inProcess(t, nil, "", "fleet", "add", "--store", store, "--key", "stacks/"+stack, "--token", adopt(stack), "--label", "team=infra")
		require.Equal(t, 0, r.code, r.stderr)
	}
	r := inProcess(t, nil, "", "fleet", "add", "--store", store, "--key", "stacks/a", "--token", adopt("a"))
	assert.Equal(t, exitUsage, r.code, "a key is added once")

	r = inProcess(t, nil, "", "fleet", "ls", "--store", store)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "stacks/a")
	assert.Contains(t, r.stdout, "stacks/b")

	r = inProcess(t, nil, "", "fleet", "run", "--store", store, "--until-done", "--no-auth", "--poll-floor", "1ms", "--poll-cap", "2ms", "--endpoint-url", srv.URL())
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 2, "each operation's end is reported once: %q", r.stdout)
	var ends = map[string]fleetEventJSON{}
	for _, l := range lines {
		var ev fleetEventJSON
		require.NoError(t, json.Unmarshal([]byte(l), &ev))
		ends[ev.Key] = ev
	}
	assert.Equal(t, poller.StatusSucceeded, ends["stacks/a"].Status)
	assert.Equal(t, poller.StatusFailed, ends["stacks/b"].Status)
	assert.Equal(t, "aws cloudformation.StackCreateComplete", ends["stacks/a"].Kind)

	r = inProcess(t, nil, "", "fleet", "ls", "--store", store, "--status", "failed")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "stacks/b")
	assert.NotContains(t, r.stdout, "stacks/a")
}

func TestMessagesNeverShowQueryStrings(t *testing.T) {
	assert.Equal(t, "PUT https://h.example/x?se=REDACTED&sig=REDACTED failed: 403", oneLine("PUT https://h.example/x?sig=SECRET&se=1 failed:\n403"))
	srv := armfake.New()
	defer srv.Close()
	srv.Handle(http.MethodPut, resourcePath, armfake.Error(http.StatusForbidden, "AuthorizationFailed", "no"))
	r := inProcess(t, nil, "", "rest", "begin", "--method", "PUT", "--url", srv.URL()+resourcePath+"?sig=SECRET", "--no-auth", "--plaintext-secrets")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "/subscriptions/s/resourceGroups/rg", "the message names the operation")
	assert.NotContains(t, r.stderr, "SECRET")

	// Without a seal key or the opt-in, a credential-bearing URL could not
	// go into the token: begin refuses before sending anything.
	r = inProcess(t, nil, "", "rest", "begin", "--method", "PUT", "--url", srv.URL()+resourcePath+"?sig=SECRET", "--no-auth")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "nothing was sent")
	assert.NotContains(t, r.stderr, "SECRET")
	assert.Equal(t, 1, srv.Count(http.MethodPut, resourcePath), "only the first begin reached the server")
}

func TestWaitOnATerminalShowsALiveLine(t *testing.T) {
	srv := armLRO(armfake.JSON(http.StatusOK, `{"status":"InProgress","percentComplete":40}`), armfake.Status("InProgress"), armfake.Status("Succeeded"))
	defer srv.Close()
	r := inProcess(t, nil, "", append([]string{"azure", "begin", "--method", "PUT", "--url", resourceURL(srv)}, fast...)...)
	require.Equal(t, 0, r.code, r.stderr)
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, isTerminal: func() bool { return true }}
	code := a.run(context.Background(), withFakes(append([]string{"wait", "--token", strings.TrimSpace(r.stdout)}, fast...)))
	require.Equal(t, 0, code, errb.String())
	assert.Contains(t, errb.String(), "azure Running (InProgress) 40%", "the bar's description")
	assert.Contains(t, errb.String(), "\r", "redrawn in place")
	assert.Contains(t, out.String(), `"status":"Succeeded"`)
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/lrotest/awsfake"
	"github.com/lrokit/lrokit/lrotest/foreign"
	"github.com/lrokit/lrokit/poller"
)

// The CLI's share of the tamper suite (internal/tamper holds the
// library's): wait, status, cancel and fleet run, with credentials, on
// tokens an attacker edited. Each must exit 2 with a message naming the
// host and the flag, and send nothing to the foreign server.

type fakeCred struct{}

func (fakeCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "CLI-AZURE-SECRET", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// hooked runs the command line in this process with the fake credential
// and a transport that sends every host but legit to f.
func hooked(t *testing.T, f *foreign.Server, legit []string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, isTerminal: func() bool { return false },
		azureCred: fakeCred{}, transport: &http.Client{Transport: f.Transport(legit...)}}
	// A bound only a wrongly accepted token reaches (a fleet retrying a
	// refused poll forever): it fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	code := a.run(ctx, args)
	return result{out.String(), errb.String(), code}
}

// retarget rewrites every absolute URL in a token's state with to.
func retarget(t *testing.T, token string, to func(*url.URL) string) string {
	t.Helper()
	tok, err := poller.DecodeToken(token, nil)
	require.NoError(t, err)
	var st map[string]any
	require.NoError(t, json.Unmarshal(tok.State, &st))
	n := 0
	for k, v := range st {
		if s, ok := v.(string); ok {
			if u, err := url.Parse(s); err == nil && u.IsAbs() && u.Host != "" {
				st[k] = to(u)
				n++
			}
		}
	}
	require.NotZero(t, n)
	tok.State, err = json.Marshal(st)
	require.NoError(t, err)
	s, err := tok.Encode()
	require.NoError(t, err)
	return s
}

// commands are the four ways the CLI resumes a token.
func commands(t *testing.T, token string, flags ...string) map[string][]string {
	store := t.TempDir()
	r := inProcess(t, nil, "", "fleet", "add", "--store", store, "--key", "k", "--token", token)
	require.Equal(t, 0, r.code, r.stderr)
	return map[string][]string{
		"wait":      append([]string{"wait", "--token", token, "--poll-floor", "1ms", "--poll-cap", "2ms", "--timeout", "5s"}, flags...),
		"status":    append([]string{"status", "--token", token}, flags...),
		"cancel":    append([]string{"cancel", "--token", token}, flags...),
		"fleet run": append([]string{"fleet", "run", "--store", store, "--until-done", "--poll-floor", "1ms", "--poll-cap", "2ms"}, flags...),
	}
}

// checkRefused holds one command's outcome to the rule; fleet run exits 0
// and marks the record failed once instead.
func checkRefused(t *testing.T, name string, r result, f *foreign.Server, host, flag string) {
	t.Helper()
	checkRefusedSince(t, name, r, f, 0, 0, host, flag)
}

// checkRefusedSince is checkRefused on a foreign server shared between
// cases: only requests after count (credentialed after cred) are this
// case's.
func checkRefusedSince(t *testing.T, name string, r result, f *foreign.Server, count, cred int, host, flag string) {
	t.Helper()
	if name == "fleet run" {
		assert.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stderr, "cannot resume")
	} else {
		assert.Equal(t, exitUsage, r.code, "stdout %s stderr %s", r.stdout, r.stderr)
	}
	// A URL that is no host at all (user info, a downgrade) is refused as
	// malformed; one that is a host names it and the flag.
	if host != "" {
		assert.Contains(t, strings.ToLower(r.stderr), host, "the refusal names the host")
		assert.Contains(t, r.stderr, flag, "the refusal names the flag")
	}
	assert.Equal(t, cred, f.Credentialed(), "credentials reached the foreign server: %+v", f.Requests()[count:])
	assert.Equal(t, count, f.Count(), "requests reached the foreign server: %+v", f.Requests()[count:])
}

func TestTamperAzureCLI(t *testing.T) {
	legit := armfake.NewTLS()
	defer legit.Close()
	legit.Load(armfake.LRO{Method: http.MethodPut, Path: resourcePath, Protocol: armfake.AsyncOperation,
		Polls: running(50), Final: []armfake.Response{armfake.Resource("t1", "Succeeded")}}.Scenario())
	lu, _ := url.Parse(legit.URL())
	f := foreign.New()
	defer f.Close()
	r := hooked(t, f, []string{lu.Host}, "azure", "begin", "--method", "PUT", "--url", legit.URL()+resourcePath+"?"+armfake.APIVersion, "--allow-host", lu.Host)
	require.Equal(t, 0, r.code, r.stderr)
	token := strings.TrimSpace(r.stdout)

	rewrites := map[string]struct {
		to   func(u *url.URL) string
		host string
	}{
		"foreign host":          {func(u *url.URL) string { return "https://attacker.example" + u.RequestURI() }, "attacker.example"},
		"other port, same host": {func(u *url.URL) string { return f.URL() + u.RequestURI() }, "127.0.0.1:"},
		"userinfo":              {func(u *url.URL) string { return "https://" + lu.Host + "@attacker.example" + u.RequestURI() }, ""},
		"http downgrade":        {func(u *url.URL) string { return "http://" + lu.Host + u.RequestURI() }, ""},
	}
	for rname, rw := range rewrites {
		for name, args := range commands(t, retarget(t, token, rw.to), "--allow-host", lu.Host) {
			t.Run(rname+"/"+name, func(t *testing.T) {
				count, cred := f.Count(), f.Credentialed()
				r := hooked(t, f, []string{lu.Host}, args...)
				checkRefusedSince(t, name, r, f, count, cred, rw.host, "--allow-host")
			})
		}
	}
	t.Run("a redirect to a foreign host", func(t *testing.T) {
		legit.Handle(http.MethodGet, armfake.StatusPath, armfake.Response{Status: http.StatusFound}.WithHeader("Location", "https://attacker.example/steal"))
		cred := f.Credentialed()
		r := hooked(t, f, []string{lu.Host}, "status", "--token", token, "--allow-host", lu.Host)
		assert.NotEqual(t, exitOK, r.code)
		assert.Equal(t, cred, f.Credentialed(), "credentials followed the redirect: %+v", f.Requests())
	})
}

func TestTamperAWSCLI(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDCLITAMPER")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "CLI-AWS-SECRET")
	t.Setenv("AWS_SESSION_TOKEN", "CLI-AWS-SESSION")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	legit := awsfake.New()
	defer legit.Close()
	legit.Script(awsfake.Stack, "app", awsfake.Statuses("CREATE_IN_PROGRESS", "CREATE_COMPLETE")...)
	f := foreign.New()
	defer f.Close()
	lh := strings.TrimPrefix(legit.URL(), "http://")
	r := hooked(t, f, []string{"http://" + lh}, "aws", "adopt", "--waiter", "cloudformation.StackCreateComplete", "--input", `{"StackName":"app"}`,
		"--region", "us-east-1", "--endpoint-url", legit.URL())
	require.Equal(t, 0, r.code, r.stderr)
	token := strings.TrimSpace(r.stdout)

	for ename, c := range map[string]struct{ endpoint, host string }{
		"foreign host":       {f.URL(), "127.0.0.1:"},
		"API Gateway":        {"https://abc123.execute-api.us-east-1.amazonaws.com", "execute-api"},
		"plain http":         {"http://cloudformation.us-east-1.amazonaws.com", "cloudformation.us-east-1.amazonaws.com"},
		"real host, port":    {"https://cloudformation.us-east-1.amazonaws.com:8443", "cloudformation.us-east-1.amazonaws.com:8443"},
		"foreign plain http": {f.HTTPURL(), "127.0.0.1:"},
	} {
		tampered := retarget(t, token, func(*url.URL) string { return c.endpoint })
		for name, args := range commands(t, tampered, "--endpoint-url", legit.URL()) {
			t.Run(ename+"/"+name, func(t *testing.T) {
				r := hooked(t, f, []string{"http://" + lh}, args...)
				checkRefused(t, name, r, f, c.host, "--endpoint-url")
			})
		}
	}
}

func TestTamperGCPCLI(t *testing.T) {
	f := foreign.New()
	defer f.Close()
	tok := poller.Token{Provider: "gcp", Kind: "longrunning", State: json.RawMessage(`{"name":"operations/x","endpoint":"` + f.Addr() + `"}`)}
	token, err := tok.Encode()
	require.NoError(t, err)
	for name, args := range commands(t, token, "--gcp-endpoint", "longrunning.googleapis.com:443") {
		t.Run(name, func(t *testing.T) {
			r := hooked(t, f, nil, args...)
			checkRefused(t, name, r, f, "127.0.0.1:", "--gcp-endpoint")
		})
	}
}

func TestSealKeysFromTheEnvironment(t *testing.T) {
	srv := armLRO(armfake.Status("InProgress"), armfake.Status("Succeeded"))
	defer srv.Close()
	oldKey := strings.Repeat("o", 32)
	newKey := "base64:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("n", 32)))

	t.Setenv(sealKeyEnv, "short")
	r := inProcess(t, nil, "", "token", "inspect", "--token", "x")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, sealKeyEnv)
	assert.Contains(t, r.stderr, "at least 32")
	assert.NotContains(t, r.stderr, "short", "the key is never echoed")

	t.Setenv(sealKeyEnv, oldKey)
	r = inProcess(t, nil, "", "azure", "begin", "--method", "PUT", "--url", resourceURL(srv), "--no-auth", "--allow-host", strings.TrimPrefix(srv.URL(), "http://"))
	require.Equal(t, 0, r.code, r.stderr)
	sealed := strings.TrimSpace(r.stdout)
	require.True(t, strings.HasPrefix(sealed, "lrokit1k."))

	// Rotation: a new current key, the old one still accepted.
	t.Setenv(sealKeyEnv, newKey)
	r = inProcess(t, nil, "", "token", "inspect", "--token", sealed)
	assert.Equal(t, exitUsage, r.code, "the old key is rotated out")
	assert.Contains(t, r.stderr, "not among the keys")
	t.Setenv(sealKeysEnv, "hex:"+strings.Repeat("00", 32)+", "+oldKey)
	r = inProcess(t, nil, "", "token", "inspect", "--token", sealed)
	require.Equal(t, 0, r.code, r.stderr)

	// A sealed token re-encoded unsealed is refused.
	tok, err := poller.DecodeToken(sealed, []byte(oldKey))
	require.NoError(t, err)
	plain, err := tok.Encode()
	require.NoError(t, err)
	r = inProcess(t, nil, "", "wait", "--token", plain, "--no-auth")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "not sealed")

	t.Setenv(sealKeysEnv, "tooshort")
	r = inProcess(t, nil, "", "token", "inspect", "--token", sealed)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, sealKeysEnv)
}

func TestCapabilityURLsAreNeverPrinted(t *testing.T) {
	tok := poller.Token{Provider: "rest", Kind: "async", State: json.RawMessage(`{"pollURL":"https://fn.example/status/1?code=FUNCTION-KEY&api-version=2024-01-01","origURL":"https://u:pw@fn.example/x?sig=SAS-SIG"}`)}
	token, err := tok.Encode()
	require.NoError(t, err)
	r := inProcess(t, nil, "", "token", "inspect", "--token", token)
	require.Equal(t, 0, r.code, r.stderr)
	for _, secret := range []string{"FUNCTION-KEY", "SAS-SIG", "pw@"} {
		assert.NotContains(t, r.stdout, secret)
	}
	assert.Contains(t, r.stdout, "api-version=2024-01-01")
	assert.Contains(t, r.stdout, "code=REDACTED")
	assert.Equal(t, "see https://h.example/x?sig=REDACTED now", redactText("see https://h.example/x?sig=S3CRET now"))
}

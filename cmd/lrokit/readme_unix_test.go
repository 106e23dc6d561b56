//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeBlock returns the shell block of the README that follows marker.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	s := string(b)
	i := strings.Index(s, marker)
	require.GreaterOrEqual(t, i, 0, "the README has %q", marker)
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(s[i:])
	require.NotNil(t, m, "a sh block follows %q", marker)
	return m[1]
}

// runScript runs a shell script with the built lrokit first on PATH, in its
// own process group so that whatever it leaves running is stopped.
func runScript(t *testing.T, script string) (string, string, error) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A script that fails early leaves its background fake holding the
	// output pipes: stop waiting for them soon after the shell exits.
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	return out.String(), errb.String(), err
}

func TestREADMEWalkthrough(t *testing.T) {
	script := readmeBlock(t, "<!-- walkthrough:")
	stdout, stderr, err := runScript(t, script)
	require.NoError(t, err, "the walkthrough runs as written\nstdout:\n%s\nstderr:\n%s", stdout, stderr)

	assert.Regexp(t, `"provider":"azure","kind":"async","status":"Running"`, stdout, "status: one JSON line")
	assert.Contains(t, stdout, `{"status":"Succeeded","detail":"Succeeded","result":{"name":"aks1"`, "wait: the result")
	assert.Contains(t, stderr, "lrokit: cancellation requested")
	assert.Contains(t, stdout, `"status":"Canceled"`)
	assert.Contains(t, stdout, "wait exited 3", "a canceled operation exits 3")
	assert.Regexp(t, `(?m)^builds/42\s+rest\s+Running`, stdout, "fleet ls before the run")
	assert.Contains(t, stdout, `{"key":"stacks/app","status":"Succeeded"`)
	assert.Contains(t, stdout, `{"key":"builds/42","status":"Succeeded"`)
	assert.Contains(t, stderr, "lrokit fake: serving")
	assert.Regexp(t, `(?m)^- key: builds/42\n  provider: rest\n  status: Succeeded`, stdout, "fleet ls -o yaml")
}

func TestFakeScriptsOutcomes(t *testing.T) {
	stdout, stderr, err := runScript(t, `
lrokit fake --env-file fake.env --polls 0 --outcome failed & FAKE=$!
until [ -s fake.env ]; do sleep 0.1; done
. ./fake.env
lrokit azure begin --method PUT --url "$LROKIT_FAKE_AZURE_URL" $LROKIT_FAKE_FLAGS --token-file aks.token
lrokit wait aks.token $LROKIT_FAKE_FLAGS $LROKIT_FAKE_FAST || echo "azure exited $?"
lrokit aws adopt --waiter cloudformation.StackCreateComplete --input '{"StackName":"app"}' --endpoint-url "$LROKIT_FAKE_AWS_URL" --region us-east-1 --no-auth --token-file app.token
lrokit wait app.token $LROKIT_FAKE_AWS_FLAGS $LROKIT_FAKE_FAST || echo "aws exited $?"
kill $FAKE
lrokit fake --outcome maybe || echo "bad outcome exited $?"
`)
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "azure exited 1")
	assert.Contains(t, stderr, "QuotaExceeded")
	assert.Contains(t, stdout, "aws exited 1")
	assert.Contains(t, stdout, "bad outcome exited 2")
}

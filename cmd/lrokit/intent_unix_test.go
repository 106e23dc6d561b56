//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/persist/persisttest"
	"github.com/lrokit/lrokit/poller"
)

// tmpfs mounts a tmpfs of size (root only; the test skips otherwise) and
// returns its directory.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

func remountReadOnly(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// fill writes into dir until the file system is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	require.NoError(t, err)
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			return
		}
	}
}

func putArgs(fake *opsFake, id string, dest ...string) []string {
	return append(append([]string{"azure", "begin", "--method", "PUT", "--url", fake.srv.URL + "/things/" + id + "?api-version=1", "--body", `{}`}, dest...), fast...)
}

func TestBeginSendsNothingWhenTheStoreCannotBeWritten(t *testing.T) {
	fake := newOpsFake(t)
	full := tmpfs(t, "64k")
	require.NoError(t, os.Mkdir(filepath.Join(full, "store"), 0o700))
	_, err := persist.OpenFileStore(filepath.Join(full, "store"), nil) // its lock file exists before the disk fills
	require.NoError(t, err)
	fill(t, full)
	ro := tmpfs(t, "64k")
	remountReadOnly(t, ro)

	tests := map[string][]string{
		"full disk, token file":     {"--token-file", filepath.Join(full, "token")},
		"full disk, file store":     {"--store", filepath.Join(full, "store"), "--key", "k"},
		"read-only, token file":     {"--token-file", filepath.Join(ro, "token")},
		"read-only, file store":     {"--store", filepath.Join(ro, "store"), "--key", "k"},
		"postgres down":             {"--store", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", "--key", "k"},
		"token file in a directory": {"--token-file", filepath.Join(t.TempDir(), "no", "such", "dir", "token")},
	}
	for name, dest := range tests {
		t.Run(name, func(t *testing.T) {
			id := strings.NewReplacer(" ", "-", ",", "").Replace(name)
			r := inProcess(t, nil, "", putArgs(fake, id, dest...)...)
			assert.Equal(t, exitStore, r.code, r.stderr)
			assert.Contains(t, r.stderr, "nothing was sent")
			assert.Empty(t, r.stdout)
			_, sent := fake.counts(id)
			assert.Zero(t, sent, "no request reached the server")
		})
	}
}

func TestWaitThatCannotSaveItsTokenExits6AfterTheWait(t *testing.T) {
	srv := armLRO(armfake.Status("InProgress"), armfake.Status("Succeeded"))
	defer srv.Close()
	dir := tmpfs(t, "64k")
	tokenFile := filepath.Join(dir, "token")
	r := inProcess(t, nil, "", append([]string{"azure", "begin", "--method", "PUT", "--url", resourceURL(srv), "--token-file", tokenFile}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	remountReadOnly(t, dir)

	r = inProcess(t, nil, "", append([]string{"wait", "--allow-host", srv.URL(), "--token-file", tokenFile}, fast...)...)
	assert.Equal(t, exitStore, r.code, r.stderr)
	var out resultJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	assert.Equal(t, poller.StatusSucceeded, out.Status, "the wait itself went to the end")
	assert.True(t, out.TokenStale)
	tok, err := poller.DecodeToken(out.Token, nil)
	require.NoError(t, err, "the fresh token is in the output")
	assert.Equal(t, poller.StatusSucceeded, tok.Last.Status)
	assert.Contains(t, r.stderr, "the operation is Succeeded")
	assert.Contains(t, r.stderr, "stale")

	r = inProcess(t, nil, "", "wait", "--store", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", "--key", "k", "--no-auth")
	assert.Equal(t, exitStore, r.code, "PostgreSQL down is the store's failure, not a usage error: %s", r.stderr)
}

func TestARerunOfAPOSTWithoutAKeyStopsAndSaysWhatToCheck(t *testing.T) {
	// The URL carries a signature: its token is stored only sealed.
	t.Setenv(sealKeyEnv, "0123456789abcdef0123456789abcdef")
	fake := newOpsFake(t)
	store := t.TempDir()
	args := append([]string{"rest", "begin", "--method", "POST", "--url", fake.srv.URL + "/things/vm1/restart?sig=SECRET", "--store", store, "--key", "ops/restart", "--plaintext-secrets"}, fast...)
	require.True(t, killBegin(t, args, hookResponseReceived, 0))
	ops, _ := fake.counts("vm1")
	require.Len(t, ops, 1)

	r := inProcess(t, nil, "", args...)
	assert.Equal(t, exitMayExist, r.code)
	assert.Contains(t, r.stderr, "POST "+fake.srv.URL+"/things/vm1/restart was recorded at")
	assert.Contains(t, r.stderr, "--replace-intent")
	assert.NotContains(t, r.stderr, "SECRET", "the intent keeps no query string")
	ops, _ = fake.counts("vm1")
	assert.Len(t, ops, 1, "nothing was sent again")

	// status and fleet ls show the intent.
	r = inProcess(t, nil, "", "status", "--store", store, "--key", "ops/restart", "--no-auth")
	assert.Equal(t, exitMayExist, r.code)
	var st statusJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &st), r.stdout)
	assert.Equal(t, "intent", st.Kind)
	assert.Equal(t, poller.StatusNotStarted, st.Status)
	require.NotNil(t, st.Intent)
	assert.Equal(t, "POST", st.Intent.Method)
	r = inProcess(t, nil, "", "token", "inspect", "--store", store, "--key", "ops/restart")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"intent": {`)
	r = inProcess(t, nil, "", "fleet", "ls", "--store", store)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "INTENT, no token: POST "+fake.srv.URL+"/things/vm1/restart")
	r = inProcess(t, nil, "", "wait", "--store", store, "--key", "ops/restart", "--no-auth")
	assert.Equal(t, exitMayExist, r.code)
	assert.Contains(t, r.stderr, "never recorded a token")

	// Checked by hand: send anyway.
	r = inProcess(t, nil, "", append(args, "--replace-intent")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	ops, _ = fake.counts("vm1")
	assert.Len(t, ops, 2, "--replace-intent sends")
	r = inProcess(t, nil, "", args...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "already holds the token of an unfinished rest operation (Running); nothing was sent")
	ops, _ = fake.counts("vm1")
	assert.Len(t, ops, 2)
}

func TestARerunOfAPUTThatConflictsAdoptsTheRunningOperation(t *testing.T) {
	fake := newOpsFake(t, func(f *opsFake) { f.conflictOnPut = true })
	tokenFile := filepath.Join(t.TempDir(), "token")
	args := putArgs(fake, "aks", "--token-file", tokenFile)
	require.True(t, killBegin(t, args, hookResponseReceived, 0))

	r := inProcess(t, nil, "", args...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "sending it again (idempotent, RFC 9110 §9.2.2)")
	b, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	r = inProcess(t, nil, "", "status", "--token", strings.TrimSpace(string(b)), "--no-auth", "--allow-host", fake.srv.URL)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"status":"Running"`, "adopted from the resource's provisioningState")
	ops, sends := fake.counts("aks")
	assert.Len(t, ops, 1)
	assert.Equal(t, 2, sends, "the PUT was sent again, and conflicted")
}

func TestBeginDeletingAGoneResourceOnARerunHasFinished(t *testing.T) {
	srv := newFake()
	defer srv.Close()
	srv.Handle(http.MethodDelete, resourcePath, armfake.Error(http.StatusNotFound, "ResourceNotFound", "gone"))
	tokenFile := filepath.Join(t.TempDir(), "token")
	in := persist.Intent{Provider: "azure", Method: "DELETE", Target: srv.URL() + resourcePath, Created: time.Now(), IdempotencyKey: "k"}
	r := request{method: "DELETE", url: resourceURL(srv)}
	in.Digest = r.intent("azure", nil).Digest
	enc, err := in.Encode()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(tokenFile, []byte(enc+"\n"), 0o600))

	res := inProcess(t, nil, "", append([]string{"azure", "begin", "--method", "DELETE", "--url", resourceURL(srv), "--token-file", tokenFile, "--wait", "--allow-host", srv.URL()}, fast...)...)
	require.Equal(t, exitOK, res.code, res.stderr)
	assert.Contains(t, res.stdout, `"status":"Succeeded"`)
}

func TestInterruptedBeginKeepsTheIntentAndSaysSo(t *testing.T) {
	blocking := func(f *opsFake) { f.block, f.arrived = make(chan struct{}), make(chan struct{}, 1) }
	fake := newOpsFake(t, blocking)
	tokenFile := filepath.Join(t.TempDir(), "token")
	args := putArgs(fake, "db", "--token-file", tokenFile)
	cmd := exec.Command(binary, args...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	select {
	case <-fake.arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the request never arrived")
	}
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	msg, _ := bufio.NewReader(stderr).ReadString(0)
	err = cmd.Wait()
	close(fake.block)
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "%v", err)
	assert.Equal(t, exitInterrupted, ee.ExitCode())
	assert.Contains(t, msg, "interrupted while sending PUT")
	assert.Contains(t, msg, "the operation may have started")
	assert.Contains(t, msg, "run the same command again to reconcile")
	b, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	assert.True(t, persist.IsIntent(string(b)))

	r := inProcess(t, nil, "", args...)
	require.Equal(t, exitOK, r.code, r.stderr)
	ops, _ := fake.counts("db")
	assert.Len(t, ops, 1)

	// Printing to stdout records nothing first, and says so.
	fake = newOpsFake(t, blocking)
	cmd = exec.Command(binary, putArgs(fake, "db2")...)
	stderr, err = cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	<-fake.arrived
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	msg, _ = bufio.NewReader(stderr).ReadString(0)
	_ = cmd.Wait()
	close(fake.block)
	assert.Contains(t, msg, "no intent was recorded")
	assert.Contains(t, msg, "check "+fake.srv.URL+"/things/db2")
}

func TestBeginIntoPostgresRecordsTheIntentFirst(t *testing.T) {
	fake := newOpsFake(t)
	dsn := persisttest.PostgresDSN(t)
	args := putArgs(fake, "pg1", "--store", dsn, "--key", "deploy/pg1", "--label", "team=infra")
	require.True(t, killBegin(t, args, hookIntentWritten, 0))
	st, err := persist.Open(context.Background(), dsn)
	require.NoError(t, err)
	defer closeStore(st)
	rec, err := st.Get(context.Background(), "deploy/pg1")
	require.NoError(t, err)
	in, ok, err := persist.IntentOf(rec)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "PUT", in.Method)
	assert.Equal(t, "infra", rec.Labels["team"])
	_, sent := fake.counts("pg1")
	assert.Zero(t, sent)

	r := inProcess(t, nil, "", args...)
	require.Equal(t, exitOK, r.code, r.stderr)
	rec, err = st.Get(context.Background(), "deploy/pg1")
	require.NoError(t, err)
	assert.False(t, persist.IsIntent(rec.Token))
	assert.Equal(t, poller.StatusRunning, rec.Status)
}

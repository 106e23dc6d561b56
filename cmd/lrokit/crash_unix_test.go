//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/persist/persisttest"
	"github.com/lrokit/lrokit/poller"
)

// opsFake is a loopback API that starts real (never-ending) operations and
// counts them per resource, so a test can tell one operation from two:
//
//   - PUT /things/ID is idempotent: it starts the resource's operation once;
//     a PUT while it runs answers with the same operation (or 409 Conflict
//     when conflictOnPut is set, as some ARM providers do);
//   - POST /things/ID/restart starts a new operation per request, unless it
//     carries an Idempotency-Key seen before;
//   - GET /ops/N is an operation's status, GET /things/ID the resource.
//
// Mutating requests answer after a random pause of up to 3 ms, widening
// the window between "operation started" and "response received".
type opsFake struct {
	srv           *httptest.Server
	conflictOnPut bool
	block         chan struct{} // when set, mutating requests wait on it after starting their operation
	arrived       chan struct{} // when set, signalled once a mutating request started its operation

	mu      sync.Mutex
	next    int
	ops     map[string][]int // resource → operations started for it
	byKey   map[string]int   // idempotency key → operation
	running map[string]int   // resource → its PUT's operation
	sends   map[string]int   // mutating requests per resource
}

// newOpsFake starts the fake; configure sets its options before it serves.
func newOpsFake(t *testing.T, configure ...func(*opsFake)) *opsFake {
	f := &opsFake{ops: map[string][]int{}, byKey: map[string]int{}, running: map[string]int{}, sends: map[string]int{}}
	for _, c := range configure {
		c(f)
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	fakes.Lock()
	fakes.urls = append(fakes.urls, f.srv.URL)
	fakes.Unlock()
	return f
}

func (f *opsFake) newOpLocked(id string) int {
	f.next++
	f.ops[id] = append(f.ops[id], f.next)
	return f.next
}

func (f *opsFake) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	answer := func(code, op int, body string) {
		if f.arrived != nil {
			select {
			case f.arrived <- struct{}{}:
			default:
			}
		}
		if f.block != nil {
			<-f.block
		}
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		if op > 0 {
			w.Header().Set("Azure-AsyncOperation", fmt.Sprintf("%s/ops/%d", f.srv.URL, op))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
	switch {
	case r.Method == http.MethodPut && strings.HasPrefix(path, "/things/"):
		id := strings.TrimPrefix(path, "/things/")
		f.mu.Lock()
		f.sends[id]++
		op, ok := f.running[id]
		if ok && f.conflictOnPut {
			f.mu.Unlock()
			answer(http.StatusConflict, 0, `{"error":{"code":"AnotherOperationInProgress","message":"busy"}}`)
			return
		}
		if !ok {
			op = f.newOpLocked(id)
			f.running[id] = op
		}
		f.mu.Unlock()
		answer(http.StatusCreated, op, `{"name":"`+id+`","properties":{"provisioningState":"Creating"}}`)
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/restart"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/things/"), "/restart")
		key := r.Header.Get("Idempotency-Key")
		f.mu.Lock()
		f.sends[id]++
		op, ok := f.byKey[key]
		if key == "" || !ok {
			op = f.newOpLocked(id)
			if key != "" {
				f.byKey[key] = op
			}
		}
		f.mu.Unlock()
		answer(http.StatusAccepted, op, "")
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/ops/"):
		fmt.Fprint(w, `{"status":"InProgress"}`)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/things/"):
		id := strings.TrimPrefix(path, "/things/")
		f.mu.Lock()
		_, ok := f.running[id]
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"name":"`+id+`","properties":{"provisioningState":"Creating"}}`)
	default:
		http.NotFound(w, r)
	}
}

// counts returns the operations started for id and the mutating requests
// that reached it.
func (f *opsFake) counts(id string) (ops []int, sends int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.ops[id]...), f.sends[id]
}

// crashScenario is one kind of begin.
type crashScenario struct {
	name       string
	idempotent bool // a rerun may send again without starting a second operation
	args       func(url, id string) []string
}

var crashScenarios = []crashScenario{
	{"azure PUT", true, func(u, id string) []string {
		return []string{"azure", "begin", "--method", "PUT", "--url", u + "/things/" + id + "?api-version=1", "--body", `{"location":"westeurope"}`}
	}},
	{"rest POST with an idempotency key", true, func(u, id string) []string {
		return []string{"rest", "begin", "--method", "POST", "--url", u + "/things/" + id + "/restart", "--idempotency-header", "Idempotency-Key"}
	}},
	{"rest POST without a key", false, func(u, id string) []string {
		return []string{"rest", "begin", "--method", "POST", "--url", u + "/things/" + id + "/restart"}
	}},
}

// crashDest is where a begin records its intent and token.
type crashDest struct {
	name  string
	args  func(key string) []string
	state func(t *testing.T, key string) (intent bool, token string) // both zero: nothing recorded
}

func fileDest(dir string) crashDest {
	return crashDest{
		name: "token file",
		args: func(key string) []string { return []string{"--token-file", filepath.Join(dir, key)} },
		state: func(t *testing.T, key string) (bool, string) {
			b, err := os.ReadFile(filepath.Join(dir, key))
			if errors.Is(err, os.ErrNotExist) {
				return false, ""
			}
			require.NoError(t, err)
			s := strings.TrimSpace(string(b))
			if persist.IsIntent(s) {
				return true, ""
			}
			return false, s
		},
	}
}

func storeDest(t *testing.T, name, dsn string) crashDest {
	st, err := persist.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { closeStore(st) })
	return crashDest{
		name: name,
		args: func(key string) []string { return []string{"--store", dsn, "--key", "crash/" + key} },
		state: func(t *testing.T, key string) (bool, string) {
			r, err := st.Get(context.Background(), "crash/"+key)
			if errors.Is(err, persist.ErrNotFound) {
				return false, ""
			}
			require.NoError(t, err)
			if persist.IsIntent(r.Token) {
				return true, ""
			}
			return false, r.Token
		},
	}
}

// crashCounts tallies the trials' outcomes.
type crashCounts struct {
	mu                                             sync.Mutex
	trials, killed, exitedBeforeKill               int
	atKill                                         map[string]int // nothing, intent, token
	rerunSame, rerunMayExist                       int
	sentTotal, opsTotal, orphaned, duplicated, bad int
}

var opRef = regexp.MustCompile(`/ops/(\d+)`)

// killBegin runs one begin and SIGKILLs it: at hook when set, else after
// pause. It reports whether the kill landed (the begin had not exited).
func killBegin(t *testing.T, args []string, hook string, pause time.Duration) bool {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), testHookEnv+"="+hook)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	if hook != "" {
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			if sc.Text() == "lrokit-test-hook: "+hook {
				found = true
				break
			}
		}
		require.True(t, found, "the begin reached %s", hook)
	} else {
		time.Sleep(pause)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	go func() { _, _ = bufio.NewReader(stderr).WriteTo(discard{}) }()
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return true
		}
	}
	return false
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestBeginKilledAtAnyPointLeavesNoOrphanAndNoDuplicate SIGKILLs begin at
// named points and at random moments, for every kind of request and every
// destination, then runs the same begin again. Every trial must end with
// one operation (or none) that the recorded token names, or, where sending
// again is not safe, a "may exist" stop naming what to check.
//
// The killed begins are real processes; the reruns, never killed, run in
// this process to save a process start each.
func TestBeginKilledAtAnyPointLeavesNoOrphanAndNoDuplicate(t *testing.T) {
	fake := newOpsFake(t)
	dests := []crashDest{
		fileDest(t.TempDir()),
		storeDest(t, "file store", t.TempDir()),
		storeDest(t, "postgres store", persisttest.PostgresDSN(t)),
	}
	hooks := []string{hookIntentWritten, hookResponseReceived, hookTokenWritten}
	perHook, random := 4, 12
	if testing.Short() {
		perHook, random = 2, 6
	}
	c := crashCounts{atKill: map[string]int{}}
	t.Run("trials", func(t *testing.T) {
		for di, d := range dests {
			t.Run(d.name, func(t *testing.T) {
				t.Parallel()
				for si, sc := range crashScenarios {
					crashTrials(t, fake, d, sc, fmt.Sprintf("d%ds%d", di, si), hooks, perHook, random, &c)
				}
			})
		}
	})
	t.Logf("crash trials: %d (%d killed, %d had already exited); state at the kill: %d nothing, %d intent, %d token; "+
		"%d requests reached the server before the kill",
		c.trials, c.killed, c.exitedBeforeKill, c.atKill["nothing"], c.atKill["intent"], c.atKill["token"], c.sentTotal)
	t.Logf("after the rerun: %d reached the same single operation, %d stopped with \"may exist\" (POST without a key); "+
		"%d operations in all; %d orphaned, %d duplicated, %d other failures",
		c.rerunSame, c.rerunMayExist, c.opsTotal, c.orphaned, c.duplicated, c.bad)
	if !testing.Short() {
		assert.GreaterOrEqual(t, c.trials, 200)
	}
	assert.Zero(t, c.orphaned)
	assert.Zero(t, c.duplicated)
}

// crashTrials runs one scenario's trials against one destination. Random
// kills land within the time a whole begin takes, measured first.
func crashTrials(t *testing.T, fake *opsFake, d crashDest, sc crashScenario, prefix string, hooks []string, perHook, random int, c *crashCounts) {
	calib := prefix + "-calibrate"
	start := time.Now()
	r := cli(t, append(append(sc.args(fake.srv.URL, calib), d.args(calib)...), fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	whole := time.Since(start)

	var plan []string
	for _, h := range hooks {
		for range perHook {
			plan = append(plan, h)
		}
	}
	for range random {
		plan = append(plan, "")
	}
	for i, hook := range plan {
		id := fmt.Sprintf("%s-%d", prefix, i)
		args := append(append(sc.args(fake.srv.URL, id), d.args(id)...), fast...)
		pause := time.Duration(float64(whole) * (0.3 + 0.8*rand.Float64()))
		killed := killBegin(t, args, hook, pause)
		intent, token := d.state(t, id)
		_, sent := fake.counts(id)
		what := fmt.Sprintf("%s / %s / %q", d.name, sc.name, hook)

		rr := inProcess(t, nil, "", args...)
		ops, _ := fake.counts(id)
		intent2, token2 := d.state(t, id)

		c.mu.Lock()
		c.trials++
		if killed {
			c.killed++
		} else {
			c.exitedBeforeKill++
		}
		switch {
		case token != "":
			c.atKill["token"]++
		case intent:
			c.atKill["intent"]++
		default:
			c.atKill["nothing"]++
			if sent > 0 {
				c.bad++
				t.Errorf("%s: %d request(s) sent with nothing recorded", what, sent)
			}
		}
		c.sentTotal += sent
		c.opsTotal += len(ops)
		if len(ops) > 1 {
			c.duplicated++
			t.Errorf("%s: %d operations started", what, len(ops))
		}
		switch {
		case rr.code == exitOK && token2 != "":
			tok, err := poller.DecodeToken(token2, nil)
			require.NoError(t, err)
			js, _ := json.Marshal(tok)
			m := opRef.FindStringSubmatch(string(js))
			if len(ops) != 1 || m == nil || m[1] != strconv.Itoa(ops[0]) {
				c.orphaned++
				t.Errorf("%s: the token names %v, the operations are %v", what, m, ops)
				break
			}
			c.rerunSame++
		case rr.code == exitMayExist && !sc.idempotent && intent2:
			c.rerunMayExist++
			assert.Contains(t, rr.stderr, "may have been sent")
			assert.Contains(t, rr.stderr, "/things/"+id+"/restart", "the message names what to check")
			assert.LessOrEqual(t, len(ops), 1)
		default:
			c.bad++
			if len(ops) > 0 {
				c.orphaned++
			}
			t.Errorf("%s: rerun exit %d, intent %v: %s", what, rr.code, intent2, rr.stderr)
		}
		c.mu.Unlock()
	}
}

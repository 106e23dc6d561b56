package persist_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/persist/persisttest"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// The multi-process tests re-run this test binary as helper processes,
// selected by these variables.
const (
	helperModeEnv = "LROKIT_PERSIST_HELPER"
	helperDSNEnv  = "LROKIT_PERSIST_HELPER_DSN"
	helperNEnv    = "LROKIT_PERSIST_HELPER_N"
)

// TestHelperProcess is not a test: it is the body of the helper processes.
// Every helper prints "ready", waits for a line on stdin, then works.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperModeEnv)
	if mode == "" {
		t.Skip("helper process of the multi-process tests")
	}
	ctx := context.Background()
	dsn := os.Getenv(helperDSNEnv)
	n, _ := strconv.Atoi(os.Getenv(helperNEnv))
	in := bufio.NewReader(os.Stdin)
	step := func() {
		if _, err := in.ReadString('\n'); err != nil {
			os.Exit(3)
		}
	}
	switch mode {
	case "open":
		fmt.Println("ready")
		step()
		s, err := persist.Open(ctx, dsn)
		require.NoError(t, err)
		require.NoError(t, s.(io.Closer).Close())
	case "increment":
		s, err := persist.Open(ctx, dsn)
		require.NoError(t, err)
		defer s.(io.Closer).Close()
		fmt.Println("ready")
		step()
		conflicts := 0
		for range n {
			c, err := persisttest.Increment(ctx, s, "counter")
			require.NoError(t, err)
			conflicts += c
		}
		fmt.Println("conflicts", conflicts)
	case "crashwriter":
		crashWriter(t, dsn)
	case "track":
		trackedWait(t, dsn, step)
	default:
		t.Fatalf("unknown helper mode %q", mode)
	}
}

// helper is a running helper process.
type helper struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
	log *strings.Builder // everything it printed
	mu  *sync.Mutex
}

func startHelper(t *testing.T, mode, dsn string, n int) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), helperModeEnv+"="+mode, helperDSNEnv+"="+dsn, helperNEnv+"="+strconv.Itoa(n))
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	h := &helper{cmd: cmd, in: in, out: bufio.NewScanner(out), log: &strings.Builder{}, mu: &sync.Mutex{}}
	cmd.Stderr = lockedWriter{h}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return h
}

type lockedWriter struct{ h *helper }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	return w.h.log.Write(p)
}

// expect reads output lines until one starts with prefix, and returns it.
func (h *helper) expect(t *testing.T, prefix string) string {
	t.Helper()
	for h.out.Scan() {
		line := h.out.Text()
		lockedWriter{h}.Write([]byte(line + "\n"))
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t.Fatalf("helper ended before printing %q; its output:\n%s", prefix, h.log.String())
	return ""
}

func (h *helper) send(t *testing.T) {
	t.Helper()
	_, err := io.WriteString(h.in, "\n")
	require.NoError(t, err)
}

// finish reads the rest of the output and waits for a clean exit.
func (h *helper) finish(t *testing.T) {
	t.Helper()
	for h.out.Scan() {
		lockedWriter{h}.Write([]byte(h.out.Text() + "\n"))
	}
	err := h.cmd.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	require.NoError(t, err, "helper output:\n%s", h.log.String())
}

// runAtOnce starts procs helpers, waits until all are ready, releases them
// together and waits for them all to succeed.
func runAtOnce(t *testing.T, procs int, mode, dsn string, n int) []*helper {
	hs := make([]*helper, procs)
	for i := range hs {
		hs[i] = startHelper(t, mode, dsn, n)
	}
	for _, h := range hs {
		h.expect(t, "ready")
	}
	for _, h := range hs {
		h.send(t)
	}
	return hs
}

func testProcessesLoseNoUpdate(t *testing.T, dsn string) {
	const procs, each, goroutines = 3, 20, 2
	hs := runAtOnce(t, procs, "increment", dsn, each)
	ctx := context.Background()
	s, err := persist.Open(ctx, dsn)
	require.NoError(t, err)
	defer s.(io.Closer).Close()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for range each {
				if _, err := persisttest.Increment(ctx, s, "counter"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	conflicts := 0
	for _, h := range hs {
		line := h.expect(t, "conflicts ")
		c, _ := strconv.Atoi(strings.TrimPrefix(line, "conflicts "))
		conflicts += c
		h.finish(t)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	r, err := s.Get(ctx, "counter")
	require.NoError(t, err)
	const want = (procs + goroutines) * each
	assert.Equal(t, strconv.Itoa(want), r.Token, "no increment is lost")
	assert.Equal(t, int64(want), r.Generation)
	t.Logf("%d increments from %d processes and %d goroutines; the processes retried %d conflicts", want, procs, goroutines, conflicts)
}

func TestFileStoreProcessesLoseNoUpdate(t *testing.T) {
	t.Parallel()
	testProcessesLoseNoUpdate(t, t.TempDir())
}

func TestPostgresStoreProcessesLoseNoUpdate(t *testing.T) {
	t.Parallel()
	testProcessesLoseNoUpdate(t, persisttest.PostgresDSN(t))
}

func TestPostgresFreshSchemaOpenedByProcessesAtOnce(t *testing.T) {
	t.Parallel()
	dsn := persisttest.PostgresDSN(t)
	for _, h := range runAtOnce(t, 4, "open", dsn, 0) {
		h.finish(t)
	}
	ctx := context.Background()
	schema := schemaOf(t, dsn)
	conn, err := pgx.Connect(ctx, persisttest.PostgresServerDSN())
	require.NoError(t, err)
	defer conn.Close(ctx)
	var rows, version int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*), max(version) FROM `+pgx.Identifier{schema, "lrokit_records_migrations"}.Sanitize()).
		Scan(&rows, &version))
	assert.Equal(t, 1, rows, "each migration ran once")
	assert.Equal(t, 1, version)
	var indexes int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND tablename = 'lrokit_records'`, schema).Scan(&indexes))
	assert.Equal(t, 4, indexes, "primary key, claim, expiry and label indexes")
}

func schemaOf(t *testing.T, dsn string) string {
	i := strings.Index(dsn, "schema=")
	require.GreaterOrEqual(t, i, 0)
	s := dsn[i+len("schema="):]
	if j := strings.IndexByte(s, '&'); j >= 0 {
		s = s[:j]
	}
	return s
}

// crashToken is the token the crash writer stores at generation gen: large,
// so that a kill often lands mid-write, and self-describing, so a torn
// record shows.
func crashToken(gen int64) string {
	return fmt.Sprintf("gen-%d:", gen) + strings.Repeat(string(rune('a'+gen%26)), 60_000)
}

func checkCrashToken(r persist.Record) error {
	prefix, body, ok := strings.Cut(r.Token, ":")
	if !ok || prefix != fmt.Sprintf("gen-%d", r.Generation-1) || body != crashToken(r.Generation - 1)[len(prefix)+1:] {
		return errors.New("torn or mismatched record")
	}
	return nil
}

// crashWriter rewrites one record as fast as it can until it is killed,
// printing the generation it is about to write.
func crashWriter(t *testing.T, dir string) {
	ctx := context.Background()
	s, err := persist.OpenFileStore(dir, nil)
	require.NoError(t, err)
	r, err := s.Get(ctx, "victim")
	if errors.Is(err, persist.ErrNotFound) {
		r = persist.Record{Key: "victim"}
	} else {
		require.NoError(t, err)
	}
	fmt.Println("ready")
	for {
		fmt.Println("writing", r.Generation+1)
		r.Token = crashToken(r.Generation)
		r, err = s.Put(ctx, r)
		require.NoError(t, err)
	}
}

// trackedWait starts (or resumes, from the store) a scripted operation and
// waits for it with a Tracker, printing each poll and pausing for a line on
// stdin after it. "start" is appended to the journal file for every initial
// request sent.
func trackedWait(t *testing.T, dir string, step func()) {
	ctx := context.Background()
	s, err := persist.OpenFileStore(dir, nil)
	require.NoError(t, err)
	op := &pollertest.Operation{Steps: trackScript()}
	opts := &poller.Options{Clock: pollertest.NewAutoClock(persisttest.Start)}
	var p *poller.Poller[any]
	rec, err := s.Get(ctx, "deploy/op")
	switch {
	case errors.Is(err, persist.ErrNotFound):
		f, err := os.OpenFile(filepath.Join(dir, "journal"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		require.NoError(t, err)
		fmt.Fprintln(f, "start")
		require.NoError(t, f.Close())
		p, err = poller.New[any](op, opts)
		require.NoError(t, err)
	case err == nil:
		tok, err := poller.DecodeToken(rec.Token, nil)
		require.NoError(t, err)
		require.NoError(t, op.Restore(tok))
		p, err = poller.Resume[any](op, tok, opts)
		require.NoError(t, err)
		fmt.Println("resumed at", tok.Polls)
	default:
		t.Fatal(err)
	}
	tr, err := persist.Track(ctx, s, "deploy/op", p, nil)
	require.NoError(t, err)
	fmt.Println("ready")
	step()
	_, err = p.Wait(ctx, &poller.WaitOptions{OnPoll: func(obs poller.Observation) {
		tr.OnPoll(obs)
		fmt.Println("polled", p.Polls(), obs.Status)
		step()
	}})
	require.NoError(t, err)
	require.NoError(t, tr.Err())
	fmt.Println("done", p.Polls(), p.Last().Status)
}

func trackScript() []pollertest.Step {
	return []pollertest.Step{
		pollertest.Running("Creating", 10), pollertest.Running("Creating", 30), pollertest.Running("Creating", 50),
		pollertest.Running("Creating", 70), pollertest.Running("Creating", 90), pollertest.Succeeded(),
	}
}

func TestTrackedWaitResumesAfterKillWithoutRestarting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := startHelper(t, "track", dir, 0)
	first.expect(t, "ready")
	first.send(t)
	first.expect(t, "polled 1 ")
	first.send(t)
	first.expect(t, "polled 2 ")
	first.send(t)
	first.expect(t, "polled 3 ")
	require.NoError(t, first.cmd.Process.Kill()) // while it waits, with poll 3 saved
	first.cmd.Wait()

	second := startHelper(t, "track", dir, 0)
	assert.Equal(t, "resumed at 3", second.expect(t, "resumed at"))
	second.expect(t, "ready")
	second.send(t)
	assert.Equal(t, "polled 4 Running", second.expect(t, "polled"), "the schedule continues from the saved token")
	second.send(t)
	second.expect(t, "polled 5 ")
	second.send(t)
	second.expect(t, "polled 6 ")
	second.send(t)
	assert.Equal(t, "done 6 Succeeded", second.expect(t, "done"))
	second.finish(t)

	journal, err := os.ReadFile(filepath.Join(dir, "journal"))
	require.NoError(t, err)
	assert.Equal(t, "start\n", string(journal), "the initial request was sent once")
	s := openFile(t, dir)
	r, err := s.Get(context.Background(), "deploy/op")
	require.NoError(t, err)
	assert.Equal(t, poller.StatusSucceeded, r.Status)
	assert.Equal(t, "test", r.Provider)
}

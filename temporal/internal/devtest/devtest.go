// Package devtest builds and runs the real Temporal server of
// internal/devserver for this module's tests and benchmark.
//
// The server needs a newer Go than the project's and Temporal versions of its
// own, so it is a separate module built with GOTOOLCHAIN=go1.27.3 (the go
// command fetches that toolchain) into a cache directory keyed on its go.sum,
// go.mod and source: the cold build costs minutes of CPU once, later runs
// reuse the binary. LROKIT_DEVSERVER names a prebuilt binary instead.
package devtest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Toolchain is the Go toolchain the server is built with.
const Toolchain = "go1.27.3"

// Server is a running devserver subprocess.
type Server struct {
	// Addr is the frontend's host:port on loopback.
	Addr string
	// Namespace is the namespace the server registered for clients.
	Namespace string

	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan error
}

// sourceDir is internal/devserver, next to this package.
func sourceDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("devtest: cannot locate the devserver source")
	}
	return filepath.Join(filepath.Dir(file), "..", "devserver"), nil
}

// Binary returns the path of the devserver binary, building it first unless
// a build for the same sources is cached. log receives the build's progress.
func Binary(log io.Writer) (string, error) {
	if p := os.Getenv("LROKIT_DEVSERVER"); p != "" {
		return p, nil
	}
	src, err := sourceDir()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, name := range []string{"go.mod", "go.sum", "main.go"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return "", fmt.Errorf("devtest: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	cache, err := cacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(cache, "devserver-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("devtest: %w", err)
	}
	// One builder at a time (go test runs packages in parallel); the others
	// wait for its binary. A lock older than the longest build is stale.
	lock := bin + ".lock"
	for {
		f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
			defer os.Remove(lock)
			break
		}
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
		if st, err := os.Stat(lock); err == nil && time.Since(st.ModTime()) > 45*time.Minute {
			os.Remove(lock)
			continue
		}
		time.Sleep(time.Second)
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	fmt.Fprintf(log, "devtest: building the Temporal test server with %s (once; cached as %s)\n", Toolchain, bin)
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", tmp, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN="+Toolchain, "GOWORK=off", "GOFLAGS=-buildvcs=false")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("devtest: building the server: %w", err)
	}
	fmt.Fprintf(log, "devtest: built in %s\n", time.Since(start).Round(time.Second))
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("devtest: %w", err)
	}
	return bin, nil
}

func cacheDir() (string, error) {
	if d := os.Getenv("LROKIT_DEVSERVER_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		// No HOME (a bare CI environment): the temporary directory lasts
		// as long as the machine.
		d = os.TempDir()
	}
	return filepath.Join(d, "lrokit"), nil
}

// Start builds (or reuses) the server and starts it on a free loopback port.
func Start(log io.Writer) (*Server, error) {
	bin, err := Binary(log)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Stderr = log
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("devtest: starting the server: %w", err)
	}
	s := &Server{cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			line := sc.Text()
			if !found && strings.HasPrefix(line, "devserver ready ") {
				for _, f := range strings.Fields(line) {
					if v, ok := strings.CutPrefix(f, "address="); ok {
						s.Addr = v
					}
					if v, ok := strings.CutPrefix(f, "namespace="); ok {
						s.Namespace = v
					}
				}
				found = true
				ready <- nil
				continue
			}
			fmt.Fprintln(log, line)
		}
		if !found {
			ready <- errors.New("devtest: the server exited before it was ready")
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case err := <-ready:
		if err != nil {
			s.Close()
			return nil, err
		}
	case <-time.After(2 * time.Minute):
		s.Close()
		return nil, errors.New("devtest: the server was not ready within 2 minutes")
	}
	return s, nil
}

// Close stops the server: closing its stdin asks it to stop; it is killed if
// it has not within 10 s.
func (s *Server) Close() error {
	s.stdin.Close()
	select {
	case err := <-s.done:
		return err
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		return <-s.done
	}
}

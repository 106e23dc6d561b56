package loopback

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// childEnv makes a process started by StartChildFake serve the fake.
const childEnv = "LROLOOPBACK_FAKE"

// ServeChildFake serves the fake and exits when the process was started by
// StartChildFake; otherwise it returns at once. A main that runs a Config
// with ChildFake calls it first.
func ServeChildFake() {
	if os.Getenv(childEnv) != "1" {
		return
	}
	RaiseFileLimit()
	f, err := StartFake()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loopback fake:", err)
		os.Exit(1)
	}
	out := json.NewEncoder(os.Stdout)
	_ = out.Encode(map[string]string{"http": f.HTTPAddr(), "grpc": f.GRPCAddr()})
	// One command per line on stdin: "stats" answers a FakeStats line,
	// "reset" restarts the peak of open connections; EOF ends the process.
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch strings.TrimSpace(in.Text()) {
		case "stats":
			_ = out.Encode(f.Stats())
		case "reset":
			f.ResetPeak()
			_ = out.Encode(struct{}{})
		}
	}
	f.Close()
	os.Exit(0)
}

// fake is the fake as the runner sees it, in this process or a child.
type fake interface {
	HTTPAddr() string
	GRPCAddr() string
	Stats() FakeStats
	ResetPeak()
	Close()
}

// childFake is a fake served by a child process (this executable again),
// so that its CPU, heap, goroutines and sockets are not the client's.
type childFake struct {
	cmd        *exec.Cmd
	in         io.WriteCloser
	out        *json.Decoder
	mu         sync.Mutex
	http, grpc string
}

// startChildFake runs this executable with childEnv set; its main must
// call ServeChildFake first.
func startChildFake() (*childFake, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &childFake{cmd: cmd, in: in, out: json.NewDecoder(outPipe)}
	var addrs map[string]string
	if err := c.out.Decode(&addrs); err != nil || addrs["http"] == "" {
		c.Close()
		return nil, errors.New("loopback: the child fake did not start (does main call ServeChildFake?)")
	}
	c.http, c.grpc = addrs["http"], addrs["grpc"]
	return c, nil
}

func (c *childFake) HTTPAddr() string { return c.http }
func (c *childFake) GRPCAddr() string { return c.grpc }

func (c *childFake) Stats() FakeStats {
	var s FakeStats
	c.call("stats", &s)
	return s
}

func (c *childFake) ResetPeak() { c.call("reset", &struct{}{}) }

func (c *childFake) call(cmd string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := fmt.Fprintln(c.in, cmd); err == nil {
		_ = c.out.Decode(v)
	}
}

func (c *childFake) Close() {
	_ = c.in.Close()
	_ = c.cmd.Wait()
}

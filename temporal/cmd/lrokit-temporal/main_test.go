package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/rest"
	"github.com/lrokit/lrokit/temporal/internal/devtest"
)

var server *devtest.Server

func TestMain(m *testing.M) {
	s, err := devtest.Start(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the Temporal test server:", err)
		os.Exit(1)
	}
	server = s
	code := m.Run()
	s.Close()
	os.Exit(code)
}

// beginREST begins an operation on armfake as `lrokit rest begin` would.
// It returns the token and the fake's origin, which the worker must name
// as trusted (a resumed token's own hosts are never trusted).
func beginREST(t *testing.T) (string, string) {
	arm := armfake.New()
	t.Cleanup(arm.Close)
	const path = "/things/t1"
	arm.Load(armfake.LRO{
		Method: http.MethodPut, Path: path, Protocol: armfake.OperationLocation,
		Polls: []armfake.Response{armfake.Status("Running"), armfake.Status("Succeeded")},
		Final: []armfake.Response{armfake.Resource("t1", "Succeeded")},
	}.Scenario())
	req, _ := http.NewRequest(http.MethodPut, arm.URL()+path+"?"+armfake.APIVersion, strings.NewReader(`{}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	p, err := rest.NewPoller[json.RawMessage](resp, http.DefaultClient, &rest.Options{Options: poller.Options{Policy: poller.Policy{Floor: 100 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := p.ResumeToken()
	if err != nil {
		t.Fatal(err)
	}
	return tok, arm.URL()
}

func TestWorkerStartWait(t *testing.T) {
	conn := []string{"--address", server.Addr, "--namespace", server.Namespace}
	token, origin := beginREST(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wctx, stopWorker := context.WithCancel(ctx)
	workerDone := make(chan int, 1)
	var werr bytes.Buffer
	go func() {
		workerDone <- run(wctx, append([]string{"worker", "--task-queue", "cli-test", "--no-auth", "--allow-host", origin, "--floor", "100ms", "--cap", "200ms"}, conn...), &bytes.Buffer{}, &werr)
	}()
	defer func() {
		stopWorker()
		if code := <-workerDone; code != exitOK {
			t.Errorf("worker exited %d: %s", code, werr.String())
		}
	}()

	var out, errOut bytes.Buffer
	if code := run(ctx, append([]string{"start", "--task-queue", "cli-test", "--token", token}, conn...), &out, &errOut); code != exitOK {
		t.Fatalf("start exited %d: %s", code, errOut.String())
	}
	id := strings.TrimSpace(out.String())
	if !strings.HasPrefix(id, "lrokit/rest/") {
		t.Errorf("start printed %q, want the workflow id", id)
	}
	out.Reset()
	if code := run(ctx, append([]string{"wait", "--id", id}, conn...), &out, &errOut); code != exitOK {
		t.Fatalf("wait exited %d: %s", code, errOut.String())
	}
	var res struct {
		Status string          `json:"status"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Status != "Succeeded" || !strings.Contains(string(res.Result), "t1") {
		t.Errorf("wait printed %s (%v)", out.String(), err)
	}
	// start --wait on the same token: the same workflow, already done.
	out.Reset()
	if code := run(ctx, append([]string{"start", "--task-queue", "cli-test", "--token", token, "--wait"}, conn...), &out, &errOut); code != exitOK {
		t.Errorf("start --wait exited %d: %s", code, errOut.String())
	}
}

func TestUsageErrors(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{
		nil,
		{"nope"},
		{"start", "--address", "127.0.0.1:1"},
		{"start", "--address", "127.0.0.1:1", "--token", "not-a-token"},
		{"wait", "--address", "127.0.0.1:1", "--token", "x", "--token-file", "y"},
	} {
		var errOut bytes.Buffer
		if code := run(ctx, args, &bytes.Buffer{}, &errOut); code != exitUsage {
			t.Errorf("%q exited %d, want %d (%s)", args, code, exitUsage, errOut.String())
		}
		if strings.Contains(errOut.String(), "not-a-token") {
			t.Errorf("%q echoed the token", args)
		}
	}
}

// Command devserver runs a real Temporal server in-process for lrokit's
// Temporal tests and benchmark. It is its own module because
// go.temporal.io/server needs a newer Go than the project's, and pins SDK and
// API versions the temporal module does not use; users never build it.
//
// It binds loopback only, prints one line
//
//	devserver ready address=127.0.0.1:PORT namespace=NAME
//
// on stdout once the frontend accepts connections, and stops on SIGINT,
// SIGTERM or when stdin closes (so a test that dies does not leave it behind).
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.temporal.io/server/temporaltest"
)

func main() {
	ts := temporaltest.NewServer()
	fmt.Printf("devserver ready address=%s namespace=%s\n", ts.GetFrontendHostPort(), ts.GetDefaultNamespace())

	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
	case <-done:
	}
	ts.Stop()
}

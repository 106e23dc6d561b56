package aws_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/aws"
	"github.com/lrokit/lrokit/lrotest/awsfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// errCutoff ends a wait after a fixed number of describe calls, so "still
// waiting" is decided by poll count on both sides, not by wall time.
var errCutoff = errors.New("test cutoff: poll budget spent")

// withCutoff returns cfg whose clients fail every describe call after the
// first n with errCutoff, before anything is sent.
func withCutoff(cfg awssdk.Config, n int) awssdk.Config {
	var calls atomic.Int32
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("lrokitTestCutoff",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if calls.Add(1) > int32(n) {
					return middleware.InitializeOutput{}, middleware.Metadata{}, errCutoff
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	})
	return cfg
}

// The verdicts both waiters can reach.
const (
	verdictSuccess = "success"
	verdictFailure = "failure"
	verdictWaiting = "waiting"
	verdictError   = "error"
)

func sdkVerdict(err error) string {
	switch {
	case err == nil:
		return verdictSuccess
	case errors.Is(err, errCutoff):
		return verdictWaiting
	case strings.Contains(err.Error(), "waiter state transitioned to Failure"):
		return verdictFailure
	}
	return verdictError
}

func lrokitVerdict(err error) string {
	var oe *poller.OperationError
	switch {
	case err == nil:
		return verdictSuccess
	case errors.Is(err, errCutoff):
		return verdictWaiting
	case errors.As(err, &oe):
		return verdictFailure
	}
	return verdictError
}

// scripts returns every one-step script of the vocabulary, then random
// scripts of two to five steps.
func scripts(vocab []awsfake.Step, seed uint64, n int) [][]awsfake.Step {
	var out [][]awsfake.Step
	for _, s := range vocab {
		out = append(out, []awsfake.Step{s})
	}
	r := rand.New(rand.NewPCG(seed, 7))
	for range n {
		script := make([]awsfake.Step, 2+r.IntN(4))
		for i := range script {
			script[i] = vocab[r.IntN(len(vocab))]
		}
		out = append(out, script)
	}
	return out
}

func describeScript(s []awsfake.Step) string {
	parts := make([]string, len(s))
	for i, st := range s {
		parts[i] = st.Status
		if st.Fault != awsfake.None {
			parts[i] = fmt.Sprintf("fault%d", st.Fault)
		}
		if len(st.Attrs) > 0 {
			parts[i] += fmt.Sprint(st.Attrs)
		}
	}
	return strings.Join(parts, ">")
}

// TestVerdictsMatchTheSDKWaiters runs each built-in waiter on generated
// status sequences twice against the same fake — once with the SDK's own
// generated Wait, once with lrokit — and requires the same verdict:
// success, failure, still waiting at the cutoff, or a call error.
func TestVerdictsMatchTheSDKWaiters(t *testing.T) {
	for i, c := range waiterCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := awsfake.New()
			defer srv.Close()
			seen := map[string]bool{}
			for _, script := range scripts(c.vocab, uint64(i), 10) {
				// Resources other than the first take a shifted script, so
				// "all" and "any" matchers see mixed states.
				load := func() {
					for j, id := range c.ids {
						s := slices.Clone(script)
						if j > 0 && len(s) > 1 {
							s = append(s[1:], s[0])
						}
						srv.Script(c.kind, id, s...)
					}
				}
				cutoff := len(script) + 2
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)

				load()
				want := sdkVerdict(c.sdkWait(ctx, withCutoff(srv.Config(), cutoff), c.input))

				load()
				p, err := aws.NewPoller[any](withCutoff(srv.Config(), cutoff), c.name, c.input,
					&aws.Options{Options: poller.Options{Clock: pollertest.NewAutoClock(time.Unix(1_700_000_000, 0))}})
				require.NoError(t, err)
				_, werr := p.Wait(ctx, nil)
				cancel()
				got := lrokitVerdict(werr)
				assert.Equal(t, want, got, "script %s: lrokit said %v", describeScript(script), werr)
				seen[want] = true
			}
			assert.True(t, seen[verdictSuccess] && seen[verdictWaiting], "the scripts reach success and waiting: %v", seen)
		})
	}
}

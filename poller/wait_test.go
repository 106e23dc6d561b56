package poller_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

var epoch = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

type result struct {
	ID string `json:"id"`
}

// run waits on a scripted operation in virtual time and returns the gaps
// between polls.
func run(t *testing.T, steps []pollertest.Step, opts poller.Options) (*pollertest.Operation, []time.Duration, result, error) {
	t.Helper()
	clock := pollertest.NewAutoClock(epoch)
	op := &pollertest.Operation{Steps: steps, Final: result{ID: "r1"}, Clock: clock}
	opts.Clock = clock
	p, err := poller.New[result](op, &opts)
	require.NoError(t, err)
	res, err := p.Wait(context.Background(), nil)
	times := op.PollTimes()
	var gaps []time.Duration
	prev := epoch
	for _, pt := range times {
		gaps = append(gaps, pt.Sub(prev))
		prev = pt
	}
	return op, gaps, res, err
}

func repeat(n int, s pollertest.Step) []pollertest.Step {
	out := make([]pollertest.Step, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestWaitWithoutHintsPollsAtAThirdOfElapsedTime(t *testing.T) {
	steps := append(repeat(40, pollertest.Running("InProgress", -1)), pollertest.Succeeded())
	op, gaps, res, err := run(t, steps, poller.Options{})
	require.NoError(t, err)
	assert.Equal(t, result{ID: "r1"}, res)
	require.Equal(t, 41, op.Polls())
	assert.Zero(t, gaps[0], "nothing known yet: the first poll happens at once")
	elapsed := time.Duration(0)
	for i, g := range gaps[1:] {
		base := max(2*time.Second, min(60*time.Second, elapsed/3))
		assert.GreaterOrEqual(t, g, max(2*time.Second, time.Duration(0.9*float64(base))), "gap %d", i)
		assert.LessOrEqual(t, g, time.Duration(1.1*float64(base))+time.Millisecond, "gap %d", i)
		elapsed += g
	}
	assert.Greater(t, gaps[len(gaps)-1], 50*time.Second, "a long operation reaches the cap")
}

func TestWaitHonorsServerHints(t *testing.T) {
	steps := append(repeat(5, pollertest.Hinted(30*time.Second)), pollertest.Succeeded())
	_, gaps, _, err := run(t, steps, poller.Options{})
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{0, 30 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}, gaps)
}

func TestWaitStartsFromTheInitialResponse(t *testing.T) {
	initial := poller.Observation{Status: poller.StatusRunning, RetryAfter: 15 * time.Second, Progress: -1}
	_, gaps, _, err := run(t, []pollertest.Step{pollertest.Succeeded()}, poller.Options{Initial: &initial})
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{15 * time.Second}, gaps, "the initial Retry-After delays the first poll")
}

func TestWaitClampsHints(t *testing.T) {
	long := 49 * 365 * 24 * time.Hour
	tests := []struct {
		name   string
		policy poller.Policy
		hint   time.Duration
		want   time.Duration
	}{
		{"49-year hint capped at the default ceiling", poller.Policy{}, long, 10 * time.Minute},
		{"ceiling is configurable", poller.Policy{HintCeiling: 90 * time.Second}, long, 90 * time.Second},
		{"hint below the floor: the schedule", poller.Policy{Jitter: -1}, 500 * time.Millisecond, 2 * time.Second},
		{"floor is configurable", poller.Policy{Floor: 5 * time.Second, Jitter: -1}, time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := []pollertest.Step{pollertest.Hinted(tt.hint), pollertest.Succeeded()}
			_, gaps, _, err := run(t, steps, poller.Options{Policy: tt.policy})
			require.NoError(t, err)
			assert.Equal(t, tt.want, gaps[1])
		})
	}
}

func TestWaitTreatsHintsBelowTheFloorAsNone(t *testing.T) {
	// Started ten minutes ago: without hints the schedule waits a minute.
	steps := append(repeat(5, pollertest.Hinted(0)), pollertest.Succeeded())
	_, gaps, _, err := run(t, steps, poller.Options{Started: epoch.Add(-10 * time.Minute), Policy: poller.Policy{Jitter: -1}})
	require.NoError(t, err)
	for _, g := range gaps[1:] {
		assert.Equal(t, 60*time.Second, g, "Retry-After: 0 is no hint")
	}
}

func TestWaitIgnoresLowHintsBeforeTheExpectedDuration(t *testing.T) {
	steps := []pollertest.Step{pollertest.Hinted(0), pollertest.Hinted(0), pollertest.Hinted(30 * time.Second), pollertest.Succeeded()}
	initial := poller.Observation{Status: poller.StatusRunning, Hinted: true, Progress: -1}
	_, gaps, _, err := run(t, steps, poller.Options{Initial: &initial, Policy: poller.Policy{Expected: 5 * time.Minute, Jitter: -1}})
	require.NoError(t, err)
	assert.Equal(t, 5*time.Minute, gaps[0], "the initial Retry-After: 0 does not pull the first poll before the prior")
	assert.Equal(t, 60*time.Second, gaps[1], "after the expected duration, the schedule")
	assert.Equal(t, 60*time.Second, gaps[2])
	assert.Equal(t, 30*time.Second, gaps[3])
}

func TestWaitRetriesTransientErrors(t *testing.T) {
	reset := fmt.Errorf("read: %w", syscall.ECONNRESET)
	tests := []struct {
		name      string
		steps     []pollertest.Step
		budget    int
		wantErr   bool
		wantPolls int
		check     func(t *testing.T, gaps []time.Duration, err error)
	}{
		{
			name:      "recovered within the budget",
			steps:     append(repeat(3, pollertest.Error(poller.Transient(errors.New("503"), 0))), pollertest.Succeeded()),
			budget:    5,
			wantPolls: 4,
			check: func(t *testing.T, gaps []time.Duration, err error) {
				assert.InDelta(t, float64(2*time.Second), float64(gaps[1]), float64(300*time.Millisecond))
				assert.InDelta(t, float64(4*time.Second), float64(gaps[2]), float64(600*time.Millisecond), "doubling backoff")
			},
		},
		{
			name:      "connection reset is transient without marking",
			steps:     []pollertest.Step{pollertest.Error(reset), pollertest.Succeeded()},
			budget:    1,
			wantPolls: 2,
		},
		{
			name:      "throttle honors the error's Retry-After",
			steps:     []pollertest.Step{pollertest.Error(poller.Throttled(errors.New("429"), 45*time.Second)), pollertest.Succeeded()},
			wantPolls: 2,
			check: func(t *testing.T, gaps []time.Duration, err error) {
				assert.Equal(t, 45*time.Second, gaps[1])
			},
		},
		{
			name:      "a throttle's hint is a minimum: the backoff still grows",
			steps:     append(repeat(4, pollertest.Error(poller.Throttled(errors.New("429"), time.Second))), pollertest.Succeeded()),
			wantPolls: 5,
			check: func(t *testing.T, gaps []time.Duration, err error) {
				for i, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second} {
					assert.InDelta(t, float64(want), float64(gaps[i+1]), 0.06*float64(want), "retry %d", i+1)
				}
			},
		},
		{
			name:      "budget exhausted",
			steps:     repeat(10, pollertest.Error(poller.Transient(errors.New("503"), 0))),
			budget:    3,
			wantErr:   true,
			wantPolls: 4,
			check: func(t *testing.T, gaps []time.Duration, err error) {
				var pe *poller.PollError
				require.ErrorAs(t, err, &pe)
				assert.True(t, pe.Final)
				assert.True(t, pe.Transient)
				assert.Equal(t, 4, pe.Attempts)
				assert.Contains(t, err.Error(), "gave up after 4 attempts")
			},
		},
		{
			name:      "budget resets after a successful poll",
			steps:     []pollertest.Step{pollertest.Error(poller.Transient(errors.New("503"), 0)), pollertest.Error(poller.Transient(errors.New("503"), 0)), pollertest.Running("x", -1), pollertest.Error(poller.Transient(errors.New("503"), 0)), pollertest.Error(poller.Transient(errors.New("503"), 0)), pollertest.Succeeded()},
			budget:    2,
			wantPolls: 6,
		},
		{
			name:      "permanent error ends the wait at once",
			steps:     []pollertest.Step{pollertest.Error(errors.New("403 forbidden")), pollertest.Succeeded()},
			wantErr:   true,
			wantPolls: 1,
			check: func(t *testing.T, gaps []time.Duration, err error) {
				var pe *poller.PollError
				require.ErrorAs(t, err, &pe)
				assert.False(t, pe.Transient)
				assert.True(t, pe.Final)
			},
		},
		{
			name:      "an operation the provider forgot is a distinct error",
			steps:     []pollertest.Step{pollertest.Running("x", -1), pollertest.Error(fmt.Errorf("404: %w", poller.ErrOperationNotFound))},
			wantErr:   true,
			wantPolls: 2,
			check: func(t *testing.T, gaps []time.Duration, err error) {
				assert.ErrorIs(t, err, poller.ErrOperationNotFound)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, gaps, _, err := run(t, tt.steps, poller.Options{Policy: poller.Policy{RetryBudget: tt.budget, Jitter: 0.05}})
			if tt.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantPolls, op.Polls())
			if tt.check != nil {
				tt.check(t, gaps, err)
			}
		})
	}
}

func TestWaitReportsFailureAsOperationError(t *testing.T) {
	canceled := pollertest.Step{Obs: poller.Observation{Status: poller.StatusCanceled, Detail: "Canceled", Progress: -1}}
	tests := []struct {
		name       string
		step       pollertest.Step
		wantStatus poller.Status
		wantMsg    string
	}{
		{"failed keeps code and message", pollertest.Failed("Conflict", "the name is taken"), poller.StatusFailed, "test operation scripted failed: Conflict: the name is taken"},
		{"canceled without an error still gets one", canceled, poller.StatusCanceled, "test operation scripted was canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := run(t, []pollertest.Step{pollertest.Running("InProgress", 10), tt.step}, poller.Options{})
			var oe *poller.OperationError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tt.wantStatus, oe.Status)
			assert.Equal(t, "test", oe.Provider)
			assert.Equal(t, tt.wantStatus, oe.Last.Status)
			assert.Equal(t, tt.wantMsg, err.Error())
		})
	}
}

func TestWaitStopsAtTheContextAndHandsBackAToken(t *testing.T) {
	defer goleak.VerifyNone(t)
	clock := pollertest.NewClock(epoch)
	op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("InProgress", 40)}, Clock: clock}
	p, err := poller.New[result](op, &poller.Options{Clock: clock})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Wait(ctx, nil)
		done <- err
	}()
	require.NoError(t, clock.WaitForTimers(context.Background(), 1), "the loop sleeps after its first poll")
	cancel()
	err = <-done

	var we *poller.WaitError
	require.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, poller.StatusRunning, we.Last.Status)
	assert.Equal(t, 40.0, we.Last.Progress)
	require.NoError(t, we.TokenErr)
	tok, err := poller.DecodeToken(we.Token, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, tok.Polls)
	assert.Equal(t, poller.StatusRunning, tok.Last.Status)
	assert.Equal(t, 0, clock.Pending(), "the timer was stopped")
}

func TestWaitStopsAtThePollerDeadlineInVirtualTime(t *testing.T) {
	steps := repeat(1, pollertest.Hinted(time.Minute))
	op, _, _, err := run(t, steps, poller.Options{Deadline: epoch.Add(150 * time.Second)})
	var we *poller.WaitError
	require.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, poller.ErrDeadline)
	assert.Equal(t, 3, op.Polls(), "polls at 0, 60 s, 120 s; the deadline comes before the next")
	tok, err := poller.DecodeToken(we.Token, nil)
	require.NoError(t, err)
	assert.True(t, tok.Deadline.Equal(epoch.Add(150*time.Second)), "the deadline is kept in the token")
}

func TestResumedPollerWaitsUntilTheStoredNextPollTime(t *testing.T) {
	defer goleak.VerifyNone(t)
	clock := pollertest.NewClock(epoch)
	steps := []pollertest.Step{pollertest.Hinted(5 * time.Minute), pollertest.Succeeded()}
	first := &pollertest.Operation{Steps: steps, Clock: clock}
	p, err := poller.New[result](first, &poller.Options{Clock: clock})
	require.NoError(t, err)
	_, err = p.Poll(context.Background())
	require.NoError(t, err)
	token, err := p.ResumeToken()
	require.NoError(t, err)

	// A new process, a minute later.
	clock.Advance(time.Minute)
	tok, err := poller.DecodeToken(token, nil)
	require.NoError(t, err)
	second := &pollertest.Operation{Steps: steps, Clock: clock, Final: result{ID: "r2"}}
	require.NoError(t, second.Restore(tok))
	q, err := poller.Resume[result](second, tok, &poller.Options{Clock: clock})
	require.NoError(t, err)
	assert.True(t, q.NextPollAt().Equal(epoch.Add(5*time.Minute)))
	assert.True(t, q.Last().Hinted, "the token remembers that the server chose the next poll")
	assert.True(t, q.Created().Equal(epoch), "the schedule continues from the original start")

	done := make(chan result, 1)
	go func() {
		res, err := q.Wait(context.Background(), nil)
		assert.NoError(t, err)
		done <- res
	}()
	require.NoError(t, clock.WaitForTimers(context.Background(), 1))
	clock.Advance(4*time.Minute - time.Second)
	assert.Equal(t, 1, second.Polls(), "not polled before the stored time (position restored, no new poll)")
	clock.Advance(time.Second)
	assert.Equal(t, result{ID: "r2"}, <-done)
	assert.Equal(t, 2, second.Polls())
	assert.Equal(t, []time.Time{epoch.Add(5 * time.Minute)}, second.PollTimes())
	assert.Equal(t, 2, q.Polls(), "poll count carries across resumption")
}

func TestResumeDistrustsTokenTimes(t *testing.T) {
	clock := pollertest.NewClock(epoch)
	op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Succeeded()}}
	tests := []struct {
		name        string
		tok         poller.Token
		wantNext    time.Time
		wantCreated time.Time
	}{
		{"next poll a year away is brought within the ceiling", poller.Token{Created: epoch.Add(-time.Hour), Next: epoch.Add(365 * 24 * time.Hour)}, epoch.Add(10 * time.Minute), epoch.Add(-time.Hour)},
		{"creation in the future counts as now", poller.Token{Created: epoch.Add(time.Hour), Next: epoch.Add(time.Minute)}, epoch.Add(time.Minute), epoch},
		{"next poll in the past means now", poller.Token{Created: epoch.Add(-time.Hour), Next: epoch.Add(-time.Minute)}, epoch, epoch.Add(-time.Hour)},
		{"terminal last status polls at once", poller.Token{Created: epoch.Add(-time.Hour), Next: epoch.Add(time.Minute), Last: &poller.TokenObservation{Status: poller.StatusSucceeded}}, epoch, epoch.Add(-time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := poller.Resume[result](op, tt.tok, &poller.Options{Clock: clock})
			require.NoError(t, err)
			assert.Equal(t, tt.wantNext, p.NextPollAt())
			assert.Equal(t, tt.wantCreated, p.Created())
		})
	}
}

func TestTerminalInitialResponseFinishesWithoutPolling(t *testing.T) {
	initial := poller.Observation{Status: poller.StatusSucceeded, Progress: 100}
	clock := pollertest.NewAutoClock(epoch)
	op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("never", -1)}, Final: result{ID: "now"}}
	p, err := poller.New[result](op, &poller.Options{Clock: clock, Initial: &initial})
	require.NoError(t, err)
	assert.True(t, p.Done())
	res, err := p.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, result{ID: "now"}, res)
	assert.Zero(t, op.Polls())
}

func TestResultBeforeDoneIsErrNotDone(t *testing.T) {
	op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("x", -1)}}
	p, err := poller.New[result](op, nil)
	require.NoError(t, err)
	_, err = p.Result(context.Background())
	assert.ErrorIs(t, err, poller.ErrNotDone)
}

func TestWaitRetriesATransientFinalRequest(t *testing.T) {
	clock := pollertest.NewAutoClock(epoch)
	op := &flakyResult{Operation: &pollertest.Operation{Steps: []pollertest.Step{pollertest.Succeeded()}}, failures: 2}
	p, err := poller.New[result](op, &poller.Options{Clock: clock, Policy: poller.Policy{Jitter: -1}})
	require.NoError(t, err)
	res, err := p.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, result{ID: "final"}, res)
	assert.Equal(t, 3, op.calls)
	assert.Equal(t, epoch.Add(6*time.Second), clock.Now(), "retried after 2 s and 4 s")

	op = &flakyResult{Operation: &pollertest.Operation{Steps: []pollertest.Step{pollertest.Succeeded()}}, failures: 5}
	p, err = poller.New[result](op, &poller.Options{Clock: clock, Policy: poller.Policy{RetryBudget: 2}})
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	var pe *poller.PollError
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.Final)
	assert.Equal(t, 3, op.calls, "the final request shares the retry budget")
}

type flakyResult struct {
	*pollertest.Operation
	failures, calls int
}

func (f *flakyResult) Result(ctx context.Context, out any) error {
	f.calls++
	if f.calls <= f.failures {
		return poller.Transient(errors.New("502 bad gateway"), 0)
	}
	*(out.(*result)) = result{ID: "final"}
	return nil
}

func TestCancel(t *testing.T) {
	plain := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("x", -1)}}
	p, err := poller.New[result](plain, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, p.Cancel(context.Background()), poller.ErrCancelNotSupported)

	c := pollertest.Cancelable{Operation: &pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("x", -1)}}}
	q, err := poller.New[result](c, nil)
	require.NoError(t, err)
	require.NoError(t, q.Cancel(context.Background()))
	assert.Equal(t, 1, c.Canceled())
}

func TestWaitCallsOnPollAndReportsStallsOnce(t *testing.T) {
	clock := pollertest.NewAutoClock(epoch)
	steps := append(repeat(30, pollertest.Running("Creating", 50)), pollertest.Running("Configuring", 80), pollertest.Succeeded())
	op := &pollertest.Operation{Steps: steps}
	p, err := poller.New[result](op, &poller.Options{Clock: clock})
	require.NoError(t, err)
	var seen []poller.Status
	var stalls []time.Duration
	var logs bytes.Buffer
	_, err = p.Wait(context.Background(), &poller.WaitOptions{
		OnPoll:     func(o poller.Observation) { seen = append(seen, o.Status) },
		StallAfter: 5 * time.Minute,
		OnStall:    func(_ poller.Observation, d time.Duration) { stalls = append(stalls, d) },
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)
	assert.Len(t, seen, 32)
	require.Len(t, stalls, 1, "one report per stall")
	assert.GreaterOrEqual(t, stalls[0], 5*time.Minute)
	assert.Contains(t, logs.String(), "lro stalled")
}

func TestLogsNeverHoldTokenContents(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := pollertest.NewAutoClock(epoch)
	op := &secretOp{Operation: &pollertest.Operation{Steps: []pollertest.Step{
		pollertest.Running("InProgress", -1), pollertest.Error(poller.Transient(errors.New("503"), 0)), pollertest.Succeeded(),
	}}}
	p, err := poller.New[result](op, &poller.Options{Clock: clock, Logger: logger})
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	require.NoError(t, err)
	out := logs.String()
	assert.Contains(t, out, `"status":"Running"`)
	assert.Contains(t, out, "will retry")
	assert.NotContains(t, out, "sig=SECRET")
	assert.NotContains(t, out, "lrokit1.")
}

type secretOp struct{ *pollertest.Operation }

func (s *secretOp) Token() (poller.Token, error) {
	return poller.Token{Provider: "test", Kind: "secret", State: []byte(`{"url":"https://h/op?sig=SECRET"}`)}, nil
}

func TestPollTimeoutBoundsEachRoundTrip(t *testing.T) {
	op := &blockingOp{Operation: &pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("x", -1)}}}
	p, err := poller.New[result](op, &poller.Options{PollTimeout: 2 * time.Millisecond, Clock: pollertest.NewAutoClock(epoch)})
	require.NoError(t, err)
	_, err = p.Poll(context.Background())
	var pe *poller.PollError
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.Transient, "a poll that timed out is retried")
	assert.False(t, pe.Final)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

type blockingOp struct{ *pollertest.Operation }

func (b *blockingOp) Poll(ctx context.Context) (poller.Observation, error) {
	<-ctx.Done()
	return poller.Observation{}, ctx.Err()
}

func TestAdapterBugsArePermanentErrors(t *testing.T) {
	tests := []struct {
		name string
		step pollertest.Step
	}{
		{"no status", pollertest.Step{Obs: poller.Observation{Detail: "??"}}},
		{"unknown status", pollertest.Step{Obs: poller.Observation{Status: "Weird"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := run(t, []pollertest.Step{tt.step}, poller.Options{})
			var pe *poller.PollError
			require.ErrorAs(t, err, &pe)
			assert.True(t, pe.Final)
		})
	}
}

func TestNewRejectsNilOperation(t *testing.T) {
	_, err := poller.New[result](nil, nil)
	require.Error(t, err)
	_, err = poller.Resume[result](nil, poller.Token{}, nil)
	require.Error(t, err)
}

func TestIsTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"marked transient", poller.Transient(errors.New("x"), 0), true},
		{"marked throttled", poller.Throttled(errors.New("x"), 0), true},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"connection refused", syscall.ECONNREFUSED, true},
		{"response cut short", io.ErrUnexpectedEOF, true},
		{"per-poll timeout", context.DeadlineExceeded, true},
		{"caller canceled", context.Canceled, false},
		{"operation gone", fmt.Errorf("x: %w", poller.ErrOperationNotFound), false},
		{"marked transient but gone", poller.Transient(poller.ErrOperationNotFound, 0), false},
		{"plain error", errors.New("400 bad request"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, poller.IsTransient(tt.err))
		})
	}
	assert.True(t, poller.IsThrottled(fmt.Errorf("w: %w", poller.Throttled(errors.New("429"), time.Second))))
	assert.False(t, poller.IsThrottled(poller.Transient(errors.New("503"), 0)))
	assert.Equal(t, 7*time.Second, poller.RetryAfterOf(fmt.Errorf("w: %w", poller.Transient(errors.New("503"), 7*time.Second))))
	assert.Nil(t, poller.Transient(nil, 0))
	assert.Nil(t, poller.Throttled(nil, 0))
}

func TestTransientHTTPStatus(t *testing.T) {
	for code, want := range map[int]bool{200: false, 400: false, 404: false, 408: true, 409: false, 429: true, 500: true, 501: false, 502: true, 503: true, 504: true, 505: false, 599: true} {
		assert.Equal(t, want, poller.TransientHTTPStatus(code), "%d", code)
	}
}

func TestStatus(t *testing.T) {
	for s, terminal := range map[poller.Status]bool{poller.StatusNotStarted: false, poller.StatusRunning: false, poller.StatusSucceeded: true, poller.StatusFailed: true, poller.StatusCanceled: true, "": false} {
		assert.Equal(t, terminal, s.Terminal(), "%q", s)
	}
	st, ok := poller.ParseStatus("succeeded")
	assert.True(t, ok)
	assert.Equal(t, poller.StatusSucceeded, st)
	_, ok = poller.ParseStatus("done")
	assert.False(t, ok)
}

func TestErrorMessagesNameTheOperationAndItsState(t *testing.T) {
	we := &poller.WaitError{Err: context.DeadlineExceeded, Operation: "azure operation PUT https://h/x", Last: poller.Observation{Status: poller.StatusRunning, Detail: "Creating", Progress: 40}}
	assert.Equal(t, "stopped waiting on azure operation PUT https://h/x (last status Running (Creating) 40%): context deadline exceeded", we.Error())
	we = &poller.WaitError{Err: context.Canceled, Operation: "op"}
	assert.Equal(t, "stopped waiting on op (not yet polled): context canceled", we.Error())
	pe := &poller.PollError{Operation: "op", Err: errors.New("boom")}
	assert.Equal(t, "polling op (permanent): boom", pe.Error())
	pe = &poller.PollError{Operation: "op", Err: errors.New("503"), Transient: true, Attempts: 2}
	assert.Equal(t, "polling op (transient, attempt 2): 503", pe.Error())
	oe := &poller.OperationError{Provider: "gcp", Status: poller.StatusFailed, Err: errors.New("underlying")}
	assert.Equal(t, "gcp operation failed: underlying", oe.Error())
	assert.True(t, strings.HasPrefix((&poller.OperationError{Status: poller.StatusFailed, Code: "X"}).Error(), "operation failed: X"))
	assert.Equal(t, "operation op failed: msg", (&poller.OperationError{Operation: "op", Status: poller.StatusFailed, Message: "msg"}).Error())
	assert.Equal(t, "transient error", (&poller.TransientError{}).Error())
}

func TestACallerDeadlinePassingDuringAPollEndsTheWait(t *testing.T) {
	// The server answers DEADLINE_EXCEEDED just before the context notices.
	op := &deadlineOp{Operation: &pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("x", -1)}}}
	p, err := poller.New[result](op, &poller.Options{Clock: pollertest.NewAutoClock(epoch)})
	require.NoError(t, err)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Millisecond))
	defer cancel()
	_, err = p.Wait(ctx, nil)
	var we *poller.WaitError
	require.ErrorAs(t, err, &we, "a WaitError with a token, not a spent retry budget")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, op.calls)
}

type deadlineOp struct {
	*pollertest.Operation
	calls int
}

func (d *deadlineOp) Poll(ctx context.Context) (poller.Observation, error) {
	d.calls++
	dl, _ := ctx.Deadline()
	time.Sleep(time.Until(dl))
	return poller.Observation{}, poller.Transient(errors.New("rpc error: code = DeadlineExceeded"), 0)
}

func TestOnlyAHintAtOrAboveTheFloorCountsAsHinted(t *testing.T) {
	tests := []struct {
		name string
		obs  poller.Observation
		want bool
	}{
		{"Retry-After: 0", poller.Observation{Status: poller.StatusRunning, Hinted: true}, false},
		{"below the floor", poller.Observation{Status: poller.StatusRunning, RetryAfter: time.Second, Hinted: true}, false},
		{"at the floor", poller.Observation{Status: poller.StatusRunning, RetryAfter: 2 * time.Second}, true},
		{"above the floor", poller.Observation{Status: poller.StatusRunning, RetryAfter: time.Minute, Hinted: true}, true},
		{"no hint", poller.Observation{Status: poller.StatusRunning}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := pollertest.NewClock(epoch)
			op := &pollertest.Operation{Steps: []pollertest.Step{{Obs: tt.obs}}, Clock: clock}
			p, err := poller.New[result](op, &poller.Options{Clock: clock})
			require.NoError(t, err)
			_, err = p.Poll(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tt.want, p.Last().Hinted)
			tok, err := p.Token()
			require.NoError(t, err)
			assert.Equal(t, tt.want, tok.Last.Hinted, "the token keeps the same rule")
		})
	}
}

func TestAWaitThatEndsOnItsDeadlineHandsOffAStillRunningOperation(t *testing.T) {
	steps := repeat(10, pollertest.Hinted(time.Minute))
	_, _, _, err := run(t, steps, poller.Options{
		Deadline: epoch.Add(150 * time.Second),
		Policy:   poller.Policy{Expected: 10 * time.Minute},
	})
	var we *poller.WaitError
	require.ErrorAs(t, err, &we)
	assert.True(t, we.StillRunning())
	assert.Equal(t, 3, we.Polls)
	assert.Equal(t, 150*time.Second, we.Elapsed)
	assert.Equal(t, 450*time.Second, we.Remaining, "the expected duration not yet reached")
	assert.True(t, we.NextPoll.Equal(epoch.Add(180*time.Second)), "the next poll of the same schedule: %v", we.NextPoll)
	tok, err := poller.DecodeToken(we.Token, nil)
	require.NoError(t, err)
	assert.True(t, tok.Next.Equal(we.NextPoll), "the token continues the same schedule")

	_, _, _, err = run(t, []pollertest.Step{pollertest.Running("x", -1)}, poller.Options{Deadline: epoch.Add(time.Second)})
	require.ErrorAs(t, err, &we)
	assert.Zero(t, we.Remaining, "no estimate without an expected duration")
	assert.False(t, (&poller.WaitError{Last: poller.Observation{Status: poller.StatusSucceeded}}).StillRunning())
}

func TestAnUnlimitedRetryBudgetNeverGivesUp(t *testing.T) {
	steps := append(repeat(200, pollertest.Error(poller.Transient(errors.New("503"), 0))), pollertest.Succeeded())
	op, _, res, err := run(t, steps, poller.Options{Policy: poller.Policy{RetryBudget: poller.UnlimitedRetries}})
	require.NoError(t, err)
	assert.Equal(t, "r1", res.ID)
	assert.Equal(t, 201, op.Polls())
}

func TestOnRetryReportsEachRetriedFailure(t *testing.T) {
	clock := pollertest.NewAutoClock(epoch)
	op := &flakyResult{Operation: &pollertest.Operation{Steps: append(repeat(2, pollertest.Error(poller.Transient(errors.New("503"), 0))), pollertest.Succeeded())}, failures: 1}
	p, err := poller.New[result](op, &poller.Options{Clock: clock, Policy: poller.Policy{Jitter: -1}})
	require.NoError(t, err)
	var attempts []int
	var gaps []time.Duration
	_, err = p.Wait(context.Background(), &poller.WaitOptions{OnRetry: func(pe *poller.PollError, at time.Time) {
		attempts = append(attempts, pe.Attempts)
		gaps = append(gaps, at.Sub(clock.Now()))
		assert.True(t, pe.Transient)
		assert.False(t, pe.Final)
	}})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 1}, attempts, "two failed polls, then one failed final request")
	assert.Equal(t, []time.Duration{2 * time.Second, 4 * time.Second, 2 * time.Second}, gaps)
}

package bench

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"cloud.google.com/go/longrunning"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	smithyrand "github.com/aws/smithy-go/rand"
	"github.com/aws/smithy-go/waiter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scripted returns an Env of one operation of duration d started at 0 whose
// server answers with answer (nil: the simulated server).
func scripted(d time.Duration, answer func(now time.Duration, n int) Response) (*Env, *Op) {
	w := &Workload{Spec: WorkloadSpec{Hosts: 1}, Kinds: KindsOf(Wide), Ops: []Op{{Duration: d}}}
	env := newEnv(w, ServerSpec{}, 1)
	if answer != nil {
		env.script = func(op *Op, now time.Duration, n int) Response { return answer(now, n) }
	}
	return env, &w.Ops[0]
}

// pollTimes runs one operation through strategy s and returns when it made
// each request and how its wait ended.
func pollTimes(t *testing.T, s Strategy, d time.Duration, answer func(now time.Duration, n int) Response) ([]time.Duration, uint8) {
	t.Helper()
	env, op := scripted(d, nil)
	var times []time.Duration
	env.script = func(op *Op, now time.Duration, n int) Response {
		times = append(times, now)
		if answer != nil {
			return answer(now, n)
		}
		return Response{Code: 200, Done: now >= op.Completion()}
	}
	drv := s.NewDriver(env)
	drv.Start(op, 0)
	for {
		at, ok := drv.Next()
		if !ok {
			break
		}
		drv.Step(at)
		require.Less(t, len(times), 100_000, "runaway waiter")
	}
	require.NotEqual(t, open, env.endState[op.ID])
	return times, env.endState[op.ID]
}

func gaps(times []time.Duration) []time.Duration {
	var g []time.Duration
	for i := 1; i < len(times); i++ {
		g = append(g, times[i]-times[i-1])
	}
	return g
}

func TestComputeDelayMatchesSmithy(t *testing.T) {
	buf := make([]byte, 1<<16)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	saved := smithyrand.Reader
	t.Cleanup(func() { smithyrand.Reader = saved })
	smithyrand.Reader = bytes.NewReader(buf)
	mine := bytes.NewReader(buf)
	int63n := func(n int64) int64 {
		v, err := smithyrand.Int63n(mine, n)
		require.NoError(t, err)
		return v
	}
	for _, tc := range []struct{ min, max, remaining time.Duration }{
		{30 * time.Second, 120 * time.Second, 4 * time.Hour},
		{30 * time.Second, 120 * time.Second, 100 * time.Second},
		{30 * time.Second, 120 * time.Second, 45 * time.Second},
		{5 * time.Second, 120 * time.Second, time.Hour},
		{15 * time.Second, 15 * time.Second, time.Hour},
		{2 * time.Second, 3600 * time.Second, 10 * time.Hour},
	} {
		for attempt := int64(0); attempt <= 15; attempt++ {
			want, err := waiter.ComputeDelay(attempt, tc.min, tc.max, tc.remaining)
			require.NoError(t, err)
			got, err := computeDelay(attempt, tc.min, tc.max, tc.remaining, int63n)
			require.NoError(t, err)
			assert.Equal(t, want, got, "attempt %d, %+v", attempt, tc)
		}
	}
}

func TestPeerDefaultsMatchTheirSDKs(t *testing.T) {
	var opts cloudformation.StackCreateCompleteWaiterOptions
	cloudformation.NewStackCreateCompleteWaiter(nil, func(o *cloudformation.StackCreateCompleteWaiterOptions) { opts = *o })
	assert.Equal(t, opts.MinDelay, awsMinDelay)
	assert.Equal(t, opts.MaxDelay, awsMaxDelay)
	assert.Equal(t, longrunning.DefaultWaitInterval, gcpWaitInterval)
}

func TestAzcorePollsAtOnceThenEvery30s(t *testing.T) {
	times, end := pollTimes(t, Azcore(), 100*time.Second, nil)
	assert.Equal(t, detected, end)
	assert.Equal(t, []time.Duration{0, 30 * time.Second, 60 * time.Second, 90 * time.Second, 120 * time.Second}, times)
}

func TestAzcoreHonorsPositiveRetryAfterOnly(t *testing.T) {
	tests := []struct {
		name string
		ra   time.Duration
		gap  time.Duration
	}{
		{"Retry-After 7 s", 7 * time.Second, 7 * time.Second},
		{"Retry-After 0 means the frequency", 0, 30 * time.Second},
		{"a long Retry-After has no cap", time.Hour, time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			times, _ := pollTimes(t, Azcore(), 2*tc.gap, func(now time.Duration, n int) Response {
				return Response{Code: 200, Done: now >= 2*tc.gap, RetryAfter: tc.ra, Hinted: true}
			})
			assert.Equal(t, []time.Duration{tc.gap, tc.gap}, gaps(times))
		})
	}
}

func TestAzcoreRetryPolicy(t *testing.T) {
	t.Run("throttled with Retry-After retries after it, four tries then gives up", func(t *testing.T) {
		times, end := pollTimes(t, Azcore(), time.Hour, func(time.Duration, int) Response {
			return Response{Code: 429, RetryAfter: 3 * time.Second, Hinted: true}
		})
		assert.Equal(t, abandoned, end)
		assert.Equal(t, []time.Duration{3 * time.Second, 3 * time.Second, 3 * time.Second}, gaps(times))
	})
	t.Run("a Retry-After above 60 s is not retried", func(t *testing.T) {
		times, end := pollTimes(t, Azcore(), time.Hour, func(time.Duration, int) Response {
			return Response{Code: 429, RetryAfter: 61 * time.Second, Hinted: true}
		})
		assert.Equal(t, abandoned, end)
		assert.Len(t, times, 1)
	})
	t.Run("503 backs off exponentially with jitter", func(t *testing.T) {
		times, end := pollTimes(t, Azcore(), time.Hour, func(time.Duration, int) Response { return Response{Code: 503} })
		assert.Equal(t, abandoned, end)
		g := gaps(times)
		require.Len(t, g, 3)
		for i, d := range g {
			base := time.Duration(1<<(i+1)-1) * azRetryDelay
			assert.GreaterOrEqual(t, d, base*8/10, "try %d", i+1)
			assert.Less(t, d, base*13/10, "try %d", i+1)
		}
	})
	for _, tc := range []struct {
		try  int
		u    float64
		want time.Duration
	}{
		{1, 0, 640 * time.Millisecond}, {1, 0.5, 840 * time.Millisecond}, {3, 0, 4480 * time.Millisecond}, {10, 0.5, 60 * time.Second},
	} {
		assert.Equal(t, tc.want, azcoreRetryDelay(tc.try, tc.u), "try %d u %v", tc.try, tc.u)
	}
}

func TestAWSWaiterSchedule(t *testing.T) {
	times, end := pollTimes(t, AWSWaiter(), time.Hour, nil)
	assert.Equal(t, detected, end)
	g := gaps(times)
	require.Greater(t, len(g), 5)
	assert.Equal(t, time.Duration(0), times[0], "the first DescribeStacks is immediate")
	assert.Equal(t, awsMinDelay, g[0], "attempt 1 waits MinDelay")
	assert.Less(t, g[1], 60*time.Second)
	for _, d := range g[1:] {
		assert.GreaterOrEqual(t, d, awsMinDelay)
		assert.Less(t, d, awsMaxDelay)
	}
}

func TestAWSWaiterRetriesThreeTriesThenGivesUp(t *testing.T) {
	times, end := pollTimes(t, AWSWaiter(), time.Hour, func(time.Duration, int) Response { return Response{Code: 503} })
	assert.Equal(t, abandoned, end)
	require.Len(t, times, awsMaxAttempts)
	g := gaps(times)
	assert.Less(t, g[0], 2*time.Second)
	assert.Less(t, g[1], 4*time.Second)
}

func TestLongrunningUsesGaxFullJitter(t *testing.T) {
	times, end := pollTimes(t, Longrunning(), 2*time.Hour, nil)
	assert.Equal(t, detected, end)
	assert.Equal(t, time.Duration(0), times[0], "Wait polls first")
	cur := time.Second
	for i, d := range gaps(times) {
		assert.Greater(t, d, time.Duration(0))
		assert.LessOrEqual(t, d, cur, "pause %d", i)
		cur = min(2*cur, gcpWaitInterval)
	}
}

func TestLongrunningEndsOnThrottlingAndRetriesUnavailableWithinTheCallTimeout(t *testing.T) {
	_, end := pollTimes(t, Longrunning(), time.Hour, func(time.Duration, int) Response { return Response{Code: 429, RetryAfter: time.Second} })
	assert.Equal(t, abandoned, end)
	times, end := pollTimes(t, Longrunning(), time.Hour, func(time.Duration, int) Response { return Response{Code: 503} })
	assert.Equal(t, abandoned, end)
	assert.Greater(t, len(times), 1)
	assert.LessOrEqual(t, times[len(times)-1], gcpCallTimeout)
}

func TestTerraformDoublesFrom200msTo10s(t *testing.T) {
	times, end := pollTimes(t, Terraform(), 30*time.Second, nil)
	assert.Equal(t, detected, end)
	ms := func(x int) time.Duration { return time.Duration(x) * time.Millisecond }
	assert.Equal(t, []time.Duration{0, ms(200), ms(600), ms(1400), ms(3000), ms(6200), ms(12600), ms(22600), ms(32600)}, times)
	_, end = pollTimes(t, Terraform(), time.Hour, func(time.Duration, int) Response { return Response{Code: 503} })
	assert.Equal(t, abandoned, end, "a Refresh error ends the wait")
}

package loopback

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun_EveryStrategyPollsAndCompletesEveryOperation(t *testing.T) {
	const n, workers = 40, 4
	results, err := Run(context.Background(), Config{
		N: n, Window: time.Second, Warmup: 300 * time.Millisecond, Ramp: 200 * time.Millisecond,
		Settle: 200 * time.Millisecond, Workers: workers,
	})
	require.NoError(t, err)
	require.Len(t, results, len(Strategies))
	for i, r := range results {
		t.Run(r.Strategy, func(t *testing.T) {
			assert.Equal(t, Strategies[i], r.Strategy)
			assert.Positive(t, r.Polls, "polls in the window")
			assert.Equal(t, int64(n), r.Completed, "completed: first error %q", r.Err)
			assert.Zero(t, r.Failed)
			assert.Positive(t, r.SocketsTotal, "the fake saw the client connect")
			assert.GreaterOrEqual(t, r.SocketsTotal, r.SocketsOpened)
			assert.Equal(t, float64(n)*strategies[r.Strategy].nominal, r.Nominal)
			if r.Strategy == Fleet {
				// One socket per worker, plus those net/http dials while a
				// finished request's connection is not yet back in its pool.
				assert.LessOrEqual(t, r.SocketsPeak, int64(2*workers), "the engine's transport keeps about one socket per worker")
				assert.Positive(t, r.TokenPerOp)
			}
		})
	}
}

func TestRun_UnknownStrategyIsAnError(t *testing.T) {
	_, err := Run(context.Background(), Config{N: 1, Strategies: []string{"nope"}})
	require.ErrorContains(t, err, `no strategy "nope"`)
}

func TestFake_AnswersInProgressUntilTheNamedCompletionTime(t *testing.T) {
	f, err := StartFake()
	require.NoError(t, err)
	defer f.Close()
	now := time.Now()
	tests := []struct {
		name      string
		done      time.Time
		body      string
		retryHint string
	}{
		{name: "running", done: now.Add(time.Hour), body: `{"status":"InProgress"}`, retryHint: "1"},
		{name: "completed", done: now.Add(-time.Second), body: `{"status":"Succeeded"}`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get("http://" + f.HTTPAddr() + statusPath + opName("w", i, tt.done))
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.JSONEq(t, tt.body, string(b))
			assert.Equal(t, tt.retryHint, resp.Header.Get("Retry-After"))
		})
	}
	assert.Equal(t, int64(len(tests)), f.Stats().AzurePolls)
}

func TestFake_RefusesNamesItDidNotMake(t *testing.T) {
	f, err := StartFake()
	require.NoError(t, err)
	defer f.Close()
	for _, path := range []string{statusPath + "nodash", statusPath + "w1-notanumber", widgetsPath + "x"} {
		resp, err := http.Get("http://" + f.HTTPAddr() + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	assert.Zero(t, f.Stats().AzurePolls)
}

func TestOpName_CarriesItsCompletionTime(t *testing.T) {
	done := time.UnixMilli(1_760_000_000_123)
	got, ok := doneAt(opName("operations/", 7, done))
	require.True(t, ok)
	assert.True(t, got.Equal(done), got)
}

func FuzzDoneAt(f *testing.F) {
	f.Add("w1-" + strconv.FormatInt(time.Now().UnixMilli(), 10))
	f.Add("-")
	f.Add("operations/x-99999999999999999999")
	f.Fuzz(func(t *testing.T, name string) {
		_, _ = doneAt(name)
	})
}

package azure_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/persist"
)

// cannedTransport answers every request with a fresh in-progress status
// (Retry-After: 1), in process: no socket, no goroutine, so allocation
// counts are exact. Its own allocations are the same for every client.
type cannedTransport struct{}

func (cannedTransport) Do(req *http.Request) (*http.Response, error) {
	const body = `{"status":"InProgress"}`
	return &http.Response{StatusCode: 200, Request: req, ContentLength: int64(len(body)),
		Header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"1"}},
		Body:   io.NopCloser(strings.NewReader(body))}, nil
}

const allocStatusURL = "https://management.azure.com/providers/Microsoft.Test/locations/l/operationStatuses/o?api-version=2024-01-01"

func cannedStart(t *testing.T) *http.Response {
	req, err := http.NewRequest(http.MethodPut, "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.Test/widgets/w?api-version=2024-01-01", nil)
	require.NoError(t, err)
	resp := &http.Response{StatusCode: 201, Request: req, Header: http.Header{},
		Body: io.NopCloser(strings.NewReader(`{"properties":{"provisioningState":"Creating"}}`))}
	resp.Header.Set("Azure-AsyncOperation", allocStatusURL)
	resp.Header.Set("Content-Type", "application/json")
	return resp
}

// TestPollAllocs guards the Azure path's cost per poll, against the bare
// pipeline and azcore's own poller on the same pipeline (issue 17:
// lrokit's own overhead at most 10 allocations, and no more than azcore's
// poller). Allocation counts are deterministic; nothing here is timed.
func TestPollAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not exact under the race detector (sync.Pool drops items)")
	}
	ctx := context.Background()
	pl := runtime.NewPipeline("alloctest", "v1.0.0", runtime.PipelineOptions{}, &policy.ClientOptions{Transport: cannedTransport{}})

	rctx := policy.WithRetryOptions(ctx, policy.RetryOptions{MaxRetries: -1})
	bare := testing.AllocsPerRun(200, func() {
		req, _ := runtime.NewRequest(rctx, http.MethodGet, allocStatusURL)
		resp, err := pl.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	})

	az, err := runtime.NewPoller[widget](cannedStart(t), pl, nil)
	require.NoError(t, err)
	_, err = az.Poll(ctx)
	require.NoError(t, err)
	require.False(t, az.Done())
	azcore := testing.AllocsPerRun(200, func() {
		if resp, err := az.Poll(ctx); err == nil {
			_ = resp.Body.Close()
		}
	})

	p, err := azure.NewPoller[json.RawMessage](cannedStart(t), pl, nil)
	require.NoError(t, err)
	obs, err := p.Poll(ctx)
	require.NoError(t, err)
	require.Equal(t, "InProgress", obs.Detail)
	lrokit := testing.AllocsPerRun(200, func() { _, _ = p.Poll(ctx) })

	tr, err := persist.Track(ctx, persist.NewMemoryStore(nil), "op", p, nil)
	require.NoError(t, err)
	saved := testing.AllocsPerRun(200, func() {
		obs, _ := p.Poll(ctx)
		tr.OnPoll(obs)
	})
	require.NoError(t, tr.Err())

	t.Logf("allocations per poll: pipeline %v, azcore poller %v, lrokit %v, lrokit with save %v", bare, azcore, lrokit, saved)
	assert.LessOrEqual(t, lrokit-bare, 10.0, "lrokit's own allocations per poll")
	assert.LessOrEqual(t, lrokit, azcore, "lrokit against azcore's poller on the same pipeline")
	assert.LessOrEqual(t, saved-lrokit, 3.0, "a save that only moves the schedule is skipped")
}

package gcp

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/googleapi"

	"github.com/lrokit/lrokit/lrotest/gcpfake"
	"github.com/lrokit/lrokit/poller"
)

// waitForCompute adopts a Compute operation, polls it handover times, then
// — when resumed — hands its token to a new service, and waits.
func waitForCompute(t *testing.T, e *computeEnv, project, scope, name string, handover int, resumed bool, opts *Options) (*compute.Operation, []poller.Observation, error) {
	t.Helper()
	ctx := context.Background()
	p, err := AdoptCompute(project, scope, name, e.service(), opts)
	require.NoError(t, err)
	var obs []poller.Observation
	for range handover {
		o, err := p.Poll(ctx)
		require.NoError(t, err)
		obs = append(obs, o)
	}
	if resumed {
		tok, err := p.ResumeToken()
		require.NoError(t, err)
		p, err = ResumeCompute(tok, e.service(), opts)
		require.NoError(t, err)
		require.Equal(t, handover, p.Polls())
	}
	res, err := p.Wait(ctx, &poller.WaitOptions{OnPoll: func(o poller.Observation) { obs = append(obs, o) }})
	return res, obs, err
}

func TestComputeScenarios(t *testing.T) {
	const project, name = "my-project", "operation-1700000000000-abc"
	scopes := []string{"zones/us-central1-a", "regions/us-central1", "global"}
	tests := []struct {
		name     string
		steps    []gcpfake.ComputeStep
		handover int
		check    func(t *testing.T, e *computeEnv, scope string, res *compute.Operation, err error, obs []seen)
	}{
		{
			name: "goes PENDING, RUNNING with progress, DONE",
			steps: []gcpfake.ComputeStep{gcpfake.ComputePending(), gcpfake.ComputeRunning(30), gcpfake.ComputeRunning(70),
				gcpfake.ComputeDone()},
			handover: 2,
			check: func(t *testing.T, _ *computeEnv, scope string, res *compute.Operation, err error, obs []seen) {
				require.NoError(t, err)
				assert.Equal(t, "DONE", res.Status)
				assert.Equal(t, name, res.Name)
				assert.Contains(t, res.SelfLink, scope+"/operations/"+name)
				assert.Equal(t, []seen{
					{poller.StatusNotStarted, "PENDING", 0},
					{poller.StatusRunning, "RUNNING", 30},
					{poller.StatusRunning, "RUNNING", 70},
					{poller.StatusSucceeded, "DONE", 100},
				}, obs)
			},
		},
		{
			name: "DONE with error.errors fails even without httpErrorStatusCode",
			steps: []gcpfake.ComputeStep{gcpfake.ComputeRunning(10), gcpfake.ComputeFailed(0,
				&compute.OperationErrorErrors{Code: "QUOTA_EXCEEDED", Message: "Quota 'CPUS' exceeded."},
				&compute.OperationErrorErrors{Code: "RESOURCE_NOT_READY", Message: "disk not ready"})},
			handover: 1,
			check: func(t *testing.T, _ *computeEnv, _ string, _ *compute.Operation, err error, obs []seen) {
				var oe *poller.OperationError
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, poller.StatusFailed, oe.Status)
				assert.Equal(t, "QUOTA_EXCEEDED", oe.Code)
				assert.Equal(t, "Quota 'CPUS' exceeded. (and 1 more)", oe.Message)
				var ce *ComputeError
				require.ErrorAs(t, err, &ce)
				require.Len(t, ce.Errors, 2)
				assert.Equal(t, "RESOURCE_NOT_READY", ce.Errors[1].Code)
				assert.Zero(t, ce.HTTPStatusCode)
				assert.Contains(t, ce.Error(), "QUOTA_EXCEEDED: Quota 'CPUS' exceeded.; RESOURCE_NOT_READY")
				assert.Contains(t, string(oe.Raw), "RESOURCE_NOT_READY")
				assert.Equal(t, poller.StatusFailed, obs[len(obs)-1].Status)
			},
		},
		{
			name:     "DONE with only httpErrorStatusCode fails",
			steps:    []gcpfake.ComputeStep{gcpfake.ComputeRunning(10), gcpfake.ComputeFailed(409)},
			handover: 1,
			check: func(t *testing.T, _ *computeEnv, _ string, _ *compute.Operation, err error, _ []seen) {
				var oe *poller.OperationError
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, "HTTP_409", oe.Code)
				assert.Equal(t, "Conflict", oe.Message)
				var ce *ComputeError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, "compute operation error (HTTP 409): Conflict", ce.Error())
			},
		},
		{
			name:     "an expired operation is ErrOperationNotFound",
			steps:    []gcpfake.ComputeStep{gcpfake.ComputeRunning(10), gcpfake.ComputeExpired()},
			handover: 1,
			check: func(t *testing.T, _ *computeEnv, _ string, _ *compute.Operation, err error, _ []seen) {
				require.ErrorIs(t, err, poller.ErrOperationNotFound)
			},
		},
		{
			name: "rides out 429 and 503 honoring Retry-After",
			steps: []gcpfake.ComputeStep{gcpfake.ComputeRunning(10), gcpfake.ComputeFault(http.StatusTooManyRequests, "20"),
				gcpfake.ComputeFault(http.StatusServiceUnavailable, "7"),
				{HTTPStatus: http.StatusForbidden, Message: "Rate Limit Exceeded", Reason: "rateLimitExceeded", RetryAfter: "3"},
				gcpfake.ComputeDone()},
			handover: 1,
			check: func(t *testing.T, e *computeEnv, _ string, res *compute.Operation, err error, _ []seen) {
				require.NoError(t, err)
				assert.Equal(t, "DONE", res.Status)
				assert.GreaterOrEqual(t, e.clock.Since(epoch), 30*time.Second)
			},
		},
		{
			name:     "a 403 that is not rate limiting is permanent",
			steps:    []gcpfake.ComputeStep{gcpfake.ComputeRunning(10), {HTTPStatus: http.StatusForbidden, Message: "denied", Reason: "forbidden"}},
			handover: 1,
			check: func(t *testing.T, _ *computeEnv, _ string, _ *compute.Operation, err error, _ []seen) {
				var pe *poller.PollError
				require.ErrorAs(t, err, &pe)
				assert.True(t, pe.Final)
				assert.False(t, pe.Transient)
			},
		},
	}
	for _, tt := range tests {
		for _, scope := range scopes {
			for _, resumed := range []bool{false, true} {
				mode := "in one process"
				if resumed {
					mode = "resumed into a new service"
				}
				t.Run(tt.name+"/"+scope+"/"+mode, func(t *testing.T) {
					e := newComputeEnv(t)
					e.fake.Add(project, scope, name, tt.steps...)
					res, obs, err := waitForCompute(t, e, project, scope, name, tt.handover, resumed, e.opts())
					tt.check(t, e, scope, res, err, seenOf(obs))
				})
			}
		}
	}
}

func TestNewComputePollerReadsTheReturnedOperation(t *testing.T) {
	ctx := context.Background()
	for _, scope := range []string{"zones/europe-west1-b", "regions/europe-west1", "global"} {
		t.Run(scope, func(t *testing.T) {
			e := newComputeEnv(t)
			e.fake.Add("p1", scope, "op-1", gcpfake.ComputeRunning(50), gcpfake.ComputeDone())
			initial := e.fake.Initial("p1", scope, "op-1")
			initial.StartTime = epoch.Add(-time.Minute).Format(time.RFC3339)
			p, err := NewComputePoller(initial, e.service(), "", e.opts())
			require.NoError(t, err)
			assert.Equal(t, epoch.Add(-time.Minute), p.Created(), "the schedule counts from startTime")
			assert.Equal(t, "projects/p1/"+scope+"/operations/op-1", p.Operation().(poller.Namer).Name())
			assert.Same(t, initial, LastComputeOperation(p))
			res, err := p.Wait(ctx, nil)
			require.NoError(t, err)
			assert.Equal(t, "DONE", res.Status)
			assert.Equal(t, 2, e.fake.Gets("p1", scope, "op-1"))
			assert.Equal(t, "DONE", LastComputeOperation(p).Status)
		})
	}
	t.Run("a DONE operation needs no round trip", func(t *testing.T) {
		e := newComputeEnv(t)
		done := &compute.Operation{Name: "op-2", Status: "DONE", Zone: "https://www.googleapis.com/compute/v1/projects/p/zones/z1"}
		p, err := NewComputePoller(done, e.service(), "p", e.opts())
		require.NoError(t, err)
		res, err := p.Wait(ctx, nil)
		require.NoError(t, err)
		assert.Same(t, done, res)
	})
	t.Run("refuses bad input", func(t *testing.T) {
		e := newComputeEnv(t)
		_, err := NewComputePoller(nil, e.service(), "p", nil)
		assert.Error(t, err)
		_, err = NewComputePoller(&compute.Operation{Name: "op"}, e.service(), "", nil)
		assert.ErrorContains(t, err, "project is empty")
		_, err = NewComputePoller(&compute.Operation{Name: "op"}, nil, "p", nil)
		assert.ErrorContains(t, err, "nil compute Service")
		_, err = AdoptCompute("p", "zones/", "op", e.service(), nil)
		assert.ErrorContains(t, err, "scope")
		_, err = AdoptCompute("p", "global", "op/../x", e.service(), nil)
		assert.ErrorContains(t, err, "character")
	})
}

func TestParseScope(t *testing.T) {
	tests := []struct {
		in           string
		zone, region string
		ok           bool
	}{
		{"zones/us-central1-a", "us-central1-a", "", true},
		{"regions/us-central1", "", "us-central1", true},
		{"global", "", "", true},
		{"/global/", "", "", true},
		{"https://www.googleapis.com/compute/v1/projects/p/zones/us-east1-b", "us-east1-b", "", true},
		{"https://www.googleapis.com/compute/v1/projects/p/regions/us-east1", "", "us-east1", true},
		{"projects/p/global", "", "", true},
		{"", "", "", false},
		{"zones", "", "", false},
		{"zones/a/operations/b", "", "", false},
		{"us-central1-a", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			zone, region, err := parseScope(tt.in)
			if !tt.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.zone, zone)
			assert.Equal(t, tt.region, region)
		})
	}
}

func TestObserveCompute(t *testing.T) {
	tests := []struct {
		name string
		op   compute.Operation
		want seen
	}{
		{"an unknown status keeps polling", compute.Operation{Status: "SUSPENDING", Progress: 20}, seen{poller.StatusRunning, "SUSPENDING", 20}},
		{"progress is clamped", compute.Operation{Status: "RUNNING", Progress: 250}, seen{poller.StatusRunning, "RUNNING", 100}},
		{"an empty error list is success", compute.Operation{Status: "DONE", Error: &compute.OperationError{}}, seen{poller.StatusSucceeded, "DONE", 100}},
		{"a 2xx httpErrorStatusCode is success", compute.Operation{Status: "DONE", HttpErrorStatusCode: 200}, seen{poller.StatusSucceeded, "DONE", 100}},
		{"nil error entries do not panic", compute.Operation{Status: "DONE", Error: &compute.OperationError{Errors: []*compute.OperationErrorErrors{nil}}}, seen{poller.StatusFailed, "DONE", 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := observeCompute(&tt.op)
			assert.Equal(t, tt.want, seenOf([]poller.Observation{obs})[0])
			if obs.Status == poller.StatusFailed {
				assert.NotEmpty(t, obs.Err.Error())
			}
		})
	}
}

func TestComputeResultBeforeDone(t *testing.T) {
	o := &computeOperation{state: computeState{Project: "p", Name: "n"}}
	var out *compute.Operation
	require.ErrorIs(t, o.Result(context.Background(), &out), poller.ErrNotDone)
	var wrong string
	require.Error(t, o.Result(context.Background(), &wrong))
}

func TestComputeErrorBodyCarriesRetryInfo(t *testing.T) {
	body, err := json.Marshal(map[string]any{"error": map[string]any{
		"code": 503, "message": "busy", "status": "UNAVAILABLE",
		"details": []map[string]any{{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}},
	}})
	require.NoError(t, err)
	herr := &googleapi.Error{Code: 503, Message: "busy", Body: string(body), Header: http.Header{}}
	got := classify(herr, epoch)
	assert.True(t, poller.IsTransient(got))
	assert.Equal(t, 12*time.Second, poller.RetryAfterOf(got))
}

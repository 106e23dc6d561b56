package gcp

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/lrokit/lrokit/lrotest/gcpfake"
	"github.com/lrokit/lrokit/poller"
)

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	require.NoError(t, err)
	return s
}

// waitFor adopts the operation name, polls it handover times on a first
// client, then — when resumed — stores the token, closes that client and
// resumes on a new one, as a later CI job would; then it calls before (if
// set) and waits. It returns the result, the error and every observation.
func waitFor[T proto.Message](t *testing.T, e *env, name string, handover int, resumed bool, opts *Options, before func(*poller.Poller[T])) (T, []poller.Observation, error) {
	t.Helper()
	ctx := context.Background()
	first := e.client()
	p, err := FromName[T](name, first, opts)
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
		require.NoError(t, first.Close())
		p, err = Resume[T](tok, e.client(), opts)
		require.NoError(t, err)
		require.Equal(t, handover, p.Polls(), "the resumed poller counts the polls made before")
	}
	if before != nil {
		before(p)
	}
	res, err := p.Wait(ctx, &poller.WaitOptions{OnPoll: func(o poller.Observation) { obs = append(obs, o) }})
	return res, obs, err
}

func TestLongrunningScenarios(t *testing.T) {
	const name = "projects/p/locations/us-central1/operations/op-1"
	tests := []struct {
		name     string
		steps    func(t *testing.T) []gcpfake.Step
		opts     func(*Options)
		handover int
		before   func(t *testing.T, p *poller.Poller[*anypb.Any])
		check    func(t *testing.T, e *env, res *anypb.Any, err error, obs []seen)
	}{
		{
			name: "succeeds with the response left packed in an Any",
			steps: func(t *testing.T) []gcpfake.Step {
				return []gcpfake.Step{gcpfake.Running(nil), gcpfake.Running(nil), gcpfake.Succeeded(durationpb.New(5 * time.Second))}
			},
			handover: 1,
			check: func(t *testing.T, _ *env, res *anypb.Any, err error, obs []seen) {
				require.NoError(t, err)
				var d durationpb.Duration
				require.NoError(t, res.UnmarshalTo(&d))
				assert.Equal(t, 5*time.Second, d.AsDuration())
				assert.Equal(t, []seen{{poller.StatusRunning, "", -1}, {poller.StatusRunning, "", -1}, {poller.StatusSucceeded, "", 100}}, obs)
			},
		},
		{
			name: "takes progress and state from Struct metadata in both JSON spellings",
			steps: func(t *testing.T) []gcpfake.Step {
				return []gcpfake.Step{
					gcpfake.Running(mustStruct(t, map[string]any{"state": "CREATING", "progressPercent": 10})),
					gcpfake.Running(mustStruct(t, map[string]any{"state": "FINALIZING", "progress_percent": "55"})),
					{Done: true, Metadata: mustStruct(t, map[string]any{"state": "DONE", "progressPercent": 100}), Response: &emptypb.Empty{}},
				}
			},
			handover: 1,
			check: func(t *testing.T, _ *env, res *anypb.Any, err error, obs []seen) {
				require.NoError(t, err)
				assert.Equal(t, "google.protobuf.Empty", string(res.MessageName()))
				assert.Equal(t, []seen{
					{poller.StatusRunning, "CREATING", 10},
					{poller.StatusRunning, "FINALIZING", 55},
					{poller.StatusSucceeded, "DONE", 100},
				}, obs)
			},
		},
		{
			name: "takes progress and state from a typed metadata message with an enum and nested progress",
			steps: func(t *testing.T) []gcpfake.Step {
				return []gcpfake.Step{
					gcpfake.Running(clusterMetadata(1, -1, epoch)),
					gcpfake.Running(clusterMetadata(2, 40, epoch)),
					gcpfake.Running(clusterMetadata(2, 90, epoch)),
					gcpfake.Succeeded(&emptypb.Empty{}),
				}
			},
			handover: 2,
			check: func(t *testing.T, _ *env, _ *anypb.Any, err error, obs []seen) {
				require.NoError(t, err)
				assert.Equal(t, []seen{
					{poller.StatusRunning, "PROVISIONING", -1},
					{poller.StatusRunning, "RECONCILING", 40},
					{poller.StatusRunning, "RECONCILING", 90},
					{poller.StatusSucceeded, "", 100},
				}, obs)
			},
		},
		{
			name: "fails with the google.rpc.Status, its code name, message and ErrorInfo",
			steps: func(t *testing.T) []gcpfake.Step {
				return []gcpfake.Step{gcpfake.Running(nil), gcpfake.Failed(codes.PermissionDenied, "caller lacks compute.instances.create",
					&errdetails.ErrorInfo{Reason: "IAM_PERMISSION_DENIED", Domain: "iam.googleapis.com"})}
			},
			handover: 1,
			check: func(t *testing.T, _ *env, _ *anypb.Any, err error, obs []seen) {
				var oe *poller.OperationError
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, poller.StatusFailed, oe.Status)
				assert.Equal(t, "gcp", oe.Provider)
				assert.Equal(t, "PERMISSION_DENIED", oe.Code)
				assert.Equal(t, "caller lacks compute.instances.create", oe.Message)
				assert.Contains(t, string(oe.Raw), "IAM_PERMISSION_DENIED")
				var ae *apierror.APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, "IAM_PERMISSION_DENIED", ae.Reason())
				assert.Equal(t, codes.PermissionDenied, status.Code(err))
				assert.Equal(t, poller.StatusFailed, obs[len(obs)-1].Status)
				assert.Contains(t, err.Error(), "op-1")
			},
		},
		{
			name: "reports an error status of code 0 as an UNKNOWN failure, without a nil error",
			steps: func(t *testing.T) []gcpfake.Step {
				return []gcpfake.Step{gcpfake.Running(nil), gcpfake.Failed(codes.OK, "quota check half done")}
			},
			handover: 1,
			check: func(t *testing.T, _ *env, _ *anypb.Any, err error, _ []seen) {
				var oe *poller.OperationError
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, poller.StatusFailed, oe.Status)
				assert.Equal(t, "UNKNOWN", oe.Code)
				assert.Equal(t, "quota check half done", oe.Message)
				require.NotNil(t, oe.Err)
				assert.Equal(t, codes.Unknown, status.Code(err))
				assert.JSONEq(t, `{"message":"quota check half done"}`, string(oe.Raw), "Raw keeps the status as sent")
			},
		},
		{
			name: "reports an expired operation as ErrOperationNotFound",
			steps: func(t *testing.T) []gcpfake.Step {
				return []gcpfake.Step{gcpfake.Running(nil), gcpfake.Running(nil), gcpfake.Expired()}
			},
			handover: 2,
			check: func(t *testing.T, _ *env, _ *anypb.Any, err error, _ []seen) {
				require.ErrorIs(t, err, poller.ErrOperationNotFound)
				var pe *poller.PollError
				require.ErrorAs(t, err, &pe)
				assert.True(t, pe.Final)
				assert.False(t, pe.Transient)
			},
		},
		{
			name: "rides out a transient storm, waiting as long as RetryInfo asks",
			steps: func(t *testing.T) []gcpfake.Step {
				return []gcpfake.Step{
					gcpfake.Running(nil),
					gcpfake.Fault(codes.Unavailable, "backend restarting", 7*time.Second),
					gcpfake.Fault(codes.ResourceExhausted, "read quota", 9*time.Second),
					gcpfake.Fault(codes.Internal, "oops", 0),
					gcpfake.Fault(codes.Aborted, "conflict", 0),
					gcpfake.Fault(codes.DeadlineExceeded, "slow backend", 0),
					gcpfake.Succeeded(&emptypb.Empty{}),
				}
			},
			handover: 1,
			check: func(t *testing.T, e *env, _ *anypb.Any, err error, obs []seen) {
				require.NoError(t, err)
				assert.Equal(t, poller.StatusSucceeded, obs[len(obs)-1].Status)
				assert.Equal(t, 7, e.fake.Gets("projects/p/locations/us-central1/operations/op-1"))
				assert.GreaterOrEqual(t, e.clock.Since(epoch), 16*time.Second, "both hints were waited out")
			},
		},
		{
			name: "gives up when a storm outlasts the retry budget",
			steps: func(t *testing.T) []gcpfake.Step {
				return []gcpfake.Step{gcpfake.Running(nil), gcpfake.Fault(codes.Unavailable, "down", time.Second)}
			},
			opts:     func(o *Options) { o.Policy.RetryBudget = 3 },
			handover: 1,
			check: func(t *testing.T, e *env, _ *anypb.Any, err error, _ []seen) {
				var pe *poller.PollError
				require.ErrorAs(t, err, &pe)
				assert.True(t, pe.Final)
				assert.True(t, pe.Transient)
				assert.Equal(t, 4, pe.Attempts)
				assert.Equal(t, codes.Unavailable, status.Code(err))
			},
		},
		{
			name: "cancels with CancelOperation and ends Canceled",
			steps: func(t *testing.T) []gcpfake.Step {
				return []gcpfake.Step{gcpfake.Running(nil)}
			},
			handover: 1,
			before: func(t *testing.T, p *poller.Poller[*anypb.Any]) {
				require.NoError(t, p.Cancel(context.Background()))
			},
			check: func(t *testing.T, e *env, _ *anypb.Any, err error, obs []seen) {
				var oe *poller.OperationError
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, poller.StatusCanceled, oe.Status)
				assert.Equal(t, "CANCELLED", oe.Code)
				assert.Equal(t, 1, e.fake.Cancels("projects/p/locations/us-central1/operations/op-1"))
				assert.Equal(t, poller.StatusCanceled, obs[len(obs)-1].Status)
			},
		},
		{
			name: "bounds a hanging poll by the per-poll timeout and polls again",
			steps: func(t *testing.T) []gcpfake.Step {
				return []gcpfake.Step{gcpfake.Running(nil), gcpfake.Slow(-1, gcpfake.Running(nil)), gcpfake.Succeeded(&emptypb.Empty{})}
			},
			opts:     func(o *Options) { o.PollTimeout = 50 * time.Millisecond },
			handover: 1,
			check: func(t *testing.T, e *env, _ *anypb.Any, err error, obs []seen) {
				require.NoError(t, err)
				assert.Equal(t, 3, e.fake.Gets("projects/p/locations/us-central1/operations/op-1"))
				assert.Len(t, obs, 2, "the hung poll observed nothing")
			},
		},
	}
	for _, tt := range tests {
		for _, resumed := range []bool{false, true} {
			mode := "in one process"
			if resumed {
				mode = "resumed into a new client"
			}
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				e := newEnv(t)
				e.fake.Add(name, tt.steps(t)...)
				opts := e.opts()
				if tt.opts != nil {
					tt.opts(opts)
				}
				var before func(*poller.Poller[*anypb.Any])
				if tt.before != nil {
					before = func(p *poller.Poller[*anypb.Any]) { tt.before(t, p) }
				}
				res, obs, err := waitFor[*anypb.Any](t, e, name, tt.handover, resumed, opts, before)
				tt.check(t, e, res, err, seenOf(obs))
			})
		}
	}
}

func TestResultUnpacksIntoT(t *testing.T) {
	const name = "operations/typed"
	for _, resumed := range []bool{false, true} {
		t.Run(map[bool]string{false: "in one process", true: "resumed into a new client"}[resumed], func(t *testing.T) {
			testResultUnpacksIntoT(t, name, resumed)
		})
	}
}

func testResultUnpacksIntoT(t *testing.T, name string, resumed bool) {
	{
		t.Run("Empty", func(t *testing.T) {
			e := newEnv(t)
			e.fake.Add(name, gcpfake.Running(nil), gcpfake.Succeeded(&emptypb.Empty{}))
			res, _, err := waitFor[*emptypb.Empty](t, e, name, 1, resumed, e.opts(), nil)
			require.NoError(t, err)
			assert.NotNil(t, res)
		})
		t.Run("Struct", func(t *testing.T) {
			e := newEnv(t)
			e.fake.Add(name, gcpfake.Running(nil), gcpfake.Succeeded(mustStruct(t, map[string]any{"cluster": "c1"})))
			res, _, err := waitFor[*structpb.Struct](t, e, name, 1, resumed, e.opts(), nil)
			require.NoError(t, err)
			assert.Equal(t, "c1", res.GetFields()["cluster"].GetStringValue())
		})
		t.Run("Duration", func(t *testing.T) {
			e := newEnv(t)
			e.fake.Add(name, gcpfake.Running(nil), gcpfake.Succeeded(durationpb.New(time.Minute)))
			res, _, err := waitFor[*durationpb.Duration](t, e, name, 1, resumed, e.opts(), nil)
			require.NoError(t, err)
			assert.Equal(t, time.Minute, res.AsDuration())
		})
		t.Run("any linked type through proto.Message", func(t *testing.T) {
			e := newEnv(t)
			e.fake.Add(name, gcpfake.Running(nil), gcpfake.Succeeded(durationpb.New(time.Minute)))
			res, _, err := waitFor[proto.Message](t, e, name, 1, resumed, e.opts(), nil)
			require.NoError(t, err)
			assert.Equal(t, time.Minute, res.(*durationpb.Duration).AsDuration())
		})
		t.Run("no response gives an empty T", func(t *testing.T) {
			e := newEnv(t)
			e.fake.Add(name, gcpfake.Running(nil), gcpfake.Succeeded(nil))
			res, _, err := waitFor[*structpb.Struct](t, e, name, 1, resumed, e.opts(), nil)
			require.NoError(t, err)
			require.NotNil(t, res)
			assert.Empty(t, res.GetFields())
		})
		t.Run("a type mismatch names both types", func(t *testing.T) {
			e := newEnv(t)
			e.fake.Add(name, gcpfake.Running(nil), gcpfake.Succeeded(durationpb.New(time.Minute)))
			_, _, err := waitFor[*emptypb.Empty](t, e, name, 1, resumed, e.opts(), nil)
			require.ErrorIs(t, err, ErrTypeMismatch)
			assert.Contains(t, err.Error(), "google.protobuf.Duration")
			assert.Contains(t, err.Error(), "google.protobuf.Empty")
		})
	}
}

func TestNewPollerStartsFromTheReturnedOperation(t *testing.T) {
	ctx := context.Background()
	t.Run("a done operation needs no round trip", func(t *testing.T) {
		e := newEnv(t)
		op := &longrunningpb.Operation{Name: "operations/done", Done: true,
			Result: &longrunningpb.Operation_Response{Response: mustAnyT(t, durationpb.New(time.Second))}}
		p, err := NewPoller[*durationpb.Duration](op, e.client(), e.opts())
		require.NoError(t, err)
		require.True(t, p.Done())
		res, err := p.Wait(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, time.Second, res.AsDuration())
		assert.Zero(t, e.fake.Gets("operations/done"))
	})
	t.Run("a running operation is polled later, on a schedule from its create time", func(t *testing.T) {
		e := newEnv(t)
		started := epoch.Add(-10 * time.Minute)
		e.fake.Add("operations/run", gcpfake.Running(clusterMetadata(1, 5, started)), gcpfake.Succeeded(&emptypb.Empty{}))
		p, err := NewPoller[*emptypb.Empty](e.fake.Initial("operations/run"), e.client(), e.opts())
		require.NoError(t, err)
		assert.Equal(t, started, p.Created())
		assert.Equal(t, seen{poller.StatusRunning, "PROVISIONING", 5}, seenOf([]poller.Observation{p.Last()})[0])
		assert.True(t, p.NextPollAt().After(epoch), "no poll right after the start call")
		_, err = p.Wait(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, 2, e.fake.Gets("operations/run"), "Initial consumed no step")
	})
	t.Run("a failed operation reports its error at once", func(t *testing.T) {
		e := newEnv(t)
		op := &longrunningpb.Operation{Name: "operations/failed", Done: true,
			Result: &longrunningpb.Operation_Error{Error: nil}}
		p, err := NewPoller[*emptypb.Empty](op, e.client(), e.opts())
		require.NoError(t, err)
		_, err = p.Wait(ctx, nil)
		var oe *poller.OperationError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "UNKNOWN", oe.Code)
		assert.NotEmpty(t, oe.Message)
	})
}

func mustAnyT(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	require.NoError(t, err)
	return a
}

func TestConstructorsRefuseBadInput(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	_, err := NewPoller[*emptypb.Empty](nil, c, nil)
	assert.Error(t, err)
	_, err = NewPoller[*emptypb.Empty](&longrunningpb.Operation{}, c, nil)
	assert.ErrorContains(t, err, "name is empty")
	_, err = FromName[*emptypb.Empty]("operations/x", nil, nil)
	assert.ErrorContains(t, err, "nil OperationsClient")
	_, err = FromName[*emptypb.Empty]("operations/with space", c, nil)
	assert.ErrorContains(t, err, "spaces")
	_, err = FromName[*emptypb.Empty](strings.Repeat("a", maxNameLen+1), c, nil)
	assert.ErrorContains(t, err, "longer")
	_, err = FromName[*emptypb.Empty]("operations/x", c, &Options{Endpoint: "https://user@host/"})
	assert.ErrorContains(t, err, "user info")
}

func TestRetryInfoIsTheNextDelay(t *testing.T) {
	tests := []struct {
		name      string
		fault     gcpfake.Step
		wantDelay time.Duration
		throttled bool
	}{
		{"UNAVAILABLE with RetryInfo", gcpfake.Fault(codes.Unavailable, "x", 7*time.Second), 7 * time.Second, false},
		{"RESOURCE_EXHAUSTED with RetryInfo", gcpfake.Fault(codes.ResourceExhausted, "x", 42*time.Second), 42 * time.Second, true},
		{"a hint above the ceiling is capped", gcpfake.Fault(codes.Unavailable, "x", time.Hour), poller.DefaultHintCeiling, false},
		{"a hint below the floor is raised to it", gcpfake.Fault(codes.Aborted, "x", 100*time.Millisecond), time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.fake.Add("operations/storm", tt.fault)
			p, err := FromName[*emptypb.Empty]("operations/storm", e.client(), e.opts(func(o *Options) { o.Policy.Jitter = -1 }))
			require.NoError(t, err)
			_, err = p.Poll(context.Background())
			var pe *poller.PollError
			require.ErrorAs(t, err, &pe)
			assert.True(t, pe.Transient)
			assert.False(t, pe.Final)
			assert.Equal(t, tt.throttled, poller.IsThrottled(err))
			assert.Equal(t, tt.wantDelay, p.NextPollAt().Sub(e.clock.Now()))
		})
	}
}

func TestPermanentRPCErrorsStopTheWait(t *testing.T) {
	for _, code := range []codes.Code{codes.PermissionDenied, codes.InvalidArgument, codes.Unauthenticated} {
		t.Run(code.String(), func(t *testing.T) {
			e := newEnv(t)
			e.fake.Add("operations/denied", gcpfake.Fault(code, "no", time.Second))
			p, err := FromName[*emptypb.Empty]("operations/denied", e.client(), e.opts())
			require.NoError(t, err)
			_, err = p.Wait(context.Background(), nil)
			var pe *poller.PollError
			require.ErrorAs(t, err, &pe)
			assert.True(t, pe.Final)
			assert.False(t, pe.Transient)
			assert.Equal(t, 1, e.fake.Gets("operations/denied"))
		})
	}
}

func TestPollTimeoutBoundsEachCall(t *testing.T) {
	tests := []struct {
		name        string
		pollTimeout time.Duration
		ctxTimeout  time.Duration
		lo, hi      time.Duration
	}{
		{"the default bounds a poll within an hour-long wait", 0, time.Hour, DefaultPollTimeout - 5*time.Second, DefaultPollTimeout},
		{"a caller's timeout bounds a poll", 5 * time.Second, time.Hour, 4 * time.Second, 5 * time.Second},
		{"a shorter wait bounds the poll", 0, 3 * time.Second, 2 * time.Second, 3 * time.Second},
		{"negative leaves GAPIC's default when the context has no deadline", -1, 0, 9 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.fake.Add("operations/t", gcpfake.Succeeded(nil))
			p, err := FromName[*emptypb.Empty]("operations/t", e.client(), e.opts(func(o *Options) { o.PollTimeout = tt.pollTimeout }))
			require.NoError(t, err)
			ctx := context.Background()
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}
			_, err = p.Poll(ctx)
			require.NoError(t, err)
			reqs := e.fake.Requests()
			require.Len(t, reqs, 1)
			assert.Greater(t, reqs[0].Timeout, tt.lo)
			assert.LessOrEqual(t, reqs[0].Timeout, tt.hi)
		})
	}
}

func TestMetadataAccessor(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.fake.Add("operations/md", gcpfake.Running(mustStruct(t, map[string]any{"state": "RUNNING", "progressPercent": 30})),
		gcpfake.Running(nil))
	p, err := FromName[*emptypb.Empty]("operations/md", e.client(), e.opts())
	require.NoError(t, err)

	assert.Nil(t, LastOperation(p), "nothing seen before the first poll")
	_, err = Metadata[*structpb.Struct](p)
	require.ErrorIs(t, err, ErrNoMetadata)

	_, err = p.Poll(ctx)
	require.NoError(t, err)
	md, err := Metadata[*structpb.Struct](p)
	require.NoError(t, err)
	assert.Equal(t, "RUNNING", md.GetFields()["state"].GetStringValue())
	raw, err := Metadata[*anypb.Any](p)
	require.NoError(t, err)
	assert.Equal(t, "google.protobuf.Struct", string(raw.MessageName()))
	anyMsg, err := Metadata[proto.Message](p)
	require.NoError(t, err)
	assert.IsType(t, &structpb.Struct{}, anyMsg)
	_, err = Metadata[*durationpb.Duration](p)
	require.ErrorIs(t, err, ErrTypeMismatch)
	assert.ErrorContains(t, err, "google.protobuf.Struct")
	assert.ErrorContains(t, err, "google.protobuf.Duration")
	_, err = Metadata[interface {
		proto.Message
		GetFoo() string
	}](p)
	require.ErrorIs(t, err, ErrTypeMismatch)

	last := LastOperation(p)
	require.NotNil(t, last)
	assert.Equal(t, "operations/md", last.GetName())
	last.Name = "changed"
	assert.Equal(t, "operations/md", LastOperation(p).GetName(), "LastOperation returns a copy")

	_, err = p.Poll(ctx)
	require.NoError(t, err)
	_, err = Metadata[*structpb.Struct](p)
	require.ErrorIs(t, err, ErrNoMetadata, "metadata is the last poll's")

	other, err := poller.New[int](&pollertestOp{}, nil)
	require.NoError(t, err)
	_, err = Metadata[*structpb.Struct](other)
	assert.ErrorContains(t, err, "not a google.longrunning poller")
	assert.Nil(t, LastOperation(other))
	assert.Nil(t, LastComputeOperation(other))
}

// pollertestOp is an operation of another adapter.
type pollertestOp struct{}

func (pollertestOp) Poll(context.Context) (poller.Observation, error) {
	return poller.Observation{Status: poller.StatusRunning}, nil
}
func (pollertestOp) Result(context.Context, any) error { return nil }
func (pollertestOp) Token() (poller.Token, error) {
	return poller.Token{Provider: "test", Kind: "x"}, nil
}

func TestCancelErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("an unknown operation is ErrOperationNotFound", func(t *testing.T) {
		e := newEnv(t)
		p, err := FromName[*emptypb.Empty]("operations/nobody", e.client(), e.opts())
		require.NoError(t, err)
		err = p.Cancel(ctx)
		require.ErrorIs(t, err, poller.ErrOperationNotFound)
		assert.Contains(t, err.Error(), "operations/nobody")
	})
	t.Run("an Operations service without CancelOperation is ErrCancelNotSupported", func(t *testing.T) {
		addr := startUnimplemented(t)
		c, err := newClientAt(addr)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		p, err := FromName[*emptypb.Empty]("operations/x", c, nil)
		require.NoError(t, err)
		err = p.Cancel(ctx)
		require.ErrorIs(t, err, poller.ErrCancelNotSupported)
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		require.ErrorIs(t, p.Cancel(cctx), poller.ErrCancelNotSupported, "a caller's deadline is kept")
	})
}

func TestCallerCancellationIsNotAnOperationError(t *testing.T) {
	e := newEnv(t)
	e.fake.Add("operations/slow", gcpfake.Slow(-1, gcpfake.Running(nil)))
	p, err := FromName[*emptypb.Empty]("operations/slow", e.client(), e.opts())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for e.fake.Gets("operations/slow") == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err = p.Wait(ctx, nil)
	var we *poller.WaitError
	require.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotEmpty(t, we.Token, "the wait error carries a token to continue with")
	assert.Equal(t, 1, e.fake.Gets("operations/slow"))
}

package gcpfake_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/googleapis/gax-go/v2"
	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/lrokit/lrokit/lrotest/gcpfake"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var noRetry = gax.WithRetry(nil)

func start(t *testing.T) (*gcpfake.Operations, *lroauto.OperationsClient) {
	t.Helper()
	fake, err := gcpfake.StartOperations()
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	c, err := fake.NewClient(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return fake, c
}

func get(t *testing.T, c *lroauto.OperationsClient, name string) (*longrunningpb.Operation, error) {
	t.Helper()
	return c.GetOperation(context.Background(), &longrunningpb.GetOperationRequest{Name: name}, noRetry)
}

func TestOperationsFollowTheScriptAndRepeatTheLastStep(t *testing.T) {
	fake, c := start(t)
	fake.Add("operations/a",
		gcpfake.Running(durationpb.New(time.Second)),
		gcpfake.Fault(codes.Unavailable, "busy", 3*time.Second),
		gcpfake.Failed(codes.PermissionDenied, "denied", &errdetails.ErrorInfo{Reason: "R"}),
	)
	op, err := get(t, c, "operations/a")
	require.NoError(t, err)
	assert.False(t, op.GetDone())
	assert.Equal(t, "google.protobuf.Duration", string(op.GetMetadata().MessageName()))

	_, err = get(t, c, "operations/a")
	ae, ok := apierror.FromError(err)
	require.True(t, ok)
	assert.Equal(t, codes.Unavailable, ae.GRPCStatus().Code())
	assert.Equal(t, 3*time.Second, ae.Details().RetryInfo.GetRetryDelay().AsDuration())

	for range 2 {
		op, err = get(t, c, "operations/a")
		require.NoError(t, err)
		assert.True(t, op.GetDone())
		assert.Equal(t, int32(codes.PermissionDenied), op.GetError().GetCode())
		require.Len(t, op.GetError().GetDetails(), 1)
	}
	assert.Equal(t, 4, fake.Gets("operations/a"))
	assert.Len(t, fake.Requests(), 4)
	assert.Zero(t, fake.Gets("operations/unknown"))
	assert.Zero(t, fake.Cancels("operations/unknown"))
}

func TestOperationsInitialDoesNotConsumeAStep(t *testing.T) {
	fake, c := start(t)
	fake.Add("operations/i", gcpfake.Succeeded(&emptypb.Empty{}))
	init := fake.Initial("operations/i")
	assert.True(t, init.GetDone())
	assert.Equal(t, "google.protobuf.Empty", string(init.GetResponse().MessageName()))
	assert.Zero(t, fake.Gets("operations/i"))
	assert.Equal(t, "operations/none", fake.Initial("operations/none").GetName())
	fake.Add("operations/f", gcpfake.Expired())
	assert.False(t, fake.Initial("operations/f").GetDone())
	_, err := get(t, c, "operations/f")
	assert.Equal(t, codes.NotFound, status.Code(err))
}

func TestOperationsCancelDeleteWaitList(t *testing.T) {
	ctx := context.Background()
	fake, c := start(t)
	fake.Add("operations/x/1", gcpfake.Running(nil))
	fake.Add("operations/x/2", gcpfake.Succeeded(anyOf(t)))
	fake.Add("operations/y/1", gcpfake.Fault(codes.Internal, "x", 0))

	require.NoError(t, c.CancelOperation(ctx, &longrunningpb.CancelOperationRequest{Name: "operations/x/1"}, noRetry))
	op, err := c.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: "operations/x/1"}, noRetry)
	require.NoError(t, err)
	assert.Equal(t, int32(codes.Canceled), op.GetError().GetCode())
	assert.Equal(t, 1, fake.Cancels("operations/x/1"))
	assert.Equal(t, codes.NotFound, status.Code(c.CancelOperation(ctx, &longrunningpb.CancelOperationRequest{Name: "nope"}, noRetry)))

	it := c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: "operations/"}, noRetry)
	var names []string
	for {
		op, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		require.NoError(t, err)
		names = append(names, op.GetName())
	}
	assert.Equal(t, []string{"operations/x/1", "operations/x/2", "operations/y/1"}, names)

	require.NoError(t, c.DeleteOperation(ctx, &longrunningpb.DeleteOperationRequest{Name: "operations/x/2"}, noRetry))
	_, err = get(t, c, "operations/x/2")
	assert.Equal(t, codes.NotFound, status.Code(err))
	assert.Equal(t, codes.NotFound, status.Code(c.DeleteOperation(ctx, &longrunningpb.DeleteOperationRequest{Name: "operations/x/2"}, noRetry)))
}

func anyOf(t *testing.T) *anypb.Any {
	a, err := anypb.New(&emptypb.Empty{})
	require.NoError(t, err)
	return a
}

func TestOperationsSlowSteps(t *testing.T) {
	fake, c := start(t)
	fake.Add("operations/slow", gcpfake.Slow(5*time.Millisecond, gcpfake.Running(nil)), gcpfake.Slow(-1, gcpfake.Running(nil)))
	start := time.Now()
	_, err := get(t, c, "operations/slow")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 5*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = c.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: "operations/slow"}, noRetry)
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	reqs := fake.Requests()
	require.Len(t, reqs, 2)
	assert.Greater(t, reqs[1].Timeout, time.Duration(0))
	assert.LessOrEqual(t, reqs[1].Timeout, 20*time.Millisecond)
}

func TestAddNeedsSteps(t *testing.T) {
	fake, _ := start(t)
	assert.Panics(t, func() { fake.Add("x") })
	c := gcpfake.StartCompute()
	defer c.Close()
	assert.Panics(t, func() { c.Add("p", "global", "x") })
}

func TestComputeServesEveryScope(t *testing.T) {
	ctx := context.Background()
	fake := gcpfake.StartCompute()
	defer fake.Close()
	svc, err := fake.NewService(ctx)
	require.NoError(t, err)
	fake.Add("p", "zones/z1", "op", gcpfake.ComputePending(), gcpfake.ComputeDone())
	fake.Add("p", "regions/r1", "op", gcpfake.ComputeRunning(40))
	fake.Add("p", "global", "op", gcpfake.ComputeFault(http.StatusTooManyRequests, "9"),
		gcpfake.ComputeFailed(400, &compute.OperationErrorErrors{Code: "BAD", Message: "bad"}))

	op, err := svc.ZoneOperations.Get("p", "z1", "op").Context(ctx).Do()
	require.NoError(t, err)
	assert.Equal(t, "PENDING", op.Status)
	assert.Equal(t, "https://www.googleapis.com/compute/v1/projects/p/zones/z1", op.Zone)
	assert.Equal(t, "https://www.googleapis.com/compute/v1/projects/p/zones/z1/operations/op", op.SelfLink)
	op, err = svc.ZoneOperations.Get("p", "z1", "op").Context(ctx).Do()
	require.NoError(t, err)
	assert.Equal(t, "DONE", op.Status)

	op, err = svc.RegionOperations.Get("p", "r1", "op").Context(ctx).Do()
	require.NoError(t, err)
	assert.Equal(t, int64(40), op.Progress)
	assert.Equal(t, "https://www.googleapis.com/compute/v1/projects/p/regions/r1", op.Region)

	_, err = svc.GlobalOperations.Get("p", "op").Context(ctx).Do()
	var herr *googleapi.Error
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, http.StatusTooManyRequests, herr.Code)
	assert.Equal(t, "9", herr.Header.Get("Retry-After"))
	op, err = svc.GlobalOperations.Get("p", "op").Context(ctx).Do()
	require.NoError(t, err)
	assert.Equal(t, "BAD", op.Error.Errors[0].Code)
	assert.Equal(t, int64(400), op.HttpErrorStatusCode)

	_, err = svc.GlobalOperations.Get("p", "unknown").Context(ctx).Do()
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, http.StatusNotFound, herr.Code)

	assert.Equal(t, 2, fake.Gets("p", "zones/z1", "op"))
	assert.Zero(t, fake.Gets("p", "zones/z1", "other"))
	assert.Equal(t, "PENDING", fake.Initial("p", "zones/z1", "op").Status)
	assert.Equal(t, "PENDING", fake.Initial("p", "global", "nothing").Status)
	assert.Contains(t, fake.URL(), "http://127.0.0.1:")
}

func TestComputeSlowAnswer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	fake := gcpfake.StartCompute()
	defer fake.Close()
	svc, err := fake.NewService(context.Background())
	require.NoError(t, err)
	fake.Add("p", "global", "op", gcpfake.ComputeStep{Delay: -1}, gcpfake.ComputeStep{Delay: time.Millisecond, RetryAfter: "1"})
	_, err = svc.GlobalOperations.Get("p", "op").Context(ctx).Do()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	op, err := svc.GlobalOperations.Get("p", "op").Context(context.Background()).Do()
	require.NoError(t, err)
	assert.Equal(t, "RUNNING", op.Status)
	assert.Equal(t, "1", op.Header.Get("Retry-After"))
}

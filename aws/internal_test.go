package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/poller"
)

func TestClassifyEdgeCases(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	resp := func(code int, h http.Header) error {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code, Header: h}}, Err: errors.New("boom")}
	}
	cases := []struct {
		name      string
		err       error
		transient bool
		throttled bool
		notFound  bool
		hint      time.Duration
	}{
		{"spent client retry quota", fmt.Errorf("retry: %w", ratelimit.QuotaExceededError{Available: 0, Requested: 5}), true, true, false, 0},
		{"503 with an HTTP-date hint", resp(503, http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}), true, false, false, 90 * time.Second},
		{"404 without an error code", resp(404, nil), false, false, true, 0},
		{"400 without an error code", resp(400, nil), false, false, false, 0},
		{"per-poll timeout", fmt.Errorf("op: %w", context.DeadlineExceeded), true, false, false, 0},
		{"canceled", fmt.Errorf("op: %w", context.Canceled), false, false, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := classify(c.err, now)
			assert.Equal(t, c.transient, poller.IsTransient(err))
			assert.Equal(t, c.throttled, poller.IsThrottled(err))
			assert.Equal(t, c.notFound, errors.Is(err, poller.ErrOperationNotFound))
			assert.Equal(t, c.hint, poller.RetryAfterOf(err))
			assert.ErrorIs(t, err, c.err, "the original error stays in the chain")
		})
	}
}

func TestFailureErrorSaysWaiterStatusAndReason(t *testing.T) {
	e := &FailureError{Waiter: "eks.ClusterActive", Status: "FAILED", Reason: "no subnets", Err: errors.New(sdkFailure)}
	assert.Equal(t, "waiter eks.ClusterActive reached failure state FAILED: no subnets", e.Error())
	assert.Equal(t, sdkFailure, errors.Unwrap(e).Error())
	assert.Equal(t, "reached failure state DELETING", failureMessage(poller.StatusFailed, "DELETING", "", errors.New(sdkFailure)))
}

func TestResultRefusesAWrongDestination(t *testing.T) {
	w, err := NewWaiter(Definition[eks.DescribeClusterInput, eks.DescribeClusterOutput]{
		Name:     "test.ClusterActive",
		Describe: DescribeWith(eks.NewFromConfig, (*eks.Client).DescribeCluster),
		Rules:    Rules{Success: []string{"ACTIVE"}},
		Status:   func(*eks.DescribeClusterOutput) (string, string) { return "", "" },
	})
	require.NoError(t, err)
	op := &operation{w: w}
	var out *eks.DescribeClusterOutput
	require.ErrorContains(t, op.Result(context.Background(), &out), "no describe output yet")
	op.last, op.haveLast = &eks.DescribeClusterOutput{}, true
	require.NoError(t, op.Result(context.Background(), &out))
	assert.NotNil(t, out)
	var wrong *eks.DescribeNodegroupOutput
	assert.ErrorContains(t, op.Result(context.Background(), &wrong), "*eks.DescribeClusterOutput")
	assert.ErrorContains(t, op.Result(context.Background(), eks.DescribeClusterOutput{}), "non-nil pointer")
	assert.Error(t, checkEndpoint("http://[::1"), "not a URL")
	assert.Error(t, checkEndpoint("http://"), "no host")
	assert.Panics(t, func() { MustRegister(Definition[eks.DescribeClusterInput, eks.DescribeClusterOutput]{Name: "bad"}) })
}

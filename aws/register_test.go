package aws_test

import (
	"context"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/aws"
	"github.com/lrokit/lrokit/lrotest/awsfake"
	"github.com/lrokit/lrokit/poller"
)

type clusterDef = aws.Definition[eks.DescribeClusterInput, eks.DescribeClusterOutput]

func describeCluster(cfg awssdk.Config) aws.DescribeFunc[eks.DescribeClusterInput, eks.DescribeClusterOutput] {
	c := eks.NewFromConfig(cfg)
	return func(ctx context.Context, in *eks.DescribeClusterInput) (*eks.DescribeClusterOutput, error) {
		return c.DescribeCluster(ctx, in)
	}
}

func clusterStatus(out *eks.DescribeClusterOutput) (string, string) {
	if out.Cluster == nil {
		return "", ""
	}
	return string(out.Cluster.Status), ""
}

var registerOnce sync.Once

// registerTestWaiters adds describe-status waiters as a user would.
func registerTestWaiters(t *testing.T) {
	registerOnce.Do(func() {
		for _, d := range []clusterDef{
			{Name: "test.ClusterStrict", Describe: describeCluster, Status: clusterStatus,
				MinDelay: 5 * time.Second, MaxDelay: 20 * time.Second,
				Rules: aws.Rules{Success: []string{"ACTIVE"}, Failure: []string{"FAILED"}, Pending: []string{"CREATING"},
					PendingErrors: []string{"ResourceNotFoundException"}}},
			{Name: "test.ClusterLoose", Describe: describeCluster, Status: clusterStatus,
				Rules: aws.Rules{Success: []string{"ACTIVE"}, FailureErrors: []string{"ResourceNotFoundException"}}},
			{Name: "test.ClusterGone", Describe: describeCluster, Status: clusterStatus,
				Rules: aws.Rules{Failure: []string{"ACTIVE"}, SuccessErrors: []string{"ResourceNotFoundException"}}},
		} {
			w, err := aws.NewWaiter(d)
			require.NoError(t, err)
			require.NoError(t, aws.Register(w))
		}
	})
}

func TestRegisteredDescribeStatusWaitersFollowTheirRules(t *testing.T) {
	registerTestWaiters(t)
	cases := []struct {
		name       string
		waiter     string
		script     []awsfake.Step
		wantStatus poller.Status
		wantErr    string
	}{
		{"success after pending", "test.ClusterStrict", awsfake.Statuses("CREATING", "CREATING", "ACTIVE"), poller.StatusSucceeded, ""},
		{"pending on an error code", "test.ClusterStrict", []awsfake.Step{awsfake.Failing(awsfake.Gone), awsfake.Status("ACTIVE")}, poller.StatusSucceeded, ""},
		{"failure state", "test.ClusterStrict", awsfake.Statuses("CREATING", "FAILED"), poller.StatusFailed, "FAILED"},
		{"a status outside the sets is a failure when Pending is given", "test.ClusterStrict", awsfake.Statuses("CREATING", "UPDATING"), poller.StatusFailed, `unexpected status "UPDATING"`},
		{"a status outside the sets is pending without Pending", "test.ClusterLoose", awsfake.Statuses("CREATING", "UPDATING", "ACTIVE"), poller.StatusSucceeded, ""},
		{"failure on an error code", "test.ClusterLoose", []awsfake.Step{awsfake.Failing(awsfake.Gone)}, poller.StatusFailed, "ResourceNotFoundException"},
		{"success on an error code", "test.ClusterGone", []awsfake.Step{awsfake.Status("DELETING"), awsfake.Failing(awsfake.Gone)}, poller.StatusSucceeded, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := awsfake.New()
			defer srv.Close()
			srv.Script(awsfake.Cluster, "prod", c.script...)
			p, err := aws.NewPoller[*eks.DescribeClusterOutput](srv.Config(), c.waiter, &eks.DescribeClusterInput{Name: awssdk.String("prod")}, autoOpts())
			require.NoError(t, err)
			_, err = p.Wait(context.Background(), nil)
			assert.Equal(t, c.wantStatus, p.Last().Status)
			if c.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.wantErr)
		})
	}
}

func TestRegisteredWaitersResumeAndKeepTheirDelays(t *testing.T) {
	registerTestWaiters(t)
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Cluster, "prod", awsfake.Statuses("CREATING", "CREATING", "ACTIVE")...)
	p, err := aws.NewPoller[any](srv.Config(), "test.ClusterStrict", &eks.DescribeClusterInput{Name: awssdk.String("prod")}, autoOpts())
	require.NoError(t, err)
	_, err = p.Poll(context.Background())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, p.NextPollAt().Sub(epoch), 5*time.Second, "the waiter's MinDelay is the floor")
	assert.LessOrEqual(t, p.NextPollAt().Sub(epoch), 5500*time.Millisecond)
	token, err := p.ResumeToken()
	require.NoError(t, err)
	p2, err := aws.Resume[any](token, srv.Config(), autoOpts())
	require.NoError(t, err)
	_, err = p2.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, 3, srv.Calls(awsfake.Cluster, "prod"))
}

func TestRegisterRefusesDuplicatesAndEmptyWaiters(t *testing.T) {
	registerTestWaiters(t)
	w, err := aws.NewWaiter(clusterDef{Name: "test.ClusterStrict", Describe: describeCluster, Status: clusterStatus, Rules: aws.Rules{Success: []string{"ACTIVE"}}})
	require.NoError(t, err)
	assert.ErrorIs(t, aws.Register(w), aws.ErrAlreadyRegistered)
	assert.ErrorContains(t, aws.Register(aws.Waiter{}), "empty waiter")
	assert.Contains(t, aws.Waiters(), "test.ClusterStrict")
}

func TestNewWaiterChecksTheDefinition(t *testing.T) {
	ok := clusterDef{Name: "test.Ok", Describe: describeCluster, Status: clusterStatus, Rules: aws.Rules{Success: []string{"ACTIVE"}}}
	cases := map[string]struct {
		edit func(*clusterDef)
		want string
	}{
		"name without service":  {func(d *clusterDef) { d.Name = "ClusterReady" }, "service.WaiterName"},
		"name with spaces":      {func(d *clusterDef) { d.Name = "eks.Cluster Ready" }, "service.WaiterName"},
		"no describe":           {func(d *clusterDef) { d.Describe = nil }, "no Describe"},
		"no rules nor acceptor": {func(d *clusterDef) { d.Rules = aws.Rules{} }, "neither Accept nor Rules"},
		"rules without status":  {func(d *clusterDef) { d.Status = nil }, "no Status"},
		"inverted delays":       {func(d *clusterDef) { d.MinDelay, d.MaxDelay = time.Minute, time.Second }, "not a range"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			d := ok
			c.edit(&d)
			_, err := aws.NewWaiter(d)
			assert.ErrorContains(t, err, c.want)
		})
	}
	_, err := aws.NewWaiter(ok)
	assert.NoError(t, err)
	_, err = aws.NewWaiter(aws.Definition[string, eks.DescribeClusterOutput]{Name: "test.Bad",
		Describe: func(awssdk.Config) aws.DescribeFunc[string, eks.DescribeClusterOutput] { return nil },
		Accept:   func(context.Context, *string, *eks.DescribeClusterOutput, error) (bool, error) { return false, nil }})
	assert.ErrorContains(t, err, "struct types")
}

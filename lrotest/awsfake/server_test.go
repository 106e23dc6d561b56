package awsfake_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/lrotest/awsfake"
)

// describer calls one real SDK describe API and returns the status word
// it parsed.
type describer struct {
	kind Kind
	id   string
	call func(ctx context.Context, cfg awssdk.Config) (string, error)
}

type Kind = awsfake.Kind

func describers() map[string]describer {
	return map[string]describer{
		"cloudformation stack": {awsfake.Stack, "web", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: awssdk.String("web")})
			if err != nil {
				return "", err
			}
			return string(out.Stacks[0].StackStatus) + "|" + awssdk.ToString(out.Stacks[0].StackStatusReason), nil
		}},
		"cloudformation change set": {awsfake.ChangeSet, "cs1", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := cloudformation.NewFromConfig(cfg).DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: awssdk.String("cs1"), StackName: awssdk.String("web")})
			if err != nil {
				return "", err
			}
			return string(out.Status) + "|" + awssdk.ToString(out.StatusReason), nil
		}},
		"eks cluster": {awsfake.Cluster, "prod", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := eks.NewFromConfig(cfg).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: awssdk.String("prod")})
			if err != nil {
				return "", err
			}
			r := ""
			if len(out.Cluster.Health.Issues) > 0 {
				r = awssdk.ToString(out.Cluster.Health.Issues[0].Message)
			}
			return string(out.Cluster.Status) + "|" + r, nil
		}},
		"eks nodegroup": {awsfake.Nodegroup, "prod/ng1", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := eks.NewFromConfig(cfg).DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: awssdk.String("prod"), NodegroupName: awssdk.String("ng1")})
			if err != nil {
				return "", err
			}
			r := ""
			if len(out.Nodegroup.Health.Issues) > 0 {
				r = awssdk.ToString(out.Nodegroup.Health.Issues[0].Message)
			}
			return string(out.Nodegroup.Status) + "|" + r, nil
		}},
		"eks addon": {awsfake.Addon, "prod/vpc-cni", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := eks.NewFromConfig(cfg).DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: awssdk.String("prod"), AddonName: awssdk.String("vpc-cni")})
			if err != nil {
				return "", err
			}
			r := ""
			if len(out.Addon.Health.Issues) > 0 {
				r = awssdk.ToString(out.Addon.Health.Issues[0].Message)
			}
			return string(out.Addon.Status) + "|" + r, nil
		}},
		"ec2 instance": {awsfake.Instance, "i-1", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-1"}})
			if err != nil {
				return "", err
			}
			i := out.Reservations[0].Instances[0]
			r := ""
			if i.StateReason != nil {
				r = awssdk.ToString(i.StateReason.Message)
			}
			return string(i.State.Name) + "|" + r, nil
		}},
		"ec2 instance status": {awsfake.InstanceStatus, "i-1", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := ec2.NewFromConfig(cfg).DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{"i-1"}})
			if err != nil {
				return "", err
			}
			return string(out.InstanceStatuses[0].InstanceStatus.Status) + "|", nil
		}},
		"ec2 volume": {awsfake.Volume, "vol-1", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := ec2.NewFromConfig(cfg).DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-1"}})
			if err != nil {
				return "", err
			}
			return string(out.Volumes[0].State) + "|", nil
		}},
		"ec2 image": {awsfake.Image, "ami-1", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := ec2.NewFromConfig(cfg).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-1"}})
			if err != nil {
				return "", err
			}
			r := ""
			if out.Images[0].StateReason != nil {
				r = awssdk.ToString(out.Images[0].StateReason.Message)
			}
			return string(out.Images[0].State) + "|" + r, nil
		}},
		"ec2 nat gateway": {awsfake.NatGateway, "nat-1", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := ec2.NewFromConfig(cfg).DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{"nat-1"}})
			if err != nil {
				return "", err
			}
			return string(out.NatGateways[0].State) + "|" + awssdk.ToString(out.NatGateways[0].FailureMessage), nil
		}},
		"rds db instance": {awsfake.DBInstance, "db1", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := rds.NewFromConfig(cfg).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: awssdk.String("db1")})
			if err != nil {
				return "", err
			}
			r := ""
			if len(out.DBInstances[0].StatusInfos) > 0 {
				r = awssdk.ToString(out.DBInstances[0].StatusInfos[0].Message)
			}
			return awssdk.ToString(out.DBInstances[0].DBInstanceStatus) + "|" + r, nil
		}},
		"ecs service": {awsfake.Service, "apps/web", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := ecs.NewFromConfig(cfg).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: awssdk.String("apps"), Services: []string{"web"}})
			if err != nil {
				return "", err
			}
			if len(out.Failures) > 0 {
				return awssdk.ToString(out.Failures[0].Reason) + "|", nil
			}
			return awssdk.ToString(out.Services[0].Status) + "|", nil
		}},
		"lambda function": {awsfake.Function, "fn", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := lambda.NewFromConfig(cfg).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: awssdk.String("fn")})
			if err != nil {
				return "", err
			}
			return string(out.Configuration.State) + "|" + awssdk.ToString(out.Configuration.StateReason), nil
		}},
		"lambda function configuration": {awsfake.Function, "fn2", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := lambda.NewFromConfig(cfg).GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: awssdk.String("fn2")})
			if err != nil {
				return "", err
			}
			return string(out.State) + "|" + awssdk.ToString(out.StateReason), nil
		}},
		"dynamodb table": {awsfake.Table, "orders", func(ctx context.Context, cfg awssdk.Config) (string, error) {
			out, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: awssdk.String("orders")})
			if err != nil {
				return "", err
			}
			return string(out.Table.TableStatus) + "|", nil
		}},
	}
}

func TestRealClientsParseScriptedStatuses(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	for name, d := range describers() {
		t.Run(name, func(t *testing.T) {
			reason := "because"
			if d.kind == awsfake.InstanceStatus || d.kind == awsfake.Volume || d.kind == awsfake.Table || d.kind == awsfake.Service {
				reason = "" // these APIs carry no reason
			}
			srv.Script(d.kind, d.id, awsfake.Step{Status: "STATE_ONE", Reason: reason}, awsfake.Status("STATE_TWO"))
			got, err := d.call(context.Background(), srv.Config())
			require.NoError(t, err)
			assert.Equal(t, "STATE_ONE|"+reason, got)
			got, err = d.call(context.Background(), srv.Config())
			require.NoError(t, err)
			assert.Equal(t, "STATE_TWO|", got)
			got, err = d.call(context.Background(), srv.Config())
			require.NoError(t, err)
			assert.Equal(t, "STATE_TWO|", got, "the last step repeats")
			assert.Equal(t, 3, srv.Calls(d.kind, d.id))
		})
	}
}

func TestFaultsReachTheClientInTheServiceProtocol(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	wantGone := map[Kind]string{
		awsfake.Stack: "ValidationError", awsfake.ChangeSet: "ChangeSetNotFound",
		awsfake.Cluster: "ResourceNotFoundException", awsfake.Nodegroup: "ResourceNotFoundException", awsfake.Addon: "ResourceNotFoundException",
		awsfake.Instance: "InvalidInstanceID.NotFound", awsfake.InstanceStatus: "InvalidInstanceID.NotFound",
		awsfake.Volume: "InvalidVolume.NotFound", awsfake.Image: "InvalidAMIID.NotFound", awsfake.NatGateway: "NatGatewayNotFound",
		awsfake.DBInstance: "DBInstanceNotFound", awsfake.Function: "ResourceNotFoundException", awsfake.Table: "ResourceNotFoundException",
	}
	for name, d := range describers() {
		t.Run(name, func(t *testing.T) {
			srv.Script(d.kind, d.id,
				awsfake.Step{Fault: awsfake.Throttle, RetryAfter: 1500 * time.Millisecond},
				awsfake.Failing(awsfake.Unavailable),
				awsfake.Failing(awsfake.Denied),
				awsfake.Failing(awsfake.Invalid),
				awsfake.Failing(awsfake.Drop),
				awsfake.Failing(awsfake.Gone))
			ctx := context.Background()

			_, err := d.call(ctx, srv.Config())
			var ae smithy.APIError
			require.ErrorAs(t, err, &ae)
			assert.Contains(t, []string{"Throttling", "RequestLimitExceeded", "ThrottlingException", "TooManyRequestsException"}, ae.ErrorCode())
			var re *smithyhttp.ResponseError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "2", re.Response.Header.Get("Retry-After"))

			_, err = d.call(ctx, srv.Config())
			require.ErrorAs(t, err, &re)
			assert.Equal(t, http.StatusServiceUnavailable, re.HTTPStatusCode())

			_, err = d.call(ctx, srv.Config())
			require.ErrorAs(t, err, &re)
			assert.Equal(t, http.StatusForbidden, re.HTTPStatusCode())

			_, err = d.call(ctx, srv.Config())
			require.ErrorAs(t, err, &ae)
			assert.Contains(t, []string{"ValidationError", "InvalidParameterValue", "InvalidParameterException", "InvalidParameterValueException", "ValidationException"}, ae.ErrorCode())

			_, err = d.call(ctx, srv.Config())
			require.Error(t, err)
			assert.False(t, errors.As(err, &ae), "a dropped connection is no API error: %v", err)

			got, err := d.call(ctx, srv.Config())
			if d.kind == awsfake.Service {
				require.NoError(t, err)
				assert.Equal(t, "MISSING|", got, "ECS reports a missing service as a failure entry")
				return
			}
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, wantGone[d.kind], ae.ErrorCode())
		})
	}
}

func TestUnscriptedResourceIsGone(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	_, err := eks.NewFromConfig(srv.Config()).DescribeCluster(context.Background(), &eks.DescribeClusterInput{Name: awssdk.String("nope")})
	var nf *ekstypes.ResourceNotFoundException
	require.ErrorAs(t, err, &nf, "the SDK deserializes the typed error")
	assert.Equal(t, 0, srv.Calls(awsfake.Cluster, "other"))
}

func TestCancelUpdateStackRollsBackOnlyDuringAnUpdate(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Stack, "web", awsfake.Statuses("UPDATE_IN_PROGRESS")...)
	srv.OnCancel("web", awsfake.Statuses("UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE")...)
	ctx := context.Background()
	c := cloudformation.NewFromConfig(srv.Config())
	in := &cloudformation.DescribeStacksInput{StackName: awssdk.String("web")}

	_, err := c.CancelUpdateStack(ctx, &cloudformation.CancelUpdateStackInput{StackName: awssdk.String("web")})
	require.Error(t, err, "the stack has not been described in UPDATE_IN_PROGRESS yet")

	out, err := c.DescribeStacks(ctx, in)
	require.NoError(t, err)
	require.Equal(t, "UPDATE_IN_PROGRESS", string(out.Stacks[0].StackStatus))
	_, err = c.CancelUpdateStack(ctx, &cloudformation.CancelUpdateStackInput{StackName: awssdk.String("web")})
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Cancels("web"))
	for _, want := range []string{"UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"} {
		out, err = c.DescribeStacks(ctx, in)
		require.NoError(t, err)
		assert.Equal(t, want, string(out.Stacks[0].StackStatus))
	}
}

func TestEC2DescribesSeveralInstancesAtOnce(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Instance, "i-1", awsfake.Statuses("pending", "running")...)
	srv.Script(awsfake.Instance, "i-2", awsfake.Statuses("running")...)
	out, err := ec2.NewFromConfig(srv.Config()).DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{"i-1", "i-2"}})
	require.NoError(t, err)
	insts := out.Reservations[0].Instances
	require.Len(t, insts, 2)
	assert.Equal(t, "pending", string(insts[0].State.Name))
	assert.Equal(t, int32(0), awssdk.ToInt32(insts[0].State.Code))
	assert.Equal(t, "running", string(insts[1].State.Name))
	assert.Equal(t, 1, srv.Calls(awsfake.Instance, "i-1"))
}

package aws_test

import (
	"context"
	"reflect"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/lrokit/lrokit/lrotest/awsfake"
)

// waiterCase is one built-in waiter under test: the resources its input
// names, the vocabulary its scripts are drawn from, a pending and a
// success step, and the SDK's own generated waiter for comparison.
type waiterCase struct {
	name    string
	kind    awsfake.Kind
	ids     []string
	input   any
	vocab   []awsfake.Step
	pending awsfake.Step
	success awsfake.Step
	sdkWait func(ctx context.Context, cfg awssdk.Config, input any) error
}

// sdkWaiter runs a generated waiter's Wait with millisecond delays, so the
// SDK's real-time loop stays fast.
func sdkWaiter[A, In, O any, W interface {
	Wait(context.Context, *In, time.Duration, ...func(*O)) error
}](newWaiter func(A, ...func(*O)) W, client func(awssdk.Config) any) func(context.Context, awssdk.Config, any) error {
	return func(ctx context.Context, cfg awssdk.Config, input any) error {
		w := newWaiter(client(cfg).(A), func(o *O) {
			v := reflect.ValueOf(o).Elem()
			v.FieldByName("MinDelay").SetInt(int64(time.Millisecond))
			v.FieldByName("MaxDelay").SetInt(int64(2 * time.Millisecond))
		})
		return w.Wait(ctx, input.(*In), time.Minute)
	}
}

func words[T ~string](values []T) []awsfake.Step {
	steps := make([]awsfake.Step, 0, len(values)+2)
	for _, v := range values {
		steps = append(steps, awsfake.Status(string(v)))
	}
	return append(steps, awsfake.Failing(awsfake.Gone), awsfake.Failing(awsfake.Denied))
}

func cfnClient(cfg awssdk.Config) any    { return cloudformation.NewFromConfig(cfg) }
func eksClient(cfg awssdk.Config) any    { return eks.NewFromConfig(cfg) }
func ec2Client(cfg awssdk.Config) any    { return ec2.NewFromConfig(cfg) }
func rdsClient(cfg awssdk.Config) any    { return rds.NewFromConfig(cfg) }
func ecsClient(cfg awssdk.Config) any    { return ecs.NewFromConfig(cfg) }
func lambdaClient(cfg awssdk.Config) any { return lambda.NewFromConfig(cfg) }
func ddbClient(cfg awssdk.Config) any    { return dynamodb.NewFromConfig(cfg) }

func waiterCases() []waiterCase {
	stackIn := &cloudformation.DescribeStacksInput{StackName: awssdk.String("web")}
	stack := func(name, pending, success string, sdk func(context.Context, awssdk.Config, any) error) waiterCase {
		vocab := append(words(cfntypes.StackStatus("").Values()), awsfake.Failing(awsfake.Invalid))
		return waiterCase{name: "cloudformation." + name, kind: awsfake.Stack, ids: []string{"web"}, input: stackIn,
			vocab: vocab, pending: awsfake.Status(pending), success: awsfake.Status(success), sdkWait: sdk}
	}
	cluster := &eks.DescribeClusterInput{Name: awssdk.String("prod")}
	nodegroup := &eks.DescribeNodegroupInput{ClusterName: awssdk.String("prod"), NodegroupName: awssdk.String("ng1")}
	addon := &eks.DescribeAddonInput{ClusterName: awssdk.String("prod"), AddonName: awssdk.String("vpc-cni")}
	instances := &ec2.DescribeInstancesInput{InstanceIds: []string{"i-1", "i-2"}}
	instanceStatus := &ec2.DescribeInstanceStatusInput{InstanceIds: []string{"i-1", "i-2"}}
	volumes := &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-1", "vol-2"}}
	images := &ec2.DescribeImagesInput{ImageIds: []string{"ami-1"}}
	nats := &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{"nat-1", "nat-2"}}
	db := &rds.DescribeDBInstancesInput{DBInstanceIdentifier: awssdk.String("db1")}
	rdsVocab := words([]string{"available", "backing-up", "creating", "deleted", "deleting", "failed",
		"incompatible-restore", "incompatible-parameters", "modifying", "rebooting", "resetting-master-credentials", "stopped", "storage-optimization"})
	services := &ecs.DescribeServicesInput{Cluster: awssdk.String("apps"), Services: []string{"web", "api"}}
	ecsVocab := []awsfake.Step{
		awsfake.Status("ACTIVE"),
		{Status: "ACTIVE", Attrs: map[string]string{"runningCount": "0", "desiredCount": "2"}},
		{Status: "ACTIVE", Attrs: map[string]string{"deployments": "2"}},
		awsfake.Status("DRAINING"), awsfake.Status("INACTIVE"),
		awsfake.Failing(awsfake.Gone), awsfake.Failing(awsfake.Denied),
	}
	fn := &lambda.GetFunctionInput{FunctionName: awssdk.String("fn")}
	fnConf := &lambda.GetFunctionConfigurationInput{FunctionName: awssdk.String("fn")}
	var updates []awsfake.Step
	for _, u := range lambdatypes.LastUpdateStatus("").Values() {
		updates = append(updates, awsfake.Step{Status: "Active", Attrs: map[string]string{"LastUpdateStatus": string(u)}})
	}
	updates = append(updates, awsfake.Failing(awsfake.Gone), awsfake.Failing(awsfake.Denied))
	inProgress := awsfake.Step{Status: "Active", Attrs: map[string]string{"LastUpdateStatus": "InProgress"}}
	table := &dynamodb.DescribeTableInput{TableName: awssdk.String("orders")}

	return []waiterCase{
		stack("StackCreateComplete", "CREATE_IN_PROGRESS", "CREATE_COMPLETE", sdkWaiter(cloudformation.NewStackCreateCompleteWaiter, cfnClient)),
		stack("StackUpdateComplete", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", sdkWaiter(cloudformation.NewStackUpdateCompleteWaiter, cfnClient)),
		stack("StackDeleteComplete", "DELETE_IN_PROGRESS", "DELETE_COMPLETE", sdkWaiter(cloudformation.NewStackDeleteCompleteWaiter, cfnClient)),
		stack("StackImportComplete", "IMPORT_IN_PROGRESS", "IMPORT_COMPLETE", sdkWaiter(cloudformation.NewStackImportCompleteWaiter, cfnClient)),
		stack("StackRollbackComplete", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE", sdkWaiter(cloudformation.NewStackRollbackCompleteWaiter, cfnClient)),
		{name: "cloudformation.StackExists", kind: awsfake.Stack, ids: []string{"web"}, input: stackIn,
			vocab: words([]string{"CREATE_IN_PROGRESS"}), pending: awsfake.Failing(awsfake.Gone), success: awsfake.Status("CREATE_IN_PROGRESS"),
			sdkWait: sdkWaiter(cloudformation.NewStackExistsWaiter, cfnClient)},
		{name: "cloudformation.ChangeSetCreateComplete", kind: awsfake.ChangeSet, ids: []string{"cs1"},
			input:   &cloudformation.DescribeChangeSetInput{ChangeSetName: awssdk.String("cs1"), StackName: awssdk.String("web")},
			vocab:   append(words(cfntypes.ChangeSetStatus("").Values()), awsfake.Failing(awsfake.Invalid)),
			pending: awsfake.Status("CREATE_IN_PROGRESS"), success: awsfake.Status("CREATE_COMPLETE"),
			sdkWait: sdkWaiter(cloudformation.NewChangeSetCreateCompleteWaiter, cfnClient)},

		{name: "eks.ClusterActive", kind: awsfake.Cluster, ids: []string{"prod"}, input: cluster,
			vocab: words(ekstypes.ClusterStatus("").Values()), pending: awsfake.Status("CREATING"), success: awsfake.Status("ACTIVE"),
			sdkWait: sdkWaiter(eks.NewClusterActiveWaiter, eksClient)},
		{name: "eks.ClusterDeleted", kind: awsfake.Cluster, ids: []string{"prod"}, input: cluster,
			vocab: words(ekstypes.ClusterStatus("").Values()), pending: awsfake.Status("DELETING"), success: awsfake.Failing(awsfake.Gone),
			sdkWait: sdkWaiter(eks.NewClusterDeletedWaiter, eksClient)},
		{name: "eks.NodegroupActive", kind: awsfake.Nodegroup, ids: []string{"prod/ng1"}, input: nodegroup,
			vocab: words(ekstypes.NodegroupStatus("").Values()), pending: awsfake.Status("CREATING"), success: awsfake.Status("ACTIVE"),
			sdkWait: sdkWaiter(eks.NewNodegroupActiveWaiter, eksClient)},
		{name: "eks.NodegroupDeleted", kind: awsfake.Nodegroup, ids: []string{"prod/ng1"}, input: nodegroup,
			vocab: words(ekstypes.NodegroupStatus("").Values()), pending: awsfake.Status("DELETING"), success: awsfake.Failing(awsfake.Gone),
			sdkWait: sdkWaiter(eks.NewNodegroupDeletedWaiter, eksClient)},
		{name: "eks.AddonActive", kind: awsfake.Addon, ids: []string{"prod/vpc-cni"}, input: addon,
			vocab: words(ekstypes.AddonStatus("").Values()), pending: awsfake.Status("CREATING"), success: awsfake.Status("ACTIVE"),
			sdkWait: sdkWaiter(eks.NewAddonActiveWaiter, eksClient)},
		{name: "eks.AddonDeleted", kind: awsfake.Addon, ids: []string{"prod/vpc-cni"}, input: addon,
			vocab: words(ekstypes.AddonStatus("").Values()), pending: awsfake.Status("DELETING"), success: awsfake.Failing(awsfake.Gone),
			sdkWait: sdkWaiter(eks.NewAddonDeletedWaiter, eksClient)},

		{name: "ec2.InstanceRunning", kind: awsfake.Instance, ids: []string{"i-1", "i-2"}, input: instances,
			vocab: words(ec2types.InstanceStateName("").Values()), pending: awsfake.Status("pending"), success: awsfake.Status("running"),
			sdkWait: sdkWaiter(ec2.NewInstanceRunningWaiter, ec2Client)},
		{name: "ec2.InstanceStopped", kind: awsfake.Instance, ids: []string{"i-1", "i-2"}, input: instances,
			vocab: words(ec2types.InstanceStateName("").Values()), pending: awsfake.Status("stopping"), success: awsfake.Status("stopped"),
			sdkWait: sdkWaiter(ec2.NewInstanceStoppedWaiter, ec2Client)},
		{name: "ec2.InstanceTerminated", kind: awsfake.Instance, ids: []string{"i-1", "i-2"}, input: instances,
			vocab: words(ec2types.InstanceStateName("").Values()), pending: awsfake.Status("shutting-down"), success: awsfake.Status("terminated"),
			sdkWait: sdkWaiter(ec2.NewInstanceTerminatedWaiter, ec2Client)},
		{name: "ec2.InstanceExists", kind: awsfake.Instance, ids: []string{"i-1"}, input: &ec2.DescribeInstancesInput{InstanceIds: []string{"i-1"}},
			vocab: words(ec2types.InstanceStateName("").Values()), pending: awsfake.Failing(awsfake.Gone), success: awsfake.Status("pending"),
			sdkWait: sdkWaiter(ec2.NewInstanceExistsWaiter, ec2Client)},
		{name: "ec2.InstanceStatusOk", kind: awsfake.InstanceStatus, ids: []string{"i-1", "i-2"}, input: instanceStatus,
			vocab: words(ec2types.SummaryStatus("").Values()), pending: awsfake.Status("initializing"), success: awsfake.Status("ok"),
			sdkWait: sdkWaiter(ec2.NewInstanceStatusOkWaiter, ec2Client)},
		{name: "ec2.SystemStatusOk", kind: awsfake.InstanceStatus, ids: []string{"i-1", "i-2"}, input: instanceStatus,
			vocab: words(ec2types.SummaryStatus("").Values()), pending: awsfake.Status("initializing"), success: awsfake.Status("ok"),
			sdkWait: sdkWaiter(ec2.NewSystemStatusOkWaiter, ec2Client)},
		{name: "ec2.VolumeAvailable", kind: awsfake.Volume, ids: []string{"vol-1", "vol-2"}, input: volumes,
			vocab: words(ec2types.VolumeState("").Values()), pending: awsfake.Status("creating"), success: awsfake.Status("available"),
			sdkWait: sdkWaiter(ec2.NewVolumeAvailableWaiter, ec2Client)},
		{name: "ec2.VolumeDeleted", kind: awsfake.Volume, ids: []string{"vol-1", "vol-2"}, input: volumes,
			vocab: words(ec2types.VolumeState("").Values()), pending: awsfake.Status("deleting"), success: awsfake.Status("deleted"),
			sdkWait: sdkWaiter(ec2.NewVolumeDeletedWaiter, ec2Client)},
		{name: "ec2.VolumeInUse", kind: awsfake.Volume, ids: []string{"vol-1", "vol-2"}, input: volumes,
			vocab: words(ec2types.VolumeState("").Values()), pending: awsfake.Status("available"), success: awsfake.Status("in-use"),
			sdkWait: sdkWaiter(ec2.NewVolumeInUseWaiter, ec2Client)},
		{name: "ec2.ImageAvailable", kind: awsfake.Image, ids: []string{"ami-1"}, input: images,
			vocab: words(ec2types.ImageState("").Values()), pending: awsfake.Status("pending"), success: awsfake.Status("available"),
			sdkWait: sdkWaiter(ec2.NewImageAvailableWaiter, ec2Client)},
		{name: "ec2.ImageExists", kind: awsfake.Image, ids: []string{"ami-1"}, input: images,
			vocab: words(ec2types.ImageState("").Values()), pending: awsfake.Failing(awsfake.Gone), success: awsfake.Status("pending"),
			sdkWait: sdkWaiter(ec2.NewImageExistsWaiter, ec2Client)},
		{name: "ec2.NatGatewayAvailable", kind: awsfake.NatGateway, ids: []string{"nat-1", "nat-2"}, input: nats,
			vocab: words(ec2types.NatGatewayState("").Values()), pending: awsfake.Status("pending"), success: awsfake.Status("available"),
			sdkWait: sdkWaiter(ec2.NewNatGatewayAvailableWaiter, ec2Client)},
		{name: "ec2.NatGatewayDeleted", kind: awsfake.NatGateway, ids: []string{"nat-1", "nat-2"}, input: nats,
			vocab: words(ec2types.NatGatewayState("").Values()), pending: awsfake.Status("deleting"), success: awsfake.Status("deleted"),
			sdkWait: sdkWaiter(ec2.NewNatGatewayDeletedWaiter, ec2Client)},

		{name: "rds.DBInstanceAvailable", kind: awsfake.DBInstance, ids: []string{"db1"}, input: db,
			vocab: rdsVocab, pending: awsfake.Status("creating"), success: awsfake.Status("available"),
			sdkWait: sdkWaiter(rds.NewDBInstanceAvailableWaiter, rdsClient)},
		{name: "rds.DBInstanceDeleted", kind: awsfake.DBInstance, ids: []string{"db1"}, input: db,
			vocab: rdsVocab, pending: awsfake.Status("deleting"), success: awsfake.Failing(awsfake.Gone),
			sdkWait: sdkWaiter(rds.NewDBInstanceDeletedWaiter, rdsClient)},

		{name: "ecs.ServicesStable", kind: awsfake.Service, ids: []string{"apps/web", "apps/api"}, input: services,
			vocab: ecsVocab, pending: ecsVocab[2], success: ecsVocab[0],
			sdkWait: sdkWaiter(ecs.NewServicesStableWaiter, ecsClient)},
		{name: "ecs.ServicesInactive", kind: awsfake.Service, ids: []string{"apps/web", "apps/api"}, input: services,
			vocab: ecsVocab, pending: ecsVocab[3], success: ecsVocab[4],
			sdkWait: sdkWaiter(ecs.NewServicesInactiveWaiter, ecsClient)},

		{name: "lambda.FunctionActiveV2", kind: awsfake.Function, ids: []string{"fn"}, input: fn,
			vocab: words(lambdatypes.State("").Values()), pending: awsfake.Status("Pending"), success: awsfake.Status("Active"),
			sdkWait: sdkWaiter(lambda.NewFunctionActiveV2Waiter, lambdaClient)},
		{name: "lambda.FunctionUpdatedV2", kind: awsfake.Function, ids: []string{"fn"}, input: fn,
			vocab: updates, pending: inProgress, success: updates[0],
			sdkWait: sdkWaiter(lambda.NewFunctionUpdatedV2Waiter, lambdaClient)},
		{name: "lambda.FunctionExists", kind: awsfake.Function, ids: []string{"fn"}, input: fn,
			vocab: words(lambdatypes.State("").Values()), pending: awsfake.Failing(awsfake.Gone), success: awsfake.Status("Pending"),
			sdkWait: sdkWaiter(lambda.NewFunctionExistsWaiter, lambdaClient)},
		{name: "lambda.FunctionActive", kind: awsfake.Function, ids: []string{"fn"}, input: fnConf,
			vocab: words(lambdatypes.State("").Values()), pending: awsfake.Status("Pending"), success: awsfake.Status("Active"),
			sdkWait: sdkWaiter(lambda.NewFunctionActiveWaiter, lambdaClient)},
		{name: "lambda.FunctionUpdated", kind: awsfake.Function, ids: []string{"fn"}, input: fnConf,
			vocab: updates, pending: inProgress, success: updates[0],
			sdkWait: sdkWaiter(lambda.NewFunctionUpdatedWaiter, lambdaClient)},

		{name: "dynamodb.TableExists", kind: awsfake.Table, ids: []string{"orders"}, input: table,
			vocab: words(ddbtypes.TableStatus("").Values()), pending: awsfake.Failing(awsfake.Gone), success: awsfake.Status("ACTIVE"),
			sdkWait: sdkWaiter(dynamodb.NewTableExistsWaiter, ddbClient)},
		{name: "dynamodb.TableNotExists", kind: awsfake.Table, ids: []string{"orders"}, input: table,
			vocab: words(ddbtypes.TableStatus("").Values()), pending: awsfake.Status("DELETING"), success: awsfake.Failing(awsfake.Gone),
			sdkWait: sdkWaiter(dynamodb.NewTableNotExistsWaiter, ddbClient)},
	}
}

func ec2Instances(ids ...string) *ec2.DescribeInstancesInput {
	return &ec2.DescribeInstancesInput{InstanceIds: ids}
}

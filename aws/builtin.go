package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// The built-in waiters wrap the generated SDK waiters' own acceptors and
// model delays. A generated waiter's constructor sets options.Retryable to
// the service model's acceptor before it applies option functions, so an
// option function reads it (with MinDelay and MaxDelay) without waiting.

// describeWith binds a service client constructor to one of its describe
// methods.
func describeWith[C, In, Out, O any](newClient func(awssdk.Config, ...func(*O)) C, call func(C, context.Context, *In, ...func(*O)) (*Out, error)) func(awssdk.Config) DescribeFunc[In, Out] {
	return func(cfg awssdk.Config) DescribeFunc[In, Out] {
		c := newClient(cfg)
		return func(ctx context.Context, in *In) (*Out, error) { return call(c, ctx, in) }
	}
}

// statuses joins the distinct status words of several resources (a waiter
// may watch many instances at once) and returns the first reason.
func statuses[T any](items []T, f func(T) (string, string)) (string, string) {
	var words []string
	var reason string
	for _, it := range items {
		s, r := f(it)
		if !slices.Contains(words, s) {
			words = append(words, s)
		}
		if reason == "" {
			reason = r
		}
	}
	return strings.Join(words, ","), reason
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func init() {
	registerCloudFormation()
	registerEKS()
	registerEC2()
	registerRDS()
	registerECS()
	registerLambda()
	registerDynamoDB()
}

func registerCloudFormation() {
	type stacksDef = Definition[cloudformation.DescribeStacksInput, cloudformation.DescribeStacksOutput]
	describe := describeWith(cloudformation.NewFromConfig, (*cloudformation.Client).DescribeStacks)
	status := func(out *cloudformation.DescribeStacksOutput) (string, string) {
		return statuses(out.Stacks, func(s cfntypes.Stack) (string, string) {
			return string(s.StackStatus), deref(s.StackStatusReason)
		})
	}
	stack := func(name string) stacksDef {
		return stacksDef{Name: "cloudformation." + name, Describe: describe, Status: status}
	}

	d := stack("StackCreateComplete")
	cloudformation.NewStackCreateCompleteWaiter(nil, func(o *cloudformation.StackCreateCompleteWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)

	d = stack("StackUpdateComplete")
	cloudformation.NewStackUpdateCompleteWaiter(nil, func(o *cloudformation.StackUpdateCompleteWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	// CancelUpdateStack rolls an update back: UPDATE_ROLLBACK_COMPLETE,
	// a failure of this waiter, then means the cancel took effect.
	d.Cancel = func(cfg awssdk.Config) func(context.Context, *cloudformation.DescribeStacksInput) error {
		c := cloudformation.NewFromConfig(cfg)
		return func(ctx context.Context, in *cloudformation.DescribeStacksInput) error {
			if in.StackName == nil {
				return errors.New("the input names no stack")
			}
			_, err := c.CancelUpdateStack(ctx, &cloudformation.CancelUpdateStackInput{StackName: in.StackName})
			return err
		}
	}
	d.CanceledStatuses = []string{"UPDATE_ROLLBACK_COMPLETE"}
	mustRegister(d)

	d = stack("StackDeleteComplete")
	cloudformation.NewStackDeleteCompleteWaiter(nil, func(o *cloudformation.StackDeleteCompleteWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)

	d = stack("StackImportComplete")
	cloudformation.NewStackImportCompleteWaiter(nil, func(o *cloudformation.StackImportCompleteWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)

	d = stack("StackRollbackComplete")
	cloudformation.NewStackRollbackCompleteWaiter(nil, func(o *cloudformation.StackRollbackCompleteWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)

	d = stack("StackExists")
	cloudformation.NewStackExistsWaiter(nil, func(o *cloudformation.StackExistsWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)

	cs := Definition[cloudformation.DescribeChangeSetInput, cloudformation.DescribeChangeSetOutput]{
		Name:     "cloudformation.ChangeSetCreateComplete",
		Describe: describeWith(cloudformation.NewFromConfig, (*cloudformation.Client).DescribeChangeSet),
		Status: func(out *cloudformation.DescribeChangeSetOutput) (string, string) {
			return string(out.Status), deref(out.StatusReason)
		},
	}
	cloudformation.NewChangeSetCreateCompleteWaiter(nil, func(o *cloudformation.ChangeSetCreateCompleteWaiterOptions) {
		cs.Accept, cs.MinDelay, cs.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(cs)
}

func registerEKS() {
	cluster := func(name string) Definition[eks.DescribeClusterInput, eks.DescribeClusterOutput] {
		return Definition[eks.DescribeClusterInput, eks.DescribeClusterOutput]{
			Name:     "eks." + name,
			Describe: describeWith(eks.NewFromConfig, (*eks.Client).DescribeCluster),
			Status: func(out *eks.DescribeClusterOutput) (string, string) {
				if out.Cluster == nil {
					return "", ""
				}
				var reason string
				if h := out.Cluster.Health; h != nil && len(h.Issues) > 0 {
					reason = issue(string(h.Issues[0].Code), h.Issues[0].Message)
				}
				return string(out.Cluster.Status), reason
			},
		}
	}
	c := cluster("ClusterActive")
	eks.NewClusterActiveWaiter(nil, func(o *eks.ClusterActiveWaiterOptions) {
		c.Accept, c.MinDelay, c.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(c)
	c = cluster("ClusterDeleted")
	eks.NewClusterDeletedWaiter(nil, func(o *eks.ClusterDeletedWaiterOptions) {
		c.Accept, c.MinDelay, c.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(c)

	nodegroup := func(name string) Definition[eks.DescribeNodegroupInput, eks.DescribeNodegroupOutput] {
		return Definition[eks.DescribeNodegroupInput, eks.DescribeNodegroupOutput]{
			Name:     "eks." + name,
			Describe: describeWith(eks.NewFromConfig, (*eks.Client).DescribeNodegroup),
			Status: func(out *eks.DescribeNodegroupOutput) (string, string) {
				if out.Nodegroup == nil {
					return "", ""
				}
				var reason string
				if h := out.Nodegroup.Health; h != nil && len(h.Issues) > 0 {
					reason = issue(string(h.Issues[0].Code), h.Issues[0].Message)
				}
				return string(out.Nodegroup.Status), reason
			},
		}
	}
	n := nodegroup("NodegroupActive")
	eks.NewNodegroupActiveWaiter(nil, func(o *eks.NodegroupActiveWaiterOptions) {
		n.Accept, n.MinDelay, n.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(n)
	n = nodegroup("NodegroupDeleted")
	eks.NewNodegroupDeletedWaiter(nil, func(o *eks.NodegroupDeletedWaiterOptions) {
		n.Accept, n.MinDelay, n.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(n)

	addon := func(name string) Definition[eks.DescribeAddonInput, eks.DescribeAddonOutput] {
		return Definition[eks.DescribeAddonInput, eks.DescribeAddonOutput]{
			Name:     "eks." + name,
			Describe: describeWith(eks.NewFromConfig, (*eks.Client).DescribeAddon),
			Status: func(out *eks.DescribeAddonOutput) (string, string) {
				if out.Addon == nil {
					return "", ""
				}
				var reason string
				if h := out.Addon.Health; h != nil && len(h.Issues) > 0 {
					reason = issue(string(h.Issues[0].Code), h.Issues[0].Message)
				}
				return string(out.Addon.Status), reason
			},
		}
	}
	a := addon("AddonActive")
	eks.NewAddonActiveWaiter(nil, func(o *eks.AddonActiveWaiterOptions) {
		a.Accept, a.MinDelay, a.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(a)
	a = addon("AddonDeleted")
	eks.NewAddonDeletedWaiter(nil, func(o *eks.AddonDeletedWaiterOptions) {
		a.Accept, a.MinDelay, a.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(a)
}

func issue(code string, msg *string) string {
	switch {
	case code != "" && msg != nil:
		return code + ": " + *msg
	case msg != nil:
		return *msg
	}
	return code
}

func registerEC2() {
	instances := func(name string) Definition[ec2.DescribeInstancesInput, ec2.DescribeInstancesOutput] {
		return Definition[ec2.DescribeInstancesInput, ec2.DescribeInstancesOutput]{
			Name:     "ec2." + name,
			Describe: describeWith(ec2.NewFromConfig, (*ec2.Client).DescribeInstances),
			Status: func(out *ec2.DescribeInstancesOutput) (string, string) {
				var all []ec2types.Instance
				for _, r := range out.Reservations {
					all = append(all, r.Instances...)
				}
				return statuses(all, func(i ec2types.Instance) (string, string) {
					var s, r string
					if i.State != nil {
						s = string(i.State.Name)
					}
					if i.StateReason != nil {
						r = deref(i.StateReason.Message)
					}
					return s, r
				})
			},
		}
	}
	i := instances("InstanceRunning")
	ec2.NewInstanceRunningWaiter(nil, func(o *ec2.InstanceRunningWaiterOptions) {
		i.Accept, i.MinDelay, i.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(i)
	i = instances("InstanceStopped")
	ec2.NewInstanceStoppedWaiter(nil, func(o *ec2.InstanceStoppedWaiterOptions) {
		i.Accept, i.MinDelay, i.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(i)
	i = instances("InstanceTerminated")
	ec2.NewInstanceTerminatedWaiter(nil, func(o *ec2.InstanceTerminatedWaiterOptions) {
		i.Accept, i.MinDelay, i.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(i)
	i = instances("InstanceExists")
	ec2.NewInstanceExistsWaiter(nil, func(o *ec2.InstanceExistsWaiterOptions) {
		i.Accept, i.MinDelay, i.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(i)

	instanceStatus := func(name string, summary func(ec2types.InstanceStatus) *ec2types.InstanceStatusSummary) Definition[ec2.DescribeInstanceStatusInput, ec2.DescribeInstanceStatusOutput] {
		return Definition[ec2.DescribeInstanceStatusInput, ec2.DescribeInstanceStatusOutput]{
			Name:     "ec2." + name,
			Describe: describeWith(ec2.NewFromConfig, (*ec2.Client).DescribeInstanceStatus),
			Status: func(out *ec2.DescribeInstanceStatusOutput) (string, string) {
				return statuses(out.InstanceStatuses, func(s ec2types.InstanceStatus) (string, string) {
					if sum := summary(s); sum != nil {
						return string(sum.Status), ""
					}
					return "", ""
				})
			},
		}
	}
	s := instanceStatus("InstanceStatusOk", func(s ec2types.InstanceStatus) *ec2types.InstanceStatusSummary { return s.InstanceStatus })
	ec2.NewInstanceStatusOkWaiter(nil, func(o *ec2.InstanceStatusOkWaiterOptions) {
		s.Accept, s.MinDelay, s.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(s)
	s = instanceStatus("SystemStatusOk", func(s ec2types.InstanceStatus) *ec2types.InstanceStatusSummary { return s.SystemStatus })
	ec2.NewSystemStatusOkWaiter(nil, func(o *ec2.SystemStatusOkWaiterOptions) {
		s.Accept, s.MinDelay, s.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(s)

	volumes := func(name string) Definition[ec2.DescribeVolumesInput, ec2.DescribeVolumesOutput] {
		return Definition[ec2.DescribeVolumesInput, ec2.DescribeVolumesOutput]{
			Name:     "ec2." + name,
			Describe: describeWith(ec2.NewFromConfig, (*ec2.Client).DescribeVolumes),
			Status: func(out *ec2.DescribeVolumesOutput) (string, string) {
				return statuses(out.Volumes, func(v ec2types.Volume) (string, string) { return string(v.State), "" })
			},
		}
	}
	v := volumes("VolumeAvailable")
	ec2.NewVolumeAvailableWaiter(nil, func(o *ec2.VolumeAvailableWaiterOptions) {
		v.Accept, v.MinDelay, v.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(v)
	v = volumes("VolumeDeleted")
	ec2.NewVolumeDeletedWaiter(nil, func(o *ec2.VolumeDeletedWaiterOptions) {
		v.Accept, v.MinDelay, v.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(v)
	v = volumes("VolumeInUse")
	ec2.NewVolumeInUseWaiter(nil, func(o *ec2.VolumeInUseWaiterOptions) {
		v.Accept, v.MinDelay, v.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(v)

	images := func(name string) Definition[ec2.DescribeImagesInput, ec2.DescribeImagesOutput] {
		return Definition[ec2.DescribeImagesInput, ec2.DescribeImagesOutput]{
			Name:     "ec2." + name,
			Describe: describeWith(ec2.NewFromConfig, (*ec2.Client).DescribeImages),
			Status: func(out *ec2.DescribeImagesOutput) (string, string) {
				return statuses(out.Images, func(im ec2types.Image) (string, string) {
					var r string
					if im.StateReason != nil {
						r = deref(im.StateReason.Message)
					}
					return string(im.State), r
				})
			},
		}
	}
	im := images("ImageAvailable")
	ec2.NewImageAvailableWaiter(nil, func(o *ec2.ImageAvailableWaiterOptions) {
		im.Accept, im.MinDelay, im.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(im)
	im = images("ImageExists")
	ec2.NewImageExistsWaiter(nil, func(o *ec2.ImageExistsWaiterOptions) {
		im.Accept, im.MinDelay, im.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(im)

	nats := func(name string) Definition[ec2.DescribeNatGatewaysInput, ec2.DescribeNatGatewaysOutput] {
		return Definition[ec2.DescribeNatGatewaysInput, ec2.DescribeNatGatewaysOutput]{
			Name:     "ec2." + name,
			Describe: describeWith(ec2.NewFromConfig, (*ec2.Client).DescribeNatGateways),
			Status: func(out *ec2.DescribeNatGatewaysOutput) (string, string) {
				return statuses(out.NatGateways, func(n ec2types.NatGateway) (string, string) {
					return string(n.State), deref(n.FailureMessage)
				})
			},
		}
	}
	ng := nats("NatGatewayAvailable")
	ec2.NewNatGatewayAvailableWaiter(nil, func(o *ec2.NatGatewayAvailableWaiterOptions) {
		ng.Accept, ng.MinDelay, ng.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(ng)
	ng = nats("NatGatewayDeleted")
	ec2.NewNatGatewayDeletedWaiter(nil, func(o *ec2.NatGatewayDeletedWaiterOptions) {
		ng.Accept, ng.MinDelay, ng.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(ng)
}

func registerRDS() {
	db := func(name string) Definition[rds.DescribeDBInstancesInput, rds.DescribeDBInstancesOutput] {
		return Definition[rds.DescribeDBInstancesInput, rds.DescribeDBInstancesOutput]{
			Name:     "rds." + name,
			Describe: describeWith(rds.NewFromConfig, (*rds.Client).DescribeDBInstances),
			Status: func(out *rds.DescribeDBInstancesOutput) (string, string) {
				return statuses(out.DBInstances, func(i rdstypes.DBInstance) (string, string) {
					var r string
					if len(i.StatusInfos) > 0 {
						r = deref(i.StatusInfos[0].Message)
					}
					return deref(i.DBInstanceStatus), r
				})
			},
		}
	}
	d := db("DBInstanceAvailable")
	rds.NewDBInstanceAvailableWaiter(nil, func(o *rds.DBInstanceAvailableWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)
	d = db("DBInstanceDeleted")
	rds.NewDBInstanceDeletedWaiter(nil, func(o *rds.DBInstanceDeletedWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)
}

func registerECS() {
	svc := func(name string) Definition[ecs.DescribeServicesInput, ecs.DescribeServicesOutput] {
		return Definition[ecs.DescribeServicesInput, ecs.DescribeServicesOutput]{
			Name:     "ecs." + name,
			Describe: describeWith(ecs.NewFromConfig, (*ecs.Client).DescribeServices),
			Status:   ecsStatus,
		}
	}
	d := svc("ServicesStable")
	ecs.NewServicesStableWaiter(nil, func(o *ecs.ServicesStableWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)
	d = svc("ServicesInactive")
	ecs.NewServicesInactiveWaiter(nil, func(o *ecs.ServicesInactiveWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)
}

// ecsStatus reports each service as "STATUS running/desired" plus its
// deployment count while a deployment rolls, so the detail changes as a
// service stabilizes; a service DescribeServices does not find is MISSING.
func ecsStatus(out *ecs.DescribeServicesOutput) (string, string) {
	var words []string
	var reason string
	for _, s := range out.Services {
		w := fmt.Sprintf("%s %d/%d", deref(s.Status), s.RunningCount, s.DesiredCount)
		if len(s.Deployments) != 1 {
			w += fmt.Sprintf(" (%d deployments)", len(s.Deployments))
		}
		words = append(words, w)
	}
	for _, f := range out.Failures {
		words = append(words, deref(f.Reason))
		if reason == "" {
			reason = strings.TrimSpace(deref(f.Reason) + " " + deref(f.Arn))
		}
	}
	return strings.Join(words, ","), reason
}

func registerLambda() {
	fn := func(name string, status func(*lambda.GetFunctionOutput) (string, string)) Definition[lambda.GetFunctionInput, lambda.GetFunctionOutput] {
		return Definition[lambda.GetFunctionInput, lambda.GetFunctionOutput]{
			Name:     "lambda." + name,
			Describe: describeWith(lambda.NewFromConfig, (*lambda.Client).GetFunction),
			Status:   status,
		}
	}
	state := func(out *lambda.GetFunctionOutput) (string, string) {
		if out.Configuration == nil {
			return "", ""
		}
		return string(out.Configuration.State), deref(out.Configuration.StateReason)
	}
	update := func(out *lambda.GetFunctionOutput) (string, string) {
		if out.Configuration == nil {
			return "", ""
		}
		return string(out.Configuration.LastUpdateStatus), deref(out.Configuration.LastUpdateStatusReason)
	}
	d := fn("FunctionActiveV2", state)
	lambda.NewFunctionActiveV2Waiter(nil, func(o *lambda.FunctionActiveV2WaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)
	d = fn("FunctionUpdatedV2", update)
	lambda.NewFunctionUpdatedV2Waiter(nil, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)
	d = fn("FunctionExists", state)
	lambda.NewFunctionExistsWaiter(nil, func(o *lambda.FunctionExistsWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)

	conf := func(name string, status func(*lambda.GetFunctionConfigurationOutput) (string, string)) Definition[lambda.GetFunctionConfigurationInput, lambda.GetFunctionConfigurationOutput] {
		return Definition[lambda.GetFunctionConfigurationInput, lambda.GetFunctionConfigurationOutput]{
			Name:     "lambda." + name,
			Describe: describeWith(lambda.NewFromConfig, (*lambda.Client).GetFunctionConfiguration),
			Status:   status,
		}
	}
	c := conf("FunctionActive", func(out *lambda.GetFunctionConfigurationOutput) (string, string) {
		return string(out.State), deref(out.StateReason)
	})
	lambda.NewFunctionActiveWaiter(nil, func(o *lambda.FunctionActiveWaiterOptions) {
		c.Accept, c.MinDelay, c.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(c)
	c = conf("FunctionUpdated", func(out *lambda.GetFunctionConfigurationOutput) (string, string) {
		return string(out.LastUpdateStatus), deref(out.LastUpdateStatusReason)
	})
	lambda.NewFunctionUpdatedWaiter(nil, func(o *lambda.FunctionUpdatedWaiterOptions) {
		c.Accept, c.MinDelay, c.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(c)
}

func registerDynamoDB() {
	table := func(name string) Definition[dynamodb.DescribeTableInput, dynamodb.DescribeTableOutput] {
		return Definition[dynamodb.DescribeTableInput, dynamodb.DescribeTableOutput]{
			Name:     "dynamodb." + name,
			Describe: describeWith(dynamodb.NewFromConfig, (*dynamodb.Client).DescribeTable),
			Status: func(out *dynamodb.DescribeTableOutput) (string, string) {
				if out.Table == nil {
					return "", ""
				}
				return string(out.Table.TableStatus), ""
			},
		}
	}
	d := table("TableExists")
	dynamodb.NewTableExistsWaiter(nil, func(o *dynamodb.TableExistsWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)
	d = table("TableNotExists")
	dynamodb.NewTableNotExistsWaiter(nil, func(o *dynamodb.TableNotExistsWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	mustRegister(d)
}

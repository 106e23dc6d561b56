package ec2

import (
	sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/lrokit/lrokit/aws"
)

func init() {
	instances := func(name string) aws.Definition[sdk.DescribeInstancesInput, sdk.DescribeInstancesOutput] {
		return aws.Definition[sdk.DescribeInstancesInput, sdk.DescribeInstancesOutput]{
			Name:     "ec2." + name,
			Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeInstances),
			Status: func(out *sdk.DescribeInstancesOutput) (string, string) {
				var all []types.Instance
				for _, r := range out.Reservations {
					all = append(all, r.Instances...)
				}
				return aws.JoinStatuses(all, func(i types.Instance) (string, string) {
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
	aws.MustRegister(aws.FromSDKWaiter(instances("InstanceRunning"), sdk.NewInstanceRunningWaiter))
	aws.MustRegister(aws.FromSDKWaiter(instances("InstanceStopped"), sdk.NewInstanceStoppedWaiter))
	aws.MustRegister(aws.FromSDKWaiter(instances("InstanceTerminated"), sdk.NewInstanceTerminatedWaiter))
	aws.MustRegister(aws.FromSDKWaiter(instances("InstanceExists"), sdk.NewInstanceExistsWaiter))

	instanceStatus := func(name string, summary func(types.InstanceStatus) *types.InstanceStatusSummary) aws.Definition[sdk.DescribeInstanceStatusInput, sdk.DescribeInstanceStatusOutput] {
		return aws.Definition[sdk.DescribeInstanceStatusInput, sdk.DescribeInstanceStatusOutput]{
			Name:     "ec2." + name,
			Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeInstanceStatus),
			Status: func(out *sdk.DescribeInstanceStatusOutput) (string, string) {
				return aws.JoinStatuses(out.InstanceStatuses, func(s types.InstanceStatus) (string, string) {
					if sum := summary(s); sum != nil {
						return string(sum.Status), ""
					}
					return "", ""
				})
			},
		}
	}
	s := instanceStatus("InstanceStatusOk", func(s types.InstanceStatus) *types.InstanceStatusSummary { return s.InstanceStatus })
	s = aws.FromSDKWaiter(s, sdk.NewInstanceStatusOkWaiter)
	aws.MustRegister(s)
	s = instanceStatus("SystemStatusOk", func(s types.InstanceStatus) *types.InstanceStatusSummary { return s.SystemStatus })
	s = aws.FromSDKWaiter(s, sdk.NewSystemStatusOkWaiter)
	aws.MustRegister(s)

	volumes := func(name string) aws.Definition[sdk.DescribeVolumesInput, sdk.DescribeVolumesOutput] {
		return aws.Definition[sdk.DescribeVolumesInput, sdk.DescribeVolumesOutput]{
			Name:     "ec2." + name,
			Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeVolumes),
			Status: func(out *sdk.DescribeVolumesOutput) (string, string) {
				return aws.JoinStatuses(out.Volumes, func(v types.Volume) (string, string) { return string(v.State), "" })
			},
		}
	}
	aws.MustRegister(aws.FromSDKWaiter(volumes("VolumeAvailable"), sdk.NewVolumeAvailableWaiter))
	aws.MustRegister(aws.FromSDKWaiter(volumes("VolumeDeleted"), sdk.NewVolumeDeletedWaiter))
	aws.MustRegister(aws.FromSDKWaiter(volumes("VolumeInUse"), sdk.NewVolumeInUseWaiter))

	images := func(name string) aws.Definition[sdk.DescribeImagesInput, sdk.DescribeImagesOutput] {
		return aws.Definition[sdk.DescribeImagesInput, sdk.DescribeImagesOutput]{
			Name:     "ec2." + name,
			Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeImages),
			Status: func(out *sdk.DescribeImagesOutput) (string, string) {
				return aws.JoinStatuses(out.Images, func(im types.Image) (string, string) {
					var r string
					if im.StateReason != nil {
						r = deref(im.StateReason.Message)
					}
					return string(im.State), r
				})
			},
		}
	}
	aws.MustRegister(aws.FromSDKWaiter(images("ImageAvailable"), sdk.NewImageAvailableWaiter))
	aws.MustRegister(aws.FromSDKWaiter(images("ImageExists"), sdk.NewImageExistsWaiter))

	nats := func(name string) aws.Definition[sdk.DescribeNatGatewaysInput, sdk.DescribeNatGatewaysOutput] {
		return aws.Definition[sdk.DescribeNatGatewaysInput, sdk.DescribeNatGatewaysOutput]{
			Name:     "ec2." + name,
			Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeNatGateways),
			Status: func(out *sdk.DescribeNatGatewaysOutput) (string, string) {
				return aws.JoinStatuses(out.NatGateways, func(n types.NatGateway) (string, string) {
					return string(n.State), deref(n.FailureMessage)
				})
			},
		}
	}
	aws.MustRegister(aws.FromSDKWaiter(nats("NatGatewayAvailable"), sdk.NewNatGatewayAvailableWaiter))
	aws.MustRegister(aws.FromSDKWaiter(nats("NatGatewayDeleted"), sdk.NewNatGatewayDeletedWaiter))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

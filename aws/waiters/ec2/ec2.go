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
	i := instances("InstanceRunning")
	sdk.NewInstanceRunningWaiter(nil, func(o *sdk.InstanceRunningWaiterOptions) {
		i.Accept, i.MinDelay, i.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(i)
	i = instances("InstanceStopped")
	sdk.NewInstanceStoppedWaiter(nil, func(o *sdk.InstanceStoppedWaiterOptions) {
		i.Accept, i.MinDelay, i.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(i)
	i = instances("InstanceTerminated")
	sdk.NewInstanceTerminatedWaiter(nil, func(o *sdk.InstanceTerminatedWaiterOptions) {
		i.Accept, i.MinDelay, i.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(i)
	i = instances("InstanceExists")
	sdk.NewInstanceExistsWaiter(nil, func(o *sdk.InstanceExistsWaiterOptions) {
		i.Accept, i.MinDelay, i.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(i)

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
	sdk.NewInstanceStatusOkWaiter(nil, func(o *sdk.InstanceStatusOkWaiterOptions) {
		s.Accept, s.MinDelay, s.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(s)
	s = instanceStatus("SystemStatusOk", func(s types.InstanceStatus) *types.InstanceStatusSummary { return s.SystemStatus })
	sdk.NewSystemStatusOkWaiter(nil, func(o *sdk.SystemStatusOkWaiterOptions) {
		s.Accept, s.MinDelay, s.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
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
	v := volumes("VolumeAvailable")
	sdk.NewVolumeAvailableWaiter(nil, func(o *sdk.VolumeAvailableWaiterOptions) {
		v.Accept, v.MinDelay, v.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(v)
	v = volumes("VolumeDeleted")
	sdk.NewVolumeDeletedWaiter(nil, func(o *sdk.VolumeDeletedWaiterOptions) {
		v.Accept, v.MinDelay, v.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(v)
	v = volumes("VolumeInUse")
	sdk.NewVolumeInUseWaiter(nil, func(o *sdk.VolumeInUseWaiterOptions) {
		v.Accept, v.MinDelay, v.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(v)

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
	im := images("ImageAvailable")
	sdk.NewImageAvailableWaiter(nil, func(o *sdk.ImageAvailableWaiterOptions) {
		im.Accept, im.MinDelay, im.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(im)
	im = images("ImageExists")
	sdk.NewImageExistsWaiter(nil, func(o *sdk.ImageExistsWaiterOptions) {
		im.Accept, im.MinDelay, im.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(im)

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
	ng := nats("NatGatewayAvailable")
	sdk.NewNatGatewayAvailableWaiter(nil, func(o *sdk.NatGatewayAvailableWaiterOptions) {
		ng.Accept, ng.MinDelay, ng.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(ng)
	ng = nats("NatGatewayDeleted")
	sdk.NewNatGatewayDeletedWaiter(nil, func(o *sdk.NatGatewayDeletedWaiterOptions) {
		ng.Accept, ng.MinDelay, ng.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(ng)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

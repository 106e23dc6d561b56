package eks

import (
	sdk "github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/lrokit/lrokit/aws"
)

func init() {
	cluster := func(name string) aws.Definition[sdk.DescribeClusterInput, sdk.DescribeClusterOutput] {
		return aws.Definition[sdk.DescribeClusterInput, sdk.DescribeClusterOutput]{
			Name:     "eks." + name,
			Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeCluster),
			Status: func(out *sdk.DescribeClusterOutput) (string, string) {
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
	aws.MustRegister(aws.FromSDKWaiter(cluster("ClusterActive"), sdk.NewClusterActiveWaiter))
	aws.MustRegister(aws.FromSDKWaiter(cluster("ClusterDeleted"), sdk.NewClusterDeletedWaiter))

	nodegroup := func(name string) aws.Definition[sdk.DescribeNodegroupInput, sdk.DescribeNodegroupOutput] {
		return aws.Definition[sdk.DescribeNodegroupInput, sdk.DescribeNodegroupOutput]{
			Name:     "eks." + name,
			Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeNodegroup),
			Status: func(out *sdk.DescribeNodegroupOutput) (string, string) {
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
	aws.MustRegister(aws.FromSDKWaiter(nodegroup("NodegroupActive"), sdk.NewNodegroupActiveWaiter))
	aws.MustRegister(aws.FromSDKWaiter(nodegroup("NodegroupDeleted"), sdk.NewNodegroupDeletedWaiter))

	addon := func(name string) aws.Definition[sdk.DescribeAddonInput, sdk.DescribeAddonOutput] {
		return aws.Definition[sdk.DescribeAddonInput, sdk.DescribeAddonOutput]{
			Name:     "eks." + name,
			Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeAddon),
			Status: func(out *sdk.DescribeAddonOutput) (string, string) {
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
	aws.MustRegister(aws.FromSDKWaiter(addon("AddonActive"), sdk.NewAddonActiveWaiter))
	aws.MustRegister(aws.FromSDKWaiter(addon("AddonDeleted"), sdk.NewAddonDeletedWaiter))
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

package ecs

import (
	"fmt"
	"strings"

	sdk "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/lrokit/lrokit/aws"
)

func init() {
	svc := func(name string) aws.Definition[sdk.DescribeServicesInput, sdk.DescribeServicesOutput] {
		return aws.Definition[sdk.DescribeServicesInput, sdk.DescribeServicesOutput]{
			Name:     "ecs." + name,
			Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeServices),
			Status:   ecsStatus,
		}
	}
	aws.MustRegister(aws.FromSDKWaiter(svc("ServicesStable"), sdk.NewServicesStableWaiter))
	aws.MustRegister(aws.FromSDKWaiter(svc("ServicesInactive"), sdk.NewServicesInactiveWaiter))
}

func ecsStatus(out *sdk.DescribeServicesOutput) (string, string) {
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

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

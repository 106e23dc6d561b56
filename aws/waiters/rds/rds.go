package rds

import (
	sdk "github.com/aws/aws-sdk-go-v2/service/rds"
	types "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/lrokit/lrokit/aws"
)

func init() {
	db := func(name string) aws.Definition[sdk.DescribeDBInstancesInput, sdk.DescribeDBInstancesOutput] {
		return aws.Definition[sdk.DescribeDBInstancesInput, sdk.DescribeDBInstancesOutput]{
			Name:     "rds." + name,
			Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeDBInstances),
			Status: func(out *sdk.DescribeDBInstancesOutput) (string, string) {
				return aws.JoinStatuses(out.DBInstances, func(i types.DBInstance) (string, string) {
					var r string
					if len(i.StatusInfos) > 0 {
						r = deref(i.StatusInfos[0].Message)
					}
					return deref(i.DBInstanceStatus), r
				})
			},
		}
	}
	aws.MustRegister(aws.FromSDKWaiter(db("DBInstanceAvailable"), sdk.NewDBInstanceAvailableWaiter))
	aws.MustRegister(aws.FromSDKWaiter(db("DBInstanceDeleted"), sdk.NewDBInstanceDeletedWaiter))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

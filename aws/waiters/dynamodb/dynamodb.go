package dynamodb

import (
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lrokit/lrokit/aws"
)

func init() {
	table := func(name string) aws.Definition[sdk.DescribeTableInput, sdk.DescribeTableOutput] {
		return aws.Definition[sdk.DescribeTableInput, sdk.DescribeTableOutput]{
			Name:     "dynamodb." + name,
			Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeTable),
			Status: func(out *sdk.DescribeTableOutput) (string, string) {
				if out.Table == nil {
					return "", ""
				}
				return string(out.Table.TableStatus), ""
			},
		}
	}
	aws.MustRegister(aws.FromSDKWaiter(table("TableExists"), sdk.NewTableExistsWaiter))
	aws.MustRegister(aws.FromSDKWaiter(table("TableNotExists"), sdk.NewTableNotExistsWaiter))
}

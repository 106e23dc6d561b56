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
	d := table("TableExists")
	sdk.NewTableExistsWaiter(nil, func(o *sdk.TableExistsWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(d)
	d = table("TableNotExists")
	sdk.NewTableNotExistsWaiter(nil, func(o *sdk.TableNotExistsWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(d)
}

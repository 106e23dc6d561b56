package cloudformation

import (
	"context"
	"errors"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	types "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/lrokit/lrokit/aws"
)

func init() {
	type stacksDef = aws.Definition[sdk.DescribeStacksInput, sdk.DescribeStacksOutput]
	describe := aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeStacks)
	status := func(out *sdk.DescribeStacksOutput) (string, string) {
		return aws.JoinStatuses(out.Stacks, func(s types.Stack) (string, string) {
			return string(s.StackStatus), deref(s.StackStatusReason)
		})
	}
	stack := func(name string) stacksDef {
		return stacksDef{Name: "cloudformation." + name, Describe: describe, Status: status}
	}

	aws.MustRegister(aws.FromSDKWaiter(stack("StackCreateComplete"), sdk.NewStackCreateCompleteWaiter))

	d := stack("StackUpdateComplete")
	d = aws.FromSDKWaiter(d, sdk.NewStackUpdateCompleteWaiter)
	// CancelUpdateStack rolls an update back: UPDATE_ROLLBACK_COMPLETE,
	// a failure of this waiter, then means the cancel took effect.
	d.Cancel = func(cfg awssdk.Config) func(context.Context, *sdk.DescribeStacksInput) error {
		c := sdk.NewFromConfig(cfg)
		return func(ctx context.Context, in *sdk.DescribeStacksInput) error {
			if in.StackName == nil {
				return errors.New("the input names no stack")
			}
			_, err := c.CancelUpdateStack(ctx, &sdk.CancelUpdateStackInput{StackName: in.StackName})
			return err
		}
	}
	d.CanceledStatuses = []string{"UPDATE_ROLLBACK_COMPLETE"}
	aws.MustRegister(d)

	aws.MustRegister(aws.FromSDKWaiter(stack("StackDeleteComplete"), sdk.NewStackDeleteCompleteWaiter))
	aws.MustRegister(aws.FromSDKWaiter(stack("StackImportComplete"), sdk.NewStackImportCompleteWaiter))
	aws.MustRegister(aws.FromSDKWaiter(stack("StackRollbackComplete"), sdk.NewStackRollbackCompleteWaiter))
	aws.MustRegister(aws.FromSDKWaiter(stack("StackExists"), sdk.NewStackExistsWaiter))

	cs := aws.Definition[sdk.DescribeChangeSetInput, sdk.DescribeChangeSetOutput]{
		Name:     "cloudformation.ChangeSetCreateComplete",
		Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeChangeSet),
		Status: func(out *sdk.DescribeChangeSetOutput) (string, string) {
			return string(out.Status), deref(out.StatusReason)
		},
	}
	cs = aws.FromSDKWaiter(cs, sdk.NewChangeSetCreateCompleteWaiter)
	aws.MustRegister(cs)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

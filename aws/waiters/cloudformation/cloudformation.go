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

	d := stack("StackCreateComplete")
	sdk.NewStackCreateCompleteWaiter(nil, func(o *sdk.StackCreateCompleteWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(d)

	d = stack("StackUpdateComplete")
	sdk.NewStackUpdateCompleteWaiter(nil, func(o *sdk.StackUpdateCompleteWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
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

	d = stack("StackDeleteComplete")
	sdk.NewStackDeleteCompleteWaiter(nil, func(o *sdk.StackDeleteCompleteWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(d)

	d = stack("StackImportComplete")
	sdk.NewStackImportCompleteWaiter(nil, func(o *sdk.StackImportCompleteWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(d)

	d = stack("StackRollbackComplete")
	sdk.NewStackRollbackCompleteWaiter(nil, func(o *sdk.StackRollbackCompleteWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(d)

	d = stack("StackExists")
	sdk.NewStackExistsWaiter(nil, func(o *sdk.StackExistsWaiterOptions) {
		d.Accept, d.MinDelay, d.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(d)

	cs := aws.Definition[sdk.DescribeChangeSetInput, sdk.DescribeChangeSetOutput]{
		Name:     "cloudformation.ChangeSetCreateComplete",
		Describe: aws.DescribeWith(sdk.NewFromConfig, (*sdk.Client).DescribeChangeSet),
		Status: func(out *sdk.DescribeChangeSetOutput) (string, string) {
			return string(out.Status), deref(out.StatusReason)
		},
	}
	sdk.NewChangeSetCreateCompleteWaiter(nil, func(o *sdk.ChangeSetCreateCompleteWaiterOptions) {
		cs.Accept, cs.MinDelay, cs.MaxDelay = o.Retryable, o.MinDelay, o.MaxDelay
	})
	aws.MustRegister(cs)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

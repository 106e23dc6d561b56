package aws_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/aws"
	// The tests use the built-in waiters by name.
	_ "github.com/lrokit/lrokit/aws/waiters/all"
)

// FromSDKWaiter copies the generated waiter's own acceptor and model
// delays (CloudFormation's StackCreateComplete: 30 s to 120 s).
func TestFromSDKWaiter(t *testing.T) {
	d := aws.FromSDKWaiter(aws.Definition[cloudformation.DescribeStacksInput, cloudformation.DescribeStacksOutput]{Name: "x"},
		cloudformation.NewStackCreateCompleteWaiter)
	assert.Equal(t, "x", d.Name)
	assert.Equal(t, 30*time.Second, d.MinDelay)
	assert.Equal(t, 120*time.Second, d.MaxDelay)
	require.NotNil(t, d.Accept)
	out := &cloudformation.DescribeStacksOutput{Stacks: []cftypes.Stack{{StackStatus: cftypes.StackStatusCreateComplete}}}
	retry, err := d.Accept(context.Background(), &cloudformation.DescribeStacksInput{}, out, nil)
	assert.False(t, retry)
	assert.NoError(t, err)
	out.Stacks[0].StackStatus = cftypes.StackStatusCreateInProgress
	retry, err = d.Accept(context.Background(), &cloudformation.DescribeStacksInput{}, out, nil)
	assert.True(t, retry)
	assert.NoError(t, err)
}

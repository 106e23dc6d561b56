package aws_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lrokit/lrokit/aws"
	"github.com/lrokit/lrokit/lrotest"
	"github.com/lrokit/lrokit/lrotest/awsfake"
	"github.com/lrokit/lrokit/poller"
)

// Wait for a CloudFormation stack with AWS's own StackCreateComplete rules,
// keep the resume token after one poll, and finish the wait from it — as
// a later CI job with a fresh aws.Config would.
func Example() {
	srv := awsfake.New() // a loopback CloudFormation; use config.LoadDefaultConfig in production
	defer srv.Close()
	srv.Script(awsfake.Stack, "web", awsfake.Statuses("CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE")...)
	cfg := srv.Config()
	opts := &aws.Options{Options: poller.Options{Clock: lrotest.NewAutoClock(time.Now())}} // virtual time
	ctx := context.Background()

	p, err := aws.NewPoller[*cloudformation.DescribeStacksOutput](cfg, "cloudformation.StackCreateComplete",
		&cloudformation.DescribeStacksInput{StackName: awssdk.String("web")}, opts)
	if err != nil {
		panic(err)
	}
	obs, err := p.Poll(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(obs.Status, obs.Detail)
	token, err := p.ResumeToken() // store it: CI variable, file, database
	if err != nil {
		panic(err)
	}

	resumed, err := aws.Resume[*cloudformation.DescribeStacksOutput](token, cfg, opts)
	if err != nil {
		panic(err)
	}
	out, err := resumed.Wait(ctx, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(out.Stacks[0].StackStatus, "after", resumed.Polls(), "polls")
	// Output:
	// Running CREATE_IN_PROGRESS
	// CREATE_COMPLETE after 3 polls
}

// A modeled failure names the status and reason, and keeps the last output.
func ExampleLastOutput() {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Stack, "web", awsfake.Step{Status: "ROLLBACK_COMPLETE", Reason: "Bucket already exists"})
	opts := &aws.Options{Options: poller.Options{Clock: lrotest.NewAutoClock(time.Now())}}

	p, _ := aws.NewPoller[*cloudformation.DescribeStacksOutput](srv.Config(), "cloudformation.StackCreateComplete",
		&cloudformation.DescribeStacksInput{StackName: awssdk.String("web")}, opts)
	_, err := p.Wait(context.Background(), nil)
	fmt.Println(err)
	if out, ok := aws.LastOutput[*cloudformation.DescribeStacksOutput](err); ok {
		fmt.Println(*out.Stacks[0].StackName)
	}
	// Output:
	// aws operation cloudformation.StackCreateComplete failed (ROLLBACK_COMPLETE): Bucket already exists
	// web
}

// Register a describe-status waiter for a status the SDK has no waiter
// for: here a DynamoDB table that has left ACTIVE for an update.
func ExampleRegister() {
	w, err := aws.NewWaiter(aws.Definition[dynamodb.DescribeTableInput, dynamodb.DescribeTableOutput]{
		Name: "dynamodb.TableUpdating",
		Describe: func(cfg awssdk.Config) aws.DescribeFunc[dynamodb.DescribeTableInput, dynamodb.DescribeTableOutput] {
			c := dynamodb.NewFromConfig(cfg)
			return func(ctx context.Context, in *dynamodb.DescribeTableInput) (*dynamodb.DescribeTableOutput, error) {
				return c.DescribeTable(ctx, in)
			}
		},
		Status: func(out *dynamodb.DescribeTableOutput) (string, string) {
			return string(out.Table.TableStatus), ""
		},
		Rules:    aws.Rules{Success: []string{"UPDATING"}, Failure: []string{"DELETING"}, FailureErrors: []string{"ResourceNotFoundException"}},
		MinDelay: 5 * time.Second, MaxDelay: 30 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	if err := aws.Register(w); err != nil && !errors.Is(err, aws.ErrAlreadyRegistered) {
		panic(err)
	}

	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Table, "orders", awsfake.Statuses("ACTIVE", "UPDATING")...)
	p, _ := aws.NewPoller[*dynamodb.DescribeTableOutput](srv.Config(), "dynamodb.TableUpdating",
		&dynamodb.DescribeTableInput{TableName: awssdk.String("orders")},
		&aws.Options{Options: poller.Options{Clock: lrotest.NewAutoClock(time.Now())}})
	out, err := p.Wait(context.Background(), nil)
	fmt.Println(out.Table.TableStatus, err)
	// Output: UPDATING <nil>
}

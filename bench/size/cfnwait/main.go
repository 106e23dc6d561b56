// Command cfnwait waits for one CloudFormation stack. It is the yardstick
// for what a library user pays: a program that imports lrokit's AWS
// mechanism and one service's waiters compiles only that service's SDK
// (see the README's "What a build costs").
package main

import (
	"context"
	"fmt"
	"os"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/lrokit/lrokit/aws"
	_ "github.com/lrokit/lrokit/aws/waiters/cloudformation"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p, err := aws.NewPoller[*cloudformation.DescribeStacksOutput](cfg, "cloudformation.StackCreateComplete",
		&cloudformation.DescribeStacksInput{StackName: awssdk.String(os.Args[1])}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_, err = p.Wait(context.Background(), nil)
	fmt.Println(err)
}

package awsfake_test

import (
	"context"
	"errors"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/smithy-go"

	"github.com/lrokit/lrokit/lrotest/awsfake"
)

// Script an EKS cluster that is throttled once, then creates, and call it
// with the real SDK client.
func Example() {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Cluster, "prod",
		awsfake.Failing(awsfake.Throttle),
		awsfake.Status("CREATING"),
		awsfake.Status("ACTIVE"))

	client := eks.NewFromConfig(srv.Config())
	in := &eks.DescribeClusterInput{Name: awssdk.String("prod")}
	for range 3 {
		out, err := client.DescribeCluster(context.Background(), in)
		var ae smithy.APIError
		if errors.As(err, &ae) {
			fmt.Println("error:", ae.ErrorCode())
			continue
		}
		fmt.Println(out.Cluster.Status)
	}
	fmt.Println(srv.Calls(awsfake.Cluster, "prod"), "calls")
	// Output:
	// error: ThrottlingException
	// CREATING
	// ACTIVE
	// 3 calls
}

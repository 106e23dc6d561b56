package gcpfake_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/lrokit/lrokit/lrotest/gcpfake"
)

// Script an operation that fails one poll with UNAVAILABLE and a RetryInfo
// hint, then succeeds, and read it with the real OperationsClient.
func Example() {
	ctx := context.Background()
	fake, err := gcpfake.StartOperations()
	if err != nil {
		log.Fatal(err)
	}
	defer fake.Close()
	fake.Add("operations/op-1",
		gcpfake.Running(nil),
		gcpfake.Fault(codes.Unavailable, "backend restarting", 5*time.Second),
		gcpfake.Succeeded(&emptypb.Empty{}))

	client, err := fake.NewClient(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	for range 3 {
		// No GAPIC retries, as in lrokit: the poller owns them.
		op, err := client.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: "operations/op-1"}, gax.WithRetry(nil))
		if err != nil {
			fmt.Println("error:", status.Code(err))
			continue
		}
		fmt.Println("done:", op.GetDone())
	}
	// Output:
	// done: false
	// error: Unavailable
	// done: true
}

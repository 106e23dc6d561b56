package gcp_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/lrokit/lrokit/gcp"
	"github.com/lrokit/lrokit/lrotest/gcpfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// virtual makes the examples run at once; real code leaves Clock nil.
func virtual() poller.Options {
	return poller.Options{Clock: pollertest.NewAutoClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))}
}

func metadata(state string, percent float64) *structpb.Struct {
	s, _ := structpb.NewStruct(map[string]any{"state": state, "progressPercent": percent})
	return s
}

// Wait on an operation started elsewhere, adopted by its name, with the
// real OperationsClient (here pointed at a loopback fake).
func Example() {
	ctx := context.Background()
	fake, err := gcpfake.StartOperations()
	if err != nil {
		log.Fatal(err)
	}
	defer fake.Close()
	result, _ := structpb.NewStruct(map[string]any{"cluster": "projects/p/locations/us/clusters/c1"})
	fake.Add("projects/p/locations/us/operations/op-1",
		gcpfake.Running(metadata("PROVISIONING", 10)),
		gcpfake.Running(metadata("RECONCILING", 80)),
		gcpfake.Step{Done: true, Metadata: metadata("READY", 100), Response: result})

	client, err := fake.NewClient(ctx) // lroauto.NewOperationsClient(ctx, options...)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	p, err := gcp.FromName[*structpb.Struct]("projects/p/locations/us/operations/op-1", client,
		&gcp.Options{Options: virtual()})
	if err != nil {
		log.Fatal(err)
	}
	res, err := p.Wait(ctx, &poller.WaitOptions{OnPoll: func(o poller.Observation) {
		fmt.Printf("%s %s %.0f%%\n", o.Status, o.Detail, o.Progress)
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.GetFields()["cluster"].GetStringValue())
	// Output:
	// Running PROVISIONING 10%
	// Running RECONCILING 80%
	// Succeeded READY 100%
	// projects/p/locations/us/clusters/c1
}

// A first job polls once and stores the token; a later job, with a new
// client, resumes where it stopped.
func ExampleResume() {
	ctx := context.Background()
	fake, err := gcpfake.StartOperations()
	if err != nil {
		log.Fatal(err)
	}
	defer fake.Close()
	fake.Add("operations/deploy-42", gcpfake.Running(metadata("DEPLOYING", 40)), gcpfake.Succeeded(nil))

	// Job 1.
	first, _ := fake.NewClient(ctx)
	p, _ := gcp.FromName[*structpb.Struct]("operations/deploy-42", first, &gcp.Options{Options: virtual()})
	obs, _ := p.Poll(ctx)
	token, _ := p.ResumeToken()
	first.Close()
	fmt.Println("job 1 saw", obs.Detail)

	// Job 2, in another process.
	second, _ := fake.NewClient(ctx)
	defer second.Close()
	q, err := gcp.Resume[*structpb.Struct](token, second, &gcp.Options{Options: virtual()})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := q.Wait(ctx, nil); err != nil {
		log.Fatal(err)
	}
	fmt.Println("job 2 saw", q.Last().Status, "after", q.Polls(), "polls in all")
	// Output:
	// job 1 saw DEPLOYING
	// job 2 saw Succeeded after 2 polls in all
}

// Wait on a zonal Compute Engine operation.
func ExampleAdoptCompute() {
	ctx := context.Background()
	fake := gcpfake.StartCompute()
	defer fake.Close()
	fake.Add("my-project", "zones/us-central1-a", "operation-123",
		gcpfake.ComputeRunning(50), gcpfake.ComputeDone())

	svc, err := fake.NewService(ctx) // compute.NewService(ctx, options...)
	if err != nil {
		log.Fatal(err)
	}
	p, err := gcp.AdoptCompute("my-project", "zones/us-central1-a", "operation-123", svc, &gcp.Options{Options: virtual()})
	if err != nil {
		log.Fatal(err)
	}
	op, err := p.Wait(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(op.Status, op.Name)
	// Output:
	// DONE operation-123
}

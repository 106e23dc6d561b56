package azure_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/lrotest"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
)

// An ARM PUT answered with 201 and Azure-AsyncOperation: poll the status
// URL until it succeeds, then read the resource.
func ExampleNewPoller() {
	srv := armfake.New()
	defer srv.Close()
	srv.Load(armfake.LRO{
		Method: "PUT", Path: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Test/widgets/w1",
		Protocol: armfake.AsyncOperation,
		Polls:    []armfake.Response{armfake.Status("InProgress").WithRetryAfter("10"), armfake.Status("Succeeded")},
		Final:    []armfake.Response{armfake.Resource("w1", "Succeeded")},
	}.Scenario())

	pl := runtime.NewPipeline("example", "v1", runtime.PipelineOptions{}, &policy.ClientOptions{Transport: srv.Client()})
	req, _ := runtime.NewRequest(context.Background(), "PUT", srv.URL()+"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Test/widgets/w1?api-version=2024-01-01")
	resp, err := pl.Do(req)
	if err != nil {
		panic(err)
	}

	type widget struct {
		Name       string `json:"name"`
		Properties struct {
			ProvisioningState string `json:"provisioningState"`
		} `json:"properties"`
	}
	opts := &azure.Options{Options: poller.Options{Clock: lrotest.NewAutoClock(time.Now())}} // virtual time for the example
	p, err := azure.NewPoller[widget](resp, pl, opts)
	if err != nil {
		panic(err)
	}
	token, _ := p.ResumeToken() // store it; azure.Resume continues from it anywhere
	fmt.Println("token kind:", tokenKind(token))

	w, err := p.Wait(context.Background(), &poller.WaitOptions{OnPoll: func(o poller.Observation) {
		fmt.Println("poll:", o.Status, o.Detail, o.RetryAfter)
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println("result:", w.Name, w.Properties.ProvisioningState)
	// Output:
	// token kind: async
	// poll: Running InProgress 10s
	// poll: Succeeded Succeeded 0s
	// result: w1 Succeeded
}

func tokenKind(token string) string {
	t, err := poller.DecodeToken(token, nil)
	if err != nil {
		return err.Error()
	}
	return t.Kind
}

// Resume continues from a token: here one made by azcore's own
// runtime.Poller, so an Azure SDK user can switch mid-operation.
func ExampleResume() {
	srv := armfake.New()
	defer srv.Close()
	srv.Load(armfake.LRO{
		Method: "DELETE", Path: "/subscriptions/s/resourceGroups/rg", Protocol: armfake.Location,
		Polls: []armfake.Response{armfake.Accepted(), armfake.Accepted(), {Status: 204}},
	}.Scenario())
	pl := runtime.NewPipeline("example", "v1", runtime.PipelineOptions{}, &policy.ClientOptions{Transport: srv.Client()})
	req, _ := runtime.NewRequest(context.Background(), "DELETE", srv.URL()+"/subscriptions/s/resourceGroups/rg?api-version=2024-01-01")
	resp, _ := pl.Do(req)
	type deleted struct{}
	ap, _ := runtime.NewPoller[deleted](resp, pl, nil)
	azToken, _ := ap.ResumeToken()

	// Resume trusts only the hosts the caller names (here the loopback
	// fake; Azure Resource Manager's endpoint is trusted by default).
	p, err := azure.Resume[json.RawMessage](azToken, pl, &azure.Options{
		Options:      poller.Options{Clock: lrotest.NewAutoClock(time.Now())},
		AllowedHosts: []string{srv.URL()},
	})
	if err != nil {
		panic(err)
	}
	_, err = p.Wait(context.Background(), nil)
	fmt.Println(p.Last().Status, err, srv.Count("GET", armfake.StatusPath), "polls")
	// Output:
	// Succeeded <nil> 3 polls
}

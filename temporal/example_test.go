package temporal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/temporal"
)

func Example() {
	ctx := context.Background()

	// An operation begun elsewhere (a CI job, `lrokit azure begin`): here an
	// ARM-style PUT on a loopback fake, through an azcore pipeline.
	arm := armfake.New()
	defer arm.Close()
	arm.Load(armfake.LRO{
		Method: http.MethodPut, Path: aksPath, Protocol: armfake.AsyncOperation,
		Polls: []armfake.Response{armfake.Status("InProgress"), armfake.Status("Succeeded")},
		Final: []armfake.Response{armfake.Resource("aks1", "Succeeded")},
	}.Scenario())
	pl := azurePipeline(arm.Client())
	req, _ := runtimeRequest(arm.URL() + aksPath + "?" + armfake.APIVersion)
	resp, err := pl.Do(req)
	if err != nil {
		panic(err)
	}
	p, _ := azure.NewPoller[json.RawMessage](resp, pl, nil)
	token, _ := p.ResumeToken() // no credentials in it

	c, err := client.Dial(client.Options{
		HostPort: server.Addr, Namespace: server.Namespace, // your Temporal cluster
		Logger: quietLogger(),
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	// A worker polls with its own clients and credentials.
	w := worker.New(c, temporal.DefaultTaskQueue, worker.Options{})
	temporal.Register(w, temporal.Clients{
		Azure: &pl,
		// Resuming trusts only the hosts the worker names: here the fake.
		AllowedHosts: []string{arm.URL()},
		// The fake answers at once; real clouds get lrokit's defaults.
		Options: poller.Options{Policy: poller.Policy{Floor: 100 * time.Millisecond}},
	})
	if err := w.Start(); err != nil {
		panic(err)
	}
	defer w.Stop()

	run, err := temporal.Start(ctx, c, token, nil)
	if err != nil {
		panic(err)
	}
	out, err := temporal.Result(ctx, run)
	fmt.Println(out.Status, string(out.Result) != "", err)
	// Output: Succeeded true <nil>
}

package resume_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/rest"
	"github.com/lrokit/lrokit/resume"
)

// A token read back from storage, whatever its provider, becomes a poller.
func ExampleAny() {
	srv := armfake.New() // a loopback stand-in for a REST API
	defer srv.Close()
	srv.Load(armfake.LRO{Method: http.MethodPut, Path: "/things/t1", Protocol: armfake.OperationLocation,
		Polls: []armfake.Response{armfake.Status("Succeeded")},
		Final: []armfake.Response{armfake.JSON(http.StatusOK, `{"id":"t1"}`)}}.Scenario())
	resp, _ := srv.Client().Do(must(http.NewRequest(http.MethodPut, srv.URL()+"/things/t1", nil)))
	p, _ := rest.NewPoller[map[string]string](resp, srv.Client(), nil)
	token, _ := p.ResumeToken() // stored somewhere, read back later

	pl := runtime.NewPipeline("example", "v1", runtime.PipelineOptions{}, &policy.ClientOptions{Transport: srv.Client()})
	// Trust comes from the caller: the hosts a token may use are named here.
	q, err := resume.Any(context.Background(), token, resume.Clients{
		Azure: &pl, HTTP: srv.Client(), Options: poller.Options{Clock: clock()}, AllowedHosts: []string{srv.URL()},
	})
	if err != nil {
		panic(err)
	}
	res, err := q.Wait(context.Background(), nil)
	fmt.Println(q.Provider, string(res), err)
	// Output: rest {"id":"t1"} <nil>
}

func must(r *http.Request, err error) *http.Request {
	if err != nil {
		panic(err)
	}
	return r
}

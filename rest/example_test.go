package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/lrokit/lrokit/lrotest"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/rest"
)

// The asynchronous request-reply pattern: 202 + Location to a status
// endpoint that answers 202 while pending, then 303 to the new resource.
func ExampleNewPoller() {
	srv := armfake.New()
	defer srv.Close()
	srv.Handle("POST", "/v1/vpcs", armfake.Accepted().WithHeader("Location", "/v1/vpcs/my-vpc/status").WithRetryAfter("5"))
	srv.Handle("GET", "/v1/vpcs/my-vpc/status",
		armfake.JSON(202, `{"status":{"state":"Creating","conditions":[{"reason":"VPCScheduled","message":"scheduled"}]}}`),
		armfake.Response{Status: 303, Header: map[string]string{"Location": "/v1/vpcs/my-vpc"}})
	srv.Handle("GET", "/v1/vpcs/my-vpc", armfake.JSON(200, `{"name":"my-vpc","cidr":"10.0.0.0/16"}`))

	resp, err := http.Post(srv.URL()+"/v1/vpcs", "application/json", nil)
	if err != nil {
		panic(err)
	}
	type vpc struct {
		Name string `json:"name"`
		CIDR string `json:"cidr"`
	}
	p, err := rest.NewPoller[vpc](resp, nil, &rest.Options{Options: poller.Options{Clock: lrotest.NewAutoClock(time.Now())}})
	if err != nil {
		panic(err)
	}
	v, err := p.Wait(context.Background(), &poller.WaitOptions{OnPoll: func(o poller.Observation) {
		fmt.Println("poll:", o.Status, o.Detail)
	}})
	fmt.Println(v.Name, v.CIDR, err)
	// Output:
	// poll: Running Creating (VPCScheduled: scheduled)
	// poll: Succeeded See Other
	// my-vpc 10.0.0.0/16 <nil>
}

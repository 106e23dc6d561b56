package armfake_test

import (
	"fmt"
	"io"
	"net/http"

	"github.com/lrokit/lrokit/lrotest/armfake"
)

func Example() {
	srv := armfake.New()
	defer srv.Close()
	srv.Load(armfake.LRO{
		Method: "PUT", Path: "/widgets/w1", Protocol: armfake.AsyncOperation,
		Polls: []armfake.Response{armfake.Status("InProgress").WithRetryAfter("5"), armfake.Status("Succeeded")},
		Final: []armfake.Response{armfake.Resource("w1", "Succeeded")},
	}.Scenario())

	req, _ := http.NewRequest("PUT", srv.URL()+"/widgets/w1", nil)
	resp, _ := srv.Client().Do(req)
	fmt.Println(resp.StatusCode, resp.Header.Get("Azure-AsyncOperation") == srv.URL()+armfake.StatusPath+"?"+armfake.APIVersion)
	for range 3 {
		resp, _ = srv.Client().Get(srv.URL() + armfake.StatusPath)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"), string(b))
	}
	fmt.Println(srv.Count("GET", armfake.StatusPath), "polls")
	// Output:
	// 201 true
	// 200 5 {"status":"InProgress"}
	// 200  {"status":"Succeeded"}
	// 200  {"status":"Succeeded"}
	// 3 polls
}

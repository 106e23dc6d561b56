package foreign_test

import (
	"fmt"
	"net/http"

	"github.com/lrokit/lrokit/lrotest/foreign"
)

// A client routed through Transport reaches the foreign server whatever
// host it asks for, and the server counts the credentials it sent.
func Example() {
	srv := foreign.New()
	defer srv.Close()
	client := &http.Client{Transport: srv.Transport()}
	req, _ := http.NewRequest(http.MethodGet, "https://abc.execute-api.us-east-1.amazonaws.com/", nil)
	req.Header.Set("Authorization", "Bearer stolen")
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
	}
	fmt.Println(srv.Count(), srv.Credentialed(), srv.Requests()[0].Host)
	// Output: 1 1 abc.execute-api.us-east-1.amazonaws.com
}

package httplro_test

import (
	"fmt"

	"github.com/lrokit/lrokit/internal/httplro"
)

// A status monitor's body, as Azure-AsyncOperation and Operation-Location
// URLs answer it, becomes a normalized status.
func ExampleParseBody() {
	b, err := httplro.ParseBody([]byte(`{"status":"InProgress","percentComplete":40}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(httplro.MapState(b.Status), b.Status)
	_, err = httplro.ParseBody([]byte(`{"status":`))
	fmt.Println(err != nil)
	// Output:
	// Running InProgress
	// true
}

package retryafter_test

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/lrokit/lrokit/retryafter"
)

func ExampleParse() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	d, _ := retryafter.Parse("120", now)
	fmt.Println(d)

	d, _ = retryafter.Parse("Thu, 01 Jan 2026 00:01:30 GMT", now)
	fmt.Println(d)

	_, err := retryafter.Parse("1.5", now)
	fmt.Println(errors.Is(err, retryafter.ErrInvalid), err)
	// Output:
	// 2m0s
	// 1m30s
	// true retryafter: invalid value "1.5": delay-seconds must be 1*DIGIT
}

func ExampleFromHeader() {
	// The client's clock runs five minutes ahead of the server's.
	now := time.Date(2026, 1, 1, 0, 5, 0, 0, time.UTC)

	h := http.Header{}
	h.Set("Date", "Thu, 01 Jan 2026 00:00:00 GMT")
	h.Set("Retry-After", "Thu, 01 Jan 2026 00:01:00 GMT")
	d, ok := retryafter.FromHeader(h, now)
	fmt.Println(d, ok)

	h.Set("Retry-After-Ms", "1500")
	d, ok = retryafter.FromHeader(h, now)
	fmt.Println(d, ok)

	d, ok = retryafter.FromHeader(http.Header{}, now)
	fmt.Println(d, ok)
	// Output:
	// 1m0s true
	// 1.5s true
	// 0s false
}

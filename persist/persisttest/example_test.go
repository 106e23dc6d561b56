package persisttest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/persist/persisttest"
	"github.com/lrokit/lrokit/poller"
)

// A third-party store proves its conformance from its own test file.
func ExampleRun() {
	_ = func(t *testing.T) { // func TestMyStoreConformance(t *testing.T)
		persisttest.Run(t, func(t *testing.T, clock poller.Clock) persist.Store {
			return persist.NewMemoryStore(&persist.Options{Clock: clock}) // your store, on clock
		})
	}
}

func ExampleIncrement() {
	ctx := context.Background()
	s := persist.NewMemoryStore(nil)
	for range 3 {
		if _, err := persisttest.Increment(ctx, s, "counter"); err != nil {
			panic(err)
		}
	}
	r, _ := s.Get(ctx, "counter")
	fmt.Println(r.Token, r.Generation)
	// Output: 3 3
}

// Command build builds (or finds cached) the Temporal test server and prints
// its path, so CI pays for the cold build in its own step rather than inside
// a test binary's timeout.
package main

import (
	"fmt"
	"os"

	"github.com/lrokit/lrokit/temporal/internal/devtest"
)

func main() {
	bin, err := devtest.Binary(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(bin)
}

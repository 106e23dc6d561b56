package ecs_test

import (
	"fmt"
	"strings"

	"github.com/lrokit/lrokit/aws"
	_ "github.com/lrokit/lrokit/aws/waiters/ecs"
)

// Importing the package registers its waiters by name, for aws.NewPoller
// and for tokens resumed with aws.Resume.
func Example() {
	for _, name := range aws.Waiters() {
		if strings.HasPrefix(name, "ecs.") {
			fmt.Println(name)
		}
	}
	// Output:
	// ecs.ServicesInactive
	// ecs.ServicesStable
}

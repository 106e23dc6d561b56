package rds_test

import (
	"fmt"
	"strings"

	"github.com/lrokit/lrokit/aws"
	_ "github.com/lrokit/lrokit/aws/waiters/rds"
)

// Importing the package registers its waiters by name, for aws.NewPoller
// and for tokens resumed with aws.Resume.
func Example() {
	for _, name := range aws.Waiters() {
		if strings.HasPrefix(name, "rds.") {
			fmt.Println(name)
		}
	}
	// Output:
	// rds.DBInstanceAvailable
	// rds.DBInstanceDeleted
}

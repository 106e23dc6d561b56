package dynamodb_test

import (
	"fmt"
	"strings"

	"github.com/lrokit/lrokit/aws"
	_ "github.com/lrokit/lrokit/aws/waiters/dynamodb"
)

// Importing the package registers its waiters by name, for aws.NewPoller
// and for tokens resumed with aws.Resume.
func Example() {
	for _, name := range aws.Waiters() {
		if strings.HasPrefix(name, "dynamodb.") {
			fmt.Println(name)
		}
	}
	// Output:
	// dynamodb.TableExists
	// dynamodb.TableNotExists
}

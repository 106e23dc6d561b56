package lambda_test

import (
	"fmt"
	"strings"

	"github.com/lrokit/lrokit/aws"
	_ "github.com/lrokit/lrokit/aws/waiters/lambda"
)

// Importing the package registers its waiters by name, for aws.NewPoller
// and for tokens resumed with aws.Resume.
func Example() {
	for _, name := range aws.Waiters() {
		if strings.HasPrefix(name, "lambda.") {
			fmt.Println(name)
		}
	}
	// Output:
	// lambda.FunctionActive
	// lambda.FunctionActiveV2
	// lambda.FunctionExists
	// lambda.FunctionUpdated
	// lambda.FunctionUpdatedV2
}

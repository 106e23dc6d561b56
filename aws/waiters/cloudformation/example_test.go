package cloudformation_test

import (
	"fmt"
	"strings"

	"github.com/lrokit/lrokit/aws"
	_ "github.com/lrokit/lrokit/aws/waiters/cloudformation"
)

// Importing the package registers its waiters by name, for aws.NewPoller
// and for tokens resumed with aws.Resume.
func Example() {
	for _, name := range aws.Waiters() {
		if strings.HasPrefix(name, "cloudformation.") {
			fmt.Println(name)
		}
	}
	// Output:
	// cloudformation.ChangeSetCreateComplete
	// cloudformation.StackCreateComplete
	// cloudformation.StackDeleteComplete
	// cloudformation.StackExists
	// cloudformation.StackImportComplete
	// cloudformation.StackRollbackComplete
	// cloudformation.StackUpdateComplete
}

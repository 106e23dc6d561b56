package eks_test

import (
	"fmt"
	"strings"

	"github.com/lrokit/lrokit/aws"
	_ "github.com/lrokit/lrokit/aws/waiters/eks"
)

// Importing the package registers its waiters by name, for aws.NewPoller
// and for tokens resumed with aws.Resume.
func Example() {
	for _, name := range aws.Waiters() {
		if strings.HasPrefix(name, "eks.") {
			fmt.Println(name)
		}
	}
	// Output:
	// eks.AddonActive
	// eks.AddonDeleted
	// eks.ClusterActive
	// eks.ClusterDeleted
	// eks.NodegroupActive
	// eks.NodegroupDeleted
}

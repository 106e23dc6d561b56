package ec2_test

import (
	"fmt"
	"strings"

	"github.com/lrokit/lrokit/aws"
	_ "github.com/lrokit/lrokit/aws/waiters/ec2"
)

// Importing the package registers its waiters by name, for aws.NewPoller
// and for tokens resumed with aws.Resume.
func Example() {
	for _, name := range aws.Waiters() {
		if strings.HasPrefix(name, "ec2.") {
			fmt.Println(name)
		}
	}
	// Output:
	// ec2.ImageAvailable
	// ec2.ImageExists
	// ec2.InstanceExists
	// ec2.InstanceRunning
	// ec2.InstanceStatusOk
	// ec2.InstanceStopped
	// ec2.InstanceTerminated
	// ec2.NatGatewayAvailable
	// ec2.NatGatewayDeleted
	// ec2.SystemStatusOk
	// ec2.VolumeAvailable
	// ec2.VolumeDeleted
	// ec2.VolumeInUse
}

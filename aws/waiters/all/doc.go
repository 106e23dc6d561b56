// Package all registers every built-in AWS waiter of lrokit: import it for
// its side effect where any waiter name may come up (the CLI, package
// resume). A program that waits on one service imports that service's
// package alone (aws/waiters/cloudformation, …) and compiles only its SDK.
package all

import (
	_ "github.com/lrokit/lrokit/aws/waiters/cloudformation" // stacks, change sets
	_ "github.com/lrokit/lrokit/aws/waiters/dynamodb"       // tables
	_ "github.com/lrokit/lrokit/aws/waiters/ec2"            // instances, images, volumes…
	_ "github.com/lrokit/lrokit/aws/waiters/ecs"            // services, tasks
	_ "github.com/lrokit/lrokit/aws/waiters/eks"            // clusters, node groups, add-ons
	_ "github.com/lrokit/lrokit/aws/waiters/lambda"         // functions
	_ "github.com/lrokit/lrokit/aws/waiters/rds"            // instances, clusters
)

// Package lrotest holds fakes for tests of code that waits on long-running
// operations, lrokit's own and its users': a virtual clock here, and in the
// subpackages loopback servers that the real provider SDK clients can call —
// armfake (Azure Resource Manager and REST-guidelines LROs over HTTP),
// gcpfake (the google.longrunning Operations gRPC service and Compute-style
// operations), awsfake (CloudFormation, EKS, EC2 and other describe APIs),
// sqsfake (an SQS queue, for push notification sources).
package lrotest

import (
	"time"

	"github.com/lrokit/lrokit/poller/pollertest"
)

// Clock is a virtual clock for pollers; see pollertest.Clock.
type Clock = pollertest.Clock

// NewClock returns a manual virtual clock set to start.
func NewClock(start time.Time) *Clock { return pollertest.NewClock(start) }

// NewAutoClock returns a virtual clock that fires each timer as soon as it is
// created, so a wait loop runs to completion at once in virtual time.
func NewAutoClock(start time.Time) *Clock { return pollertest.NewAutoClock(start) }

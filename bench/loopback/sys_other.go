//go:build !unix

package loopback

import "time"

// RaiseFileLimit does nothing on this system.
func RaiseFileLimit() {}

// processCPU is not measured on this system: the CPU figures read 0.
func processCPU() time.Duration { return 0 }

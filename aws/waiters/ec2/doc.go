// Package ec2 registers lrokit's built-in waiters for Amazon EC2: instances, images, volumes, snapshots and more.
// Import it for its side effect; each waiter reuses the generated SDK
// waiter's own acceptors and model delays (see package aws).
package ec2

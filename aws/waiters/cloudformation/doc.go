// Package cloudformation registers lrokit's built-in waiters for AWS CloudFormation: stacks and change sets.
// Import it for its side effect; each waiter reuses the generated SDK
// waiter's own acceptors and model delays (see package aws).
package cloudformation

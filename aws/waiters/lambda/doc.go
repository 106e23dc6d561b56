// Package lambda registers lrokit's built-in waiters for AWS Lambda: functions and versions.
// Import it for its side effect; each waiter reuses the generated SDK
// waiter's own acceptors and model delays (see package aws).
package lambda

// Package eks registers lrokit's built-in waiters for Amazon EKS: clusters, node groups and add-ons.
// Import it for its side effect; each waiter reuses the generated SDK
// waiter's own acceptors and model delays (see package aws).
package eks

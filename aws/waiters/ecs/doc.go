// Package ecs registers lrokit's built-in waiters for Amazon ECS: services and tasks.
// Import it for its side effect; each waiter reuses the generated SDK
// waiter's own acceptors and model delays (see package aws).
package ecs

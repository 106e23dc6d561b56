// Package dynamodb registers lrokit's built-in waiters for Amazon DynamoDB: tables.
// Import it for its side effect; each waiter reuses the generated SDK
// waiter's own acceptors and model delays (see package aws).
package dynamodb

// Package fakecloud is a deterministic fake of a cloud's operation
// endpoints for the fleet's tests and benchmarks: hosts with a server-side
// token-bucket rate limit that answer "429 Too Many Requests" with a
// Retry-After, and operations whose state derives from their token alone
// (finished a set duration after they started, or after a set number of
// polls counted in the token), so that any process can continue them.
package fakecloud

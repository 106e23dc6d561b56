// Package resume turns any lrokit resume token into a poller, given the
// clients the caller already has for each provider. Tools that store tokens
// of several providers side by side — the lrokit command, the fleet engine —
// use it so that they need not know which adapter made a token.
//
// The result is raw JSON: the final body for Azure and REST operations, the
// protojson form of a Google operation's response, the Compute operation,
// the last describe output of an AWS waiter.
package resume

// Package bench measures how many polls lrokit saves, side by side against
// the wait loops of the cloud SDKs, on seeded simulated workloads in virtual
// time.
//
// A discrete-event simulator (one priority queue of next-request events, no
// goroutine per operation) drives every strategy against the same operations
// and the same simulated servers: Retry-After hints (accurate, a fixed guess,
// or 0), a per-host rate limit answering 429, transient 503s. lrokit's rows
// run the real core: one poller.Poller per operation on a virtual clock. The
// peers (azcore PollUntilDone, the AWS SDK waiter, longrunning Wait,
// Terraform's StateChangeConf) are reproduced from their source, cited in
// peers.go. Limit computes the fewest requests any schedule without hints
// could make for a given p99 lag, by dynamic programming over the durations.
//
// The command bench/cmd/lrobench runs everything and writes the results;
// bench/README.md defines every column.
package bench

// Package loopback measures what waiting costs at scale: N concurrent
// operations, each wanting one poll per second, against a loopback fake
// through the real clients, for each of the peers' wait loops (azcore
// runtime.Poller.PollUntilDone, the AWS SDK's generated CloudFormation
// waiter, cloud.google.com/go/longrunning's Wait: one goroutine per
// operation) and for lrokit's fleet engine, one after another in one run.
//
// Per strategy it reports goroutines, live heap and stack per waiting
// operation, sockets the fake accepted, polls per second achieved against
// the nominal rate, CPU per 1,000 polls and heap allocations per poll.
// Nothing here asserts a performance figure; the tests check only that
// every strategy polls and completes every operation.
//
// The fake (Fake) is stateless: each operation's name carries its
// completion time, so it serves any number of operations. With
// Config.ChildFake it runs in a child process (the same executable, see
// ServeChildFake) so that the figures are the client's alone; the command
// lroloopback does that.
package loopback

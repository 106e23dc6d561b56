// Package gcpfake provides loopback fakes of Google Cloud's operation APIs
// for tests: Operations, the google.longrunning.Operations gRPC service,
// which the real cloud.google.com/go/longrunning/autogen OperationsClient
// calls without auth; and Compute, Compute Engine's zone, region and global
// operations get, which the real google.golang.org/api/compute/v1 client
// calls over HTTP.
//
// Each operation follows a script of steps — running with metadata, done
// with a response or a google.rpc.Status, RPC faults with RetryInfo,
// NotFound expiry, slow answers — so a test decides what every poll sees.
// The fakes keep their state across client connections, so a test can
// resume a poller into a new client mid-way.
package gcpfake

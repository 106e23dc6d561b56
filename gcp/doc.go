// Package gcp waits on Google Cloud long-running operations with package
// poller: google.longrunning.Operation (AIP-151) through the GAPIC
// OperationsClient of cloud.google.com/go/longrunning/autogen, and Compute
// Engine operations through google.golang.org/api/compute/v1.
//
// A Google operation is a durable resource with a name, so a poller can be
// built from a call's response (NewPoller), adopted by name in another job
// (FromName), or resumed from a token in another process (Resume). Each poll
// is one GetOperation:
//
//   - not done is Running; Detail is the metadata's state field and
//     Progress its percent field (progress_percent, or progress.progress_percent),
//     when the metadata type is linked into the binary;
//   - done with an error is Failed (Canceled for CANCELLED), with a
//     *poller.OperationError whose Err is an *apierror.APIError holding the
//     google.rpc.Status and its details; an error status of code 0 is a
//     failure reported as UNKNOWN;
//   - done otherwise is Succeeded, and Result unpacks the response into T
//     (*anypb.Any keeps it packed; a type mismatch wraps ErrTypeMismatch and
//     names both types).
//
// NotFound means the operation expired (poller.ErrOperationNotFound).
// UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED and INTERNAL are transient and
// RESOURCE_EXHAUSTED is throttling; a google.rpc.RetryInfo delay is the
// server's hint. GAPIC's own retries are disabled, since they sleep outside
// the poller's clock and ignore RetryInfo. Each poll is bounded by
// Options.PollTimeout (DefaultPollTimeout when zero), whatever the caller's
// context allows for the whole wait.
//
// Compute operations (NewComputePoller, AdoptCompute, ResumeCompute) are
// polled with zoneOperations, regionOperations or globalOperations.get:
// PENDING is NotStarted, RUNNING is Running, and DONE is Failed when
// error.errors is non-empty (even without httpErrorStatusCode) or
// httpErrorStatusCode is an error, Succeeded otherwise. They use the REST
// client google.golang.org/api/compute/v1 rather than
// cloud.google.com/go/compute/apiv1: it is already a dependency of lrokit,
// its Operation is a plain JSON struct that keeps every field the service
// sends, and it reaches a loopback fake with option.WithEndpoint alone.
//
// Tokens have provider "gcp" and kind "longrunning" (operation name) or
// "compute" (project, zone or region, name), plus Options.Endpoint when
// set; they never hold credentials.
package gcp

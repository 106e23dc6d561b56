// Package aws makes the AWS SDK's waiters resumable and polite.
//
// AWS has no uniform long-running-operation envelope: each service has a
// describe call, and aws-sdk-go-v2 generates waiters whose loops cannot be
// resumed. This package reuses each generated waiter's own acceptor (the
// service model's success, failure and retry rules) one poll at a time
// under lrokit's poller: one poll is one describe call and one acceptor
// call. Waiters are named "service.WaiterName" in a registry (see Waiters
// and Register), so a resume token — waiter name, region, endpoint
// override and the describe input, never credentials — can be rehydrated
// in another process with another aws.Config.
//
// The built-in waiters live in one package per service, registered when
// imported, so a program compiles only the SDKs it waits on:
//
//	import _ "github.com/lrokit/lrokit/aws/waiters/cloudformation" // cloudformation.StackCreateComplete, …
//
// aws/waiters/all registers every one (the CLI and package resume import
// it). Register adds your own describe-status waiters.
//
// A modeled failure is a *poller.OperationError whose Err is a
// *FailureError holding the resource's status, the service's reason and
// the last describe output. Throttling and other retryable errors of the
// describe call (by the SDK's own rules) keep the wait alive.
package aws

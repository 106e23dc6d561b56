package aws

import (
	"errors"
	"fmt"
)

// FailureError is the provider-native error of a modeled failure: the
// waiter's acceptor judged the resource's state a failure (or a
// cancellation, after Cancel). It is the Err of the *poller.OperationError
// that Wait and Result return, so
//
//	var fe *aws.FailureError
//	if errors.As(err, &fe) { out := fe.Output.(*cloudformation.DescribeStacksOutput) }
//
// reaches the last describe output; LastOutput does the same with a type.
type FailureError struct {
	// Waiter is the waiter's name.
	Waiter string
	// Status is the resource's status word, or the API error code the
	// failure matched.
	Status string
	// Reason is the service's reason for the status (StackStatusReason,
	// StateReason...), if any.
	Reason string
	// Output is the describe output that reached the failure state, e.g.
	// *cloudformation.DescribeStacksOutput; nil when an error matched.
	Output any
	// Err is the acceptor's verdict, or the API error that matched.
	Err error
}

func (e *FailureError) Error() string {
	msg := fmt.Sprintf("waiter %s reached failure state %s", e.Waiter, e.Status)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap returns the acceptor's verdict or the matched API error.
func (e *FailureError) Unwrap() error { return e.Err }

// LastOutput returns the describe output kept by a modeled failure in
// err's chain, as Out (e.g. *cloudformation.DescribeStacksOutput). It
// reports false when err holds no FailureError or its output is not an Out.
func LastOutput[Out any](err error) (Out, bool) {
	var fe *FailureError
	if errors.As(err, &fe) {
		if out, ok := fe.Output.(Out); ok {
			return out, true
		}
	}
	var zero Out
	return zero, false
}

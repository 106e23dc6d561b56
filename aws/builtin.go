package aws

import (
	"context"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
)

// The built-in waiters live in one package per service under aws/waiters
// (aws/waiters/cloudformation, …), registered when imported, so a program
// that waits on CloudFormation compiles only CloudFormation's SDK
// (aws/waiters/all imports every one). They wrap the generated SDK
// waiters' own acceptors and model delays: a generated waiter's
// constructor sets options.Retryable to the service model's acceptor
// before it applies option functions, so an option function reads it
// (with MinDelay and MaxDelay) without waiting. These helpers are what
// those packages, and a caller's own registrations, share.

// DescribeWith binds a service client constructor to one of its describe
// methods: DescribeWith(cloudformation.NewFromConfig,
// (*cloudformation.Client).DescribeStacks) is a Definition's Describe.
func DescribeWith[C, In, Out, O any](newClient func(awssdk.Config, ...func(*O)) C, call func(C, context.Context, *In, ...func(*O)) (*Out, error)) func(awssdk.Config) DescribeFunc[In, Out] {
	return func(cfg awssdk.Config) DescribeFunc[In, Out] {
		c := newClient(cfg)
		return func(ctx context.Context, in *In) (*Out, error) { return call(c, ctx, in) }
	}
}

// JoinStatuses joins the distinct status words of several resources (a
// waiter may watch many instances at once) and returns the first reason:
// a Definition's Status for list outputs.
func JoinStatuses[T any](items []T, f func(T) (status, reason string)) (string, string) {
	var words []string
	var reason string
	for _, it := range items {
		s, r := f(it)
		if !slices.Contains(words, s) {
			words = append(words, s)
		}
		if reason == "" {
			reason = r
		}
	}
	return strings.Join(words, ","), reason
}

// MustRegister builds and registers a waiter, and panics if either fails:
// for package-level registrations in init, where a bad definition is a
// programming error.
func MustRegister[In, Out any](d Definition[In, Out]) {
	w, err := NewWaiter(d)
	if err == nil {
		err = Register(w)
	}
	if err != nil {
		panic(err)
	}
}

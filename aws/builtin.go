package aws

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"time"

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

// FromSDKWaiter returns d with the acceptor and model delays of a generated
// SDK waiter, read through its constructor without waiting:
//
//	d = aws.FromSDKWaiter(d, cloudformation.NewStackCreateCompleteWaiter)
//
// Every generated waiter's constructor sets its options' Retryable,
// MinDelay and MaxDelay before it applies option functions; the option
// function given here copies them (by field name: the options types differ
// per waiter). A constructor whose options lack one of them panics, which
// MustRegister's init turns into a failure at start, caught by the
// packages' tests.
func FromSDKWaiter[In, Out, C, O, W any](d Definition[In, Out], newWaiter func(C, ...func(*O)) W) Definition[In, Out] {
	var client C // never called: the waiter is built, not run
	newWaiter(client, func(o *O) {
		v := reflect.ValueOf(o).Elem()
		d.Accept = v.FieldByName("Retryable").Interface().(func(context.Context, *In, *Out, error) (bool, error))
		d.MinDelay = v.FieldByName("MinDelay").Interface().(time.Duration)
		d.MaxDelay = v.FieldByName("MaxDelay").Interface().(time.Duration)
	})
	return d
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

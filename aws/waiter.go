package aws

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
)

// DescribeFunc makes one describe call.
type DescribeFunc[In, Out any] func(ctx context.Context, in *In) (*Out, error)

// AcceptFunc judges one describe call with the contract of the generated
// SDK waiters' Retryable option: (true, nil) keeps waiting, (false, nil) is
// success, any other error is the waiter's failure state — except the
// call's own error returned unchanged (or wrapped), which means the rules
// did not judge it.
type AcceptFunc[In, Out any] func(ctx context.Context, in *In, out *Out, err error) (retry bool, failure error)

// Definition describes a waiter over a describe call with input In and
// output Out. Either Accept or Rules decides each poll's outcome.
type Definition[In, Out any] struct {
	// Name is "service.WaiterName", e.g. "cloudformation.StackCreateComplete".
	Name string
	// Describe binds a client built from cfg to the describe call, e.g.
	//	func(cfg aws.Config) aws.DescribeFunc[In, Out] {
	//		return svc.NewFromConfig(cfg).DescribeThing
	//	}
	// The returned func is reused for every poll of one operation.
	Describe func(cfg awssdk.Config) DescribeFunc[In, Out]
	// Accept is the waiter's acceptor. Nil means Rules over Status.
	Accept AcceptFunc[In, Out]
	// Rules are the success, failure and pending states when Accept is nil.
	Rules Rules
	// Status returns the resource's status word (the observation's Detail)
	// and, when it has one, the reason for it. Required with Rules.
	Status func(out *Out) (status, reason string)
	// MinDelay and MaxDelay are the waiter model's delays: the poll
	// schedule's floor and cap. Zero takes the core's defaults.
	MinDelay, MaxDelay time.Duration
	// Cancel, when set, asks the service to cancel the operation the
	// waiter watches. Nil means the operation cannot be canceled.
	Cancel func(cfg awssdk.Config) func(ctx context.Context, in *In) error
	// CanceledStatuses are the failure statuses that mean "canceled" once
	// Cancel was called (CloudFormation: UPDATE_ROLLBACK_COMPLETE).
	CanceledStatuses []string
}

// Rules are the acceptors of a describe-status waiter, matched on the
// status word Definition.Status extracts and on API error codes.
type Rules struct {
	// Success, Failure and Pending are status words. A status in none of
	// the sets keeps the wait going when Pending is empty (as the SDK's
	// waiters do), and is a failure ("unexpected status") otherwise.
	Success, Failure, Pending []string
	// SuccessErrors, FailureErrors and PendingErrors are API error codes
	// (smithy.APIError.ErrorCode), e.g. "ResourceNotFoundException" as
	// success of a deletion waiter. Other errors are classified as poll
	// errors (throttling, network, access denied...).
	SuccessErrors, FailureErrors, PendingErrors []string
}

func (r Rules) empty() bool {
	return len(r.Success)+len(r.Failure)+len(r.Pending)+len(r.SuccessErrors)+len(r.FailureErrors)+len(r.PendingErrors) == 0
}

// ruleFailure is the failure a Rules acceptor reports.
type ruleFailure struct{ status string }

func (e ruleFailure) Error() string { return "waiter reached failure state " + e.status }

func rulesAcceptor[In, Out any](r Rules, status func(*Out) (string, string)) AcceptFunc[In, Out] {
	return func(_ context.Context, _ *In, out *Out, err error) (bool, error) {
		if err != nil {
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				return false, err
			}
			switch code := ae.ErrorCode(); {
			case slices.Contains(r.SuccessErrors, code):
				return false, nil
			case slices.Contains(r.FailureErrors, code):
				return false, ruleFailure{code}
			case slices.Contains(r.PendingErrors, code):
				return true, nil
			}
			return false, err
		}
		st, _ := status(out)
		switch {
		case slices.Contains(r.Success, st):
			return false, nil
		case slices.Contains(r.Failure, st):
			return false, ruleFailure{st}
		case len(r.Pending) == 0 || slices.Contains(r.Pending, st):
			return true, nil
		}
		return false, fmt.Errorf("unexpected status %q", st)
	}
}

// Waiter is a registry entry: a named describe call, its acceptor and its
// delays, with the input and output types erased so that a token can be
// rehydrated from the waiter's name. Build one with NewWaiter.
type Waiter struct {
	name     string
	inType   reflect.Type // *In
	outType  reflect.Type // *Out
	bind     func(cfg awssdk.Config) func(ctx context.Context, in any) (any, error)
	accept   func(ctx context.Context, in, out any, err error) (bool, error)
	status   func(out any) (string, string)
	minDelay time.Duration
	maxDelay time.Duration
	cancel   func(cfg awssdk.Config) func(ctx context.Context, in any) error
	canceled []string
}

// NewWaiter checks d and erases its types into a registry entry.
func NewWaiter[In, Out any](d Definition[In, Out]) (Waiter, error) {
	svc, wname, ok := strings.Cut(d.Name, ".")
	switch {
	case !ok || svc == "" || wname == "" || strings.ContainsAny(d.Name, " \t\r\n"):
		return Waiter{}, fmt.Errorf("aws: waiter name %q is not of the form service.WaiterName", d.Name)
	case d.Describe == nil:
		return Waiter{}, fmt.Errorf("aws: waiter %s has no Describe", d.Name)
	case d.Accept == nil && d.Rules.empty():
		return Waiter{}, fmt.Errorf("aws: waiter %s has neither Accept nor Rules", d.Name)
	case d.Accept == nil && d.Status == nil:
		return Waiter{}, fmt.Errorf("aws: waiter %s has Rules but no Status", d.Name)
	case d.MinDelay < 0 || d.MaxDelay < 0 || (d.MaxDelay > 0 && d.MinDelay > d.MaxDelay):
		return Waiter{}, fmt.Errorf("aws: waiter %s: MinDelay %v and MaxDelay %v are not a range", d.Name, d.MinDelay, d.MaxDelay)
	}
	if reflect.TypeFor[In]().Kind() != reflect.Struct || reflect.TypeFor[Out]().Kind() != reflect.Struct {
		return Waiter{}, fmt.Errorf("aws: waiter %s: input and output must be struct types", d.Name)
	}
	accept := d.Accept
	if accept == nil {
		accept = rulesAcceptor[In](d.Rules, d.Status)
	}
	status := d.Status
	if status == nil {
		status = func(*Out) (string, string) { return "", "" }
	}
	w := Waiter{
		name:     d.Name,
		inType:   reflect.TypeFor[*In](),
		outType:  reflect.TypeFor[*Out](),
		minDelay: d.MinDelay,
		maxDelay: d.MaxDelay,
		canceled: slices.Clone(d.CanceledStatuses),
		bind: func(cfg awssdk.Config) func(context.Context, any) (any, error) {
			describe := d.Describe(cfg)
			return func(ctx context.Context, in any) (any, error) {
				out, err := describe(ctx, in.(*In))
				return out, err
			}
		},
		accept: func(ctx context.Context, in, out any, err error) (bool, error) {
			o, _ := out.(*Out)
			return accept(ctx, in.(*In), o, err)
		},
		status: func(out any) (string, string) {
			o, _ := out.(*Out)
			if o == nil {
				return "", ""
			}
			return status(o)
		},
	}
	if d.Cancel != nil {
		w.cancel = func(cfg awssdk.Config) func(context.Context, any) error {
			cancel := d.Cancel(cfg)
			return func(ctx context.Context, in any) error { return cancel(ctx, in.(*In)) }
		}
	}
	return w, nil
}

// Name returns the waiter's registry name, "service.WaiterName".
func (w Waiter) Name() string { return w.name }

// Delays returns the waiter model's minimum and maximum delay.
func (w Waiter) Delays() (minDelay, maxDelay time.Duration) { return w.minDelay, w.maxDelay }

// InputType returns the describe call's input type, a pointer to a struct.
func (w Waiter) InputType() reflect.Type { return w.inType }

// OutputType returns the describe call's output type, a pointer to a
// struct: the Out of NewPoller and Resume, and what Result returns.
func (w Waiter) OutputType() reflect.Type { return w.outType }

// Cancelable reports whether the waiter's operation can be canceled.
func (w Waiter) Cancelable() bool { return w.cancel != nil }

// ErrAlreadyRegistered is returned by Register for a name already taken.
var ErrAlreadyRegistered = errors.New("waiter already registered")

var registry = struct {
	sync.RWMutex
	m map[string]Waiter
}{m: map[string]Waiter{}}

// Register adds a waiter to the registry, so that NewPoller and Resume
// (in this process and any other that registers it too) find it by name.
// A name can be registered once (ErrAlreadyRegistered after that); the
// built-in waiters are registered at init.
func Register(w Waiter) error {
	if w.name == "" || w.bind == nil {
		return errors.New("aws: register: empty waiter (build it with NewWaiter)")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[w.name]; dup {
		return fmt.Errorf("aws: register %s: %w", w.name, ErrAlreadyRegistered)
	}
	registry.m[w.name] = w
	return nil
}

// Waiters returns the registered waiters' names, sorted.
func Waiters() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the registered waiter of that name.
func Lookup(name string) (Waiter, bool) {
	registry.RLock()
	defer registry.RUnlock()
	w, ok := registry.m[name]
	return w, ok
}

// registerHint says how a waiter name gets registered: built-ins by
// importing their service's package, others with Register.
func registerHint(name string) string {
	svc, _, _ := strings.Cut(name, ".")
	switch svc {
	case "cloudformation", "dynamodb", "ec2", "ecs", "eks", "lambda", "rds":
		return "import _ \"github.com/lrokit/lrokit/aws/waiters/" + svc + "\" (or aws/waiters/all) to register the built-in waiters"
	}
	return "see aws.Waiters, and aws.Register for your own"
}

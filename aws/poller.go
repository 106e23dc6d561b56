package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/retryafter"
)

// Provider is the provider name in this adapter's tokens and errors.
const Provider = "aws"

// Options configure an AWS poller. The zero value (or nil) works.
type Options struct {
	poller.Options
	// BaseEndpoint overrides the services' endpoint (a VPC endpoint,
	// LocalStack, a test fake). It is kept in the token; cfg.BaseEndpoint
	// is kept too when this is empty.
	BaseEndpoint string
	// MinDelay and MaxDelay override the waiter model's delays, which are
	// the schedule's floor and cap unless Policy.Floor or Policy.Cap is
	// set. They are kept in the token.
	MinDelay, MaxDelay time.Duration
	// MaxWait, when set and Deadline is not, makes the deadline MaxWait
	// from now. The deadline is absolute and kept in the token.
	MaxWait time.Duration
}

// tokenState is the adapter's part of a resume token. It never holds
// credentials.
type tokenState struct {
	Region   string          `json:"region,omitempty"`
	Endpoint string          `json:"endpoint,omitempty"`
	Input    json.RawMessage `json:"input"`
	MinDelay string          `json:"min_delay,omitempty"`
	MaxDelay string          `json:"max_delay,omitempty"`
	// CancelRequested records that Cancel succeeded, so a failure state in
	// the waiter's canceled statuses is reported as a cancellation.
	CancelRequested bool `json:"cancel_requested,omitempty"`
}

// NewPoller starts waiting with the named waiter (see Waiters) on the
// resource input identifies. Out is the describe call's output type, e.g.
// *cloudformation.DescribeStacksOutput, or an interface it implements
// (any); input is the describe call's input (a pointer or a value).
//
// No request is made before the first Poll or Wait. cfg supplies the
// credentials, region, retryer and HTTP client; only the region and the
// endpoint are kept in the token.
func NewPoller[Out any](cfg awssdk.Config, name string, input any, opts *Options) (*poller.Poller[Out], error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	w, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("aws: unknown waiter %q (%s)", name, registerHint(name))
	}
	if err := checkOut[Out](w); err != nil {
		return nil, err
	}
	in, err := w.coerceInput(input)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("aws: waiter %s: the input cannot be kept in a token: %w", name, err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("aws: waiter %s: the config has no region", name)
	}
	st := tokenState{Region: cfg.Region, Input: raw, MinDelay: durString(o.MinDelay), MaxDelay: durString(o.MaxDelay)}
	switch {
	case o.BaseEndpoint != "":
		st.Endpoint = o.BaseEndpoint
	case cfg.BaseEndpoint != nil:
		st.Endpoint = *cfg.BaseEndpoint
	}
	if err := checkEndpoint(st.Endpoint); err != nil {
		return nil, fmt.Errorf("aws: waiter %s: %w", name, err)
	}
	op := newOperation(w, cfg, st, in, o.Clock)
	popts := o.Options
	popts.Policy = popts.Policy.Merge(op.defaultPolicy())
	if popts.Deadline.IsZero() && o.MaxWait > 0 {
		popts.Deadline = clockOf(o.Clock).Now().Add(o.MaxWait)
	}
	return poller.New[Out](op.asOperation(), &popts)
}

// Resume continues a wait from a token made by a poller of this package,
// in this process or another, with the caller's cfg (credentials, retryer,
// HTTP client). The waiter the token names must be registered. The
// token's region is used. Options.BaseEndpoint, when set, replaces the
// token's endpoint; otherwise the token's endpoint is used only when it is
// trusted: it equals Options.BaseEndpoint or cfg.BaseEndpoint, or it is,
// over https, the service's own endpoint for the token's region as the
// SDK's endpoint resolver produces it. Anything else (an API Gateway or
// bucket host, plain http, another port) is refused before any request,
// sealed or not, with an error wrapping poller.ErrInvalidToken and
// ErrEndpointNotTrusted. Options.MinDelay, MaxDelay, Deadline and MaxWait,
// when set, replace the token's.
func Resume[Out any](token string, cfg awssdk.Config, opts *Options) (*poller.Poller[Out], error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	tok, err := o.Options.DecodeToken(token)
	if err != nil {
		return nil, fmt.Errorf("aws: %w", err)
	}
	if err := tok.Check(Provider); err != nil {
		return nil, fmt.Errorf("aws: %w", err)
	}
	w, ok := Lookup(tok.Kind)
	if !ok {
		return nil, fmt.Errorf("aws: %w: its waiter %q is not registered in this process (%s)", poller.ErrInvalidToken, clipWord(tok.Kind), registerHint(tok.Kind))
	}
	if err := checkOut[Out](w); err != nil {
		return nil, err
	}
	st, in, err := decodeState(w, tok.State)
	if err != nil {
		return nil, err
	}
	if o.MinDelay != 0 {
		st.MinDelay = durString(o.MinDelay)
	}
	if o.MaxDelay != 0 {
		st.MaxDelay = durString(o.MaxDelay)
	}
	if st.Region != "" {
		cfg.Region = st.Region
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("aws: waiter %s: neither the token nor the config has a region", w.name)
	}
	switch {
	case o.BaseEndpoint != "":
		st.Endpoint = o.BaseEndpoint
		if err := checkEndpoint(st.Endpoint); err != nil {
			return nil, fmt.Errorf("aws: waiter %s: %w", w.name, err)
		}
	case st.Endpoint != "":
		if err := checkTokenEndpoint(serviceOf(w.name), cfg.Region, st.Endpoint, configuredEndpoints(o, cfg)); err != nil {
			return nil, tokenEndpointErr(w.name, err)
		}
	}
	op := newOperation(w, cfg, st, in, o.Clock)
	popts := o.Options
	popts.Policy = popts.Policy.Merge(op.defaultPolicy())
	if popts.Deadline.IsZero() && o.MaxWait > 0 {
		popts.Deadline = clockOf(o.Clock).Now().Add(o.MaxWait)
	}
	return poller.Resume[Out](op.asOperation(), tok, &popts)
}

// decodeState reads the adapter's state from an untrusted token.
func decodeState(w Waiter, raw json.RawMessage) (tokenState, any, error) {
	var st tokenState
	bad := func(what string) (tokenState, any, error) {
		return tokenState{}, nil, fmt.Errorf("aws: %w: %s", poller.ErrInvalidToken, what)
	}
	if len(raw) == 0 {
		return bad("it has no state")
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return bad("its state is malformed")
	}
	if len(st.Input) == 0 || string(st.Input) == "null" {
		return bad("its state has no input")
	}
	in := reflect.New(w.inType.Elem()).Interface()
	if err := json.Unmarshal(st.Input, in); err != nil {
		return bad(fmt.Sprintf("its input does not fit %s", w.inType))
	}
	if _, err := parseDur(st.MinDelay); err != nil {
		return bad("its min_delay is not a duration")
	}
	if _, err := parseDur(st.MaxDelay); err != nil {
		return bad("its max_delay is not a duration")
	}
	if err := checkEndpoint(st.Endpoint); err != nil {
		return bad(err.Error())
	}
	if st.Region != "" && !validRegion(st.Region) {
		return bad("its region is malformed")
	}
	return st, in, nil
}

func checkOut[Out any](w Waiter) error {
	t := reflect.TypeFor[Out]()
	if t == w.outType || (t.Kind() == reflect.Interface && w.outType.Implements(t)) {
		return nil
	}
	return fmt.Errorf("aws: waiter %s returns %s, not %s", w.name, w.outType, t)
}

// coerceInput returns input as the waiter's *In.
func (w Waiter) coerceInput(input any) (any, error) {
	if input == nil {
		return nil, fmt.Errorf("aws: waiter %s takes %s, not nil", w.name, w.inType)
	}
	v := reflect.ValueOf(input)
	switch {
	case v.Type() == w.inType:
		if v.IsNil() {
			return nil, fmt.Errorf("aws: waiter %s takes %s, not a nil pointer", w.name, w.inType)
		}
		return input, nil
	case v.Type() == w.inType.Elem():
		p := reflect.New(w.inType.Elem())
		p.Elem().Set(v)
		return p.Interface(), nil
	}
	return nil, fmt.Errorf("aws: waiter %s takes %s, not %T", w.name, w.inType, input)
}

// operation is one wait: one describe call and one acceptor call per Poll.
type operation struct {
	w        Waiter
	cfg      awssdk.Config
	describe func(context.Context, any) (any, error)
	in       any
	st       tokenState
	clock    poller.Clock

	last     any
	haveLast bool
}

// cancelableOperation adds poller.Canceler to waiters that have a cancel
// call, so Poller.Cancel reports ErrCancelNotSupported for the others.
type cancelableOperation struct{ *operation }

func newOperation(w Waiter, cfg awssdk.Config, st tokenState, in any, clock poller.Clock) *operation {
	if st.Endpoint != "" {
		cfg.BaseEndpoint = awssdk.String(st.Endpoint)
	}
	return &operation{w: w, cfg: cfg, describe: w.bind(cfg), in: in, st: st, clock: clockOf(clock)}
}

// Host returns the endpoint's host, or the service's regional host
// (poller.Locator).
func (o *operation) Host() string {
	if o.st.Endpoint != "" {
		if u, err := url.Parse(o.st.Endpoint); err == nil && u.Host != "" {
			return u.Host
		}
	}
	service, _, _ := strings.Cut(o.w.name, ".")
	return service + "." + o.st.Region + ".amazonaws.com"
}

// OperationType returns the waiter's name (poller.Locator).
func (o *operation) OperationType() string { return o.w.name }

func (o *operation) asOperation() poller.Operation {
	if o.w.cancel != nil {
		return cancelableOperation{o}
	}
	return o
}

func (o *operation) defaultPolicy() poller.Policy {
	lo, hi := o.w.minDelay, o.w.maxDelay
	if d, _ := parseDur(o.st.MinDelay); d > 0 {
		lo = d
	}
	if d, _ := parseDur(o.st.MaxDelay); d > 0 {
		hi = d
	}
	return poller.Policy{Floor: lo, Cap: hi}
}

// Poll makes one describe call and judges it with the waiter's acceptor.
func (o *operation) Poll(ctx context.Context) (poller.Observation, error) {
	out, callErr := o.describe(ctx, o.in)
	retrying, failure := o.w.accept(ctx, o.in, out, callErr)
	if callErr != nil && failure != nil && errors.Is(failure, callErr) {
		// The acceptor passed the call's own error through: not a state.
		return poller.Observation{}, classify(callErr, o.clock.Now())
	}
	obs := poller.Observation{Progress: poller.ProgressUnknown}
	var status, reason string
	if callErr == nil {
		status, reason = o.w.status(out)
		o.last, o.haveLast = out, true
	} else {
		// An error the waiter's rules match, e.g. ResourceNotFoundException
		// as success of a deletion: there is no output.
		status = errorCode(callErr)
		o.last, o.haveLast = reflect.Zero(o.w.outType).Interface(), true
	}
	obs.Detail, obs.Message = status, reason
	word := "status " + status
	if callErr != nil {
		word = "error " + status
	}
	switch {
	case failure != nil:
		obs.Status = poller.StatusFailed
		if o.st.CancelRequested && slices.Contains(o.w.canceled, status) {
			obs.Status = poller.StatusCanceled
		}
		fe := &FailureError{Waiter: o.w.name, Status: status, Reason: reason, Err: failure}
		oe := &poller.OperationError{Provider: Provider, Operation: o.w.name, Status: obs.Status, Message: reason, Err: fe}
		if callErr == nil {
			fe.Output = out
		} else {
			fe.Err = callErr
			var ae smithy.APIError
			if errors.As(callErr, &ae) {
				oe.Code, oe.Message = ae.ErrorCode(), ae.ErrorMessage()
			}
		}
		if oe.Code == "" {
			oe.Message = failureMessage(obs.Status, status, reason, failure)
		}
		obs.Err = oe
		obs.Rule = o.w.name + " acceptor: " + word + " → failure"
	case retrying:
		obs.Status = poller.StatusRunning
		obs.Rule = o.w.name + " acceptor: " + word + " → retry"
	default:
		obs.Status = poller.StatusSucceeded
		obs.Rule = o.w.name + " acceptor: " + word + " → success"
	}
	return obs, nil
}

// sdkFailure is the generated waiters' text for a failure state; it names
// neither the state nor the reason.
const sdkFailure = "waiter state transitioned to Failure"

// failureMessage says what failed: the service's reason, else the
// acceptor's own words, naming the status when the core's message would
// elide it (a Detail equal to the Status, like "FAILED").
func failureMessage(st poller.Status, status, reason string, failure error) string {
	msg := reason
	switch {
	case msg == "" && st == poller.StatusCanceled:
		msg = "rolled back after a cancel request"
	case msg == "" && failure.Error() != sdkFailure:
		msg = failure.Error()
	case msg == "":
		msg = "reached failure state " + status
	case strings.EqualFold(status, string(st)):
		msg = status + ": " + msg
	}
	return msg
}

// Result stores the last describe output in out, a pointer to the
// poller's Out. After a success matched on an error (a deletion waiter
// seeing ResourceNotFoundException) the output is a nil pointer.
func (o *operation) Result(_ context.Context, out any) error {
	if !o.haveLast {
		return fmt.Errorf("aws: waiter %s: no describe output yet", o.w.name)
	}
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("aws: waiter %s: result needs a non-nil pointer, not %T", o.w.name, out)
	}
	v := reflect.ValueOf(o.last)
	if !v.Type().AssignableTo(rv.Elem().Type()) {
		return fmt.Errorf("aws: waiter %s returns %s, not %s", o.w.name, v.Type(), rv.Elem().Type())
	}
	rv.Elem().Set(v)
	return nil
}

// Token returns provider "aws", the waiter's name as the kind, and the
// region, endpoint and input. Never credentials.
func (o *operation) Token() (poller.Token, error) {
	b, err := json.Marshal(o.st)
	if err != nil {
		return poller.Token{}, err
	}
	return poller.Token{Provider: Provider, Kind: o.w.name, State: b}, nil
}

// Cancel makes the waiter's cancel call (CloudFormation CancelUpdateStack).
func (c cancelableOperation) Cancel(ctx context.Context) error {
	if err := c.w.cancel(c.cfg)(ctx, c.in); err != nil {
		return fmt.Errorf("aws: cancel %s: %w", c.w.name, err)
	}
	c.st.CancelRequested = true
	return nil
}

// classify marks a describe call's own error for the core: throttling and
// retryable errors by the SDK's own default rules are transient, with the
// response's Retry-After if it had one; a resource the service no longer
// knows wraps poller.ErrOperationNotFound; anything else is permanent.
func classify(err error, now time.Time) error {
	hint := retryAfterOf(err, now)
	var quota ratelimit.QuotaExceededError
	switch {
	case retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == awssdk.TrueTernary,
		errors.As(err, &quota):
		// A spent client retry quota refills as requests succeed: wait.
		return poller.Throttled(err, hint)
	case retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == awssdk.TrueTernary,
		poller.IsTransient(err):
		return poller.Transient(err, hint)
	case notFound(err):
		return fmt.Errorf("%w: %w", poller.ErrOperationNotFound, err)
	}
	return err
}

func notFound(err error) bool {
	if code := errorCode(err); code != "" {
		for _, suffix := range []string{"NotFound", "NotFoundException", "NotFoundFault"} {
			if strings.HasSuffix(code, suffix) {
				return true
			}
		}
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == 404
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func retryAfterOf(err error, now time.Time) time.Duration {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil || re.Response.Response == nil {
		return 0
	}
	d, _ := retryafter.FromHeader(re.Response.Header, now)
	return d
}

// checkEndpoint accepts "" or an http(s) URL with a host and no user info;
// errors never echo the URL.
func checkEndpoint(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("the endpoint is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("the endpoint is not an http or https URL")
	case u.Host == "" || u.Hostname() == "":
		return errors.New("the endpoint has no host")
	case u.User != nil:
		return errors.New("the endpoint holds user info")
	}
	return nil
}

func durString(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.String()
}

func parseDur(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("bad duration")
	}
	return d, nil
}

func clockOf(c poller.Clock) poller.Clock {
	if c == nil {
		return poller.SystemClock
	}
	return c
}

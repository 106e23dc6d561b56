package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/lrokit/lrokit/poller"
)

// noRetry disables GAPIC's own retries: they sleep on the real clock and
// ignore RetryInfo, while the poller retries on its policy and clock.
var noRetry = gax.WithRetry(nil)

// NewPoller returns a poller for op, the google.longrunning.Operation a
// GAPIC call returned (for example the Proto() of a generated
// *CreateXOperation). The operation as given is the first observation: a
// done op needs no round trip. T is the response type, *anypb.Any to take
// it unopened, or proto.Message for any type linked into the binary.
func NewPoller[T proto.Message](op *longrunningpb.Operation, client *lroauto.OperationsClient, opts *Options) (*poller.Poller[T], error) {
	if op == nil {
		return nil, errors.New("gcp: nil operation")
	}
	o, po, err := newOperation[T](op.GetName(), client, opts)
	if err != nil {
		return nil, err
	}
	o.last = proto.Clone(op).(*longrunningpb.Operation)
	obs, md := observe(op)
	po.Initial = &obs
	if po.Started.IsZero() {
		po.Started = md.Started
	}
	return poller.New[T](o, &po)
}

// FromName returns a poller for an operation started elsewhere (another
// job, another tool), adopted by its name. The first poll happens at once;
// the schedule counts from now unless opts.Started says when it began.
func FromName[T proto.Message](name string, client *lroauto.OperationsClient, opts *Options) (*poller.Poller[T], error) {
	o, po, err := newOperation[T](name, client, opts)
	if err != nil {
		return nil, err
	}
	return poller.New[T](o, &po)
}

// Resume returns a poller that continues from a token made by a poller of
// this package (kind "longrunning"), in any process, with the caller's
// client. It does not poll before the token's next-poll time.
func Resume[T proto.Message](token string, client *lroauto.OperationsClient, opts *Options) (*poller.Poller[T], error) {
	var st lroState
	tok, ro, err := decodeResume(token, opts, KindLongrunning, &st)
	if err != nil {
		return nil, err
	}
	o, po, err := newOperation[T](st.Name, client, &ro)
	if err != nil {
		return nil, err
	}
	return poller.Resume[T](o, tok, &po)
}

func newOperation[T proto.Message](name string, client *lroauto.OperationsClient, opts *Options) (*operation[T], poller.Options, error) {
	if client == nil {
		return nil, poller.Options{}, errors.New("gcp: nil OperationsClient")
	}
	if err := validOperationName(name); err != nil {
		return nil, poller.Options{}, fmt.Errorf("gcp: %w", err)
	}
	po, endpoint := opts.resolve()
	if err := validEndpoint(endpoint); err != nil {
		return nil, poller.Options{}, fmt.Errorf("gcp: options: %w", err)
	}
	o := &operation[T]{client: client, name: name, endpoint: endpoint, clock: po.Clock, pollTimeout: po.PollTimeout}
	return o, po, nil
}

// operation is a google.longrunning.Operation seen through
// Operations.GetOperation (AIP-151).
type operation[T proto.Message] struct {
	client      *lroauto.OperationsClient
	name        string
	endpoint    string
	clock       poller.Clock
	pollTimeout time.Duration

	mu   sync.Mutex
	last *longrunningpb.Operation
}

// Poll performs one GetOperation.
func (o *operation[T]) Poll(ctx context.Context) (poller.Observation, error) {
	op, err := o.client.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: o.name}, noRetry)
	if err != nil {
		return poller.Observation{}, classify(err, o.clock.Now())
	}
	if op == nil {
		return poller.Observation{}, errors.New("GetOperation returned no operation")
	}
	o.mu.Lock()
	o.last = op
	o.mu.Unlock()
	obs, _ := observe(op)
	return obs, nil
}

// observe maps an operation to an observation (AIP-151): not done is
// Running; done with an error is Failed, or Canceled for CANCELLED; done
// otherwise is Succeeded. Detail is the metadata's state, Progress its
// percent field.
func observe(op *longrunningpb.Operation) (poller.Observation, metadataView) {
	md := describeMetadata(op.GetMetadata())
	obs := poller.Observation{Status: poller.StatusRunning, Detail: md.State, Progress: md.Progress, Message: md.Message, Rule: "done is false"}
	if !op.GetDone() {
		return obs, md
	}
	obs.Rule = "done with response"
	if r, failed := op.GetResult().(*longrunningpb.Operation_Error); failed {
		obs.Status = poller.StatusFailed
		if codes.Code(r.Error.GetCode()) == codes.Canceled {
			obs.Status = poller.StatusCanceled
		}
		obs.Rule = "done with error (google.rpc.Status)"
		obs.Err = operationError(r.Error, obs)
		return obs, md
	}
	obs.Status = poller.StatusSucceeded
	obs.Progress = 100
	return obs, md
}

// Result unpacks the response of the succeeded operation into out (*T).
// An operation done without a response gives an empty T.
func (o *operation[T]) Result(_ context.Context, out any) error {
	p, ok := out.(*T)
	if !ok {
		return fmt.Errorf("gcp: result target is %T, not %T", out, (*T)(nil))
	}
	op := o.lastOperation()
	if !op.GetDone() || op.GetError() != nil {
		return fmt.Errorf("gcp operation %s: %w", o.name, poller.ErrNotDone)
	}
	v, err := unpack[T](op.GetResponse(), "response")
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Token returns the operation's name and, when set, its endpoint.
func (o *operation[T]) Token() (poller.Token, error) {
	st, err := json.Marshal(lroState{Name: o.name, Endpoint: o.endpoint})
	if err != nil {
		return poller.Token{}, err
	}
	return poller.Token{Provider: Provider, Kind: KindLongrunning, State: st}, nil
}

// Name is the operation's resource name.
func (o *operation[T]) Name() string { return o.name }

// Host returns the API endpoint's host, or "" for the client's default
// (poller.Locator).
func (o *operation[T]) Host() string { return endpointHost(o.endpoint) }

// OperationType returns "operations", qualified by the API's host when known
// (poller.Locator): operation names do not say what kind of work they track.
func (o *operation[T]) OperationType() string {
	if h := endpointHost(o.endpoint); h != "" {
		return "operations@" + h
	}
	return "operations"
}

// Cancel calls Operations.CancelOperation, bounded by the poll timeout when
// ctx has no deadline. Cancellation is best effort (AIP-151): keep polling
// to learn whether the operation ends CANCELLED.
func (o *operation[T]) Cancel(ctx context.Context) error {
	if _, has := ctx.Deadline(); !has && o.pollTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.pollTimeout)
		defer cancel()
	}
	err := o.client.CancelOperation(ctx, &longrunningpb.CancelOperationRequest{Name: o.name}, noRetry)
	if err == nil {
		return nil
	}
	if c := codeOf(err); c == codes.Unimplemented {
		return fmt.Errorf("canceling gcp operation %s: %w: %w", o.name, poller.ErrCancelNotSupported, err)
	}
	return fmt.Errorf("canceling gcp operation %s: %w", o.name, classify(err, o.clock.Now()))
}

func (o *operation[T]) lastOperation() *longrunningpb.Operation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

package gcpfake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Step is one scripted answer to GetOperation: the operation's state, or
// an RPC failure (Fault), optionally after a delay.
type Step struct {
	// Done, Metadata, Response and Error make the operation returned:
	// Error (a google.rpc.Status, possibly of code 0) takes precedence over
	// Response when Done.
	Done     bool
	Metadata proto.Message
	Response proto.Message
	Error    *spb.Status
	// Fault, when set, is returned as the RPC's error instead of the
	// operation (build it with status.Error or Fault).
	Fault error
	// Delay holds the answer back this long (real time), or until the
	// caller gives up; negative waits for the caller to give up.
	Delay time.Duration
}

// Running is a step of an operation not yet done, with metadata (nil for
// none).
func Running(metadata proto.Message) Step { return Step{Metadata: metadata} }

// Succeeded is a step of an operation done with response (nil for none).
func Succeeded(response proto.Message) Step { return Step{Done: true, Response: response} }

// Failed is a step of an operation done with an error status carrying
// details (for example *errdetails.ErrorInfo).
func Failed(code codes.Code, message string, details ...proto.Message) Step {
	st := &spb.Status{Code: int32(code), Message: message}
	for _, d := range details {
		a, err := anypb.New(d)
		if err != nil {
			panic(fmt.Sprintf("gcpfake: packing detail: %v", err))
		}
		st.Details = append(st.Details, a)
	}
	return Step{Done: true, Error: st}
}

// Fault is a step whose GetOperation fails with code and message; a
// positive retryDelay adds a google.rpc.RetryInfo detail.
func Fault(code codes.Code, message string, retryDelay time.Duration) Step {
	st := status.New(code, message)
	if retryDelay > 0 {
		var err error
		if st, err = st.WithDetails(protoadapt.MessageV1Of(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryDelay)})); err != nil {
			panic(fmt.Sprintf("gcpfake: adding RetryInfo: %v", err))
		}
	}
	return Step{Fault: st.Err()}
}

// Expired is a step whose GetOperation fails with NotFound, as for an
// operation the service has purged.
func Expired() Step { return Step{Fault: status.Error(codes.NotFound, "operation not found")} }

// Slow returns s answered after d of real time, or when the caller gives up;
// a negative d waits for the caller to give up.
func Slow(d time.Duration, s Step) Step {
	s.Delay = d
	return s
}

// Request is one GetOperation the fake received.
type Request struct {
	Name string
	// Timeout is the deadline the caller sent, measured when the request
	// arrived; zero when it sent none.
	Timeout time.Duration
}

// Operations is a fake google.longrunning.Operations gRPC service on a
// loopback port, which the real OperationsClient calls without auth. Each
// operation follows a script of steps: every GetOperation answers the next
// step and the last step repeats. CancelOperation makes every later
// GetOperation answer done with CANCELLED (AIP-151). It is safe for
// concurrent use.
type Operations struct {
	longrunningpb.UnimplementedOperationsServer

	lis net.Listener
	srv *grpc.Server

	mu       sync.Mutex
	ops      map[string]*script
	requests []Request
}

type script struct {
	steps    []Step
	pos      int
	canceled bool
	cancels  int
	gets     int
}

// StartOperations starts the fake on 127.0.0.1 on a free port.
func StartOperations() (*Operations, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Operations{lis: lis, srv: grpc.NewServer(), ops: map[string]*script{}}
	longrunningpb.RegisterOperationsServer(s.srv, s)
	go func() { _ = s.srv.Serve(lis) }()
	return s, nil
}

// Addr is the fake's host:port.
func (s *Operations) Addr() string { return s.lis.Addr().String() }

// ClientOptions are the options that point a GAPIC client at the fake:
// its endpoint, no authentication, plaintext gRPC.
func (s *Operations) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.Addr()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// NewClient returns a real OperationsClient connected to the fake. Each call
// opens a new connection, as a new process would.
func (s *Operations) NewClient(ctx context.Context) (*lroauto.OperationsClient, error) {
	return lroauto.NewOperationsClient(ctx, s.ClientOptions()...)
}

// Close stops the fake, ending calls in progress.
func (s *Operations) Close() { s.srv.Stop() }

// Add scripts the operation name (replacing any script it had). It needs at
// least one step.
func (s *Operations) Add(name string, steps ...Step) {
	if len(steps) == 0 {
		panic("gcpfake: Add needs at least one step")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops[name] = &script{steps: append([]Step(nil), steps...)}
}

// Initial returns the operation as the call that started it would have:
// its name and the first step's state, without consuming a step.
func (s *Operations) Initial(name string) *longrunningpb.Operation {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, ok := s.ops[name]
	if !ok {
		return &longrunningpb.Operation{Name: name}
	}
	st := sc.steps[0]
	if st.Fault != nil {
		return &longrunningpb.Operation{Name: name}
	}
	return build(name, st)
}

// Gets returns how many GetOperation calls named the operation.
func (s *Operations) Gets(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc, ok := s.ops[name]; ok {
		return sc.gets
	}
	return 0
}

// Cancels returns how many CancelOperation calls named the operation.
func (s *Operations) Cancels(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc, ok := s.ops[name]; ok {
		return sc.cancels
	}
	return 0
}

// Requests returns the GetOperation calls received, in order.
func (s *Operations) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// GetOperation answers the operation's next step.
func (s *Operations) GetOperation(ctx context.Context, req *longrunningpb.GetOperationRequest) (*longrunningpb.Operation, error) {
	r := Request{Name: req.GetName()}
	if dl, ok := ctx.Deadline(); ok {
		r.Timeout = time.Until(dl)
	}
	s.mu.Lock()
	s.requests = append(s.requests, r)
	sc, ok := s.ops[req.GetName()]
	if !ok {
		s.mu.Unlock()
		return nil, status.Errorf(codes.NotFound, "operation %q not found", req.GetName())
	}
	sc.gets++
	st := sc.steps[min(sc.pos, len(sc.steps)-1)]
	sc.pos++
	if sc.canceled && st.Fault == nil && !st.Done {
		st = Step{Done: true, Metadata: st.Metadata, Error: &spb.Status{Code: int32(codes.Canceled), Message: "operation was cancelled"}}
	}
	s.mu.Unlock()
	if err := delay(ctx, st.Delay); err != nil {
		return nil, err
	}
	if st.Fault != nil {
		return nil, st.Fault
	}
	return build(req.GetName(), st), nil
}

// WaitOperation answers like GetOperation, without waiting.
func (s *Operations) WaitOperation(ctx context.Context, req *longrunningpb.WaitOperationRequest) (*longrunningpb.Operation, error) {
	return s.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: req.GetName()})
}

// CancelOperation marks the operation canceled: later polls of a step not
// done answer done with CANCELLED. A done operation is left as it is.
func (s *Operations) CancelOperation(_ context.Context, req *longrunningpb.CancelOperationRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, ok := s.ops[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "operation %q not found", req.GetName())
	}
	sc.cancels++
	sc.canceled = true
	return &emptypb.Empty{}, nil
}

// DeleteOperation forgets the operation: later calls answer NotFound.
func (s *Operations) DeleteOperation(_ context.Context, req *longrunningpb.DeleteOperationRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ops[req.GetName()]; !ok {
		return nil, status.Errorf(codes.NotFound, "operation %q not found", req.GetName())
	}
	delete(s.ops, req.GetName())
	return &emptypb.Empty{}, nil
}

// ListOperations lists every scripted operation whose name starts with
// the request's name, at its current step, in one page.
func (s *Operations) ListOperations(_ context.Context, req *longrunningpb.ListOperationsRequest) (*longrunningpb.ListOperationsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.ops {
		if len(n) >= len(req.GetName()) && n[:len(req.GetName())] == req.GetName() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	resp := &longrunningpb.ListOperationsResponse{}
	for _, n := range names {
		sc := s.ops[n]
		st := sc.steps[min(max(sc.pos-1, 0), len(sc.steps)-1)]
		if st.Fault != nil {
			st = Step{}
		}
		resp.Operations = append(resp.Operations, build(n, st))
	}
	return resp, nil
}

func build(name string, st Step) *longrunningpb.Operation {
	op := &longrunningpb.Operation{Name: name, Done: st.Done}
	if st.Metadata != nil {
		op.Metadata = mustAny(st.Metadata)
	}
	switch {
	case !st.Done:
	case st.Error != nil:
		op.Result = &longrunningpb.Operation_Error{Error: st.Error}
	case st.Response != nil:
		op.Result = &longrunningpb.Operation_Response{Response: mustAny(st.Response)}
	}
	return op
}

func mustAny(m proto.Message) *anypb.Any {
	if a, ok := m.(*anypb.Any); ok {
		return a
	}
	a, err := anypb.New(m)
	if err != nil {
		panic(fmt.Sprintf("gcpfake: packing %T: %v", m, err))
	}
	return a
}

// delay waits d of real time, or until ctx ends (negative d: until then).
func delay(ctx context.Context, d time.Duration) error {
	if d == 0 {
		return nil
	}
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		return nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return status.Error(codes.DeadlineExceeded, "deadline exceeded while the fake held its answer")
		}
		return status.Error(codes.Canceled, "caller gave up while the fake held its answer")
	}
}

package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	compute "google.golang.org/api/compute/v1"

	"github.com/lrokit/lrokit/poller"
)

// Compute operation statuses (compute/v1 Operation.status).
const (
	computePending = "PENDING"
	computeRunning = "RUNNING"
	computeDone    = "DONE"
)

// ComputeError is the provider-native error of a failed Compute operation
// (the Err of its *poller.OperationError): every entry of error.errors, and
// httpErrorStatusCode and httpErrorMessage when the server set them.
type ComputeError struct {
	Errors         []*compute.OperationErrorErrors
	HTTPStatusCode int
	HTTPMessage    string
}

func (e *ComputeError) Error() string {
	var b strings.Builder
	b.WriteString("compute operation error")
	if e.HTTPStatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatusCode)
	}
	for i, it := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(it.Code)
		if it.Message != "" {
			b.WriteString(": " + it.Message)
		}
	}
	if len(e.Errors) == 0 && e.HTTPMessage != "" {
		b.WriteString(": " + e.HTTPMessage)
	}
	return b.String()
}

// NewComputePoller returns a poller for a Compute Engine operation as an
// insert, delete or other mutating call returned it; the operation as given
// is the first observation. project may be empty when op.SelfLink names
// it. The scope (zone, region or global) comes from op.Zone and op.Region.
func NewComputePoller(op *compute.Operation, svc *compute.Service, project string, opts *Options) (*poller.Poller[*compute.Operation], error) {
	if op == nil {
		return nil, errors.New("gcp: nil compute operation")
	}
	if project == "" {
		project = segmentAfter(op.SelfLink, "projects")
	}
	st := computeState{Project: project, Zone: lastSegment(op.Zone), Region: lastSegment(op.Region), Name: op.Name}
	o, po, err := newComputeOperation(st, svc, opts)
	if err != nil {
		return nil, err
	}
	o.last = op
	obs := observeCompute(op)
	po.Initial = &obs
	if po.Started.IsZero() {
		po.Started = computeStarted(op)
	}
	return poller.New[*compute.Operation](o, &po)
}

// AdoptCompute returns a poller for a Compute operation started elsewhere,
// by project, scope and name. scope is "zones/ZONE", "regions/REGION" or
// "global"; a URL ending in one of them (a selfLink's prefix) works too.
// The first poll happens at once.
func AdoptCompute(project, scope, name string, svc *compute.Service, opts *Options) (*poller.Poller[*compute.Operation], error) {
	st := computeState{Project: project, Name: name}
	var err error
	if st.Zone, st.Region, err = parseScope(scope); err != nil {
		return nil, fmt.Errorf("gcp: %w", err)
	}
	o, po, err := newComputeOperation(st, svc, opts)
	if err != nil {
		return nil, err
	}
	return poller.New[*compute.Operation](o, &po)
}

// ResumeCompute returns a poller that continues from a token made by a
// Compute poller of this package (kind "compute"), with the caller's
// service. It does not poll before the token's next-poll time.
func ResumeCompute(token string, svc *compute.Service, opts *Options) (*poller.Poller[*compute.Operation], error) {
	var st computeState
	tok, ro, err := decodeResume(token, opts, KindCompute, &st)
	if err != nil {
		return nil, err
	}
	o, po, err := newComputeOperation(st, svc, &ro)
	if err != nil {
		return nil, err
	}
	return poller.Resume[*compute.Operation](o, tok, &po)
}

// LastComputeOperation returns the Compute operation the poller last saw,
// or nil for a poller not made by this package or not yet polled. Do not
// modify it.
func LastComputeOperation(p interface{ Operation() poller.Operation }) *compute.Operation {
	if o, ok := p.Operation().(*computeOperation); ok {
		return o.lastOperation()
	}
	return nil
}

func newComputeOperation(st computeState, svc *compute.Service, opts *Options) (*computeOperation, poller.Options, error) {
	if svc == nil {
		return nil, poller.Options{}, errors.New("gcp: nil compute Service")
	}
	po, endpoint := opts.resolve()
	st.Endpoint = endpoint
	if err := st.validate(); err != nil {
		return nil, poller.Options{}, fmt.Errorf("gcp: %w", err)
	}
	return &computeOperation{svc: svc, state: st, clock: po.Clock}, po, nil
}

// parseScope reads "zones/Z", "regions/R" or "global", possibly at the end
// of a URL.
func parseScope(scope string) (zone, region string, err error) {
	s := strings.Trim(scope, "/")
	switch {
	case s == "global" || strings.HasSuffix(s, "/global"):
		return "", "", nil
	case segmentAfter(s, "zones") != "" && strings.HasSuffix(s, "zones/"+segmentAfter(s, "zones")):
		return segmentAfter(s, "zones"), "", nil
	case segmentAfter(s, "regions") != "" && strings.HasSuffix(s, "regions/"+segmentAfter(s, "regions")):
		return "", segmentAfter(s, "regions"), nil
	}
	return "", "", fmt.Errorf(`compute scope %q is not "zones/ZONE", "regions/REGION" or "global"`, printable(scope))
}

// segmentAfter returns the path segment after the last "/key/" (or a
// leading "key/") in s.
func segmentAfter(s, key string) string {
	parts := strings.Split(s, "/")
	for i := len(parts) - 2; i >= 0; i-- {
		if parts[i] == key {
			return parts[i+1]
		}
	}
	return ""
}

func lastSegment(url string) string {
	if i := strings.LastIndexByte(url, '/'); i >= 0 {
		return url[i+1:]
	}
	return url
}

// computeOperation is a Compute Engine operation seen through
// zoneOperations.get, regionOperations.get or globalOperations.get: one
// round trip each, unlike operations.wait, which holds the call open.
type computeOperation struct {
	svc   *compute.Service
	state computeState
	clock poller.Clock

	mu   sync.Mutex
	last *compute.Operation
}

// Poll performs one get on the operation's scope.
func (o *computeOperation) Poll(ctx context.Context) (poller.Observation, error) {
	s := o.state
	var op *compute.Operation
	var err error
	switch {
	case s.Zone != "":
		op, err = o.svc.ZoneOperations.Get(s.Project, s.Zone, s.Name).Context(ctx).Do()
	case s.Region != "":
		op, err = o.svc.RegionOperations.Get(s.Project, s.Region, s.Name).Context(ctx).Do()
	default:
		op, err = o.svc.GlobalOperations.Get(s.Project, s.Name).Context(ctx).Do()
	}
	if err != nil {
		return poller.Observation{}, classify(err, o.clock.Now())
	}
	o.mu.Lock()
	o.last = op
	o.mu.Unlock()
	return observeCompute(op), nil
}

// observeCompute maps a Compute operation to an observation: PENDING is
// NotStarted, RUNNING is Running, DONE is Succeeded unless it failed (see
// computeFailed). An unknown status keeps the operation Running.
func observeCompute(op *compute.Operation) poller.Observation {
	obs := poller.Observation{Status: poller.StatusRunning, Detail: printableDetail(op.Status), Progress: float64(min(max(op.Progress, 0), 100)),
		Message: printableMessage(op.StatusMessage), Rule: "status " + printableDetail(op.Status)}
	switch op.Status {
	case computePending:
		obs.Status = poller.StatusNotStarted
	case computeDone:
		if computeFailed(op) {
			obs.Rule = "status DONE with error.errors or httpErrorStatusCode"
			obs.Status = poller.StatusFailed
			obs.Err = computeError(op, obs)
			return obs
		}
		obs.Status = poller.StatusSucceeded
		obs.Progress = 100
	}
	return obs
}

// computeFailed: a DONE operation failed when error.errors is non-empty —
// whether or not httpErrorStatusCode is set — or when httpErrorStatusCode
// is an error status.
func computeFailed(op *compute.Operation) bool {
	return op.Error != nil && len(op.Error.Errors) > 0 || op.HttpErrorStatusCode >= 400
}

func computeError(op *compute.Operation, obs poller.Observation) *poller.OperationError {
	ce := &ComputeError{HTTPStatusCode: int(op.HttpErrorStatusCode), HTTPMessage: op.HttpErrorMessage}
	if op.Error != nil {
		for _, it := range op.Error.Errors {
			if it != nil {
				ce.Errors = append(ce.Errors, it)
			}
		}
	}
	oe := &poller.OperationError{Provider: Provider, Status: obs.Status, Err: ce}
	switch {
	case len(ce.Errors) > 0:
		oe.Code, oe.Message = ce.Errors[0].Code, ce.Errors[0].Message
		if n := len(ce.Errors) - 1; n > 0 {
			oe.Message += fmt.Sprintf(" (and %d more)", n)
		}
	case ce.HTTPStatusCode != 0:
		oe.Code, oe.Message = fmt.Sprintf("HTTP_%d", ce.HTTPStatusCode), ce.HTTPMessage
	default:
		oe.Code = "UNKNOWN"
	}
	oe.Raw, _ = json.Marshal(struct {
		Error               *compute.OperationError `json:"error,omitempty"`
		HTTPErrorStatusCode int64                   `json:"httpErrorStatusCode,omitempty"`
		HTTPErrorMessage    string                  `json:"httpErrorMessage,omitempty"`
	}{op.Error, op.HttpErrorStatusCode, op.HttpErrorMessage})
	return oe
}

func computeStarted(op *compute.Operation) time.Time {
	for _, s := range []string{op.StartTime, op.InsertTime, op.CreationTimestamp} {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// Result stores the final operation (with its targetLink) in out.
func (o *computeOperation) Result(_ context.Context, out any) error {
	p, ok := out.(**compute.Operation)
	if !ok {
		return fmt.Errorf("gcp: result target is %T, not **compute.Operation", out)
	}
	op := o.lastOperation()
	if op == nil || op.Status != computeDone {
		return fmt.Errorf("gcp %s: %w", o.Name(), poller.ErrNotDone)
	}
	*p = op
	return nil
}

// Token returns project, scope, name and, when set, the endpoint.
func (o *computeOperation) Token() (poller.Token, error) {
	st, err := json.Marshal(o.state)
	if err != nil {
		return poller.Token{}, err
	}
	return poller.Token{Provider: Provider, Kind: KindCompute, State: st}, nil
}

// Name is the operation's relative resource path.
// Host returns the Compute API's host (poller.Locator).
func (o *computeOperation) Host() string {
	if h := endpointHost(o.state.Endpoint); h != "" {
		return h
	}
	return "compute.googleapis.com"
}

// OperationType returns "compute" and the operation's type once a poll
// reported it ("compute insert") (poller.Locator).
func (o *computeOperation) OperationType() string {
	if last := o.lastOperation(); last != nil && last.OperationType != "" {
		return "compute " + last.OperationType
	}
	return "compute"
}

func (o *computeOperation) Name() string {
	s := o.state
	switch {
	case s.Zone != "":
		return "projects/" + s.Project + "/zones/" + s.Zone + "/operations/" + s.Name
	case s.Region != "":
		return "projects/" + s.Project + "/regions/" + s.Region + "/operations/" + s.Name
	}
	return "projects/" + s.Project + "/global/operations/" + s.Name
}

func (o *computeOperation) lastOperation() *compute.Operation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

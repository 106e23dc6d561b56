package gcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/googleapis/gax-go/v2/apierror"
	"google.golang.org/api/googleapi"
	rpccode "google.golang.org/genproto/googleapis/rpc/code"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/retryafter"
)

// ErrTypeMismatch is wrapped by the error Result or Metadata returns when
// the operation's payload is not of the requested type. The message names
// both types.
var ErrTypeMismatch = errors.New("operation payload has another type")

// classify marks a failed round trip for the poller (AIP-194 retryable
// codes): NotFound means the operation expired; UNAVAILABLE,
// DEADLINE_EXCEEDED, ABORTED and INTERNAL are transient; RESOURCE_EXHAUSTED
// is throttling. The server's hint is a google.rpc.RetryInfo detail or, over
// HTTP, a Retry-After header. Anything else is permanent.
func classify(err error, now time.Time) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var herr *googleapi.Error
	if errors.As(err, &herr) {
		return classifyHTTP(err, herr, now)
	}
	ae, ok := apierror.FromError(err)
	if !ok {
		return err // network failures: the core recognizes them
	}
	hint := retryInfo(ae)
	switch ae.GRPCStatus().Code() {
	case codes.NotFound:
		return fmt.Errorf("%w: %w", poller.ErrOperationNotFound, err)
	case codes.ResourceExhausted:
		return poller.Throttled(err, hint)
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.Internal:
		return poller.Transient(err, hint)
	}
	return err
}

// classifyHTTP is classify for REST transports: 404 is gone; 429, and 403
// with a rate-limit reason (Compute's rateLimitExceeded), are throttling;
// 408 and 5xx are transient.
func classifyHTTP(err error, herr *googleapi.Error, now time.Time) error {
	hint, ok := retryafter.FromHeader(herr.Header, now)
	if !ok {
		if ae, isAPI := apierror.ParseError(herr, false); isAPI {
			hint = retryInfo(ae)
		}
	}
	switch {
	case herr.Code == http.StatusNotFound:
		return fmt.Errorf("%w: %w", poller.ErrOperationNotFound, err)
	case herr.Code == http.StatusTooManyRequests:
		return poller.Throttled(err, hint)
	case herr.Code == http.StatusForbidden && rateLimited(herr):
		return poller.Throttled(err, hint)
	case poller.TransientHTTPStatus(herr.Code):
		return poller.Transient(err, hint)
	}
	return err
}

func rateLimited(herr *googleapi.Error) bool {
	for _, it := range herr.Errors {
		switch it.Reason {
		case "rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED":
			return true
		}
	}
	return false
}

func retryInfo(ae *apierror.APIError) time.Duration {
	d := ae.Details().RetryInfo.GetRetryDelay()
	if d == nil || d.CheckValid() != nil {
		return 0
	}
	return max(d.AsDuration(), 0)
}

// statusCodeName is the google.rpc.Code name ("PERMISSION_DENIED"), or the
// number for codes this build does not know.
func statusCodeName(c int32) string { return rpccode.Code(c).String() }

// operationError turns a done operation's google.rpc.Status into the
// poller's error. Err is an *apierror.APIError (errors.As; Reason, Details)
// that also satisfies status.FromError.
//
// A status whose code is 0 (OK) is a server defect: the operation took the
// error branch of its result, so it did not succeed, yet the code says
// nothing. It is reported as a failure with code UNKNOWN and the server's
// message; Raw keeps the status as sent.
func operationError(st *spb.Status, obs poller.Observation) *poller.OperationError {
	if st == nil {
		st = &spb.Status{}
	}
	oe := &poller.OperationError{
		Provider: Provider,
		Status:   obs.Status,
		Code:     statusCodeName(st.GetCode()),
		Message:  st.GetMessage(),
		Raw:      statusJSON(st),
	}
	native := st
	if codes.Code(st.GetCode()) == codes.OK {
		native = proto.Clone(st).(*spb.Status)
		native.Code = int32(codes.Unknown)
		if native.Message == "" {
			native.Message = "operation finished with an error status of code 0 (OK)"
		}
		oe.Code, oe.Message = statusCodeName(native.Code), native.Message
	}
	serr := status.FromProto(native).Err()
	if ae, ok := apierror.FromError(serr); ok {
		oe.Err = ae
	} else {
		oe.Err = serr
	}
	return oe
}

// statusJSON renders a status for OperationError.Raw; when a detail's type
// is not linked into the binary, only the code and message are kept.
func statusJSON(st *spb.Status) []byte {
	b, err := protojson.Marshal(st)
	if err != nil {
		b, _ = protojson.Marshal(&spb.Status{Code: st.GetCode(), Message: st.GetMessage()})
	}
	return b
}

// codeOf returns the gRPC code of a call's error, HTTP codes mapped.
func codeOf(err error) codes.Code {
	if ae, ok := apierror.FromError(err); ok && ae.GRPCStatus() != nil {
		return ae.GRPCStatus().Code()
	}
	return status.Code(err)
}

package gcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/lrokit/lrokit/poller"
)

// ErrNoMetadata is returned by Metadata when the last operation seen
// carries no metadata.
var ErrNoMetadata = errors.New("operation carries no metadata")

// lastOperationer is implemented by this package's longrunning operations.
type lastOperationer interface {
	lastOperation() *longrunningpb.Operation
}

// LastOperation returns a copy of the google.longrunning.Operation the
// poller last saw (the one it was built from, before the first poll), or
// nil for a poller not made by this package or not yet polled.
func LastOperation(p interface{ Operation() poller.Operation }) *longrunningpb.Operation {
	lo, ok := p.Operation().(lastOperationer)
	if !ok {
		return nil
	}
	if op := lo.lastOperation(); op != nil {
		return proto.Clone(op).(*longrunningpb.Operation)
	}
	return nil
}

// Metadata unpacks the metadata of the operation the poller last saw into
// M. M may be *anypb.Any (the raw metadata), a generated message type, or
// proto.Message (any type linked into the binary). It returns ErrNoMetadata
// when there is none, and an error wrapping ErrTypeMismatch, naming both
// types, when the metadata is of another type.
func Metadata[M proto.Message](p interface{ Operation() poller.Operation }) (M, error) {
	var zero M
	lo, ok := p.Operation().(lastOperationer)
	if !ok {
		return zero, fmt.Errorf("gcp: %T is not a google.longrunning poller", p.Operation())
	}
	op := lo.lastOperation()
	if op.GetMetadata() == nil {
		return zero, ErrNoMetadata
	}
	return unpack[M](op.GetMetadata(), "metadata")
}

// unpack turns an Any into M (see Metadata); a nil Any gives an empty M
// (nil when M is an interface type).
func unpack[M proto.Message](a *anypb.Any, what string) (M, error) {
	var zero M
	switch any(zero).(type) {
	case *anypb.Any:
		if a == nil {
			a = &anypb.Any{}
		}
		return any(proto.Clone(a)).(M), nil
	case nil: // M is an interface type
		if a == nil {
			return zero, nil
		}
		m, err := a.UnmarshalNew()
		if err != nil {
			return zero, fmt.Errorf("gcp: unpacking the operation's %s (%s): %w", what, typeName(a), err)
		}
		out, ok := m.(M)
		if !ok {
			return zero, fmt.Errorf("%w: the operation's %s is %s, which does not implement %s", ErrTypeMismatch, what, typeName(a), reflect.TypeFor[M]())
		}
		return out, nil
	}
	mt, ok := messageType(zero)
	if !ok {
		return zero, fmt.Errorf("gcp: %T is neither a generated message type nor *anypb.Any", zero)
	}
	m := mt.New().Interface()
	if a == nil {
		return m.(M), nil
	}
	if want := mt.Descriptor().FullName(); a.MessageName() != want {
		return zero, fmt.Errorf("%w: the operation's %s is %s, not %s", ErrTypeMismatch, what, typeName(a), want)
	}
	if err := proto.Unmarshal(a.GetValue(), m); err != nil {
		return zero, fmt.Errorf("gcp: unpacking the operation's %s (%s): %w", what, typeName(a), err)
	}
	return m.(M), nil
}

// messageType returns the message type of a (possibly nil) generated
// message pointer; dynamic messages have none without a value.
func messageType(m proto.Message) (mt protoreflect.MessageType, ok bool) {
	defer func() {
		if recover() != nil {
			mt, ok = nil, false
		}
	}()
	mt = m.ProtoReflect().Type()
	return mt, mt != nil
}

func typeName(a *anypb.Any) string {
	if n := a.MessageName(); n != "" {
		return string(n)
	}
	if a.GetTypeUrl() == "" {
		return "an Any without a type"
	}
	return printable(a.GetTypeUrl())
}

// Field names looked up in an operation's metadata, in its JSON form
// (protojson: lowerCamel names; a google.protobuf.Struct keeps its keys),
// so generated types and Structs read the same. AIP-151 leaves metadata to
// each API; these are the names Google APIs use.
var (
	percentFields = []string{"progressPercent", "progress_percent", "progressPercentage", "progress_percentage",
		"percentComplete", "percent_complete", "percentageComplete", "percentage_complete"}
	// A nested progress message (Spanner's OperationProgress).
	progressFields = []string{"progress", "operationProgress", "operation_progress"}
	stateFields    = []string{"state", "status"}
	startFields    = []string{"createTime", "create_time", "startTime", "start_time"}
	messageFields  = []string{"statusMessage", "status_message", "statusDetail", "status_detail", "progressMessage", "progress_message"}
)

// metadataView is what an operation's metadata says about its progress.
type metadataView struct {
	State    string
	Progress float64
	Started  time.Time
	Message  string
}

// describeMetadata reads state, progress and start time from metadata of
// any type linked into the binary. Unknown types say nothing.
func describeMetadata(a *anypb.Any) metadataView {
	v := metadataView{Progress: poller.ProgressUnknown}
	if a == nil {
		return v
	}
	m, err := a.UnmarshalNew()
	if err != nil {
		return v
	}
	b, err := protojson.Marshal(m)
	if err != nil {
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var fields map[string]any
	if dec.Decode(&fields) != nil {
		return v
	}
	if p, ok := percentOf(fields); ok {
		v.Progress = p
	} else {
		for _, k := range progressFields {
			if nested, isObj := fields[k].(map[string]any); isObj {
				if p, ok := percentOf(nested); ok {
					v.Progress = p
					break
				}
			}
		}
	}
	for _, k := range stateFields {
		if s, ok := fields[k].(string); ok && s != "" {
			v.State = printableDetail(s)
			break
		}
	}
	for _, k := range messageFields {
		if s, ok := fields[k].(string); ok && s != "" {
			v.Message = printableMessage(s)
			break
		}
	}
	for _, k := range startFields {
		if s, ok := fields[k].(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				v.Started = t
				break
			}
		}
	}
	return v
}

func percentOf(fields map[string]any) (float64, bool) {
	for _, k := range percentFields {
		var s string
		switch x := fields[k].(type) {
		case json.Number:
			s = string(x)
		case string: // protojson writes 64-bit integers as strings
			s = x
		default:
			continue
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return min(max(f, 0), 100), true
		}
	}
	return 0, false
}

// printableDetail bounds a server-supplied word kept in observations,
// logs and tokens.
func printableDetail(s string) string {
	const limit = 64
	s = strings.TrimSpace(s)
	if len(s) > limit {
		s = s[:limit]
	}
	return strings.ToValidUTF8(s, "")
}

// printableMessage bounds a server-supplied message kept in observations
// and logs.
func printableMessage(s string) string {
	const limit = 256
	s = strings.TrimSpace(s)
	if len(s) > limit {
		s = s[:limit]
	}
	return strings.ToValidUTF8(s, "")
}

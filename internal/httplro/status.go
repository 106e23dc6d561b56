package httplro

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lrokit/lrokit/poller"
)

// ErrMalformedStatus is wrapped by errors about a status body that cannot
// be read: empty, not a JSON object, truncated, or without a status. Such a
// body is a permanent error, never an endless loop.
var ErrMalformedStatus = errors.New("malformed status body")

// Body is what a status monitor's or resource's JSON body says about an
// operation. Every field is optional.
type Body struct {
	// Status is the provider's word from "status" (a string), or from
	// "status.state" when status is an object (reference 002).
	Status string
	// ProvisioningState is "properties.provisioningState" (ARM resources).
	ProvisioningState string
	// Progress is "percentComplete" (a number or a numeric string) clamped
	// to 0..100, or poller.ProgressUnknown.
	Progress float64
	// ResourceLocation is "resourceLocation" (REST guidelines).
	ResourceLocation string
	// Code and Message come from "error" (ARM and REST guidelines), from
	// top-level "code"/"message", or from the newest condition's reason and
	// message.
	Code, Message string
	// Reason and ConditionMessage are the newest status.conditions[] entry's
	// reason and message (reference 002).
	Reason, ConditionMessage string

	stateObject bool
}

// ParseBody reads a JSON object body. An empty body, a body that is not a
// JSON object, or truncated JSON is an error wrapping ErrMalformedStatus.
// It never panics, whatever the input.
//
// It decodes the few fields it reads in one pass into wireBody, whose field
// types never fail, so a field of an unexpected type reads as absent.
// encoding/json matches keys exactly, then case-insensitively, as the
// lookup in a map of every key did. Allocations: {"status":"InProgress"}
// 15 → 5, a typical ARM status body 29 → 6 (BenchmarkParseBody). Only a
// body that repeats a key (in any case) may read differently
// (FuzzParseBodyAsBefore).
func ParseBody(b []byte) (Body, error) {
	out := Body{Progress: poller.ProgressUnknown}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return out, malformed("the body is empty")
	}
	w := wireBodies.Get().(*wireBody)
	defer func() { *w = wireBody{}; wireBodies.Put(w) }()
	if err := json.Unmarshal(b, w); err != nil || b[0] != '{' {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return out, malformed("the body is not valid JSON (syntax error at byte " + strconv.FormatInt(se.Offset, 10) + ")")
		case b[0] != '{':
			return out, malformed("the body is not a JSON object")
		case !errors.As(err, &te):
			return out, malformed("the body is not valid JSON")
		}
		// Only "properties" can have the wrong type: it reads as absent.
	}
	out.Status, out.stateObject = w.Status.word, w.Status.object
	out.Reason, out.ConditionMessage = w.Status.reason, w.Status.message
	out.ProvisioningState = w.Properties.ProvisioningState.s
	if w.PercentComplete.set {
		out.Progress = w.PercentComplete.v
	}
	out.ResourceLocation = w.ResourceLocation.s
	out.Code, out.Message = w.errorOf()
	if out.Code == "" && out.Message == "" {
		out.Code, out.Message = out.Reason, out.ConditionMessage
	}
	return out, nil
}

// wireBodies saves ParseBody the allocation of its wireBody, which escapes
// through encoding/json's interface.
var wireBodies = sync.Pool{New: func() any { return new(wireBody) }}

// wireBody holds the fields ParseBody reads.
type wireBody struct {
	Status     wireStatus `json:"status"`
	Properties struct {
		ProvisioningState wireString `json:"provisioningState"`
	} `json:"properties"`
	PercentComplete  wirePercent `json:"percentComplete"`
	ResourceLocation wireString  `json:"resourceLocation"`
	Error            wireError   `json:"error"`
	ODataError       wireError   `json:"odata.error"`
	Code             wireCode    `json:"code"`
	Message          wireString  `json:"message"`
}

// errorOf returns the code and message of an ARM / REST guidelines error
// ({"error":{"code","message"}}), an OData error, or top-level fields.
func (w *wireBody) errorOf() (code, message string) {
	switch {
	case w.Error.found:
		return w.Error.code, w.Error.message
	case w.ODataError.found:
		return w.ODataError.code, w.ODataError.message
	}
	return w.Code.s, w.Message.s
}

// jsonString decodes a JSON value that should be a string; ok is false for
// any other type (null reads as "", as encoding/json has it). A string
// without escapes and in valid UTF-8 is taken as it is, without a decoder.
func jsonString(data []byte) (string, bool) {
	if n := len(data); n >= 2 && data[0] == '"' && bytes.IndexByte(data, '\\') < 0 && utf8.Valid(data[1:n-1]) {
		return string(data[1 : n-1]), true
	}
	var s string
	return s, json.Unmarshal(data, &s) == nil
}

// wireString is a string field; any other type reads as absent.
type wireString struct{ s string }

func (w *wireString) UnmarshalJSON(data []byte) error {
	*w = wireString{}
	if s, ok := jsonString(data); ok {
		w.s = s
	}
	return nil
}

// wireStatus is "status": a word, or an object with a state and conditions
// (reference 002).
type wireStatus struct {
	word            string
	object          bool
	reason, message string
}

func (w *wireStatus) UnmarshalJSON(data []byte) error {
	*w = wireStatus{}
	if s, ok := jsonString(data); ok {
		*w = wireStatus{word: s}
		return nil
	}
	var st struct {
		State      string      `json:"state"`
		Conditions []condition `json:"conditions"`
	}
	if json.Unmarshal(data, &st) == nil {
		*w = wireStatus{word: st.State, object: true}
		if c, ok := newest(st.Conditions); ok {
			w.reason, w.message = c.Reason, c.Message
		}
	}
	return nil
}

// wirePercent is "percentComplete" (see percent).
type wirePercent struct {
	v   float64
	set bool
}

func (w *wirePercent) UnmarshalJSON(data []byte) error {
	w.v, w.set = percent(data), true
	return nil
}

// wireCode is a top-level "code": a string or a number.
type wireCode struct{ s string }

func (w *wireCode) UnmarshalJSON(data []byte) error {
	var v any
	*w = wireCode{}
	if json.Unmarshal(data, &v) == nil {
		w.s = scalar(v)
	}
	return nil
}

// wireError is "error" or "odata.error": found when it holds a code or a
// message, as an object or as a plain string.
type wireError struct {
	code, message string
	found         bool
}

func (w *wireError) UnmarshalJSON(data []byte) error {
	var e struct {
		Code    any    `json:"code"`
		Message string `json:"message"`
	}
	*w = wireError{}
	if json.Unmarshal(data, &e) == nil {
		if c := scalar(e.Code); c != "" || e.Message != "" {
			*w = wireError{code: c, message: e.Message, found: true}
			return nil
		}
	}
	if s, ok := jsonString(data); ok && s != "" {
		*w = wireError{message: s, found: true}
	}
	return nil
}

type condition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	LastTransitionTime string `json:"lastTransitionTime"`
	Reason             string `json:"reason"`
	Message            string `json:"message"`
}

// newest returns the condition with the latest lastTransitionTime; among
// equal or unparsable times, the last one listed.
func newest(cs []condition) (condition, bool) {
	if len(cs) == 0 {
		return condition{}, false
	}
	idx := make([]int, len(cs))
	times := make([]time.Time, len(cs))
	for i, c := range cs {
		idx[i] = i
		times[i], _ = time.Parse(time.RFC3339Nano, c.LastTransitionTime)
	}
	sort.SliceStable(idx, func(a, b int) bool { return times[idx[a]].Before(times[idx[b]]) })
	return cs[idx[len(idx)-1]], true
}

// field looks a key up exactly, then case-insensitively (encoding/json's
// own rule for struct fields).
func field(obj map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func percent(raw json.RawMessage) float64 {
	var f float64
	if len(raw) > 0 && (raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9') {
		// A JSON number: what encoding/json does for a float64, without
		// its decoder.
		var err error
		if f, err = strconv.ParseFloat(string(raw), 64); err != nil {
			return poller.ProgressUnknown
		}
	} else if json.Unmarshal(raw, &f) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return poller.ProgressUnknown
		}
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64); err != nil {
			return poller.ProgressUnknown
		}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return poller.ProgressUnknown
	}
	return min(max(f, 0), 100)
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func malformed(why string) error { return &malformedError{why: why} }

type malformedError struct{ why string }

func (e *malformedError) Error() string { return ErrMalformedStatus.Error() + ": " + e.why }
func (e *malformedError) Unwrap() error { return ErrMalformedStatus }

// MapState maps a provider's word to a Status, case-insensitively: Succeeded
// and Completed succeed; Failed fails; Canceled and Cancelled cancel;
// NotStarted has not started; every other word (Accepted, Creating,
// Updating, Deleting, InProgress, Running, ...) is still running.
func MapState(word string) poller.Status {
	w := strings.TrimSpace(word)
	for i := 0; i < len(w); i++ {
		if w[i] >= utf8.RuneSelf {
			// strings.ToLower maps a few non-ASCII letters to ASCII ones
			// (U+0130 to 'i'): keep its rule for those words.
			w = strings.ToLower(w)
			break
		}
	}
	// ASCII case folding, without the allocation of strings.ToLower.
	switch {
	case asciiFold(w, "succeeded"), asciiFold(w, "completed"):
		return poller.StatusSucceeded
	case asciiFold(w, "failed"):
		return poller.StatusFailed
	case asciiFold(w, "canceled"), asciiFold(w, "cancelled"):
		return poller.StatusCanceled
	case asciiFold(w, "notstarted"):
		return poller.StatusNotStarted
	}
	return poller.StatusRunning
}

// asciiFold reports whether s equals the lower-case ASCII word lower, ASCII
// letters compared case-insensitively.
func asciiFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// restWords are the operation states of the REST guidelines (reference 001)
// plus ARM's; a body whose "status" is one of them is a status monitor.
var restWords = map[string]bool{
	"notstarted": true, "running": true, "succeeded": true, "failed": true,
	"canceled": true, "cancelled": true, "inprogress": true, "accepted": true, "completed": true,
}

// IsStatusMonitor reports whether the body looks like an operation status
// (reference 001 status words, or a status.state object of reference 002)
// rather than a resource.
func (b Body) IsStatusMonitor() bool {
	return b.Status != "" && (b.stateObject || restWords[strings.ToLower(b.Status)])
}

// Detail returns the provider's word with the newest condition's reason and
// message when the body has them.
func (b Body) Detail(word string) string {
	switch {
	case b.Reason != "" && b.ConditionMessage != "":
		return word + " (" + b.Reason + ": " + b.ConditionMessage + ")"
	case b.Reason != "":
		return word + " (" + b.Reason + ")"
	case b.ConditionMessage != "":
		return word + " (" + b.ConditionMessage + ")"
	}
	return word
}

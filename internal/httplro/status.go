package httplro

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

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
func ParseBody(b []byte) (Body, error) {
	out := Body{Progress: poller.ProgressUnknown}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return out, malformed("the body is empty")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return out, malformed("the body is not valid JSON (syntax error at byte " + strconv.FormatInt(se.Offset, 10) + ")")
		case b[0] != '{':
			return out, malformed("the body is not a JSON object")
		}
		return out, malformed("the body is not valid JSON")
	}
	if obj == nil {
		return out, malformed("the body is not a JSON object")
	}
	if raw, ok := field(obj, "status"); ok {
		var s string
		var st struct {
			State      string      `json:"state"`
			Conditions []condition `json:"conditions"`
		}
		if json.Unmarshal(raw, &s) == nil {
			out.Status = s
		} else if json.Unmarshal(raw, &st) == nil {
			out.Status, out.stateObject = st.State, true
			if c, ok := newest(st.Conditions); ok {
				out.Reason, out.ConditionMessage = c.Reason, c.Message
			}
		}
	}
	if raw, ok := field(obj, "properties"); ok {
		var props map[string]json.RawMessage
		if json.Unmarshal(raw, &props) == nil {
			if ps, ok := field(props, "provisioningState"); ok {
				_ = json.Unmarshal(ps, &out.ProvisioningState)
			}
		}
	}
	if raw, ok := field(obj, "percentComplete"); ok {
		out.Progress = percent(raw)
	}
	if raw, ok := field(obj, "resourceLocation"); ok {
		_ = json.Unmarshal(raw, &out.ResourceLocation)
	}
	out.Code, out.Message = errorOf(obj)
	if out.Code == "" && out.Message == "" {
		out.Code, out.Message = out.Reason, out.ConditionMessage
	}
	return out, nil
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
	if json.Unmarshal(raw, &f) != nil {
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

// errorOf returns the code and message of an ARM / REST guidelines error
// ({"error":{"code","message"}}), an OData error, or top-level fields.
func errorOf(obj map[string]json.RawMessage) (code, message string) {
	type apiError struct {
		Code    any    `json:"code"`
		Message string `json:"message"`
	}
	for _, key := range []string{"error", "odata.error"} {
		if raw, ok := field(obj, key); ok {
			var e apiError
			if json.Unmarshal(raw, &e) == nil {
				if c := scalar(e.Code); c != "" || e.Message != "" {
					return c, e.Message
				}
			}
			var s string
			if json.Unmarshal(raw, &s) == nil && s != "" {
				return "", s
			}
		}
	}
	var top apiError
	if raw, ok := field(obj, "code"); ok {
		_ = json.Unmarshal(raw, &top.Code)
	}
	if raw, ok := field(obj, "message"); ok {
		_ = json.Unmarshal(raw, &top.Message)
	}
	return scalar(top.Code), top.Message
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
	switch strings.ToLower(strings.TrimSpace(word)) {
	case "succeeded", "completed":
		return poller.StatusSucceeded
	case "failed":
		return poller.StatusFailed
	case "canceled", "cancelled":
		return poller.StatusCanceled
	case "notstarted":
		return poller.StatusNotStarted
	}
	return poller.StatusRunning
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

package httplro

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lrokit/lrokit/poller"
)

// parseBodyMap is ParseBody as it was before the struct-based decode: the reference of FuzzParseBodyAsBefore.
func parseBodyMap(b []byte) (Body, error) {
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
	if raw, ok := fieldMap(obj, "status"); ok {
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
	if raw, ok := fieldMap(obj, "properties"); ok {
		var props map[string]json.RawMessage
		if json.Unmarshal(raw, &props) == nil {
			if ps, ok := fieldMap(props, "provisioningState"); ok {
				_ = json.Unmarshal(ps, &out.ProvisioningState)
			}
		}
	}
	if raw, ok := fieldMap(obj, "percentComplete"); ok {
		out.Progress = percent(raw)
	}
	if raw, ok := fieldMap(obj, "resourceLocation"); ok {
		_ = json.Unmarshal(raw, &out.ResourceLocation)
	}
	out.Code, out.Message = errorOfMap(obj)
	if out.Code == "" && out.Message == "" {
		out.Code, out.Message = out.Reason, out.ConditionMessage
	}
	return out, nil
}

// field looks a key up exactly, then case-insensitively (encoding/json's
// own rule for struct fields).
func fieldMap(obj map[string]json.RawMessage, key string) (json.RawMessage, bool) {
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

// errorOf returns the code and message of an ARM / REST guidelines error
// ({"error":{"code","message"}}), an OData error, or top-level fields.
func errorOfMap(obj map[string]json.RawMessage) (code, message string) {
	type apiError struct {
		Code    any    `json:"code"`
		Message string `json:"message"`
	}
	for _, key := range []string{"error", "odata.error"} {
		if raw, ok := fieldMap(obj, key); ok {
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
	if raw, ok := fieldMap(obj, "code"); ok {
		_ = json.Unmarshal(raw, &top.Code)
	}
	if raw, ok := fieldMap(obj, "message"); ok {
		_ = json.Unmarshal(raw, &top.Message)
	}
	return scalar(top.Code), top.Message
}

// mapStateBefore is MapState before it stopped allocating.
func mapStateBefore(word string) poller.Status {
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

// FuzzParseBodyAsBefore holds MapState and ParseBody to the map-based parser it
// replaced: the same Body and the same error, for every body that does not
// repeat a key in one object (exactly or in another case), where the two
// read a different one of the repeats.
func FuzzParseBodyAsBefore(f *testing.F) {
	for _, s := range []string{"", "{}", `{"status":"InProgress"}`, `{"properties":{"provisioningState":"Creating"}}`,
		`{"status":"running","percentComplete":50,"resourceLocation":"https://h/r"}`, `null`, `"x"`, `[1]`,
		`{"Status":"running","PercentComplete":"12.5%"}`, `{"status":{"state":"X","conditions":[{"reason":"A"}]}}`,
		`{"status":"Failed","error":{"code":"Conflict","message":"m"}}`, `{"error":"plain","code":7}`,
		`{"odata.error":{"code":42}}`, `{"properties":[1],"status":null}`, `{"percentComplete":null}`,
		`{"status":"In\u0050rogress","message":"\ud800"}`, "{\"status\":\"\xff\"}", `{"status":"a"`, " SUCCEEDED ", "FA\u0130LED", "Canceled", "ſucceeded"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := MapState(string(b)), mapStateBefore(string(b)); got != want {
			t.Fatalf("MapState(%q) = %s, before %s", b, got, want)
		}
		if repeatsKey(b) {
			return
		}
		got, err := ParseBody(b)
		want, werr := parseBodyMap(b)
		if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
			t.Fatalf("error %v, before %v", err, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%+v, before %+v", got, want)
		}
	})
}

func TestParseBodyAsBeforeRepeatsKey(t *testing.T) {
	assert.True(t, repeatsKey([]byte(`{"a":{"x":1,"X":2}}`)))
	assert.True(t, repeatsKey([]byte(`[{"s":1},{"s":1,"s":2}]`)))
	assert.False(t, repeatsKey([]byte(`{"a":{"x":1},"x":[{"x":2},{"x":3}]}`)))
}

// repeatsKey reports whether some object in b has two keys equal under
// case folding; false for invalid JSON.
func repeatsKey(b []byte) bool {
	type frame struct {
		obj, wantKey bool
		keys         []string
	}
	var stack []*frame
	done := func() { // a value ended
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
			if k, ok := tok.(string); ok {
				for _, seen := range stack[n-1].keys {
					if strings.EqualFold(seen, k) {
						return true
					}
				}
				stack[n-1].keys = append(stack[n-1].keys, k)
				stack[n-1].wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			done()
		default:
			done()
		}
	}
}

func BenchmarkParseBody(b *testing.B) {
	body := []byte(`{"id":"/subscriptions/s/providers/Microsoft.Test/locations/l/operationStatuses/o","name":"o","status":"InProgress","startTime":"2026-01-01T00:00:00Z","percentComplete":40}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseBody(body); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseBodyAllocs guards the struct-based decode: a status monitor's
// body costs at most 6 allocations (the map-based decode took 29).
func TestParseBodyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not exact under the race detector (sync.Pool drops items)")
	}
	body := []byte(`{"id":"/subscriptions/s/providers/Microsoft.Test/locations/l/operationStatuses/o","name":"o","status":"InProgress","startTime":"2026-01-01T00:00:00Z","percentComplete":40}`)
	n := testing.AllocsPerRun(200, func() { _, _ = ParseBody(body) })
	assert.LessOrEqual(t, n, 6.0)
	assert.Zero(t, testing.AllocsPerRun(200, func() { _ = MapState("InProgress") }))
}

// newRequest builds what http.NewRequestWithContext builds from the URL's
// text, without printing and parsing it.
func TestNewRequestIsNewRequestWithContext(t *testing.T) {
	for _, s := range []string{
		"https://management.azure.com/subscriptions/s/providers/P/x?api-version=2024-01-01",
		"http://127.0.0.1:8080/op%2Fwith%20escapes/?a=b&c=%20d",
		"https://h:/empty-port", "https://[::1]:443/v6", "https://u:p@h/with-user#frag",
	} {
		u, err := url.Parse(s)
		require.NoError(t, err)
		want, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u.String(), nil)
		require.NoError(t, err)
		want.Header.Set("Accept", "application/json")
		got, err := newRequest(context.Background(), http.MethodGet, u)
		require.NoError(t, err)
		assert.Equal(t, want.URL, got.URL, s)
		assert.Equal(t, want.Host, got.Host, s)
		assert.Equal(t, want.Header, got.Header, s)
		assert.Equal(t, want.Method, got.Method, s)
		assert.NotSame(t, u, got.URL, "the request has its own copy")
	}
}

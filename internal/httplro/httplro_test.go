package httplro

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/internal/trust"
	"github.com/lrokit/lrokit/poller"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

func TestResolveChecksSchemeAndHost(t *testing.T) {
	origin := mustURL(t, "https://management.azure.com/subscriptions/s/r?api-version=1")
	o := &Op{trusted: trust.MustNew("Options.AllowedHosts", false, "management.azure.com", " .blob.core.windows.net ", "other.example.com:8443", "")}
	for _, tc := range []struct {
		ref     string
		want    string
		errIs   error
		errText string
	}{
		{ref: "https://management.azure.com/op?api-version=1#frag", want: "https://management.azure.com/op?api-version=1"},
		{ref: "https://MANAGEMENT.azure.com:443/op", want: "https://MANAGEMENT.azure.com:443/op"},
		{ref: "/operations/1?x=y", want: "https://management.azure.com/operations/1?x=y"},
		{ref: "https://acct.blob.core.windows.net/c", want: "https://acct.blob.core.windows.net/c"},
		{ref: "https://other.example.com:8443/x", want: "https://other.example.com:8443/x"},
		{ref: "https://other.example.com/x", errIs: ErrHostNotAllowed},
		{ref: "https://blob.core.windows.net.evil.com/x", errIs: ErrHostNotAllowed},
		{ref: "https://evil.com/x?sig=secret", errIs: ErrHostNotAllowed},
		{ref: "http://management.azure.com/op", errText: "downgrade"},
		{ref: "ftp://management.azure.com/op", errText: "scheme"},
		{ref: "https://u:p@management.azure.com/op", errText: "user information"},
		{ref: "", errText: "empty"},
		{ref: "::junk", errText: "does not parse"},
		{ref: "https:///nohost", errText: "no host"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			u, err := o.resolve(origin, tc.ref, "Location")
			switch {
			case tc.errIs != nil:
				require.ErrorIs(t, err, tc.errIs)
				assert.NotContains(t, err.Error(), "secret")
				assert.Contains(t, err.Error(), "Options.AllowedHosts", "a refusal names the option that would allow the host")
			case tc.errText != "":
				require.ErrorContains(t, err, tc.errText)
			default:
				require.NoError(t, err)
				assert.Equal(t, tc.want, u.String())
			}
		})
	}
	_, err := o.resolve(nil, "/relative", "Location")
	require.ErrorContains(t, err, "not absolute")
	o.cfg.AbsoluteOnly = true
	_, err = o.resolve(origin, "/operations/1", "Azure-AsyncOperation")
	require.ErrorIs(t, err, errRelativeURL, "Azure refuses relative polling URLs")
}

func TestLoopbackAndOrigin(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "::1": true, "[::1]": true, "localhost": true, "LOCALHOST.": true,
		"evil.localhost": false, "10.0.0.1": false, "example.com": false, "": false,
	} {
		assert.Equal(t, want, IsLoopback(host), host)
	}
	require.NoError(t, CheckOrigin(mustURL(t, "http://api.internal/r"), true))
	require.Error(t, CheckOrigin(mustURL(t, "http://api.internal/r"), false))
	require.NoError(t, CheckOrigin(mustURL(t, "http://127.0.0.1:8080/r"), false))
	require.Error(t, CheckOrigin(mustURL(t, "/r"), false))
}

func TestRedact(t *testing.T) {
	assert.Equal(t, "https://h/p%20q", Redact(mustURL(t, "https://u:p@h/p%20q?sig=s#f")))
	assert.Equal(t, "", Redact(nil))
	assert.Equal(t, "(invalid URL)", RedactString("::x"))
	err := redactErr(&url.Error{Op: "Get", URL: "https://h/p?sig=secret", Err: errors.New("boom")})
	assert.Equal(t, `Get "https://h/p": boom`, err.Error())
}

func TestParseBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want Body
		err  bool
	}{
		{name: "arm status", body: `{"status":"InProgress"}`, want: Body{Status: "InProgress", Progress: -1}},
		{name: "arm failure", body: `{"status":"Failed","error":{"code":"Conflict","message":"m"}}`,
			want: Body{Status: "Failed", Progress: -1, Code: "Conflict", Message: "m"}},
		{name: "numeric code and string error", body: `{"error":{"code":42}}`, want: Body{Progress: -1, Code: "42"}},
		{name: "error as a string", body: `{"error":"plain"}`, want: Body{Progress: -1, Message: "plain"}},
		{name: "odata error", body: `{"odata.error":{"code":"C","message":"M"}}`, want: Body{Progress: -1, Code: "C", Message: "M"}},
		{name: "top-level code", body: `{"code":"C","message":"M"}`, want: Body{Progress: -1, Code: "C", Message: "M"}},
		{name: "case-insensitive keys", body: `{"Status":"running","PercentComplete":"12.5%","ResourceLocation":"https://h/r"}`,
			want: Body{Status: "running", Progress: 12.5, ResourceLocation: "https://h/r"}},
		{name: "progress clamped", body: `{"status":"running","percentComplete":150}`, want: Body{Status: "running", Progress: 100}},
		{name: "progress junk", body: `{"status":"running","percentComplete":"half"}`, want: Body{Status: "running", Progress: -1}},
		{name: "progress object", body: `{"percentComplete":{}}`, want: Body{Progress: -1}},
		{name: "provisioning state", body: `{"properties":{"provisioningState":"Creating"}}`, want: Body{ProvisioningState: "Creating", Progress: -1}},
		{name: "properties not an object", body: `{"properties":[1]}`, want: Body{Progress: -1}},
		{name: "status of another type", body: `{"status":7}`, want: Body{Progress: -1}},
		{name: "conditions pick the newest", body: `{"status":{"state":"Creating","conditions":[
			{"lastTransitionTime":"2024-11-06T14:25:18Z","reason":"B","message":"newer"},
			{"lastTransitionTime":"2024-11-06T14:00:00Z","reason":"A","message":"older"}]}}`,
			want: Body{Status: "Creating", Progress: -1, Reason: "B", ConditionMessage: "newer", Code: "B", Message: "newer", stateObject: true}},
		{name: "conditions without times pick the last", body: `{"status":{"state":"X","conditions":[{"reason":"A"},{"reason":"B"}]}}`,
			want: Body{Status: "X", Progress: -1, Reason: "B", Code: "B", stateObject: true}},
		{name: "empty", body: ` `, err: true},
		{name: "truncated", body: `{"status":"Succ`, err: true},
		{name: "array", body: `[1]`, err: true},
		{name: "null", body: `null`, err: true},
		{name: "string", body: `"x"`, err: true},
		{name: "garbage", body: `<html>`, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseBody([]byte(tc.body))
			if tc.err {
				require.ErrorIs(t, err, ErrMalformedStatus)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestMapStateAndStatusMonitors(t *testing.T) {
	for word, want := range map[string]poller.Status{
		"Succeeded": poller.StatusSucceeded, "completed": poller.StatusSucceeded, "FAILED": poller.StatusFailed,
		"Canceled": poller.StatusCanceled, "cancelled": poller.StatusCanceled, "notStarted": poller.StatusNotStarted,
		"Accepted": poller.StatusRunning, "Creating": poller.StatusRunning, "": poller.StatusRunning, " running ": poller.StatusRunning,
	} {
		assert.Equal(t, want, MapState(word), word)
	}
	assert.True(t, Body{Status: "running"}.IsStatusMonitor())
	assert.False(t, Body{Status: "Ready"}.IsStatusMonitor(), "a resource's own status field")
	assert.True(t, Body{Status: "Ready", stateObject: true}.IsStatusMonitor())
	assert.Equal(t, "X (R)", Body{Reason: "R"}.Detail("X"))
	assert.Equal(t, "X (M)", Body{ConditionMessage: "M"}.Detail("X"))
	assert.Equal(t, "X", Body{}.Detail("X"))
}

func TestResponseErrorMessage(t *testing.T) {
	req := &http.Request{Method: "GET", URL: mustURL(t, "https://h/op?sig=secret")}
	resp := &http.Response{StatusCode: 409, Header: http.Header{}, Request: req}
	err := NewResponseError(resp, []byte(`{"error":{"code":"Conflict","message":"taken"}}`))
	assert.Equal(t, "GET https://h/op: unexpected status 409 Conflict: Conflict: taken", err.Error())
	resp.Header.Set("x-ms-error-code", "Other")
	assert.Equal(t, "GET https://h/op: unexpected status 409 Conflict: Other: taken", NewResponseError(resp, []byte(`{"message":"taken"}`)).Error())
	assert.Equal(t, "unexpected status 500 Internal Server Error", (&ResponseError{StatusCode: 500}).Error())
	assert.Equal(t, "unexpected status 500 Internal Server Error: only", (&ResponseError{StatusCode: 500, Message: "only"}).Error())
	ie := &InitialError{Msg: "m", Err: errors.New("e")}
	assert.Equal(t, "m: e", ie.Error())
	assert.Equal(t, "m", (&InitialError{Msg: "m"}).Error())
}

func TestStartNeedsARequestAndADoer(t *testing.T) {
	_, _, err := Start(nil, Config{Doer: http.DefaultClient})
	require.Error(t, err)
	_, _, err = Start(&http.Response{Request: &http.Request{URL: mustURL(t, "https://h/r")}}, Config{})
	require.Error(t, err)
	_, _, err = Resume("{}", Config{}, nil)
	require.Error(t, err)
}

package azure_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

const (
	resourcePath = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Test/widgets/w1"
	resourceBody = `{"name":"w1","properties":{"provisioningState":"Succeeded"}}`
	postBody     = `{"answer":42}`
)

// outcome is what a finished wait produced, in comparable form.
type outcome struct {
	Status  poller.Status
	Result  string // compact JSON of the result; "" for none
	Code    string // OperationError code
	Message string
	ErrIs   error // a non-operation error the wait ended with
}

func (o outcome) String() string {
	return fmt.Sprintf("%s result=%s code=%s msg=%q err=%v", o.Status, o.Result, o.Code, o.Message, o.ErrIs)
}

type scenario struct {
	name    string
	sc      armfake.Scenario
	method  string
	fsv     azure.FinalStateVia
	want    outcome
	allowed []string
}

func newPipeline(client *http.Client, retries policy.RetryOptions) runtime.Pipeline {
	return runtime.NewPipeline("lrokit-test", "v0", runtime.PipelineOptions{}, &policy.ClientOptions{Transport: client, Retry: retries})
}

func noRetries() policy.RetryOptions { return policy.RetryOptions{MaxRetries: -1} }

// start sends the scenario's initial request through pl.
func start(t testing.TB, srv *armfake.Server, pl runtime.Pipeline, method string) *http.Response {
	t.Helper()
	req, err := runtime.NewRequest(context.Background(), method, srv.URL()+resourcePath+"?"+armfake.APIVersion)
	require.NoError(t, err)
	resp, err := pl.Do(req)
	require.NoError(t, err)
	return resp
}

// run plays a scenario on a fresh server. With resumeAfter >= 0 the poller
// is polled that many times, then its token is resumed on a new pipeline.
func run(t *testing.T, s scenario, resumeAfter int) (outcome, *armfake.Server) {
	t.Helper()
	srv := armfake.New()
	t.Cleanup(srv.Close)
	srv.Load(s.sc)
	clock := pollertest.NewAutoClock(time.Now())
	opts := &azure.Options{Options: poller.Options{Clock: clock}, FinalStateVia: s.fsv, AllowedHosts: s.allowed}
	ctx := context.Background()
	pl := newPipeline(srv.Client(), noRetries())
	p, err := azure.NewPoller[json.RawMessage](start(t, srv, pl, s.method), pl, opts)
	require.NoError(t, err, "NewPoller")
	if resumeAfter >= 0 {
		for i := 0; i < resumeAfter && !p.Done(); i++ {
			_, _ = p.Poll(ctx)
		}
		tok, err := p.ResumeToken()
		require.NoError(t, err)
		require.NotContains(t, tok, "Authorization")
		ropts := *opts
		ropts.AllowedHosts = append(append([]string(nil), s.allowed...), srv.URL())
		p, err = azure.Resume[json.RawMessage](tok, newPipeline(srv.Client(), noRetries()), &ropts)
		require.NoError(t, err, "Resume")
	}
	res, err := p.Wait(ctx, nil)
	var got outcome
	var oe *poller.OperationError
	switch {
	case errors.As(err, &oe):
		got = outcome{Status: oe.Status, Code: oe.Code, Message: oe.Message}
	case err != nil:
		got = outcome{Status: p.Last().Status, ErrIs: err}
	default:
		got = outcome{Status: p.Last().Status}
		if len(res) > 0 {
			got.Result = compact(t, res)
		}
	}
	return got, srv
}

func compact(t testing.TB, b []byte) string {
	var v any
	require.NoError(t, json.Unmarshal(b, &v))
	out, _ := json.Marshal(v)
	return string(out)
}

func check(t *testing.T, want, got outcome, srv *armfake.Server) {
	t.Helper()
	if want.ErrIs != nil {
		require.Error(t, got.ErrIs, "want error %v, got %s\n%s", want.ErrIs, got, srv.Summary())
		require.ErrorIs(t, got.ErrIs, want.ErrIs, "\n%s", srv.Summary())
		return
	}
	require.NoError(t, got.ErrIs, "\n%s", srv.Summary())
	want.Result = compactString(want.Result)
	require.Equal(t, want, got, "\n%s", srv.Summary())
}

func compactString(s string) string {
	if s == "" {
		return ""
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// TestScenarios plays every scenario straight through and resumed after one
// and after two polls on a new pipeline; all runs must reach the same
// outcome.
func TestScenarios(t *testing.T) {
	all := scenarios()
	require.GreaterOrEqual(t, len(all), 60)
	seen := map[string]bool{}
	for _, s := range all {
		require.False(t, seen[s.name], "duplicate scenario %s", s.name)
		seen[s.name] = true
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			for _, k := range []int{-1, 1, 2} {
				got, srv := run(t, s, k)
				if k >= 0 {
					t.Logf("resumed after %d polls", k)
				}
				check(t, s.want, got, srv)
				initial := 0
				for _, r := range srv.Requests() {
					if r.Method == s.method && r.Path == resourcePath {
						initial++
					}
					require.Equal(t, armfake.APIVersion, r.RawQuery, "query string kept on %s %s", r.Method, r.Path)
				}
				require.Equal(t, 1, initial, "the initial request is never repeated")
			}
		})
	}
}

var methods = []string{http.MethodPut, http.MethodPatch, http.MethodPost, http.MethodDelete}

// scenarios builds the matrix: method × protocol × variant, plus the
// protocol-specific cases.
func scenarios() []scenario {
	var out []scenario
	for _, proto := range []armfake.Protocol{armfake.AsyncOperation, armfake.OperationLocation, armfake.Location, armfake.ProvisioningState} {
		for _, m := range methods {
			if proto == armfake.ProvisioningState && (m == http.MethodPost || m == http.MethodDelete) {
				continue
			}
			for _, v := range variants {
				if s, ok := v.build(m, proto); ok {
					s.name = fmt.Sprintf("%s/%s/%s", m, proto, v.name)
					s.method = m
					out = append(out, s)
				}
			}
		}
	}
	return append(out, specialScenarios()...)
}

type variant struct {
	name  string
	build func(method string, proto armfake.Protocol) (scenario, bool)
}

// success is what a successful operation of method yields.
func success(method string) outcome {
	switch method {
	case http.MethodPut, http.MethodPatch:
		return outcome{Status: poller.StatusSucceeded, Result: resourceBody}
	case http.MethodPost:
		return outcome{Status: poller.StatusSucceeded, Result: postBody}
	}
	return outcome{Status: poller.StatusSucceeded}
}

// words returns the running and success words of a protocol's status body.
func words(proto armfake.Protocol) (running, done string) {
	if proto == armfake.OperationLocation {
		return "running", "succeeded"
	}
	return "InProgress", "Succeeded"
}

// lro returns the protocol's happy LRO with the given status-URL polls
// before its terminal answer, and final-GET script.
func lro(method string, proto armfake.Protocol, before []armfake.Response, final []armfake.Response) armfake.LRO {
	l := armfake.LRO{Method: method, Path: resourcePath, Protocol: proto}
	_, done := words(proto)
	switch proto {
	case armfake.ProvisioningState:
		l.Polls = before
		l.Final = append([]armfake.Response{armfake.Resource("w1", "Succeeded")}, final...)
		return l
	case armfake.Location:
		var last armfake.Response
		switch method {
		case http.MethodPost:
			last = armfake.JSON(200, postBody)
		case http.MethodDelete:
			last = armfake.Response{Status: http.StatusNoContent}
		default:
			last = armfake.JSON(200, resourceBody)
		}
		l.Polls = append(append([]armfake.Response(nil), before...), last)
	default:
		l.Polls = append(append([]armfake.Response(nil), before...), armfake.Status(done))
	}
	switch method {
	case http.MethodPut, http.MethodPatch:
		l.Final = append(append([]armfake.Response(nil), final...), armfake.JSON(200, resourceBody))
	case http.MethodPost:
		if proto != armfake.Location {
			l.Final = append(append([]armfake.Response(nil), final...), armfake.JSON(200, postBody))
		}
	}
	return l
}

// pending is one "still running" answer of the protocol.
func pending(proto armfake.Protocol) armfake.Response {
	running, _ := words(proto)
	switch proto {
	case armfake.Location:
		return armfake.Accepted()
	case armfake.ProvisioningState:
		return armfake.Resource("w1", "Creating")
	}
	return armfake.Status(running)
}

var variants = []variant{
	{"happy", func(m string, p armfake.Protocol) (scenario, bool) {
		l := lro(m, p, []armfake.Response{pending(p).WithRetryAfter("1"), pending(p)}, nil)
		return scenario{sc: l.Scenario(), want: success(m)}, true
	}},
	{"retry-after-forms", func(m string, p armfake.Protocol) (scenario, bool) {
		l := lro(m, p, []armfake.Response{
			pending(p).WithRetryAfter("3"),
			pending(p).WithRetryAfter("{date+4}"),
			pending(p).WithHeader("retry-after-ms", "2500"),
			pending(p).WithHeader("x-ms-retry-after-ms", "1500"),
			pending(p).WithRetryAfter("0"),
		}, nil)
		return scenario{sc: l.Scenario(), want: success(m)}, true
	}},
	{"transient-faults", func(m string, p armfake.Protocol) (scenario, bool) {
		trunc := pending(p)
		if trunc.Body == "" {
			trunc = armfake.JSON(http.StatusAccepted, `{"status":"InProgress","padding":"xxxxxxxxxxxxxxxx"}`)
		}
		trunc.Fault = armfake.Truncate
		l := lro(m, p, []armfake.Response{
			armfake.Error(500, "InternalServerError", "try again"),
			pending(p),
			armfake.Error(429, "TooManyRequests", "slow down").WithRetryAfter("5"),
			{Fault: armfake.Drop},
			trunc,
			armfake.Error(503, "ServiceUnavailable", "busy"),
			pending(p),
		}, []armfake.Response{armfake.Error(503, "ServiceUnavailable", "busy"), {Fault: armfake.Drop}})
		return scenario{sc: l.Scenario(), want: success(m)}, true
	}},
	{"failed", func(m string, p armfake.Protocol) (scenario, bool) {
		l := lro(m, p, nil, nil)
		want := outcome{Status: poller.StatusFailed, Code: "Conflict", Message: "widget name taken"}
		switch p {
		case armfake.Location:
			l.Polls = []armfake.Response{armfake.Accepted(), armfake.Error(409, "Conflict", "widget name taken")}
		case armfake.ProvisioningState:
			l.Polls = []armfake.Response{pending(p)}
			l.Final = []armfake.Response{armfake.JSON(200, `{"properties":{"provisioningState":"Failed"}}`).WithHeader("x-ms-error-code", "Conflict")}
			want.Message = "" // the code comes from x-ms-error-code; the resource has no message
		default:
			l.Polls = []armfake.Response{pending(p), armfake.StatusFailed("Conflict", "widget name taken")}
		}
		return scenario{sc: l.Scenario(), want: want}, true
	}},
	{"canceled", func(m string, p armfake.Protocol) (scenario, bool) {
		l := lro(m, p, nil, nil)
		want := outcome{Status: poller.StatusCanceled, Message: "status is Cancelled"}
		switch p {
		case armfake.Location:
			l.Polls = []armfake.Response{armfake.Accepted(), armfake.JSON(200, `{"properties":{"provisioningState":"Canceled"}}`)}
			want.Message = "provisioningState is Canceled"
		case armfake.ProvisioningState:
			l.Polls = []armfake.Response{pending(p)}
			l.Final = []armfake.Response{armfake.Resource("w1", "Canceled")}
			want.Message = "provisioningState is Canceled"
		default:
			l.Polls = []armfake.Response{pending(p), armfake.Status("Cancelled")}
		}
		return scenario{sc: l.Scenario(), want: want}, true
	}},
	{"status-url-gone", func(m string, p armfake.Protocol) (scenario, bool) {
		l := lro(m, p, nil, nil)
		want := success(m)
		switch {
		case p == armfake.ProvisioningState:
			// The resource itself is gone: nothing to fall back on.
			l.Polls = []armfake.Response{pending(p), armfake.Error(404, "ResourceNotFound", "gone")}
			l.Final = nil
			return scenario{sc: l.Scenario(), want: outcome{ErrIs: poller.ErrOperationNotFound}}, true
		case m == http.MethodPost:
			want = outcome{ErrIs: poller.ErrOperationNotFound}
		}
		l.Polls = []armfake.Response{pending(p), armfake.Error(404, "NotFound", "operation expired")}
		return scenario{sc: l.Scenario(), want: want}, true
	}},
	{"malformed-status", func(m string, p armfake.Protocol) (scenario, bool) {
		l := lro(m, p, nil, nil)
		switch p {
		case armfake.Location, armfake.ProvisioningState:
			return scenario{}, false
		}
		l.Polls = []armfake.Response{pending(p), armfake.JSON(200, `{"percentComplete":50}`)}
		return scenario{sc: l.Scenario(), want: outcome{ErrIs: azure.ErrMalformedStatus}}, true
	}},
	{"truncated-json", func(m string, p armfake.Protocol) (scenario, bool) {
		l := lro(m, p, nil, nil)
		switch p {
		case armfake.Location:
			return scenario{}, false
		case armfake.ProvisioningState:
			l.Polls = []armfake.Response{armfake.JSON(200, `{"properties":{"provisioningState":"Crea`)}
			l.Final = nil
		default:
			l.Polls = []armfake.Response{pending(p), armfake.JSON(200, `{"status":"Succ`)}
		}
		return scenario{sc: l.Scenario(), want: outcome{ErrIs: azure.ErrMalformedStatus}}, true
	}},
	{"progress", func(m string, p armfake.Protocol) (scenario, bool) {
		if p == armfake.ProvisioningState || p == armfake.Location {
			return scenario{}, false
		}
		running, _ := words(p)
		l := lro(m, p, []armfake.Response{
			armfake.JSON(200, `{"status":"notStarted","percentComplete":0}`),
			armfake.JSON(200, fmt.Sprintf(`{"status":%q,"percentComplete":"40"}`, running)),
			armfake.JSON(200, fmt.Sprintf(`{"status":%q,"percentComplete":90.5}`, running)),
		}, nil)
		return scenario{sc: l.Scenario(), want: success(m)}, true
	}},
}

// specialScenarios are cases a matrix cannot express.
func specialScenarios() []scenario {
	asyncPost := func(initial armfake.Response, polls []armfake.Response, extra ...armfake.Route) armfake.Scenario {
		sc := armfake.LRO{Method: http.MethodPost, Path: resourcePath, Protocol: armfake.AsyncOperation, Initial: initial, Polls: polls}.Scenario()
		sc.Routes = append(sc.Routes, extra...)
		return sc
	}
	aao := armfake.Response{Status: 202}.WithHeader("Azure-AsyncOperation", armfake.StatusURL())
	opl := armfake.Response{Status: 202}.WithHeader("Operation-Location", armfake.StatusURL())
	resultRoute := armfake.Route{Method: "GET", Path: armfake.ResultPath, Script: []armfake.Response{armfake.JSON(200, postBody)}}
	resourceRoute := armfake.Route{Method: "GET", Path: resourcePath, Script: []armfake.Response{armfake.JSON(200, resourceBody)}}
	statusWithBody := armfake.JSON(200, `{"status":"Succeeded","properties":{"output":"from status"}}`)
	sc := func(method string, routes ...armfake.Route) armfake.Scenario { return armfake.Scenario{Routes: routes} }
	r := func(method, path string, script ...armfake.Response) armfake.Route {
		return armfake.Route{Method: method, Path: path, Script: script}
	}
	return []scenario{
		{name: "POST/async/final-state-via-azure-async-operation", method: "POST", fsv: azure.FinalStateViaAzureAsyncOp,
			sc:   asyncPost(aao.WithHeader("Location", armfake.ResultURL()), []armfake.Response{armfake.Status("InProgress"), statusWithBody}, resultRoute),
			want: outcome{Status: poller.StatusSucceeded, Result: `{"status":"Succeeded","properties":{"output":"from status"}}`}},
		{name: "POST/async/final-state-via-original-uri", method: "POST", fsv: azure.FinalStateViaOriginalURI,
			sc:   asyncPost(aao.WithHeader("Location", armfake.ResultURL()), []armfake.Response{armfake.Status("Succeeded")}, resultRoute, resourceRoute),
			want: outcome{Status: poller.StatusSucceeded, Result: resourceBody}},
		{name: "POST/async/final-state-via-location", method: "POST", fsv: azure.FinalStateViaLocation,
			sc:   asyncPost(aao.WithHeader("Location", armfake.ResultURL()), []armfake.Response{armfake.Status("Succeeded")}, resultRoute),
			want: outcome{Status: poller.StatusSucceeded, Result: postBody}},
		{name: "POST/async/no-location-result-is-status-body", method: "POST",
			sc:   asyncPost(aao, []armfake.Response{statusWithBody}),
			want: outcome{Status: poller.StatusSucceeded, Result: `{"status":"Succeeded","properties":{"output":"from status"}}`}},
		{name: "POST/operation/resourceLocation", method: "POST",
			sc: sc("POST", r("POST", resourcePath, opl), r("GET", armfake.StatusPath, armfake.Status("running"),
				armfake.JSON(200, `{"status":"succeeded","resourceLocation":"{base}/things/t1?`+armfake.APIVersion+`"}`)),
				r("GET", "/things/t1", armfake.JSON(200, `{"thing":1}`))),
			want: outcome{Status: poller.StatusSucceeded, Result: `{"thing":1}`}},
		{name: "POST/operation/final-state-via-operation-location", method: "POST", fsv: azure.FinalStateViaOpLocation,
			sc: sc("POST", r("POST", resourcePath, opl.WithHeader("Location", armfake.ResultURL())), r("GET", armfake.StatusPath,
				armfake.JSON(200, `{"status":"succeeded","resourceLocation":"{base}/things/t1?`+armfake.APIVersion+`"}`)),
				r("GET", "/things/t1", armfake.JSON(200, `{"thing":2}`)), resultRoute),
			want: outcome{Status: poller.StatusSucceeded, Result: `{"thing":2}`}},
		{name: "PUT/async/junk-location-ignored", method: "PUT",
			sc: sc("PUT", r("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", armfake.StatusURL()).WithHeader("Location", "::not a url")),
				r("GET", armfake.StatusPath, armfake.Status("Succeeded")), resourceRoute),
			want: outcome{Status: poller.StatusSucceeded, Result: resourceBody}},
		{name: "PUT/async/202-body-not-trusted", method: "PUT",
			sc: sc("PUT", r("PUT", resourcePath, armfake.JSON(202, `{"properties":{"provisioningState":"Succeeded"}}`).WithHeader("Azure-AsyncOperation", armfake.StatusURL())),
				r("GET", armfake.StatusPath, armfake.Status("InProgress"), armfake.StatusFailed("QuotaExceeded", "no quota"))),
			want: outcome{Status: poller.StatusFailed, Code: "QuotaExceeded", Message: "no quota"}},
		{name: "POST/location/new-location-mid-poll", method: "POST",
			sc: sc("POST", r("POST", resourcePath, armfake.Accepted().WithHeader("Location", armfake.StatusURL())),
				r("GET", armfake.StatusPath, armfake.Accepted().WithHeader("Location", "{base}/moved/op1?"+armfake.APIVersion)),
				r("GET", "/moved/op1", armfake.Accepted(), armfake.JSON(200, `["a","b"]`))),
			want: outcome{Status: poller.StatusSucceeded, Result: `["a","b"]`}},
		{name: "POST/location/202-with-succeeded-body-not-trusted", method: "POST",
			sc: sc("POST", r("POST", resourcePath, armfake.Accepted().WithHeader("Location", armfake.StatusURL())),
				r("GET", armfake.StatusPath, armfake.JSON(202, `{"properties":{"provisioningState":"Succeeded"}}`), armfake.JSON(200, `7`))),
			want: outcome{Status: poller.StatusSucceeded, Result: `7`}},
		{name: "POST/location/empty-final-body", method: "POST",
			sc: sc("POST", r("POST", resourcePath, armfake.Accepted().WithHeader("Location", armfake.StatusURL())),
				r("GET", armfake.StatusPath, armfake.Accepted(), armfake.Response{Status: 200})),
			want: outcome{Status: poller.StatusSucceeded}},
		{name: "PUT/async/initial-terminal", method: "PUT",
			sc:   sc("PUT", r("PUT", resourcePath, armfake.JSON(200, resourceBody).WithHeader("Azure-AsyncOperation", armfake.StatusURL())), resourceRoute),
			want: outcome{Status: poller.StatusSucceeded, Result: resourceBody}},
		{name: "PUT/body/initial-200-no-provisioning-state", method: "PUT",
			sc:   sc("PUT", r("PUT", resourcePath, armfake.JSON(200, `{"name":"w1"}`)), r("GET", resourcePath, armfake.JSON(200, `{"name":"w1"}`))),
			want: outcome{Status: poller.StatusSucceeded, Result: `{"name":"w1"}`}},
		{name: "PUT/body/initial-failed", method: "PUT",
			sc:   sc("PUT", r("PUT", resourcePath, armfake.JSON(200, `{"properties":{"provisioningState":"Failed"},"error":{"code":"BadSku","message":"sku unavailable"}}`))),
			want: outcome{Status: poller.StatusFailed, Code: "BadSku", Message: "sku unavailable"}},
		{name: "DELETE/done/initial-204", method: "DELETE",
			sc:   sc("DELETE", r("DELETE", resourcePath, armfake.Response{Status: 204})),
			want: outcome{Status: poller.StatusSucceeded}},
		{name: "DELETE/location/gone-but-resource-remains", method: "DELETE",
			sc: sc("DELETE", r("DELETE", resourcePath, armfake.Accepted().WithHeader("Location", armfake.StatusURL())),
				r("GET", armfake.StatusPath, armfake.Accepted(), armfake.Error(410, "Gone", "expired")), r("GET", resourcePath, armfake.JSON(200, resourceBody))),
			want: outcome{Status: poller.StatusFailed, Message: "the status URL is gone and the resource still exists"}},
		// A success rests on a status the service gave: a status URL that is
		// gone before it ever answered does not let the resource's 404 pass
		// for "deleted" (issue 12, defect 3).
		{name: "DELETE/async/gone-before-any-status", method: "DELETE",
			sc: sc("DELETE", r("DELETE", resourcePath, aao),
				r("GET", armfake.StatusPath, armfake.Error(404, "NotFound", "never existed")),
				r("GET", resourcePath, armfake.Error(404, "ResourceNotFound", "gone"))),
			want: outcome{Status: poller.StatusRunning, ErrIs: poller.ErrOperationNotFound}},
		{name: "DELETE/location/gone-before-any-status", method: "DELETE",
			sc: sc("DELETE", r("DELETE", resourcePath, armfake.Accepted().WithHeader("Location", armfake.StatusURL())),
				r("GET", armfake.StatusPath, armfake.Error(404, "NotFound", "never existed")),
				r("GET", resourcePath, armfake.Error(404, "ResourceNotFound", "gone"))),
			want: outcome{Status: poller.StatusRunning, ErrIs: poller.ErrOperationNotFound}},
		{name: "DELETE/async/gone-resource-still-deleting", method: "DELETE",
			sc: sc("DELETE", r("DELETE", resourcePath, aao),
				r("GET", armfake.StatusPath, armfake.Status("InProgress"), armfake.Error(404, "NotFound", "expired")),
				r("GET", resourcePath, armfake.Resource("w1", "Deleting"), armfake.Error(404, "ResourceNotFound", "gone"))),
			want: outcome{Status: poller.StatusSucceeded}},
		{name: "PUT/operation/failed-x-ms-error-code", method: "PUT",
			sc: sc("PUT", r("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Operation-Location", armfake.StatusURL())),
				r("GET", armfake.StatusPath, armfake.JSON(200, `{"status":"failed"}`).WithHeader("x-ms-error-code", "Throttled"))),
			want: outcome{Status: poller.StatusFailed, Code: "Throttled", Message: ""}},
		{name: "POST/operation/result-scalar", method: "POST",
			sc: sc("POST", r("POST", resourcePath, opl.WithHeader("Location", armfake.ResultURL())),
				r("GET", armfake.StatusPath, armfake.Status("succeeded")), r("GET", armfake.ResultPath, armfake.JSON(200, `"done"`))),
			want: outcome{Status: poller.StatusSucceeded, Result: `"done"`}},
		{name: "PATCH/async/completed-word", method: "PATCH",
			sc: sc("PATCH", r("PATCH", resourcePath, armfake.Response{Status: 202}.WithHeader("Azure-AsyncOperation", armfake.StatusURL())),
				r("GET", armfake.StatusPath, armfake.Status("updating"), armfake.Status("COMPLETED")), resourceRoute),
			want: outcome{Status: poller.StatusSucceeded, Result: resourceBody}},
	}
}

func TestScenarioNamesAreDistinct(t *testing.T) {
	names := map[string]bool{}
	for _, s := range scenarios() {
		require.False(t, names[s.name], s.name)
		names[s.name] = true
		require.True(t, strings.Count(s.name, "/") >= 2, s.name)
	}
}

package azure_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// The external suite: every LRO scenario of Spector, the Azure SDKs' own
// mock server (@azure-tools/azure-http-specs), in its Azure.Core
// (azure/core/lro/standard, azure/core/lro/rpc) and ARM
// (azure/resource-manager/operation-templates) specs, driven the way a
// generated azcore client drives them. .ci/spector.sh starts the server and
// .ci/run sets LROKIT_SPECTOR_URL. What each mock expects is in its
// specs/.../mockapi.ts and main.tsp inside the pinned package.

const (
	coreAPIVersion = "2022-12-01-preview"
	armAPIVersion  = "2023-12-01-preview"
	armSub         = "/subscriptions/00000000-0000-0000-0000-000000000000"
	armProvider    = "/providers/Azure.ResourceManager.OperationTemplates"
	armOrder       = armSub + "/resourceGroups/test-rg" + armProvider + "/orders/order1"
	armOrderBody   = `{"id":"` + armOrder + `","name":"order1","type":"Azure.ResourceManager.Resources/orders","location":"eastus",
		"properties":{"provisioningState":"Succeeded","productId":"product1","amount":1},
		"systemData":{"createdBy":"AzureSDK","createdByType":"User","createdAt":"2024-10-04T00:56:07.442Z",
		"lastModifiedBy":"AzureSDK","lastModifiedAt":"2024-10-04T00:56:07.442Z","lastModifiedByType":"User"}}`
	armPagingStatus = armSub + armProvider + "/locations/eastus/operations/lro_paging_post_location"
)

// spectorScenario is one Spector scenario: the initial request a generated
// client sends, the options its TypeSpec implies, and the final result the
// mock expects the client to return.
type spectorScenario struct {
	name       string // Spector's scenario name, as in its coverage report
	apiVersion string
	method     string
	path       string // with the query string the operation sends
	body       string // JSON; "" for none
	opts       azure.Options
	want       string // the final result as JSON; "" for none
	// then, when set, does what a client does with the result afterwards
	// (the paging scenario's next page), so the scenario is covered whole.
	then func(t *testing.T, pl runtime.Pipeline, result json.RawMessage, log *requestLog)
}

func spectorScenarios() []spectorScenario {
	const std = "/azure/core/lro/standard/users/madge"
	return []spectorScenario{
		// Azure.Core LongRunningResourceCreateOrReplace: the result is the
		// resource at the original URI.
		{name: "Azure_Core_Lro_Standard_createOrReplace", apiVersion: coreAPIVersion,
			method: http.MethodPut, path: std + "?api-version=" + coreAPIVersion, body: `{"role":"contributor"}`,
			opts: azure.Options{FinalStateVia: azure.FinalStateViaOriginalURI},
			want: `{"name":"madge","role":"contributor"}`},
		{name: "Azure_Core_Lro_Standard_delete", apiVersion: coreAPIVersion,
			method: http.MethodDelete, path: std + "?api-version=" + coreAPIVersion,
			opts: azure.Options{FinalStateVia: azure.FinalStateViaOpLocation}},
		// LongRunningResourceAction: the status monitor's @lroResult.
		{name: "Azure_Core_Lro_Standard_export", apiVersion: coreAPIVersion,
			method: http.MethodPost, path: std + ":export?api-version=" + coreAPIVersion + "&format=json",
			opts: azure.Options{FinalStateVia: azure.FinalStateViaOpLocation, ResultPath: "result"},
			want: `{"name":"madge","resourceUri":"/users/madge"}`},
		{name: "Azure_Core_Lro_Rpc_longRunningRpc", apiVersion: coreAPIVersion,
			method: http.MethodPost, path: "/azure/core/lro/rpc/generations:submit?api-version=" + coreAPIVersion, body: `{"prompt":"text"}`,
			opts: azure.Options{FinalStateVia: azure.FinalStateViaOpLocation, ResultPath: "result"},
			want: `{"data":"text data"}`},
		// ARM: final-state-via as each operation's scenarioDoc says; a PUT's
		// result is the resource at the original URI whatever it says.
		{name: "Azure_ResourceManager_OperationTemplates_Lro_createOrReplace", apiVersion: armAPIVersion,
			method: http.MethodPut, path: armOrder + "?api-version=" + armAPIVersion,
			body: `{"location":"eastus","properties":{"productId":"product1","amount":1}}`,
			opts: azure.Options{FinalStateVia: azure.FinalStateViaAzureAsyncOp},
			want: armOrderBody},
		{name: "Azure_ResourceManager_OperationTemplates_Lro_export", apiVersion: armAPIVersion,
			method: http.MethodPost, path: armOrder + "/export?api-version=" + armAPIVersion, body: `{"format":"csv"}`,
			opts: azure.Options{FinalStateVia: azure.FinalStateViaLocation},
			want: `{"content":"order1,product1,1"}`},
		{name: "Azure_ResourceManager_OperationTemplates_Lro_delete", apiVersion: armAPIVersion,
			method: http.MethodDelete, path: armOrder + "?api-version=" + armAPIVersion,
			opts: azure.Options{FinalStateVia: azure.FinalStateViaLocation}},
		{name: "Azure_ResourceManager_OperationTemplates_Lro_exportArray", apiVersion: armAPIVersion,
			method: http.MethodPost, path: armSub + armProvider + "/exportArray?api-version=" + armAPIVersion, body: `{"format":"csv"}`,
			opts: azure.Options{FinalStateVia: azure.FinalStateViaLocation},
			want: `[{"content":"order1,product1,1"},{"content":"order2,product2,2"}]`},
		// An LRO whose result is the first page of a list; a pager then
		// follows nextLink.
		{name: "Azure_ResourceManager_OperationTemplates_LroPaging_postPagingLro", apiVersion: armAPIVersion,
			method: http.MethodPost, path: armSub + "/resourceGroups/test-rg" + armProvider + "/products/default/postPagingLro?api-version=" + armAPIVersion,
			opts: azure.Options{FinalStateVia: azure.FinalStateViaLocation},
			want: productPage("product1", "{base}"+armPagingStatus+"/nextPage?api-version="+armAPIVersion),
			then: func(t *testing.T, pl runtime.Pipeline, result json.RawMessage, log *requestLog) {
				var page struct{ NextLink string }
				require.NoError(t, json.Unmarshal(result, &page))
				req, err := runtime.NewRequest(context.Background(), http.MethodGet, page.NextLink)
				require.NoError(t, err)
				resp, err := pl.Do(req)
				require.NoError(t, err)
				body, err := runtime.Payload(resp)
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, resp.StatusCode, "next page\n%s", log)
				require.JSONEq(t, productPage("product2", ""), string(body), "next page\n%s", log)
			}},
	}
}

// productPage is the operation-templates mock's product list page.
func productPage(product, nextLink string) string {
	p := fmt.Sprintf(`{"value":[{"id":%q,"name":%q,"type":"Azure.ResourceManager.OperationTemplates/products","location":"eastus",
		"properties":{"provisioningState":"Succeeded","productId":%q}}]`,
		armSub+"/resourceGroups/test-rg"+armProvider+"/products/"+product, product, product)
	if nextLink != "" {
		p += fmt.Sprintf(`,"nextLink":%q`, nextLink)
	}
	return p + "}"
}

// spectorURL returns the running server's base URL. CI must never skip the
// suite silently, so there a missing server fails.
func spectorURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("LROKIT_SPECTOR_URL")
	if u == "" {
		msg := `LROKIT_SPECTOR_URL is not set: start Spector with eval "$(.ci/spector.sh start)"`
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (.ci/run does)")
		}
		t.Skip(msg)
	}
	// Read so that go test's cache keys on the server instance: a result
	// from an earlier server is no evidence about this one.
	t.Logf("Spector run %s", os.Getenv("LROKIT_SPECTOR_RUN"))
	return strings.TrimSuffix(u, "/")
}

// TestSpector plays every LRO scenario twice: waited through on one
// pipeline, then again resumed from its token after one poll on a new
// pipeline. Each initial request resets its scenario's state in the mock,
// so the second run is a whole run of its own; the mock keeps one poll
// counter per scenario, so runs are sequential and two test processes must
// not share a server. The coverage subtest runs last and asks Spector which
// scenarios were hit.
func TestSpector(t *testing.T) {
	base := spectorURL(t)
	u, err := url.Parse(base)
	require.NoError(t, err)
	all := spectorScenarios()
	for _, s := range all {
		t.Run(s.name, func(t *testing.T) {
			t.Run("wait", func(t *testing.T) { playSpector(t, base, u.Host, s, false) })
			t.Run("resume-after-one-poll", func(t *testing.T) { playSpector(t, base, u.Host, s, true) })
		})
	}
	t.Run("coverage", func(t *testing.T) { checkSpectorCoverage(t, base, all) })
}

// spectorPipeline is what a generated client builds: the API-version policy
// puts the service's api-version on every request, polls included, as the
// Azure.Core mocks require.
func spectorPipeline(apiVersion string, log *requestLog) runtime.Pipeline {
	return runtime.NewPipeline("lrokit-spector", "v0",
		runtime.PipelineOptions{APIVersion: runtime.APIVersionOptions{Name: "api-version", Location: runtime.APIVersionLocationQueryParam}},
		&policy.ClientOptions{
			APIVersion: apiVersion,
			Transport:  &recorder{log: log, client: &http.Client{}},
			// One request per attempt, so the log is the wire.
			Retry: policy.RetryOptions{MaxRetries: -1},
		})
}

func playSpector(t *testing.T, base, host string, s spectorScenario, resume bool) {
	ctx := context.Background()
	log := &requestLog{}
	clock := pollertest.NewAutoClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	pl := spectorPipeline(s.apiVersion, log)

	req, err := runtime.NewRequest(ctx, s.method, base+s.path)
	require.NoError(t, err)
	if s.body != "" {
		require.NoError(t, req.SetBody(streaming.NopCloser(strings.NewReader(s.body)), "application/json"))
	}
	resp, err := pl.Do(req)
	require.NoError(t, err, "initial request\n%s", log)

	opts := s.opts
	opts.Options = poller.Options{Clock: clock}
	p, err := azure.NewPoller[json.RawMessage](resp, pl, &opts)
	require.NoError(t, err, "NewPoller\n%s", log)

	if resume {
		obs, err := p.Poll(ctx)
		require.NoError(t, err, "first poll\n%s", log)
		require.False(t, p.Done(), "every scenario runs past its first poll; got %+v\n%s", obs, log)
		tok, err := p.ResumeToken()
		require.NoError(t, err)
		log.note("resumed on a new pipeline")
		// The token alone carries final-state-via and the result path; the
		// caller names the hosts it trusts.
		pl = spectorPipeline(s.apiVersion, log)
		p, err = azure.Resume[json.RawMessage](tok, pl, &azure.Options{
			Options:      poller.Options{Clock: clock},
			AllowedHosts: []string{"http://" + host}, // plain http: named as an origin
		})
		require.NoError(t, err, "Resume %s\n%s", tok, log)
	}

	res, err := p.Wait(ctx, nil)
	require.NoError(t, err, "Wait\n%s", log)
	require.Equal(t, poller.StatusSucceeded, p.Last().Status, "\n%s", log)
	if s.want == "" {
		require.Empty(t, string(res), "no result expected\n%s", log)
	} else {
		require.JSONEq(t, strings.ReplaceAll(s.want, "{base}", base), string(res), "result\n%s", log)
	}
	if s.then != nil {
		s.then(t, pl, res, log)
	}
	t.Logf("requests:\n%s", log)
}

// checkSpectorCoverage asks Spector which scenarios passed: every endpoint
// of a scenario hit, its last answer 2xx. The LRO scenarios of the three
// spec folders must be exactly the ones played, and all must pass.
func checkSpectorCoverage(t *testing.T, base string, played []spectorScenario) {
	resp, err := http.Get(base + "/.coverage")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var reports []struct {
		ScenariosMetadata struct{ PackageName, Version string }
		Results           map[string]string
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&reports))

	got := map[string]string{}
	for _, r := range reports {
		for name, status := range r.Results {
			if isSpectorLRO(name) {
				got[name] = status
			}
		}
	}
	want := map[string]string{}
	for _, s := range played {
		want[s.name] = "pass"
	}
	require.Equal(t, want, got, "Spector's coverage of the LRO scenarios (a new scenario in the specs must be added here)")
}

// isSpectorLRO reports whether a scenario is one of the LRO scenarios of
// azure/core/lro/{standard,rpc} and azure/resource-manager/operation-templates.
// The other operation-templates scenarios (ListAvailableOperations,
// CheckNameAvailability_*, OptionalBody_*) are plain requests, not LROs.
func isSpectorLRO(name string) bool {
	for _, prefix := range []string{
		"Azure_Core_Lro_Standard_",
		"Azure_Core_Lro_Rpc_",
		"Azure_ResourceManager_OperationTemplates_Lro_",
		"Azure_ResourceManager_OperationTemplates_LroPaging_",
	} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// requestLog is the request sequence a run put on the wire, for failure
// messages: what lrokit did next to what the mock answered.
type requestLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *requestLog) note(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, "-- "+s)
}

func (l *requestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return "  " + strings.Join(l.lines, "\n  ")
}

// recorder is the pipeline's transport: it sends each request and logs it
// with the answer's status, polling headers and body.
type recorder struct {
	log    *requestLog
	client *http.Client
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	line := req.Method + " " + req.URL.RequestURI()
	resp, err := r.client.Do(req)
	if err != nil {
		r.log.add(line + " -> " + err.Error())
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		r.log.add(line + " -> reading the body: " + err.Error())
		return nil, err
	}
	line += fmt.Sprintf(" -> %d", resp.StatusCode)
	var hs []string
	for _, h := range []string{"Azure-AsyncOperation", "Operation-Location", "Location", "Retry-After"} {
		if v := resp.Header.Get(h); v != "" {
			hs = append(hs, h+": "+v)
		}
	}
	sort.Strings(hs)
	if len(hs) > 0 {
		line += " [" + strings.Join(hs, ", ") + "]"
	}
	if len(body) > 0 {
		b := string(body)
		if len(b) > 300 {
			b = b[:300] + "..."
		}
		line += " " + b
	}
	r.log.add(line)
	return resp, nil
}

func (l *requestLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

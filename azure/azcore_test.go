package azure_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/lrotest/armfake"
)

// widget is a named type: azcore refuses resume tokens for unnamed ones.
type widget struct {
	Name   string `json:"name"`
	Answer int    `json:"answer"`
}

// Tokens made by azcore's own runtime.Poller, after one azcore poll, are
// resumed by lrokit and finish with the same result azcore would give.
func TestResumeImportsAzcoreTokens(t *testing.T) {
	for _, tc := range []struct {
		name, kind, method string
		routes             []armfake.Route
		want               widget
	}{
		{"async", "asyncURL", "PUT", []armfake.Route{
			route("PUT", resourcePath, armfake.Response{Status: 201}.WithHeader("Azure-AsyncOperation", armfake.StatusURL())),
			route("GET", armfake.StatusPath, armfake.Status("InProgress"), armfake.Status("InProgress"), armfake.Status("Succeeded")),
			route("GET", resourcePath, armfake.JSON(200, `{"name":"w1"}`)),
		}, widget{Name: "w1"}},
		{"op", "oplocURL", "POST", []armfake.Route{
			route("POST", resourcePath, armfake.Response{Status: 202}.WithHeader("Operation-Location", armfake.StatusURL()).WithHeader("Location", armfake.ResultURL())),
			route("GET", armfake.StatusPath, armfake.Status("running"), armfake.Status("running"), armfake.Status("succeeded")),
			route("GET", armfake.ResultPath, armfake.JSON(200, `{"answer":42}`)),
		}, widget{Answer: 42}},
		{"loc", `"type":"loc"`, "POST", []armfake.Route{
			route("POST", resourcePath, armfake.Accepted().WithHeader("Location", armfake.StatusURL())),
			route("GET", armfake.StatusPath, armfake.Accepted(), armfake.Accepted(), armfake.JSON(200, `{"answer":7}`)),
		}, widget{Answer: 7}},
		{"body", `"type":"body"`, "PUT", []armfake.Route{
			route("PUT", resourcePath, armfake.Resource("w2", "Creating").WithStatus(201)),
			route("GET", resourcePath, armfake.Resource("w2", "Creating"), armfake.Resource("w2", "Creating"), armfake.Resource("w2", "Succeeded")),
		}, widget{Name: "w2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.routes...)
			pl := newPipeline(srv.Client(), noRetries())
			ap, err := runtime.NewPoller[widget](start(t, srv, pl, tc.method), pl, nil)
			require.NoError(t, err)
			_, err = ap.Poll(context.Background())
			require.NoError(t, err)
			require.False(t, ap.Done())
			tok, err := ap.ResumeToken()
			require.NoError(t, err)
			require.Contains(t, tok, tc.kind)

			p, err := azure.Resume[widget](tok, newPipeline(srv.Client(), noRetries()), trusting(autoOpts(), srv))
			require.NoError(t, err)
			got, err := p.Wait(context.Background(), nil)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)

			// lrokit's own token for the imported operation resumes too.
			own, err := p.ResumeToken()
			require.NoError(t, err)
			_, err = azure.Resume[json.RawMessage](own, pl, trusting(autoOpts(), srv))
			require.NoError(t, err)
		})
	}
}

func TestAzcoreTokensWithForeignHostsAreRefused(t *testing.T) {
	srv := newServer(t)
	pl := newPipeline(srv.Client(), noRetries())
	for name, tok := range map[string]string{
		"async poll host":  `{"type":"widget","token":{"asyncURL":"https://evil.example.com/op","locURL":"","origURL":"` + srv.URL() + `/r","method":"PUT","finalState":"","state":"InProgress"}}`,
		"op location":      `{"type":"widget","token":{"oplocURL":"` + srv.URL() + `/op","locURL":"https://evil.example.com/r","origURL":"` + srv.URL() + `/r","method":"POST","finalState":"","resultPath":"","state":"InProgress"}}`,
		"loc over http":    `{"type":"widget","token":{"type":"loc","pollURL":"http://example.com/op","state":"InProgress"}}`,
		"body no url":      `{"type":"widget","token":{"type":"body","pollURL":"","state":"InProgress"}}`,
		"bad final state":  `{"type":"widget","token":{"asyncURL":"` + srv.URL() + `/op","origURL":"` + srv.URL() + `/r","method":"PUT","finalState":"elsewhere"}}`,
		"token not object": `{"type":"widget","token":[1,2]}`,
		"unknown kind":     `{"type":"widget","token":{"type":"teleport"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := azure.Resume[widget](tok, pl, trusting(autoOpts(), srv))
			require.Error(t, err)
		})
	}
	assert.Empty(t, srv.Requests())
}

package resume_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/lrokit/lrokit/aws"
	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/gcp"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/lrotest/awsfake"
	"github.com/lrokit/lrokit/lrotest/gcpfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
	"github.com/lrokit/lrokit/rest"
	"github.com/lrokit/lrokit/resume"
)

const thing = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Test/things/t1"

func clock() poller.Clock {
	return pollertest.NewAutoClock(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
}

func armServer() *armfake.Server {
	srv := armfake.New()
	srv.Load(armfake.LRO{Method: http.MethodPut, Path: thing, Protocol: armfake.AsyncOperation,
		Polls: []armfake.Response{armfake.Status("InProgress"), armfake.Status("Succeeded")},
		Final: []armfake.Response{armfake.Resource("t1", "Succeeded")}}.Scenario())
	return srv
}

func put(t *testing.T, srv *armfake.Server) *http.Response {
	req, err := http.NewRequest(http.MethodPut, srv.URL()+thing+"?"+armfake.APIVersion, nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	return resp
}

func TestAnyResumesEveryProvider(t *testing.T) {
	ctx := context.Background()
	popts := poller.Options{Clock: clock()}

	arm := armServer()
	defer arm.Close()
	pl := runtime.NewPipeline("test", "v0", runtime.PipelineOptions{}, &policy.ClientOptions{Transport: arm.Client()})
	req, err := runtime.NewRequest(ctx, http.MethodPut, arm.URL()+thing+"?"+armfake.APIVersion)
	require.NoError(t, err)
	resp, err := pl.Do(req)
	require.NoError(t, err)
	ap, err := azure.NewPoller[json.RawMessage](resp, pl, &azure.Options{Options: popts})
	require.NoError(t, err)
	azureToken, err := ap.ResumeToken()
	require.NoError(t, err)

	restSrv := armServer()
	defer restSrv.Close()
	rp, err := rest.NewPoller[json.RawMessage](put(t, restSrv), restSrv.Client(), &rest.Options{Options: popts})
	require.NoError(t, err)
	restToken, err := rp.ResumeToken()
	require.NoError(t, err)

	ops, err := gcpfake.StartOperations()
	require.NoError(t, err)
	defer ops.Close()
	done, _ := structpb.NewStruct(map[string]any{"name": "c1"})
	ops.Add("operations/op-1", gcpfake.Running(nil), gcpfake.Succeeded(done))
	client, err := ops.NewClient(ctx)
	require.NoError(t, err)
	gp, err := gcp.FromName[*anypb.Any]("operations/op-1", client, &gcp.Options{Options: popts, Endpoint: ops.Addr()})
	require.NoError(t, err)
	gcpToken, err := gp.ResumeToken()
	require.NoError(t, err)
	client.Close()

	cmp := gcpfake.StartCompute()
	defer cmp.Close()
	cmp.Add("p", "zones/z", "op-2", gcpfake.ComputeRunning(50), gcpfake.ComputeDone())
	svc, err := cmp.NewService(ctx)
	require.NoError(t, err)
	cp, err := gcp.AdoptCompute("p", "zones/z", "op-2", svc, &gcp.Options{Options: popts})
	require.NoError(t, err)
	computeToken, err := cp.ResumeToken()
	require.NoError(t, err)

	fake := awsfake.New()
	defer fake.Close()
	fake.Script(awsfake.Stack, "app", awsfake.Statuses("CREATE_IN_PROGRESS", "CREATE_COMPLETE")...)
	cfg := fake.Config()
	wp, err := aws.NewPoller[*cloudformation.DescribeStacksOutput](cfg, "cloudformation.StackCreateComplete", &cloudformation.DescribeStacksInput{StackName: ptr("app")}, &aws.Options{Options: popts})
	require.NoError(t, err)
	awsToken, err := wp.ResumeToken()
	require.NoError(t, err)

	// The caller names the loopback fakes it trusts: a token's own hosts
	// prove nothing. "host:port" is the https (or, today, loopback http)
	// form; "http://host:port" the explicit plain-http origin.
	clients := resume.Clients{
		Azure: &pl, HTTP: restSrv.Client(), Compute: svc, AWS: &cfg, Options: popts,
		AllowedHosts: []string{
			strings.TrimPrefix(arm.URL(), "http://"), arm.URL(),
			strings.TrimPrefix(restSrv.URL(), "http://"), restSrv.URL(),
		},
		RESTOptions: &rest.Options{AllowHTTP: true},
		GCP: func(ctx context.Context, endpoint string) (*lroauto.OperationsClient, error) {
			assert.Equal(t, ops.Addr(), endpoint, "the token remembers the endpoint")
			return ops.NewClient(ctx)
		},
	}
	host := func(u string) string { return strings.TrimPrefix(u, "http://") }
	tests := []struct {
		name, token, provider, want, host, typ string
	}{
		{"azure", azureToken, "azure", `"provisioningState":"Succeeded"`, host(arm.URL()), "azure PUT Microsoft.Test/things"},
		{"rest", restToken, "rest", `"provisioningState":"Succeeded"`, host(restSrv.URL()), "rest PUT Microsoft.Test/things"},
		{"gcp longrunning", gcpToken, "gcp", `"c1"`, "127.0.0.1", "gcp operations@127.0.0.1"},
		{"gcp compute", computeToken, "gcp", `"DONE"`, "compute.googleapis.com", "gcp compute"},
		{"aws", awsToken, "aws", `CREATE_COMPLETE`, host(fake.URL()), "aws cloudformation.StackCreateComplete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clients
			if tt.name == "gcp longrunning" {
				// A loopback Operations endpoint is trusted only when named.
				_, err := resume.Any(ctx, tt.token, c)
				require.ErrorIs(t, err, poller.ErrInvalidToken)
				c.GCPOptions = &gcp.Options{Endpoint: ops.Addr()}
			}
			p, err := resume.Any(ctx, tt.token, c)
			require.NoError(t, err)
			assert.Equal(t, tt.provider, p.Provider)
			res, err := p.Wait(ctx, nil)
			require.NoError(t, err)
			assert.Contains(t, string(res), tt.want)
			assert.True(t, p.Done())
			assert.Equal(t, poller.StatusSucceeded, p.Last().Status)
			again, err := p.Result(ctx)
			require.NoError(t, err)
			assert.JSONEq(t, string(res), string(again))
			assert.Equal(t, tt.host, p.Host())
			assert.Equal(t, tt.typ, p.Type())
			_, err = p.ResumeToken()
			require.NoError(t, err)
		})
	}
}

func TestAnySaysWhichClientIsMissing(t *testing.T) {
	tests := []struct {
		name, token, want string
	}{
		{"azure", `{"lrokit":1,"provider":"azure","kind":"async","state":{}}`, "azcore runtime.Pipeline"},
		{"gcp", `{"lrokit":1,"provider":"gcp","kind":"longrunning","state":{"name":"operations/x"}}`, "OperationsClient factory"},
		{"compute", `{"lrokit":1,"provider":"gcp","kind":"compute","state":{}}`, "compute.Service"},
		{"aws", `{"lrokit":1,"provider":"aws","kind":"cloudformation.StackCreateComplete","state":{}}`, "aws.Config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resume.Any(context.Background(), tt.token, resume.Clients{})
			require.ErrorIs(t, err, resume.ErrNoClient)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestAnyRefusesBadTokens(t *testing.T) {
	for _, tok := range []string{"", "garbage", `{"lrokit":1,"provider":"oracle-cloud","kind":"x"}`} {
		_, err := resume.Any(context.Background(), tok, resume.Clients{})
		assert.ErrorIs(t, err, poller.ErrInvalidToken, "%q", tok)
	}
}

func ptr(s string) *string { return &s }

package resume_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
	"github.com/lrokit/lrokit/resume"
)

// countingTransport fails every request and counts it: resuming must not
// send any.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) Do(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("no requests expected")
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) { return c.Do(r) }

// Every adapter's golden v1 token stays resumable forever, without a request.
func TestGoldenTokensOfEveryAdapterResume(t *testing.T) {
	ctx := context.Background()
	tr := &countingTransport{}
	pl := runtime.NewPipeline("test", "v0", runtime.PipelineOptions{}, &policy.ClientOptions{Transport: tr})
	svc, err := compute.NewService(ctx, option.WithoutAuthentication(), option.WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	cfg := awssdk.Config{Region: "eu-west-1", HTTPClient: &http.Client{Transport: tr}}
	clients := resume.Clients{
		Azure: &pl, HTTP: &http.Client{Transport: tr}, Compute: svc, AWS: &cfg, Options: poller.Options{Clock: pollertest.NewClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))},
		GCP: func(ctx context.Context, endpoint string) (*lroauto.OperationsClient, error) {
			return lroauto.NewOperationsClient(ctx, option.WithEndpoint("127.0.0.1:1"), option.WithoutAuthentication(),
				option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
		},
	}
	files, err := filepath.Glob("../testdata/tokens/v1-*")
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, f := range files {
		if strings.Contains(f, "-test-") {
			continue // pollertest's, resumed by package poller
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			tok, err := poller.DecodeToken(string(b), nil)
			require.NoError(t, err)
			p, err := resume.Any(ctx, string(b), clients)
			require.NoError(t, err)
			assert.Equal(t, tok.Provider, p.Provider)
			assert.Equal(t, tok.Kind, p.Kind)
			assert.Equal(t, tok.Polls, p.Polls())
			assert.True(t, p.Created().Equal(tok.Created))
			seen[tok.Provider] = true
		})
	}
	assert.Equal(t, map[string]bool{"azure": true, "gcp": true, "aws": true}, seen, "a golden token per adapter")
	assert.Zero(t, tr.n.Load(), "resuming sends no request")
}

package loopback

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"cloud.google.com/go/longrunning"
	lroauto "cloud.google.com/go/longrunning/autogen"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/lrokit/lrokit/aws"
	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/gcp"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// TestMain lets the test binary serve the fake as its own child process
// (see ServeChildFake), so that the per-poll benchmarks count the client's
// allocations alone.
func TestMain(m *testing.M) {
	ServeChildFake()
	os.Exit(m.Run())
}

// childFakeFor starts the fake in a child process for one benchmark.
func childFakeFor(b *testing.B) fake {
	b.Helper()
	f, err := startChildFake()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(f.Close)
	return f
}

// pollLoop runs poll b.N times after a few warm-up calls (connections
// open, pools filled) and reports allocations per poll.
func pollLoop(b *testing.B, poll func() error) {
	b.Helper()
	for range 20 {
		if err := poll(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := poll(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPerPoll is the client's cost of one status poll of an operation
// in progress, each provider's own poller against lrokit's on the same
// client and the same loopback fake (a child process: the allocations are
// the client's alone). A poll is one round trip and its decision; sleeping
// is not included, except in the AWS waiter's row (see below).
//
//	go test -run XXX -bench PerPoll -benchmem -count 5 ./bench/loopback/
func BenchmarkPerPoll(b *testing.B) {
	ctx := context.Background()
	later := time.Now().Add(24 * time.Hour)

	azurePipeline := func(f fake) runtime.Pipeline {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		b.Cleanup(client.CloseIdleConnections)
		return runtime.NewPipeline("lroloopback", "v1.0.0", runtime.PipelineOptions{}, &policy.ClientOptions{Transport: client})
	}
	azureStart := func(b *testing.B, f fake, pl runtime.Pipeline) *http.Response {
		resp, err := put(ctx, pl, &env{fake: f, done: later}, 0)
		if err != nil {
			b.Fatal(err)
		}
		return resp
	}
	lrokitAzure := func(b *testing.B, opts *azure.Options) (*poller.Poller[json.RawMessage], fake) {
		f := childFakeFor(b)
		pl := azurePipeline(f)
		p, err := azure.NewPoller[json.RawMessage](azureStart(b, f, pl), pl, opts)
		if err != nil {
			b.Fatal(err)
		}
		return p, f
	}

	// The status GET alone, as the adapter sends it (pipeline retries off):
	// the floor every Azure poller pays.
	b.Run("azure/pipeline", func(b *testing.B) {
		f := childFakeFor(b)
		pl := azurePipeline(f)
		url := "http://" + f.HTTPAddr() + statusPath + opName("w", 0, later) + "?api-version=2024-01-01"
		rctx := policy.WithRetryOptions(ctx, policy.RetryOptions{MaxRetries: -1})
		pollLoop(b, func() error {
			req, err := runtime.NewRequest(rctx, http.MethodGet, url)
			if err != nil {
				return err
			}
			resp, err := pl.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return err
		})
	})
	b.Run("azure/azcore", func(b *testing.B) {
		f := childFakeFor(b)
		pl := azurePipeline(f)
		p, err := runtime.NewPoller[widget](azureStart(b, f, pl), pl, nil)
		if err != nil {
			b.Fatal(err)
		}
		pollLoop(b, func() error {
			resp, err := p.Poll(ctx)
			if err == nil {
				_ = resp.Body.Close()
			}
			return err
		})
	})
	b.Run("azure/lrokit", func(b *testing.B) {
		p, _ := lrokitAzure(b, nil)
		pollLoop(b, func() error { _, err := p.Poll(ctx); return err })
	})
	// A poll bounded by its own timeout (poller.Options.PollTimeout).
	b.Run("azure/lrokit+timeout", func(b *testing.B) {
		p, _ := lrokitAzure(b, &azure.Options{Options: poller.Options{PollTimeout: 30 * time.Second}})
		pollLoop(b, func() error { _, err := p.Poll(ctx); return err })
	})
	// A poll and the durable save after it (persist.Track into a memory
	// store), which skips saves that would only move the schedule.
	b.Run("azure/lrokit+save", func(b *testing.B) {
		p, _ := lrokitAzure(b, nil)
		tr, err := persist.Track(ctx, persist.NewMemoryStore(nil), "bench/op", p, nil)
		if err != nil {
			b.Fatal(err)
		}
		pollLoop(b, func() error {
			obs, err := p.Poll(ctx)
			if err != nil {
				return err
			}
			tr.OnPoll(obs)
			return tr.Err()
		})
	})

	// The same, every poll written: the record is held under a lease, so
	// the tracker does not skip saves that only move the schedule.
	b.Run("azure/lrokit+save-every", func(b *testing.B) {
		p, _ := lrokitAzure(b, nil)
		store := persist.NewMemoryStore(nil)
		if _, err := store.Put(ctx, persist.Record{Key: "bench/op", Token: "placeholder"}); err != nil {
			b.Fatal(err)
		}
		if _, err := store.Claim(ctx, "bench", time.Hour, 1); err != nil {
			b.Fatal(err)
		}
		tr, err := persist.Track(ctx, store, "bench/op", p, nil)
		if err != nil {
			b.Fatal(err)
		}
		pollLoop(b, func() error {
			obs, err := p.Poll(ctx)
			if err != nil {
				return err
			}
			tr.OnPoll(obs)
			return tr.Err()
		})
	})

	gcpClient := func(b *testing.B, f fake) *lroauto.OperationsClient {
		c, err := lroauto.NewOperationsClient(ctx,
			option.WithEndpoint(f.GRPCAddr()),
			option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		return c
	}
	// longrunning's Operation.Poll: one GetOperation, as its Wait loop
	// makes between pauses (with GAPIC's default call options).
	b.Run("gcp/longrunning", func(b *testing.B) {
		f := childFakeFor(b)
		op := longrunning.InternalNewOperation(gcpClient(b, f), &longrunningpb.Operation{Name: opName("operations/", 0, later)})
		pollLoop(b, func() error { return op.Poll(ctx, &emptypb.Empty{}) })
	})
	// The adapter's default: each poll bounded by gcp.DefaultPollTimeout.
	b.Run("gcp/lrokit", func(b *testing.B) {
		f := childFakeFor(b)
		p, err := gcp.FromName[*emptypb.Empty](opName("operations/", 0, later), gcpClient(b, f), nil)
		if err != nil {
			b.Fatal(err)
		}
		pollLoop(b, func() error { _, err := p.Poll(ctx); return err })
	})

	// The same without the per-poll timeout, for its cost.
	b.Run("gcp/lrokit-no-timeout", func(b *testing.B) {
		f := childFakeFor(b)
		p, err := gcp.FromName[*emptypb.Empty](opName("operations/", 0, later), gcpClient(b, f),
			&gcp.Options{Options: poller.Options{PollTimeout: -1}})
		if err != nil {
			b.Fatal(err)
		}
		pollLoop(b, func() error { _, err := p.Poll(ctx); return err })
	})

	awsConfig := func(f fake) awssdk.Config {
		return awssdk.Config{
			Region:       "us-east-1",
			BaseEndpoint: awssdk.String("http://" + f.HTTPAddr()),
			Credentials: awssdk.CredentialsProviderFunc(func(context.Context) (awssdk.Credentials, error) {
				return awssdk.Credentials{AccessKeyID: "AKIDLOOPBACK", SecretAccessKey: "secret", Source: "loopback"}, nil
			}),
		}
	}
	// The generated StackCreateComplete waiter: one Wait of b.N attempts
	// (its Retryable wrapped to stop after b.N). Each attempt is its
	// DescribeStacks with the waiter's options, its acceptors, ComputeDelay
	// and a 1 ns sleep: the sleep's timer (1–2 allocations) is in this row
	// and in no other.
	b.Run("aws/waiter", func(b *testing.B) {
		f := childFakeFor(b)
		client := cloudformation.NewFromConfig(awsConfig(f))
		name := opName("s", 0, later)
		in := &cloudformation.DescribeStacksInput{StackName: &name}
		attempts := 0
		limit := 20
		w := cloudformation.NewStackCreateCompleteWaiter(client, func(o *cloudformation.StackCreateCompleteWaiterOptions) {
			o.MinDelay, o.MaxDelay = time.Nanosecond, time.Nanosecond
			acceptors := o.Retryable
			o.Retryable = func(ctx context.Context, in *cloudformation.DescribeStacksInput, out *cloudformation.DescribeStacksOutput, err error) (bool, error) {
				retry, err := acceptors(ctx, in, out, err)
				if !retry || err != nil {
					return retry, err
				}
				attempts++
				return attempts < limit, nil
			}
		})
		if err := w.Wait(ctx, in, time.Hour); err != nil { // warm-up
			b.Fatal(err)
		}
		attempts, limit = 0, b.N
		b.ReportAllocs()
		b.ResetTimer()
		if err := w.Wait(ctx, in, time.Hour); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("aws/lrokit", func(b *testing.B) {
		f := childFakeFor(b)
		name := opName("s", 0, later)
		p, err := aws.NewPoller[*cloudformation.DescribeStacksOutput](awsConfig(f), "cloudformation.StackCreateComplete",
			&cloudformation.DescribeStacksInput{StackName: &name}, nil)
		if err != nil {
			b.Fatal(err)
		}
		pollLoop(b, func() error { _, err := p.Poll(ctx); return err })
	})
}

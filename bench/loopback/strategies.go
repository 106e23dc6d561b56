package loopback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/longrunning"
	lroauto "cloud.google.com/go/longrunning/autogen"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"golang.org/x/time/rate"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// The strategies' names, as Config.Strategies takes them.
const (
	Azcore      = "azcore"
	AWSWaiter   = "aws"
	Longrunning = "longrunning"
	Fleet       = "fleet"
)

// Strategies lists every strategy in the order a run uses.
var Strategies = []string{Azcore, AWSWaiter, Longrunning, Fleet}

// env is what a strategy gets: the fake, the operations' count and
// completion time, and counters it fills.
type env struct {
	fake    fake
	n       int
	done    time.Time // every operation completes then
	ramp    time.Duration
	workers int

	completed, failed atomic.Int64
	firstErr          atomic.Pointer[error]
	tokenBytes        int64 // fleet: bytes of resume tokens held in the store
}

func (e *env) fail(err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	e.failed.Add(1)
	e.firstErr.CompareAndSwap(nil, &err)
}

// strategy waits for n operations. prepare creates what must exist before
// the waits (initial requests), outside the measured window; start begins
// waiting and returns at once; stop ends everything still waiting.
type strategy struct {
	label string
	// nominal is the polls per second per operation the loop aims at.
	nominal float64
	// pollsOf picks the strategy's status requests from the fake's counters.
	pollsOf func(FakeStats) int64
	grpc    bool
	new     func() runner
}

type runner interface {
	prepare(ctx context.Context, e *env) error
	start(ctx context.Context, e *env)
	// closeIdle releases the clients' idle connections after the run.
	closeIdle()
}

var strategies = map[string]strategy{
	Azcore: {
		label: "azcore runtime.Poller.PollUntilDone", nominal: 1,
		pollsOf: func(s FakeStats) int64 { return s.AzurePolls },
		new:     func() runner { return &azcoreRunner{} },
	},
	AWSWaiter: {
		label: "AWS StackCreateComplete waiter", nominal: 1,
		pollsOf: func(s FakeStats) int64 { return s.AWSPolls },
		new:     func() runner { return &awsRunner{} },
	},
	Longrunning: {
		// gax.Backoff with Initial = Max = 1 s pauses U(0, 1 s]: 2 polls/s.
		label: "longrunning Operation.WaitWithInterval", nominal: 2, grpc: true,
		pollsOf: func(s FakeStats) int64 { return s.GCPPolls },
		new:     func() runner { return &gcpRunner{} },
	},
	Fleet: {
		label: "lrokit fleet.Engine (azure)", nominal: 1,
		pollsOf: func(s FakeStats) int64 { return s.AzurePolls },
		new:     func() runner { return &fleetRunner{} },
	},
}

// launch starts one goroutine per operation, spread evenly over e.ramp.
func launch(ctx context.Context, e *env, wait func(ctx context.Context, i int) error) {
	go func() {
		t0 := time.Now()
		for i := range e.n {
			if d := time.Until(t0.Add(e.ramp * time.Duration(i) / time.Duration(e.n))); d > 0 {
				time.Sleep(d)
			}
			if ctx.Err() != nil {
				return
			}
			go func() {
				if err := wait(ctx, i); err != nil {
					e.fail(err)
					return
				}
				e.completed.Add(1)
			}()
		}
	}()
}

// forEach runs f for 0..n-1 on par goroutines.
func forEach(n, par int, f func(i int) error) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		first error
		mu    sync.Mutex
	)
	for range par {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := f(i); err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

type widget struct {
	Name string `json:"name"`
}

// put sends the PUT that starts operation i through pl.
func put(ctx context.Context, pl runtime.Pipeline, e *env, i int) (*http.Response, error) {
	url := "http://" + e.fake.HTTPAddr() + widgetsPath + opName("w", i, e.done) + "?api-version=2024-01-01"
	req, err := runtime.NewRequest(ctx, http.MethodPut, url)
	if err != nil {
		return nil, err
	}
	if err := req.SetBody(streaming.NopCloser(strings.NewReader(`{"location":"westeurope"}`)), "application/json"); err != nil {
		return nil, err
	}
	return pl.Do(req)
}

// azcoreRunner: one goroutine per operation in PollUntilDone, azcore's
// default pipeline and transport.
type azcoreRunner struct {
	pollers []*runtime.Poller[widget]
}

func (r *azcoreRunner) prepare(ctx context.Context, e *env) error {
	pl := runtime.NewPipeline("lroloopback", "v1.0.0", runtime.PipelineOptions{}, nil)
	r.pollers = make([]*runtime.Poller[widget], e.n)
	return forEach(e.n, 64, func(i int) error {
		resp, err := put(ctx, pl, e, i)
		if err != nil {
			return err
		}
		r.pollers[i], err = runtime.NewPoller[widget](resp, pl, nil)
		return err
	})
}

func (r *azcoreRunner) start(ctx context.Context, e *env) {
	launch(ctx, e, func(ctx context.Context, i int) error {
		p := r.pollers[i]
		r.pollers[i] = nil
		_, err := p.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second})
		return err
	})
}

// closeIdle: azcore's default client is not exported; its (at most 10)
// idle sockets expire after 90 s and are discounted from later peaks.
func (r *azcoreRunner) closeIdle() {}

// awsRunner: one goroutine per operation in the CloudFormation
// StackCreateComplete waiter (MinDelay = MaxDelay = 1 s), the SDK's default
// HTTP client.
type awsRunner struct {
	client *cloudformation.Client
}

func (r *awsRunner) prepare(_ context.Context, e *env) error {
	r.client = cloudformation.NewFromConfig(awssdk.Config{
		Region:       "us-east-1",
		BaseEndpoint: awssdk.String("http://" + e.fake.HTTPAddr()),
		Credentials: awssdk.CredentialsProviderFunc(func(context.Context) (awssdk.Credentials, error) {
			return awssdk.Credentials{AccessKeyID: "AKIDLOOPBACK", SecretAccessKey: "secret", Source: "loopback"}, nil
		}),
	})
	return nil
}

func (r *awsRunner) start(ctx context.Context, e *env) {
	w := cloudformation.NewStackCreateCompleteWaiter(r.client, func(o *cloudformation.StackCreateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, time.Second
	})
	launch(ctx, e, func(ctx context.Context, i int) error {
		name := opName("s", i, e.done)
		return w.Wait(ctx, &cloudformation.DescribeStacksInput{StackName: &name}, time.Hour)
	})
}

func (r *awsRunner) closeIdle() {
	if c, ok := r.client.Options().HTTPClient.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// gcpRunner: one goroutine per operation in longrunning's
// WaitWithInterval(1 s), one GAPIC OperationsClient (one gRPC connection).
type gcpRunner struct {
	client *lroauto.OperationsClient
}

func (r *gcpRunner) prepare(ctx context.Context, e *env) error {
	c, err := lroauto.NewOperationsClient(ctx,
		option.WithEndpoint(e.fake.GRPCAddr()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	r.client = c
	return err
}

func (r *gcpRunner) start(ctx context.Context, e *env) {
	launch(ctx, e, func(ctx context.Context, i int) error {
		op := longrunning.InternalNewOperation(r.client, &longrunningpb.Operation{Name: opName("operations/", i, e.done)})
		return op.WaitWithInterval(ctx, protoadapt.MessageV1Of(&emptypb.Empty{}), time.Second)
	})
}

func (r *gcpRunner) closeIdle() {
	if r.client != nil {
		_ = r.client.Close()
	}
}

// fleetRunner: one lrokit engine over a memory store, the azure adapter
// through an azcore pipeline whose transport keeps a connection per worker.
type fleetRunner struct {
	pl      runtime.Pipeline
	client  *http.Client
	engine  *fleet.Engine
	stopped chan struct{}
}

func (r *fleetRunner) prepare(ctx context.Context, e *env) error {
	r.client = &http.Client{Transport: &http.Transport{
		MaxIdleConns: 2 * e.workers, MaxIdleConnsPerHost: 2 * e.workers, IdleConnTimeout: 90 * time.Second,
	}}
	pl := runtime.NewPipeline("lroloopback", "v1.0.0", runtime.PipelineOptions{}, &policy.ClientOptions{Transport: r.client})
	r.pl = pl
	store := persist.NewMemoryStore(nil)
	var tokenBytes atomic.Int64
	err := forEach(e.n, e.workers, func(i int) error {
		resp, err := put(ctx, pl, e, i)
		if err != nil {
			return err
		}
		p, err := azure.NewPoller[json.RawMessage](resp, pl, nil)
		if err != nil {
			return err
		}
		tok, err := p.ResumeToken()
		if err != nil {
			return err
		}
		tokenBytes.Add(int64(len(tok)))
		_, err = fleet.Add(ctx, store, fmt.Sprintf("op/%05d", i), tok, nil, nil)
		return err
	})
	if err != nil {
		return err
	}
	e.tokenBytes = tokenBytes.Load()
	resolve := func(_ context.Context, token string, opts *poller.Options) (fleet.Op, error) {
		// The fake is the caller's own data-plane host: Resume trusts
		// nothing a token names that the caller did not.
		p, err := azure.Resume[json.RawMessage](token, pl, &azure.Options{Options: *opts, AllowedHosts: []string{"http://" + e.fake.HTTPAddr()}})
		if err != nil {
			return fleet.Op{}, err
		}
		op := fleet.Op{Poller: p, Host: "azure", Kind: "azure"}
		if l, ok := p.Operation().(poller.Locator); ok {
			op.Host, op.Kind = l.Host(), "azure "+l.OperationType()
		}
		return op, nil
	}
	r.engine, err = fleet.New(store, resolve, &fleet.Options{
		Workers: e.workers, Capacity: e.n, ClaimBatch: e.n, ClaimInterval: 200 * time.Millisecond,
		Limits: fleet.HostLimits{Rate: rate.Limit(2 * e.n)},
		Policy: poller.Policy{Floor: time.Second, Cap: time.Second, Jitter: -1},
		Priors: fleet.PriorOptions{Disabled: true},
		OnEvent: func(ev fleet.Event) {
			switch ev.Kind {
			case fleet.EventDone:
				if ev.Err != nil {
					e.fail(ev.Err)
				} else {
					e.completed.Add(1)
				}
			case fleet.EventReleased:
				e.fail(fmt.Errorf("released %s: %w", ev.Key, ev.Err))
			}
		},
	})
	return err
}

func (r *fleetRunner) start(ctx context.Context, e *env) {
	r.stopped = make(chan struct{})
	go func() {
		defer close(r.stopped)
		if err := r.engine.Run(ctx); err != nil {
			e.fail(err)
		}
	}()
}

// closeIdle waits for Run to return (its context is cancelled by then).
func (r *fleetRunner) closeIdle() {
	if r.stopped != nil {
		<-r.stopped
	}
	r.client.CloseIdleConnections()
}

// pipelineAllocs measures the provider client alone, once the engine has
// stopped: heap allocations per status GET through the same pipeline, one
// request per poll as the azure adapter sends it (pipeline retries off).
func (r *fleetRunner) pipelineAllocs(ctx context.Context, e *env) (float64, error) {
	const n = 2000
	url := "http://" + e.fake.HTTPAddr() + statusPath + opName("w", 0, e.done) + "?api-version=2024-01-01"
	ctx = policy.WithRetryOptions(ctx, policy.RetryOptions{MaxRetries: -1})
	get := func() error {
		req, err := runtime.NewRequest(ctx, http.MethodGet, url)
		if err != nil {
			return err
		}
		resp, err := r.pl.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err
	}
	if err := get(); err != nil { // warm the connection
		return 0, err
	}
	var m0, m1 goruntime.MemStats
	goruntime.ReadMemStats(&m0)
	for range n {
		if err := get(); err != nil {
			return 0, err
		}
	}
	goruntime.ReadMemStats(&m1)
	return float64(m1.Mallocs-m0.Mallocs) / n, nil
}

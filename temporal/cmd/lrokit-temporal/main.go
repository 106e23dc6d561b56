// Command lrokit-temporal waits for long-running cloud operations on
// Temporal: a worker that polls with this machine's credentials, and the
// commands that start and await a wait from a resume token.
//
//	lrokit-temporal worker --address HOST:PORT [--task-queue lrokit] [--poll-queue Q --queue-rate R]
//	lrokit-temporal start  --address HOST:PORT (--token T | --token-file F) [--wait]
//	lrokit-temporal wait   --address HOST:PORT (--id ID | --token T | --token-file F)
//
// start prints the workflow id (derived from the operation: starting twice
// is a no-op); wait and start --wait print the outcome as one JSON line.
// Exit codes follow lrokit's: 0 succeeded, 1 failed, 2 usage or invalid
// token, 3 canceled, 5 could not poll.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"golang.org/x/time/rate"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/lrokit/lrokit/poller"
	lrotemporal "github.com/lrokit/lrokit/temporal"
)

// Exit codes, as lrokit's command line.
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitCanceled = 3
	exitPoll     = 5
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: lrokit-temporal worker|start|wait [flags]; -h after a command lists its flags`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	fs := flag.NewFlagSet("lrokit-temporal "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conn connFlags
	conn.register(fs)
	var err error
	switch args[0] {
	case "worker":
		var w workerFlags
		w.register(fs)
		if fs.Parse(args[1:]) != nil {
			return exitUsage
		}
		err = runWorker(ctx, conn, w, stderr)
	case "start", "wait":
		var s startFlags
		s.register(fs, args[0] == "start")
		if fs.Parse(args[1:]) != nil {
			return exitUsage
		}
		return runStartWait(ctx, conn, s, args[0] == "start", stdout, stderr)
	default:
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	if err != nil {
		fmt.Fprintln(stderr, "lrokit-temporal:", err)
		return exitFailed
	}
	return exitOK
}

type connFlags struct {
	address, namespace string
}

func (c *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.address, "address", envOr("TEMPORAL_ADDRESS", client.DefaultHostPort), "Temporal frontend host:port (env TEMPORAL_ADDRESS)")
	fs.StringVar(&c.namespace, "namespace", envOr("TEMPORAL_NAMESPACE", client.DefaultNamespace), "Temporal namespace (env TEMPORAL_NAMESPACE)")
}

func (c connFlags) dial(stderr io.Writer) (client.Client, error) {
	return client.Dial(client.Options{
		HostPort: c.address, Namespace: c.namespace,
		Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

type workerFlags struct {
	taskQueue, pollQueue string
	queueRate            float64
	hostRate             float64
	hostBurst            int
	allowHosts           stringList
	noAuth, insecure     bool
	azureScope           string
	awsRegion            string
	floor, cap           time.Duration
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func (w *workerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&w.taskQueue, "task-queue", lrotemporal.DefaultTaskQueue, "task queue for the workflow (and its polls, unless started with --poll-queue)")
	fs.StringVar(&w.pollQueue, "poll-queue", "", "also serve this host group's poll queue")
	fs.Float64Var(&w.queueRate, "queue-rate", 0, "polls per second for the whole --poll-queue, enforced by the Temporal server across every worker (every worker on the queue must give the same value; 0: none)")
	fs.Float64Var(&w.hostRate, "host-rate", 0, "this process's own limit on polls per second to each host (0: none)")
	fs.IntVar(&w.hostBurst, "host-burst", 1, "burst of --host-rate")
	fs.Var(&w.allowHosts, "allow-host", "extra host Azure/REST polling URLs may use (repeatable)")
	fs.BoolVar(&w.noAuth, "no-auth", false, "send no credentials (local endpoints and fakes)")
	fs.BoolVar(&w.insecure, "insecure", false, "gRPC without TLS to loopback Google endpoints")
	fs.StringVar(&w.azureScope, "azure-scope", "https://management.azure.com/.default", "Azure token scope")
	fs.StringVar(&w.awsRegion, "aws-region", "", "AWS region (default: the AWS config chain's)")
	fs.DurationVar(&w.floor, "floor", 0, "shortest delay between polls (default lrokit's 2 s)")
	fs.DurationVar(&w.cap, "cap", 0, "longest delay the schedule picks by itself (default lrokit's 60 s)")
}

func runWorker(ctx context.Context, conn connFlags, f workerFlags, stderr io.Writer) error {
	c, err := conn.dial(stderr)
	if err != nil {
		return err
	}
	defer c.Close()
	clients, err := f.clients(ctx, stderr)
	if err != nil {
		return err
	}
	acts := &lrotemporal.Activities{Clients: clients, HostLimit: rate.Limit(f.hostRate), HostBurst: f.hostBurst}
	if f.hostRate <= 0 {
		acts.HostLimit = 0
	}
	wf := worker.New(c, f.taskQueue, worker.Options{})
	lrotemporal.RegisterWorkflow(wf)
	acts.Register(wf)
	workers := []worker.Worker{wf}
	if f.pollQueue != "" {
		pw := worker.New(c, f.pollQueue, worker.Options{TaskQueueActivitiesPerSecond: f.queueRate, DisableWorkflowWorker: true})
		acts.Register(pw)
		workers = append(workers, pw)
	}
	for _, w := range workers {
		if err := w.Start(); err != nil {
			return err
		}
		defer w.Stop()
	}
	fmt.Fprintf(stderr, "lrokit-temporal: worker on task queue %q", f.taskQueue)
	if f.pollQueue != "" {
		fmt.Fprintf(stderr, " and poll queue %q (%g/s)", f.pollQueue, f.queueRate)
	}
	fmt.Fprintln(stderr)
	<-ctx.Done()
	return nil
}

// clients are built once from this worker's configuration; tokens only say
// which operation to poll.
func (f workerFlags) clients(ctx context.Context, stderr io.Writer) (lrotemporal.Clients, error) {
	c := lrotemporal.Clients{
		HTTP:         http.DefaultClient,
		AllowedHosts: f.allowHosts,
		Options:      poller.Options{Policy: poller.Policy{Floor: f.floor, Cap: f.cap}},
	}
	var perRetry []policy.Policy
	if !f.noAuth {
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			fmt.Fprintf(stderr, "lrokit-temporal: no Azure credential, Azure tokens will fail: %v\n", err)
		} else {
			perRetry = append(perRetry, runtime.NewBearerTokenPolicy(cred, []string{f.azureScope}, nil))
		}
	}
	pl := runtime.NewPipeline("lrokit-temporal", "v0", runtime.PipelineOptions{PerRetry: perRetry}, &policy.ClientOptions{
		Logging: policy.LogOptions{AllowedQueryParams: []string{"api-version"}},
	})
	c.Azure = &pl

	var awsOpts []func(*awsconfig.LoadOptions) error
	if f.awsRegion != "" {
		awsOpts = append(awsOpts, awsconfig.WithRegion(f.awsRegion))
	}
	if f.noAuth {
		awsOpts = append(awsOpts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("LROKITNOAUTH", "no-auth", "")))
	}
	if cfg, err := awsconfig.LoadDefaultConfig(ctx, awsOpts...); err != nil {
		fmt.Fprintf(stderr, "lrokit-temporal: no AWS config, AWS tokens will fail: %v\n", err)
	} else {
		c.AWS = &cfg
	}

	var mu sync.Mutex
	ops := map[string]*lroauto.OperationsClient{}
	c.GCP = func(ctx context.Context, endpoint string) (*lroauto.OperationsClient, error) {
		if endpoint == "" {
			return nil, errors.New("the token names no Google API endpoint")
		}
		mu.Lock()
		defer mu.Unlock()
		if oc, ok := ops[endpoint]; ok {
			return oc, nil
		}
		opts := []option.ClientOption{option.WithEndpoint(endpoint)}
		if f.noAuth {
			opts = append(opts, option.WithoutAuthentication())
		}
		if f.insecure {
			if !isLoopback(endpoint) {
				return nil, fmt.Errorf("--insecure is only for loopback endpoints, not %q", endpoint)
			}
			opts = append(opts, option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())), option.WithoutAuthentication())
		}
		// A worker lives long: the client outlives this activity's context.
		oc, err := lroauto.NewOperationsClient(context.WithoutCancel(ctx), opts...)
		if err != nil {
			return nil, err
		}
		ops[endpoint] = oc
		return oc, nil
	}
	return c, nil
}

func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type startFlags struct {
	token, tokenFile, id string
	taskQueue, pollQueue string
	wait                 bool
	pollsPerRun          int
}

func (s *startFlags) register(fs *flag.FlagSet, start bool) {
	fs.StringVar(&s.token, "token", "", "the resume token")
	fs.StringVar(&s.tokenFile, "token-file", "", "read the resume token from this file (- for stdin)")
	if start {
		fs.StringVar(&s.taskQueue, "task-queue", lrotemporal.DefaultTaskQueue, "the workflow's task queue")
		fs.StringVar(&s.pollQueue, "poll-queue", "", "task queue of the operation's host group for polls (default: the workflow's)")
		fs.IntVar(&s.pollsPerRun, "polls-per-run", 0, "polls before the workflow continues as new (default 200)")
		fs.BoolVar(&s.wait, "wait", false, "wait for the outcome after starting")
	} else {
		fs.StringVar(&s.id, "id", "", "the workflow id (default: derived from the token)")
	}
}

func (s startFlags) readToken(stdin io.Reader) (string, error) {
	switch {
	case s.token != "" && s.tokenFile != "":
		return "", errors.New("give --token or --token-file, not both")
	case s.token != "":
		return s.token, nil
	case s.tokenFile == "-":
		b, err := io.ReadAll(io.LimitReader(stdin, poller.MaxTokenSize+1))
		return strings.TrimSpace(string(b)), err
	case s.tokenFile != "":
		b, err := os.ReadFile(s.tokenFile)
		return strings.TrimSpace(string(b)), err
	}
	return "", errors.New("give --token or --token-file")
}

func runStartWait(ctx context.Context, conn connFlags, f startFlags, start bool, stdout, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, "lrokit-temporal:", err)
		return code
	}
	id := f.id
	var token string
	if id == "" || start {
		t, err := f.readToken(os.Stdin)
		if err != nil {
			return fail(exitUsage, err)
		}
		token = t
		if id, err = lrotemporal.WorkflowID(token, nil); err != nil {
			return fail(exitUsage, err)
		}
	}
	c, err := conn.dial(stderr)
	if err != nil {
		return fail(exitFailed, err)
	}
	defer c.Close()
	if start {
		run, err := lrotemporal.Start(ctx, c, token, &lrotemporal.StartOptions{
			TaskQueue: f.taskQueue,
			Input:     lrotemporal.WaitInput{PollQueue: f.pollQueue, PollsPerRun: f.pollsPerRun},
		})
		if err != nil {
			return fail(exitFailed, err)
		}
		id = run.GetID()
		if !f.wait {
			fmt.Fprintln(stdout, id)
			return exitOK
		}
	}
	out, err := lrotemporal.Wait(ctx, c, id)
	code := exitOK
	var e *lrotemporal.Error
	switch {
	case errors.As(err, &e):
		out = e.Outcome
		code = exitCodeOf(e)
		fmt.Fprintln(stderr, "lrokit-temporal:", e)
	case err != nil:
		return fail(exitFailed, err)
	}
	b, _ := json.Marshal(out)
	fmt.Fprintln(stdout, string(b))
	return code
}

func exitCodeOf(e *lrotemporal.Error) int {
	switch e.Type {
	case lrotemporal.ErrTypeOperationCanceled, lrotemporal.TypeWorkflowCanceled:
		return exitCanceled
	case lrotemporal.ErrTypeInvalidToken, lrotemporal.ErrTypeNoClient:
		return exitUsage
	case lrotemporal.ErrTypePollFailed:
		return exitPoll
	}
	return exitFailed
}

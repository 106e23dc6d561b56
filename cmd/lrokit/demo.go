package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/lrokit/lrokit/aws"
	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/gcp"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/lrotest/awsfake"
	"github.com/lrokit/lrokit/lrotest/gcpfake"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/resume"
)

func (a *app) demoCmd() *cobra.Command {
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole story on built-in fakes: begin, crash, resume, wait",
		Long: `demo starts loopback fakes of Azure Resource Manager, Google's Operations
service and AWS CloudFormation in this process, begins an AKS-style PUT, a
GKE-style operation and a stack create through the real SDK clients, saves
their tokens in a file store, drops every poller as a crash would, resumes all
three from the store and waits for them side by side. No account, no network.

The fakes answer within seconds, so the demo shortens the polling floor to
250 ms; real clouds get lrokit's defaults (2 s floor, Retry-After honored).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.demo(cmd.Context(), keep)
		},
	}
	cmd.Flags().BoolVar(&keep, "keep", false, `keep the token store directory and print its path (to read with "lrokit fleet ls" or
"lrokit token inspect"; its tokens point at the demo's fakes, which stop with it: use "lrokit fake" for fakes
that keep running)`)
	return cmd
}

// demoPolicy makes the fakes' seconds-long operations quick to watch.
var demoPolicy = poller.Policy{Floor: 250 * time.Millisecond, Cap: time.Second}

const (
	demoAzurePath = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo/providers/Microsoft.ContainerService/managedClusters/aks-demo"
	demoGCPName   = "projects/demo/locations/us-central1/operations/operation-1732350000000-gke"
	demoStack     = "demo-stack"
)

// demoFakes are the three loopback fakes with their scripts.
type demoFakes struct {
	arm *armfake.Server
	gop *gcpfake.Operations
	aws *awsfake.Server
}

func startDemoFakes() (*demoFakes, error) {
	f := &demoFakes{arm: armfake.New(), aws: awsfake.New()}
	gop, err := gcpfake.StartOperations()
	if err != nil {
		f.close()
		return nil, err
	}
	f.gop = gop

	status := func(s, after string) armfake.Response { return armfake.Status(s).WithRetryAfter(after) }
	f.arm.Load(armfake.LRO{
		Method: http.MethodPut, Path: demoAzurePath, Protocol: armfake.AsyncOperation,
		Initial: armfake.Resource("aks-demo", "Creating").WithStatus(http.StatusCreated).
			WithHeader("Azure-AsyncOperation", armfake.StatusURL()).WithRetryAfter("1"),
		Polls: []armfake.Response{status("InProgress", "1"), status("InProgress", "1"), status("InProgress", "1"), status("InProgress", "1"), armfake.Status("Succeeded")},
		Final: []armfake.Response{armfake.Resource("aks-demo", "Succeeded")},
	}.Scenario())

	meta := func(state string, pct float64) *structpb.Struct {
		s, _ := structpb.NewStruct(map[string]any{"state": state, "progressPercent": pct, "target": "projects/demo/locations/us-central1/clusters/gke-demo"})
		return s
	}
	result, _ := structpb.NewStruct(map[string]any{"name": "gke-demo", "status": "RUNNING"})
	f.gop.Add(demoGCPName,
		gcpfake.Running(meta("PROVISIONING", 10)), gcpfake.Running(meta("PROVISIONING", 30)),
		gcpfake.Running(meta("PROVISIONING", 55)), gcpfake.Running(meta("RECONCILING", 80)),
		gcpfake.Running(meta("RECONCILING", 95)), gcpfake.Succeeded(result))

	f.aws.Script(awsfake.Stack, demoStack, awsfake.Statuses(
		"CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE")...)
	return f, nil
}

func (f *demoFakes) close() {
	if f.arm != nil {
		f.arm.Close()
	}
	if f.gop != nil {
		f.gop.Close()
	}
	if f.aws != nil {
		f.aws.Close()
	}
}

// demoClients are the clients a resumed process would build afresh.
func (f *demoFakes) clients(ctx context.Context, popts poller.Options) resume.Clients {
	pl := runtime.NewPipeline("lrokit-demo", version, runtime.PipelineOptions{}, &policy.ClientOptions{Transport: f.arm.Client()})
	cfg := f.aws.Config()
	return resume.Clients{
		Azure: &pl,
		GCP: func(ctx context.Context, endpoint string) (*lroauto.OperationsClient, error) {
			if endpoint != f.gop.Addr() {
				return nil, fmt.Errorf("unexpected endpoint %q", endpoint)
			}
			return f.gop.NewClient(ctx)
		},
		AWS:     &cfg,
		Options: popts,
		// The fakes are the caller's own endpoints: name them, as a real
		// caller names its data-plane hosts.
		AllowedHosts: []string{strings.TrimPrefix(f.arm.URL(), "http://"), f.arm.URL()},
		GCPOptions:   &gcp.Options{Endpoint: f.gop.Addr()},
	}
}

type demoRow struct {
	key, provider, what string
	polls               int
	status              poller.Status
	detail              string
	elapsed             time.Duration
	err                 error
}

func (a *app) demo(ctx context.Context, keep bool) error {
	begun := time.Now()
	f, err := startDemoFakes()
	if err != nil {
		return fmt.Errorf("starting the fakes: %w", err)
	}
	defer f.close()
	dir, err := os.MkdirTemp("", "lrokit-demo-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	store, err := persist.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer closeStore(store)
	popts := poller.Options{Policy: demoPolicy, Clock: a.clock}
	say := func(format string, args ...any) { fmt.Fprintf(a.stdout, format+"\n", args...) }

	say("lrokit demo: three clouds on loopback fakes, one crash, one resume\n")
	say("1. begin: the initial requests go out through the real SDK clients; the tokens go to a file store")
	keys, err := a.demoBegin(ctx, f, store, popts)
	if err != nil {
		return err
	}
	for _, k := range keys {
		r, _ := store.Get(ctx, k)
		say("   %-14s saved  %-6s %s", k, r.Provider, r.Status)
	}
	say("\n2. crash: every poller and client is dropped; only the store remains (%s)", storeLabel(dir, keep))

	say("\n3. resume: a new process reads the store, rebuilds clients, and waits on all three\n")
	recs, err := store.List(ctx, persist.Filter{Prefix: "demo/"})
	if err != nil {
		return err
	}
	rows := make([]demoRow, len(recs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, rec := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows[i] = a.demoWait(ctx, f, store, rec, popts, &mu, begun)
		}()
	}
	wg.Wait()

	say("\n4. summary")
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "   PROVIDER\tOPERATION\tPOLLS\tSTATUS\tELAPSED")
	sort.Slice(rows, func(i, j int) bool { return rows[i].provider < rows[j].provider })
	failed := false
	for _, r := range rows {
		st := string(r.status)
		if r.err != nil {
			st = "error: " + oneLine(r.err.Error())
			failed = true
		}
		fmt.Fprintf(tw, "   %s\t%s\t%d\t%s\t%s\n", r.provider, r.what, r.polls, st, r.elapsed.Round(10*time.Millisecond))
	}
	tw.Flush()
	initial := f.arm.Count(http.MethodPut, demoAzurePath)
	say("\n   the Azure PUT was sent %d time(s): resuming never repeats an operation's initial request", initial)
	say("   total %s, no cloud account, no network", time.Since(begun).Round(100*time.Millisecond))
	if failed || initial != 1 {
		return withCode(exitFailed, errors.New("the demo did not end as expected"))
	}
	return nil
}

func storeLabel(dir string, keep bool) string {
	if keep {
		return dir + `; kept: read it with "lrokit fleet ls --store ` + dir + `"; its tokens point at this demo's fakes, which stop when it ends, so "lrokit wait" on them will fail — "lrokit fake" runs fakes that stay up`
	}
	return "a temporary directory"
}

// demoBegin starts the three operations and saves their tokens.
func (a *app) demoBegin(ctx context.Context, f *demoFakes, store persist.Store, popts poller.Options) ([]string, error) {
	var keys []string
	save := func(key, token string) error {
		if _, err := store.Put(ctx, persist.Record{Key: key, Token: token, Labels: map[string]string{"demo": "true"}}); err != nil {
			return err
		}
		keys = append(keys, key)
		return nil
	}

	// Azure: PUT a managed cluster through an azcore pipeline.
	pl := runtime.NewPipeline("lrokit-demo", version, runtime.PipelineOptions{}, &policy.ClientOptions{Transport: f.arm.Client()})
	req, err := runtime.NewRequest(ctx, http.MethodPut, f.arm.URL()+demoAzurePath+"?"+armfake.APIVersion)
	if err != nil {
		return nil, err
	}
	resp, err := pl.Do(req)
	if err != nil {
		return nil, fmt.Errorf("azure PUT: %w", err)
	}
	ap, err := azure.NewPoller[json.RawMessage](resp, pl, &azure.Options{Options: popts})
	if err != nil {
		return nil, err
	}
	if err := saveToken(ap, "demo/azure-aks", save); err != nil {
		return nil, err
	}

	// Google: adopt the operation a cluster create returned, by name.
	client, err := f.gop.NewClient(ctx)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	gp, err := gcp.FromName[*anypb.Any](demoGCPName, client, &gcp.Options{Options: popts, Endpoint: f.gop.Addr()})
	if err != nil {
		return nil, err
	}
	if _, err := gp.Poll(ctx); err != nil {
		return nil, err
	}
	if err := saveToken(gp, "demo/gcp-gke", save); err != nil {
		return nil, err
	}

	// AWS: the stack create's waiter, by name and input.
	wp, err := aws.NewPoller[*cloudformation.DescribeStacksOutput](f.aws.Config(), "cloudformation.StackCreateComplete",
		&cloudformation.DescribeStacksInput{StackName: strPtr(demoStack)}, &aws.Options{Options: popts})
	if err != nil {
		return nil, err
	}
	if _, err := wp.Poll(ctx); err != nil {
		return nil, err
	}
	if err := saveToken(wp, "demo/aws-stack", save); err != nil {
		return nil, err
	}
	return keys, nil
}

func saveToken(p interface{ ResumeToken() (string, error) }, key string, save func(key, token string) error) error {
	token, err := p.ResumeToken()
	if err != nil {
		return err
	}
	return save(key, token)
}

func strPtr(s string) *string { return &s }

// demoWait resumes one record and waits, saving after every poll.
func (a *app) demoWait(ctx context.Context, f *demoFakes, store persist.Store, rec persist.Record, popts poller.Options, mu *sync.Mutex, begun time.Time) demoRow {
	row := demoRow{key: rec.Key, provider: rec.Provider}
	start := time.Now()
	p, err := resume.Any(ctx, rec.Token, f.clients(ctx, popts))
	if err != nil {
		row.err = err
		return row
	}
	row.what = demoWhat(p)
	tr, err := persist.Track(ctx, store, rec.Key, p, nil)
	if err != nil {
		row.err = err
		return row
	}
	_, err = p.Wait(ctx, &poller.WaitOptions{OnPoll: func(obs poller.Observation) {
		tr.OnPoll(obs)
		line := fmt.Sprintf("   %6.2fs  %-6s %-10s %-22s", time.Since(begun).Seconds(), p.Provider, obs.Status, obs.Detail)
		if obs.Progress >= 0 {
			line += fmt.Sprintf(" %3.0f%%", obs.Progress)
		}
		mu.Lock()
		fmt.Fprintln(a.stdout, strings.TrimRight(line, " "))
		mu.Unlock()
	}})
	row.err = err
	row.polls, row.status, row.detail = p.Polls(), p.Last().Status, p.Last().Detail
	row.elapsed = time.Since(start)
	return row
}

func demoWhat(p *resume.Poller) string {
	switch p.Provider {
	case "azure":
		return "PUT managedClusters/aks-demo"
	case "gcp":
		return "GKE create (longrunning)"
	case "aws":
		return "cloudformation.StackCreateComplete " + demoStack
	}
	return p.Kind
}

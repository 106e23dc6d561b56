package temporal_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/lrokit/lrokit/aws"
	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/gcp"
	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/lrotest/awsfake"
	"github.com/lrokit/lrokit/lrotest/gcpfake"
	"github.com/lrokit/lrokit/poller"
	lrotemporal "github.com/lrokit/lrokit/temporal"
)

type ending string

const (
	succeeds ending = "succeeds"
	fails    ending = "fails"
	runsOn   ending = "runs until canceled"
)

// begun is an operation begun on a fake the way a CLI's begin would: the
// token, the clients a worker builds from its own configuration, and how
// many initial requests (and cancel requests) the fake saw.
type begun struct {
	token   string
	clients lrotemporal.Clients
	initial func() int
	cancels func() int
	// cancelable is whether the provider can cancel this operation.
	cancelable bool
	// result checks a successful Outcome's result.
	result string
}

const aksPath = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1"

func beginAzure(t *testing.T, end ending) begun {
	arm := armfake.New()
	t.Cleanup(arm.Close)
	polls := map[ending][]armfake.Response{
		succeeds: {armfake.Status("InProgress"), armfake.Status("InProgress"), armfake.Status("Succeeded")},
		fails:    {armfake.Status("InProgress"), armfake.StatusFailed("OverconstrainedAllocationRequest", "no capacity in westus")},
		runsOn:   {armfake.Status("InProgress")},
	}[end]
	arm.Load(armfake.LRO{
		Method: http.MethodPut, Path: aksPath, Protocol: armfake.AsyncOperation, Polls: polls,
		Final: []armfake.Response{armfake.Resource("aks1", "Succeeded")},
	}.Scenario())
	pl := azurePipeline(arm.Client())
	req, err := runtimeRequest(arm.URL() + aksPath + "?" + armfake.APIVersion)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := pl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	p, err := azure.NewPoller[json.RawMessage](resp, pl, &azure.Options{Options: poller.Options{Policy: fastPolicy}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := p.ResumeToken()
	if err != nil {
		t.Fatal(err)
	}
	wpl := azurePipeline(arm.Client())
	return begun{
		token:   tok,
		clients: lrotemporal.Clients{Azure: &wpl, Options: poller.Options{Policy: fastPolicy}, AllowedHosts: []string{arm.URL()}},
		initial: func() int { return arm.Count(http.MethodPut, aksPath) },
		cancels: func() int { return arm.Count(http.MethodDelete, armfake.StatusPath) },
		result:  `"aks1"`,
	}
}

func beginREST(t *testing.T, end ending) begun {
	ops := newRESTOps(t)
	switch end {
	case succeeds:
		ops.addPolls("svc1", 3, false)
	case fails:
		ops.addPolls("svc1", 2, true)
	case runsOn:
		ops.add("svc1", time.Hour, false)
	}
	return begun{
		token: ops.begin(t, "svc1"), clients: ops.clients(), cancelable: true,
		initial: func() int { p, _, _ := ops.counts("svc1"); return p },
		cancels: func() int { _, _, d := ops.counts("svc1"); return d },
		result:  `"Ready"`,
	}
}

const gkeOp = "projects/p/locations/us-central1/operations/operation-1-gke"

func beginGCP(t *testing.T, end ending) begun {
	gop, err := gcpfake.StartOperations()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gop.Close)
	meta, _ := structpb.NewStruct(map[string]any{"state": "PROVISIONING"})
	result, _ := structpb.NewStruct(map[string]any{"name": "gke1", "status": "RUNNING"})
	switch end {
	case succeeds:
		gop.Add(gkeOp, gcpfake.Running(meta), gcpfake.Running(meta), gcpfake.Succeeded(result))
	case fails:
		gop.Add(gkeOp, gcpfake.Running(meta), gcpfake.Failed(codes.ResourceExhausted, "quota CPUS exceeded"))
	case runsOn:
		gop.Add(gkeOp, gcpfake.Running(meta))
	}
	// The operation was created by a cluster-create call; lrokit adopts it
	// by name, as `lrokit gcp adopt` does.
	ctx := ctxFor(t, 30*time.Second)
	oc, err := gop.NewClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	p, err := gcp.FromName[*anypb.Any](gkeOp, oc, &gcp.Options{Options: poller.Options{Policy: fastPolicy}, Endpoint: gop.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := p.ResumeToken()
	if err != nil {
		t.Fatal(err)
	}
	return begun{
		token: tok, cancelable: true,
		clients: lrotemporal.Clients{
			GCP: func(ctx context.Context, endpoint string) (*lroauto.OperationsClient, error) {
				if endpoint != gop.Addr() {
					return nil, errors.New("unexpected endpoint " + endpoint)
				}
				return gop.NewClient(ctx)
			},
			// The fake's endpoint is not *.googleapis.com: the worker names it.
			GCPOptions: &gcp.Options{Endpoint: gop.Addr()},
			Options:    poller.Options{Policy: fastPolicy},
		},
		initial: func() int { return 1 }, // adopted: no initial request is lrokit's
		cancels: func() int { return gop.Cancels(gkeOp) },
		result:  `"gke1"`,
	}
}

func beginAWS(t *testing.T, end ending) begun {
	srv := awsfake.New()
	t.Cleanup(srv.Close)
	waiter := "cloudformation.StackCreateComplete"
	switch end {
	case succeeds:
		srv.Script(awsfake.Stack, "app", awsfake.Statuses("CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE")...)
	case fails:
		srv.Script(awsfake.Stack, "app", awsfake.Statuses("CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE")...)
	case runsOn:
		waiter = "cloudformation.StackUpdateComplete"
		srv.Script(awsfake.Stack, "app", awsfake.Status("UPDATE_IN_PROGRESS"))
		srv.OnCancel("app", awsfake.Statuses("UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE")...)
	}
	cfg := srv.Config()
	p, err := aws.NewPoller[*cloudformation.DescribeStacksOutput](cfg, waiter,
		&cloudformation.DescribeStacksInput{StackName: strPtr("app")}, &aws.Options{Options: poller.Options{Policy: fastPolicy}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := p.ResumeToken()
	if err != nil {
		t.Fatal(err)
	}
	wcfg := srv.Config()
	return begun{
		token: tok, cancelable: true,
		clients: lrotemporal.Clients{AWS: &wcfg, Options: poller.Options{Policy: fastPolicy}},
		initial: func() int { return 1 }, // the stack was created by the caller
		cancels: func() int { return srv.Cancels("app") },
		result:  `"app"`,
	}
}

func strPtr(s string) *string { return &s }

var providers = []struct {
	name  string
	begin func(*testing.T, ending) begun
}{
	{"azure", beginAzure},
	{"rest", beginREST},
	{"gcp", beginGCP},
	{"aws", beginAWS},
}

func TestWaitOperationSucceedsOnEveryProvider(t *testing.T) {
	for _, pc := range providers {
		t.Run(pc.name, func(t *testing.T) {
			op := pc.begin(t, succeeds)
			st := startWaiting(t, op.clients, op.token, lrotemporal.WaitInput{})
			ctx, run := st.ctx, st.run
			out, err := lrotemporal.Result(ctx, run)
			if err != nil {
				t.Fatalf("wait: %v", err)
			}
			if out.Status != poller.StatusSucceeded {
				t.Errorf("status %s, want Succeeded", out.Status)
			}
			if !strings.Contains(string(out.Result), op.result) {
				t.Errorf("result %s does not hold %s", out.Result, op.result)
			}
			if out.Polls < 2 || out.Token == "" {
				t.Errorf("polls %d, token %q: want the polls counted and the last token", out.Polls, out.Token)
			}
			if n := op.initial(); n != 1 {
				t.Errorf("initial request sent %d times, want 1", n)
			}
		})
	}
}

func TestWaitOperationReportsFailureWithLastState(t *testing.T) {
	want := map[string]string{"azure": "OverconstrainedAllocationRequest", "rest": "QuotaExceeded", "gcp": "RESOURCE_EXHAUSTED", "aws": "ROLLBACK_COMPLETE"}
	for _, pc := range providers {
		t.Run(pc.name, func(t *testing.T) {
			op := pc.begin(t, fails)
			st := startWaiting(t, op.clients, op.token, lrotemporal.WaitInput{})
			ctx, run := st.ctx, st.run
			_, err := lrotemporal.Result(ctx, run)
			var e *lrotemporal.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *temporal.Error", err)
			}
			if e.Type != lrotemporal.ErrTypeOperationFailed || e.Outcome.Status != poller.StatusFailed {
				t.Errorf("type %s status %s, want %s Failed", e.Type, e.Outcome.Status, lrotemporal.ErrTypeOperationFailed)
			}
			if got := e.Outcome.Code + " " + e.Outcome.Message + " " + e.Outcome.Detail; !strings.Contains(got, want[pc.name]) {
				t.Errorf("failure %q does not name %q", got, want[pc.name])
			}
			if e.Outcome.Token == "" {
				t.Error("failure carries no token")
			}
			var oe *poller.OperationError
			if oe = e.OperationError(); oe == nil || oe.Status != poller.StatusFailed {
				t.Errorf("OperationError() = %v", oe)
			}
		})
	}
}

func TestCancelingTheWorkflowCancelsTheOperation(t *testing.T) {
	for _, pc := range providers {
		t.Run(pc.name, func(t *testing.T) {
			op := pc.begin(t, runsOn)
			st := startWaiting(t, op.clients, op.token, lrotemporal.WaitInput{})
			c, ctx, run := st.c, st.ctx, st.run
			waitForPolls(t, c, run.GetID(), 2)
			if err := c.CancelWorkflow(ctx, run.GetID(), ""); err != nil {
				t.Fatal(err)
			}
			_, err := lrotemporal.Wait(ctx, c, run.GetID())
			var e *lrotemporal.Error
			if !errors.As(err, &e) || e.Type != lrotemporal.TypeWorkflowCanceled {
				t.Fatalf("err = %v, want a canceled *temporal.Error", err)
			}
			o := e.Outcome
			if !o.CancelRequested || o.CancelSupported != op.cancelable {
				t.Errorf("cancel requested %v supported %v, want true %v", o.CancelRequested, o.CancelSupported, op.cancelable)
			}
			if op.cancelable {
				if o.Status != poller.StatusCanceled {
					t.Errorf("status after the cancel %s, want Canceled", o.Status)
				}
				if n := op.cancels(); n != 1 {
					t.Errorf("provider cancel requests %d, want 1", n)
				}
			} else {
				if o.Status != poller.StatusRunning || !strings.Contains(err.Error(), "cannot cancel") {
					t.Errorf("status %s, error %q: want Running and a word that it goes on", o.Status, err)
				}
				if n := op.cancels(); n != 0 {
					t.Errorf("provider cancel requests %d, want none", n)
				}
			}
		})
	}
}

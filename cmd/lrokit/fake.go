package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/lrokit/lrokit/lrotest/armfake"
	"github.com/lrokit/lrokit/lrotest/awsfake"
	"github.com/lrokit/lrokit/lrotest/gcpfake"
)

// What `lrokit fake` serves, one operation per cloud.
const (
	fakeAzurePath = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo/providers/Microsoft.ContainerService/managedClusters/aks1"
	fakeRESTPath  = "/jobs/build-42"
	fakeGCPName   = "projects/demo/locations/us-central1/operations/operation-gke-1"
	fakeStack     = "app"
)

// fakeScript is how each fake operation goes: polls answered "running",
// then the outcome.
type fakeScript struct {
	polls   int
	outcome string
}

func (s fakeScript) check() error {
	if s.polls < 0 || s.polls > 10_000 {
		return usageErr("--polls must be between 0 and 10000")
	}
	switch s.outcome {
	case "succeeded", "failed", "canceled":
		return nil
	}
	return usageErr("--outcome must be succeeded, failed or canceled, not %q", s.outcome)
}

// fakeServers are the loopback fakes `lrokit fake` runs.
type fakeServers struct {
	azure, rest *armfake.Server
	gcp         *gcpfake.Operations
	aws         *awsfake.Server
}

func startFakes(s fakeScript) (*fakeServers, error) {
	f := &fakeServers{azure: armfake.New(), rest: armfake.New(), aws: awsfake.New()}
	gop, err := gcpfake.StartOperations()
	if err != nil {
		f.close()
		return nil, err
	}
	f.gcp = gop

	armEnd := map[string]armfake.Response{
		"succeeded": armfake.Status("Succeeded"),
		"failed":    armfake.StatusFailed("QuotaExceeded", "the fake ran out of cores, as scripted by --outcome failed"),
		"canceled":  armfake.Status("Canceled"),
	}[s.outcome]
	polls := make([]armfake.Response, 0, s.polls+1)
	for range s.polls {
		polls = append(polls, armfake.Status("InProgress"))
	}
	polls = append(polls, armEnd)
	f.azure.Load(armfake.LRO{Method: http.MethodPut, Path: fakeAzurePath, Protocol: armfake.AsyncOperation,
		Polls: polls, Final: []armfake.Response{armfake.Resource("aks1", "Succeeded")}}.Scenario())
	f.rest.Load(armfake.LRO{Method: http.MethodPost, Path: fakeRESTPath, Protocol: armfake.OperationLocation,
		Polls: polls, Final: []armfake.Response{armfake.JSON(http.StatusOK, `{"artifact":"build-42.tar.gz"}`)}}.Scenario())
	f.rest.Handle(http.MethodDelete, armfake.StatusPath, armfake.JSON(http.StatusOK, `{}`))

	meta, _ := structpb.NewStruct(map[string]any{"state": "PROVISIONING", "target": "projects/demo/locations/us-central1/clusters/gke1"})
	steps := make([]gcpfake.Step, 0, s.polls+1)
	for range s.polls {
		steps = append(steps, gcpfake.Running(meta))
	}
	result, _ := structpb.NewStruct(map[string]any{"name": "gke1", "status": "RUNNING"})
	switch s.outcome {
	case "succeeded":
		steps = append(steps, gcpfake.Succeeded(result))
	case "failed":
		steps = append(steps, gcpfake.Failed(codes.ResourceExhausted, "the fake ran out of quota, as scripted by --outcome failed"))
	case "canceled":
		steps = append(steps, gcpfake.Failed(codes.Canceled, "canceled, as scripted by --outcome canceled"))
	}
	f.gcp.Add(fakeGCPName, steps...)

	stack := make([]string, 0, s.polls+1)
	for range s.polls {
		stack = append(stack, "CREATE_IN_PROGRESS")
	}
	stack = append(stack, map[string]string{"succeeded": "CREATE_COMPLETE", "failed": "ROLLBACK_COMPLETE", "canceled": "ROLLBACK_COMPLETE"}[s.outcome])
	f.aws.Script(awsfake.Stack, fakeStack, awsfake.Statuses(stack...)...)
	return f, nil
}

func (f *fakeServers) close() {
	f.azure.Close()
	f.rest.Close()
	f.aws.Close()
	if f.gcp != nil {
		f.gcp.Close()
	}
}

// env is the shell environment that points the CLI at the fakes.
func (f *fakeServers) env() [][2]string {
	return [][2]string{
		{"LROKIT_FAKE_AZURE_URL", f.azure.URL() + fakeAzurePath + "?api-version=2024-05-01"},
		{"LROKIT_FAKE_REST_URL", f.rest.URL() + fakeRESTPath},
		{"LROKIT_FAKE_GCP_ENDPOINT", f.gcp.Addr()},
		{"LROKIT_FAKE_GCP_OPERATION", fakeGCPName},
		{"LROKIT_FAKE_AWS_URL", f.aws.URL()},
		// Every command that reaches a fake: no credentials, the fakes'
		// plain-http origins trusted, gRPC without TLS (loopback only).
		{"LROKIT_FAKE_FLAGS", "--no-auth --allow-host " + f.azure.URL() + " --allow-host " + f.rest.URL()},
		// Google and AWS tokens name their endpoints: trust the fakes'.
		{"LROKIT_FAKE_GCP_FLAGS", "--insecure --gcp-endpoint " + f.gcp.Addr()},
		{"LROKIT_FAKE_AWS_FLAGS", "--no-auth --endpoint-url " + f.aws.URL()},
		// The fakes answer at once: no need for lrokit's 1-2 s floor.
		{"LROKIT_FAKE_FAST", "--poll-floor 100ms --poll-cap 200ms"},
	}
}

func writeEnv(w io.Writer, env [][2]string) {
	for _, kv := range env {
		fmt.Fprintf(w, "export %s='%s'\n", kv[0], strings.ReplaceAll(kv[1], "'", `'\''`))
	}
}

func (a *app) fakeCmd() *cobra.Command {
	var s fakeScript
	var envFile string
	cmd := &cobra.Command{
		Use:   "fake",
		Short: "Run loopback fakes of Azure, a REST API, Google Cloud and AWS to try lrokit on",
		Long: `fake runs, in the foreground until Ctrl-C, loopback fakes of Azure Resource
Manager, a REST API (Operation-Location), Google's Operations service and AWS
CloudFormation, each serving one scripted operation:

  Azure  PUT $LROKIT_FAKE_AZURE_URL           (an AKS cluster)
  REST   POST $LROKIT_FAKE_REST_URL           (a build job; cancel is accepted)
  Google $LROKIT_FAKE_GCP_OPERATION on $LROKIT_FAKE_GCP_ENDPOINT (cancelable)
  AWS    stack "app" on $LROKIT_FAKE_AWS_URL  (cloudformation.StackCreateComplete)

Each answers "running" to --polls polls, then ends as --outcome says. It
prints (and with --env-file writes) the shell variables that point the CLI at
them, including $LROKIT_FAKE_FLAGS (no credentials, the fakes' hosts
trusted). Nothing leaves this machine.

  lrokit fake --env-file fake.env &
  until [ -s fake.env ]; do sleep 0.1; done; . ./fake.env
  lrokit azure begin --method PUT --url "$LROKIT_FAKE_AZURE_URL" $LROKIT_FAKE_FLAGS --token-file aks.token
  lrokit wait aks.token $LROKIT_FAKE_FLAGS $LROKIT_FAKE_FAST`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := s.check(); err != nil {
				return err
			}
			f, err := startFakes(s)
			if err != nil {
				return fmt.Errorf("starting the fakes: %w", err)
			}
			defer f.close()
			var b strings.Builder
			writeEnv(&b, f.env())
			if envFile != "" {
				if err := writeFileAtomic(envFile, []byte(b.String())); err != nil {
					return withCode(exitStore, fmt.Errorf("writing --env-file: %w", err))
				}
			}
			fmt.Fprint(a.stdout, b.String())
			fmt.Fprintf(a.stderr, "lrokit fake: serving (each operation: %d running polls, then %s); Ctrl-C stops\n", s.polls, s.outcome)
			<-cmd.Context().Done()
			fmt.Fprintln(a.stderr, "lrokit fake: stopped; tokens that point at these fakes cannot be resumed any more")
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&s.polls, "polls", 3, `how many polls each operation answers "running" before it ends`)
	f.StringVar(&s.outcome, "outcome", "succeeded", "how each operation ends: succeeded, failed or canceled")
	f.StringVar(&envFile, "env-file", "", "also write the shell variables to this file (once the fakes listen), for . ./FILE")
	return cmd
}

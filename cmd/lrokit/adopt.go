package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/lrokit/lrokit/aws"
	"github.com/lrokit/lrokit/gcp"
)

// group returns a command that only holds subcommands.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: cobra.ArbitraryArgs, RunE: groupRun}
	c.AddCommand(subs...)
	return c
}

func (a *app) gcpCmd() *cobra.Command {
	var s started
	var name, endpoint, service string
	adopt := &cobra.Command{
		Use:   "adopt",
		Short: "Adopt a Google operation by name and print its token",
		Long: `adopt takes an operation started elsewhere (gcloud, Terraform, a client library)
by its name and prints a token for it. An operation is served by the API that
created it, not by a generic operations host: give --endpoint HOST:PORT
(e.g. container.googleapis.com:443, us-central1-aiplatform.googleapis.com:443)
or --service NAME (expanded to NAME.googleapis.com:443). The token remembers it.

` + exitCodesHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := s.check(); err != nil {
				return err
			}
			if name == "" {
				return usageErr("--name is required (e.g. projects/P/locations/L/operations/ID)")
			}
			if service != "" && endpoint != "" {
				return usageErr("give --endpoint or --service, not both")
			}
			if service != "" {
				endpoint = service + ".googleapis.com:443"
			}
			ctx := cmd.Context()
			client, err := s.au.gcpClient(ctx, endpoint)
			if err != nil {
				return err
			}
			defer client.Close()
			p, err := gcp.FromName[*anypb.Any](name, client, &gcp.Options{Options: s.options(ctx), Endpoint: endpoint})
			if err != nil {
				return withCode(exitUsage, err)
			}
			return a.finishPoller(ctx, &s, p)
		},
	}
	adopt.Flags().StringVar(&name, "name", "", "the operation's name")
	adopt.Flags().StringVar(&endpoint, "endpoint", "", "the API endpoint serving the operation, HOST:PORT")
	adopt.Flags().StringVar(&service, "service", "", "the API's short name, e.g. container, run, aiplatform")
	s.register(adopt, googleSkips...)
	return group("gcp", "Google Cloud operations (google.longrunning and Compute-style)", adopt, a.computeCmd())
}

func (a *app) computeCmd() *cobra.Command {
	var s started
	var project, zone, region, name, endpoint string
	var global bool
	adopt := &cobra.Command{
		Use:   "adopt",
		Short: "Adopt a Compute Engine operation and print its token",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := s.check(); err != nil {
				return err
			}
			scopes := 0
			scope := "global"
			if zone != "" {
				scopes++
				scope = "zones/" + zone
			}
			if region != "" {
				scopes++
				scope = "regions/" + region
			}
			if global {
				scopes++
			}
			if project == "" || name == "" || scopes != 1 {
				return usageErr("give --project, --name and exactly one of --zone, --region, --global")
			}
			ctx := cmd.Context()
			svc, err := s.au.computeService(ctx, endpoint)
			if err != nil {
				return err
			}
			p, err := gcp.AdoptCompute(project, scope, name, svc, &gcp.Options{Options: s.options(ctx), Endpoint: endpoint})
			if err != nil {
				return withCode(exitUsage, err)
			}
			return a.finishPoller(ctx, &s, p)
		},
	}
	f := adopt.Flags()
	f.StringVar(&project, "project", "", "the project")
	f.StringVar(&zone, "zone", "", "a zonal operation's zone")
	f.StringVar(&region, "region", "", "a regional operation's region")
	f.BoolVar(&global, "global", false, "a global operation")
	f.StringVar(&name, "name", "", "the operation's name")
	f.StringVar(&endpoint, "endpoint", "", "the Compute API base URL (default the public one)")
	s.register(adopt, computeSkips...)
	return group("compute", "Compute Engine operations", adopt)
}

func (a *app) awsCmd() *cobra.Command {
	var s started
	var waiter, input, region string
	adopt := &cobra.Command{
		Use:   "adopt",
		Short: "Adopt an AWS resource with a named waiter and print its token",
		Long: `adopt starts a resumable wait with one of the registered waiters (see
"lrokit waiters") on the resource --input names, e.g.
  lrokit aws adopt --waiter cloudformation.StackCreateComplete --input '{"StackName":"app"}'
The waiter keeps AWS's own success and failure rules.

` + exitCodesHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := s.check(); err != nil {
				return err
			}
			if waiter == "" {
				return usageErr("--waiter is required (see lrokit waiters)")
			}
			w, ok := aws.Lookup(waiter)
			if !ok {
				return usageErr("unknown waiter %q (see lrokit waiters)", waiter)
			}
			in := reflect.New(w.InputType().Elem()).Interface()
			dec := json.NewDecoder(strings.NewReader(input))
			dec.DisallowUnknownFields()
			if err := dec.Decode(in); err != nil || !strings.HasPrefix(strings.TrimSpace(input), "{") {
				return usageErr(`--input must be %s as a JSON object, e.g. '{"StackName":"app"}': %v`, w.InputType().Elem().Name(), err)
			}
			ctx := cmd.Context()
			cfg, err := s.au.awsConfig(ctx, region)
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("aws config: %w", err))
			}
			p, err := aws.NewPoller[any](cfg, waiter, in, &aws.Options{Options: s.options(ctx), BaseEndpoint: s.au.awsEndpoint})
			if err != nil {
				return withCode(exitUsage, err)
			}
			return a.finishPoller(ctx, &s, p)
		},
	}
	f := adopt.Flags()
	f.StringVar(&waiter, "waiter", "", "the waiter, service.Name (see lrokit waiters)")
	f.StringVar(&input, "input", "", "the describe call's input as JSON")
	f.StringVar(&region, "region", "", "the region (default from the AWS config chain)")
	s.register(adopt, awsSkips...)
	return group("aws", "AWS resources through the SDK's waiter rules", adopt)
}

func (a *app) waitersCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "waiters",
		Short: "List the AWS waiters lrokit knows",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, n := range aws.Waiters() {
				w, _ := aws.Lookup(n)
				lo, hi := w.Delays()
				cancel := ""
				if w.Cancelable() {
					cancel = "  cancelable"
				}
				fmt.Fprintf(a.stdout, "%-45s %s..%s%s\n", n, lo, hi, cancel)
			}
			return nil
		},
	}
}

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/push"
	"github.com/lrokit/lrokit/resume"
)

func (a *app) fleetCmd() *cobra.Command {
	return group("fleet", "Watch many operations from a shared store, across worker processes",
		a.fleetRunCmd(), a.fleetAddCmd(), a.fleetLsCmd())
}

// resolver adapts resume.Any to the fleet engine, with clients built from
// the auth flags for each token's provider.
func (a *app) resolver(au *auth) fleet.Resolver {
	au = a.withHooks(au)
	return func(ctx context.Context, token string, opts *poller.Options) (fleet.Op, error) {
		c, err := au.clients(ctx, token, *opts)
		if err != nil {
			return fleet.Op{}, err
		}
		p, err := resume.Any(ctx, token, c)
		if err != nil {
			return fleet.Op{}, err
		}
		return fleet.Op{Poller: p, Host: p.Host(), Kind: p.Type()}, nil
	}
}

func (a *app) fleetRunCmd() *cobra.Command {
	var (
		dsn, owner string
		workers    int
		untilDone  bool
		au         auth
		w          waitFlags
		hdr        headerFlags
		sizing     fleetSizing
		listen     string
		signals    fleet.SignalOptions
	)
	cmd := &cobra.Command{
		Use:   "run --store DSN",
		Short: "Run a fleet worker: poll every unfinished operation in the store",
		Long: `run polls every unfinished operation in the store — one scheduler, a bounded
worker pool, per-host rate limits that back off when a host throttles —
saving each poll's token before the next. Several workers may share one
PostgreSQL store: each leases a share of the operations, and takes over those
of a worker that died once its lease expires. SIGTERM or Ctrl-C finishes the
polls in flight, saves them and releases the leases.

Each operation's end is printed on stdout as one JSON line.
` + tokenAuthHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dsn == "" {
				return usageErr("--store is required")
			}
			if _, err := parseRetryBudget(w.retryBudget); err != nil {
				return err
			}
			if err := a.prepare(&au, &hdr); err != nil {
				return err
			}
			limits, err := sizing.check()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := openStore(ctx, dsn)
			if err != nil {
				return err
			}
			defer closeStore(st)
			level := slog.LevelWarn
			switch {
			case a.debug:
				level = slog.LevelDebug
			case a.verbose:
				level = slog.LevelInfo
			}
			var mu sync.Mutex
			eng, err := fleet.New(st, a.resolver(&au), &fleet.Options{
				Owner: owner, Workers: workers, ExitWhenDone: untilDone, SealKey: sealKey(), SealKeys: olderSealKeys(), Clock: a.clock,
				Policy: w.options(ctx).Policy, Signals: signals,
				LeaseTTL: sizing.leaseTTL, ClaimBatch: sizing.claimBatch, Capacity: sizing.capacity, Limits: limits,
				Logger:         slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: redactAttr})),
				TracerProvider: withTelemetry(ctx, poller.Options{}).TracerProvider,
				OnEvent: func(ev fleet.Event) {
					if ev.Kind != fleet.EventDone {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					_ = writeJSON(a.stdout, fleetEvent(ev))
				},
			})
			if err != nil {
				return withCode(exitUsage, err)
			}
			if listen != "" {
				stop, err := listenPush(ctx, listen, eng)
				if err != nil {
					return withCode(exitUsage, err)
				}
				defer stop()
			}
			if err := eng.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return withCode(exitPollError, err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dsn, "store", "", `the shared store: a directory, "file:///dir" or "postgres://..."`)
	f.StringVar(&owner, "owner", "", "this worker's name in leases (default host-pid-random)")
	f.IntVar(&workers, "workers", 32, "polls in flight at most")
	sizing.register(f)
	f.BoolVar(&untilDone, "until-done", false, "exit once no unfinished operation is left")
	f.DurationVar(&w.floor, "poll-floor", 0, "shortest delay between polls (default 2s; Azure 1s; an AWS waiter's own minimum)")
	f.DurationVar(&w.cap, "poll-cap", 0, "longest delay the schedule picks without a server hint (default 60s)")
	f.StringVar(&w.retryBudget, "retry-budget", "unlimited", retryBudgetHelp)
	f.StringVar(&listen, "listen", "", "receive push notifications on ADDR (host:port) as hints to poll sooner; secrets from $"+envPushToken+", $"+envPushHMACKey+" (docs/push.md)")
	f.DurationVar(&signals.Grace, "push-grace", 0, "how late a notification may come after a poll found its operation finished: your source's p99 delivery delay (default 1m; docs/push.md)")
	f.DurationVar(&signals.Settled, "push-settled", 0, "delay between polls without a notification once the source delivers reliably (default 15m; negative: never settle)")
	au.register(f)
	hdr.register(f)
	return cmd
}

// Environment variables holding the push receiver's secrets (never flags,
// which other users can read in the process list).
const (
	envPushToken   = "LROKIT_PUSH_TOKEN"
	envPushHMACKey = "LROKIT_PUSH_HMAC_KEY"
)

// listenPush serves push notifications on addr for eng until ctx ends or
// stop is called.
func listenPush(ctx context.Context, addr string, eng *fleet.Engine) (stop func(), err error) {
	rc, err := push.NewReceiver(eng, &push.Options{Auth: push.Auth{
		PathToken: os.Getenv(envPushToken), HMACKey: []byte(os.Getenv(envPushHMACKey)),
	}})
	if err != nil {
		return nil, fmt.Errorf("--listen needs $%s or $%s: %w", envPushToken, envPushHMACKey, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	srv := &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	go func() { _ = rc.Run(ctx) }()
	go func() { _ = srv.Serve(ln) }()
	return func() {
		cancel()
		sctx, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = srv.Shutdown(sctx)
	}, nil
}

type fleetEventJSON struct {
	Key     string        `json:"key"`
	Status  poller.Status `json:"status"`
	Detail  string        `json:"detail,omitempty"`
	Kind    string        `json:"kind,omitempty"`
	Polls   int           `json:"polls"`
	Elapsed string        `json:"elapsed"`
	Error   *errorJSON    `json:"error,omitempty"`
}

func fleetEvent(ev fleet.Event) fleetEventJSON {
	out := fleetEventJSON{Key: ev.Key, Status: ev.Obs.Status, Detail: ev.Obs.Detail, Kind: ev.OpKind, Polls: ev.Polls,
		Elapsed: ev.Elapsed.Round(time.Second).String()}
	if ev.Err != nil {
		out.Error = errJSON(ev.Err)
	} else {
		out.Error = errJSON(ev.Obs.Err)
	}
	return out
}

func (a *app) fleetAddCmd() *cobra.Command {
	var dsn, key, token, file string
	var labels []string
	cmd := &cobra.Command{
		Use:   "add --store DSN --key KEY (--token STRING | --token-file PATH)",
		Short: "Hand an operation's token to the fleet",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dsn == "" || key == "" {
				return usageErr("--store and --key are required")
			}
			src := tokenSource{token: token, file: file}
			if err := src.check(true); err != nil {
				return err
			}
			out := output{labels: labels}
			if err := out.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			tok, err := src.load(ctx, a.stdin)
			if err != nil {
				return err
			}
			st, err := openStore(ctx, dsn)
			if err != nil {
				return err
			}
			defer closeStore(st)
			if _, err := fleet.Add(ctx, st, key, strings.TrimSpace(tok), out.labelMap(), sealKey(), olderSealKeys()...); err != nil {
				if errors.Is(err, persist.ErrConflict) {
					return usageErr("key %q is already in the store", key)
				}
				return withCode(exitUsage, err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dsn, "store", "", "the fleet's store")
	f.StringVar(&key, "key", "", "the operation's key, e.g. deploy/prod/aks")
	f.StringVar(&token, "token", "", "the resume token")
	f.StringVar(&file, "token-file", "", `a file holding the token ("-" for stdin)`)
	f.StringArrayVar(&labels, "label", nil, "a label k=v (repeatable)")
	return cmd
}

func (a *app) fleetLsCmd() *cobra.Command {
	var dsn, prefix, status string
	var out outputFormat
	cmd := &cobra.Command{
		Use:   "ls --store DSN",
		Short: "List the fleet's operations",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dsn == "" {
				return usageErr("--store is required")
			}
			if err := out.check(); err != nil {
				return err
			}
			f := persist.Filter{Prefix: prefix}
			if status != "" {
				s, ok := poller.ParseStatus(status)
				if !ok {
					return usageErr("--status must be NotStarted, Running, Succeeded, Failed or Canceled")
				}
				f.Status = []poller.Status{s}
			}
			ctx := cmd.Context()
			st, err := openStore(ctx, dsn)
			if err != nil {
				return err
			}
			defer closeStore(st)
			recs, err := fleet.List(ctx, st, f)
			if err != nil {
				return withCode(exitPollError, err)
			}
			rows := make([]fleetRecordJSON, 0, len(recs))
			for _, r := range recs {
				row := fleetRecordJSON{Key: r.Key, Provider: r.Provider, Status: r.Status, Detail: r.Detail,
					Lease: r.Lease.Owner, Labels: r.Labels, Updated: r.Updated.UTC()}
				if in, ok, _ := persist.IntentOf(r); ok {
					// A begin that never recorded its token: only that
					// begin, run again, can tell whether it started.
					row.Intent = intentLine(in)
				}
				rows = append(rows, row)
			}
			return out.write(a.stdout, rows, false, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "KEY\tPROVIDER\tSTATUS\tDETAIL\tLEASE\tUPDATED")
				for _, r := range rows {
					lease := cmp.Or(r.Lease, "-")
					detail := r.Detail
					if in := r.Intent; in != nil {
						detail = fmt.Sprintf("INTENT, no token: %s %s at %s (rerun its begin)", in.Method, in.Target, in.Created.Format(time.RFC3339))
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Key, r.Provider, r.Status, detail, lease, r.Updated.Format(time.RFC3339))
				}
			})
		},
	}
	f := cmd.Flags()
	out.register(f, "table", "json is an array of records")
	f.StringVar(&dsn, "store", "", "the fleet's store")
	f.StringVar(&prefix, "prefix", "", "only keys with this prefix")
	f.StringVar(&status, "status", "", "only operations with this status")
	return cmd
}

// redactAttr hides capability URLs in log lines (query values other than
// api-version, user info).
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); strings.Contains(s, "://") {
			a.Value = slog.StringValue(redactText(s))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(redactText(err.Error()))
		}
	}
	return a
}

// fleetRecordJSON is one operation as fleet ls -o json|yaml shows it.
type fleetRecordJSON struct {
	Key      string            `json:"key"`
	Provider string            `json:"provider,omitempty"`
	Status   poller.Status     `json:"status,omitempty"`
	Detail   string            `json:"detail,omitempty"`
	Lease    string            `json:"lease,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Updated  time.Time         `json:"updated"`
	Intent   *intentJSON       `json:"intent,omitempty"`
}

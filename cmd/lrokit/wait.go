package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/resume"
)

// opener resumes a token into a poller; tests and the demo replace it.
type opener func(ctx context.Context, token string) (*resume.Poller, error)

// resumer returns the opener for the given auth flags.
func (a *app) resumer(au *auth, popts poller.Options) opener {
	popts.Clock = a.clock
	if popts.Logger == nil {
		popts.Logger = a.pollLogger()
	}
	au = a.withHooks(au)
	return func(ctx context.Context, token string) (*resume.Poller, error) {
		o := withTelemetry(ctx, popts)
		o.TraceOrigin = popts.TraceOrigin // a resumed wait links to the token's origin only
		c, err := au.clients(ctx, token, o)
		if err != nil {
			return nil, err
		}
		return resume.Any(ctx, token, c)
	}
}

// open checks the token source, reads the token and resumes it.
func (a *app) open(ctx context.Context, src *tokenSource, au *auth, popts poller.Options) (*resume.Poller, error) {
	if err := src.check(true); err != nil {
		return nil, err
	}
	token, err := src.load(ctx, a.stdin)
	if err != nil {
		return nil, err
	}
	if persist.IsIntent(token) {
		return nil, intentNotToken(token, src.describe())
	}
	return a.resumer(au, popts)(ctx, token)
}

func (a *app) statusCmd() *cobra.Command {
	var src tokenSource
	var au auth
	var hdr headerFlags
	var out outputFormat
	cmd := &cobra.Command{
		Use:   "status TOKEN-SOURCE",
		Short: "Poll once and print the state as one JSON line (or -o table, yaml)",
		Long:  "status polls once and prints the state as one JSON line (-o table or yaml for people).\n" + tokenAuthHelp,
		Args:  tokenSourceArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := src.fromArgs(args); err != nil {
				return err
			}
			if err := out.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			if err := a.prepare(&au, &hdr); err != nil {
				return err
			}
			p, err := a.open(ctx, &src, &au, sealOptions())
			var ee *exitError
			if errors.As(err, &ee) && ee.code == exitMayExist {
				// An intent: say what is known, as the line a token gets.
				token, _ := src.load(ctx, a.stdin)
				if in, derr := persist.DecodeIntent(token); derr == nil {
					_ = out.write(a.stdout, statusJSON{Provider: in.Provider, Kind: "intent", Status: poller.StatusNotStarted,
						Detail: "intent recorded, no token: the begin did not finish", Intent: intentLine(in)}, true, nil)
				}
			}
			if err != nil {
				return err
			}
			obs, err := p.Poll(ctx)
			if err != nil {
				return withCode(exitPollError, err)
			}
			if err := a.saveToken(ctx, &src, p); err != nil {
				return err
			}
			line := statusLine(p, obs)
			return out.write(a.stdout, line, true, line.table)
		},
	}
	src.register(cmd.Flags())
	au.register(cmd.Flags())
	hdr.register(cmd.Flags())
	out.register(cmd.Flags(), "json", "json is one line")
	return cmd
}

// statusJSON is the one-line state `status` prints.
type statusJSON struct {
	Provider string        `json:"provider"`
	Kind     string        `json:"kind"`
	Status   poller.Status `json:"status"`
	Detail   string        `json:"detail,omitempty"`
	Progress *float64      `json:"progress,omitempty"`
	Polls    int           `json:"polls"`
	NextPoll *time.Time    `json:"next_poll,omitempty"`
	Error    *errorJSON    `json:"error,omitempty"`
	Intent   *intentJSON   `json:"intent,omitempty"`
}

// intentJSON shows an intent that never got a token.
type intentJSON struct {
	Method         string    `json:"method,omitempty"`
	Target         string    `json:"target"`
	Created        time.Time `json:"created"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
}

func intentLine(in persist.Intent) *intentJSON {
	return &intentJSON{Method: in.Method, Target: in.Target, Created: in.Created.UTC(), IdempotencyKey: in.IdempotencyKey}
}

type errorJSON struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

func statusLine(p *resume.Poller, obs poller.Observation) statusJSON {
	s := statusJSON{Provider: p.Provider, Kind: p.Kind, Status: obs.Status, Detail: obs.Detail, Polls: p.Polls()}
	if obs.Progress >= 0 {
		pr := obs.Progress
		s.Progress = &pr
	}
	if !obs.Status.Terminal() {
		n := p.NextPollAt().UTC()
		s.NextPoll = &n
	}
	s.Error = errJSON(obs.Err)
	return s
}

func errJSON(err error) *errorJSON {
	if err == nil {
		return nil
	}
	var oe *poller.OperationError
	if errors.As(err, &oe) {
		msg := oe.Message
		if msg == "" {
			msg = oe.Error()
		}
		return &errorJSON{Code: oe.Code, Message: oneLine(msg)}
	}
	return &errorJSON{Message: oneLine(err.Error())}
}

func (a *app) waitCmd() *cobra.Command {
	var src tokenSource
	var au auth
	var hdr headerFlags
	var w waitFlags
	cmd := &cobra.Command{
		Use:   "wait TOKEN-SOURCE",
		Short: "Poll until the operation finishes; print the result as JSON",
		Long: `wait polls until the operation reaches a terminal state and prints
{"status":..., "detail":..., "result":...} on stdout. With --token-file or
--store it writes the updated token back after every poll, so a wait that is
killed, interrupted or timed out continues where it was when run again.
` + tokenAuthHelp + `

` + exitCodesHelp,
		Args: tokenSourceArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := src.fromArgs(args); err != nil {
				return err
			}
			if err := w.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			if err := a.prepare(&au, &hdr); err != nil {
				return err
			}
			if err := src.check(true); err != nil {
				return err
			}
			token, err := src.load(ctx, a.stdin)
			if err != nil {
				return err
			}
			if persist.IsIntent(token) {
				return intentNotToken(token, src.describe())
			}
			if done, err := a.finishedToken(token, w.noResult); done {
				return err
			}
			p, err := a.resumer(&au, w.options(ctx))(ctx, token)
			if err != nil {
				return err
			}
			return a.wait(ctx, p, &src, w)
		},
	}
	src.register(cmd.Flags())
	au.register(cmd.Flags())
	hdr.register(cmd.Flags())
	w.register(cmd)
	return cmd
}

type waitFlags struct {
	timeout     time.Duration
	progress    string
	floor, cap  time.Duration
	retryBudget string
	// noResult answers from the token when it records the end, and lets a
	// succeeded wait end 0 without its result.
	noResult bool
}

// retryBudgetHelp documents --retry-budget, shared by wait and fleet run.
const retryBudgetHelp = `consecutive transient poll errors (outages, 429s, 5xx) tolerated before giving up (exit 5):
a number, or "unlimited" (as in the fleet; --timeout bounds the wait instead)`

// parseRetryBudget reads --retry-budget: "unlimited" or a positive count.
func parseRetryBudget(s string) (int, error) {
	if s == "" || s == "unlimited" {
		return fleet.DefaultRetryBudget, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, usageErr("--retry-budget must be a positive number or \"unlimited\", not %q", s)
	}
	return n, nil
}

func (w *waitFlags) register(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&w.timeout, "timeout", 0, "stop waiting after this long (exit 4, token saved); 0 waits until done")
	cmd.Flags().StringVar(&w.progress, "progress", "auto", "progress on stderr: auto, bar, plain or json")
	cmd.Flags().DurationVar(&w.floor, "poll-floor", 0, "shortest delay between polls (default 2s; Azure 1s; an AWS waiter's own minimum)")
	cmd.Flags().DurationVar(&w.cap, "poll-cap", 0, "longest delay the schedule picks without a server hint (default 60s)")
	cmd.Flags().StringVar(&w.retryBudget, "retry-budget", "unlimited", retryBudgetHelp)
	cmd.Flags().BoolVar(&w.noResult, "no-result", false, `only the outcome matters: a token that records the end is answered from the token
without the network, and a succeeded operation whose result cannot be fetched exits 0`)
}

// options are the poller options the flags ask for, with the seal keys
// and the command's telemetry (telemetry.go).
func (w *waitFlags) options(ctx context.Context) poller.Options {
	budget, _ := parseRetryBudget(w.retryBudget) // checked by check
	o := sealOptions()
	o.Policy = poller.Policy{Floor: w.floor, Cap: w.cap, RetryBudget: budget}
	return withTelemetry(ctx, o)
}

func (w *waitFlags) check() error {
	if w.floor < 0 || w.cap < 0 || w.timeout < 0 {
		return usageErr("--timeout, --poll-floor and --poll-cap must not be negative")
	}
	if _, err := parseRetryBudget(w.retryBudget); err != nil {
		return err
	}
	switch w.progress {
	case "auto", "bar", "plain", "json":
		return nil
	}
	return usageErr("--progress must be auto, bar, plain or json, not %q", w.progress)
}

// resultJSON is what wait prints on stdout when the wait ends.
type resultJSON struct {
	Status poller.Status   `json:"status"`
	Detail string          `json:"detail,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *errorJSON      `json:"error,omitempty"`
	// Token is the fresh token when it was not saved: --token, or a save
	// that failed.
	Token string `json:"token,omitempty"`
	// Outcome explains the end of the wait (see poller.Outcome).
	Outcome *poller.Outcome `json:"outcome,omitempty"`
	// Ended says why no wait ran or no result came: "from_token" (the
	// token had already finished) or "result_unavailable".
	Ended string `json:"ended,omitempty"`
	// The hand-off of a wait that stopped first (exit 4): run wait again
	// to continue the same schedule.
	Handoff          string     `json:"handoff,omitempty"` // "still_running"
	Polls            int        `json:"polls,omitempty"`
	ElapsedSeconds   float64    `json:"elapsed_seconds,omitempty"`
	NextPoll         *time.Time `json:"next_poll,omitempty"`
	RemainingSeconds float64    `json:"estimated_remaining_seconds,omitempty"`
	// TokenStale says the token on disk is older than this output: saving
	// it failed (exit 6).
	TokenStale bool `json:"token_stale,omitempty"`
}

// wait runs the wait loop, saving the token after every poll, and prints
// the final JSON.
func (a *app) wait(ctx context.Context, p *resume.Poller, src *tokenSource, w waitFlags) error {
	if w.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.timeout)
		defer cancel()
	}
	prog := a.newProgress(w.progress, p)
	defer prog.close()

	save, closeSave, err := a.tokenSaver(ctx, src, p)
	if err != nil {
		return err
	}
	defer closeSave()

	learned := learnedFor(ctx, src, p)
	stallAfter := 30 * time.Minute
	if learned != nil && learned.P95 > 0 {
		stallAfter = 0 // twice the learned p95
	}
	res, werr := p.Wait(ctx, &poller.WaitOptions{
		Logger:     a.waitLogger(w.progress),
		Learned:    learned,
		OnProgress: prog.update,
		OnPoll: func(obs poller.Observation) {
			if err := save(); err != nil {
				fmt.Fprintln(a.stderr, "lrokit: saving the token (the wait goes on; it exits 6 unless a later save works):", oneLine(err.Error()))
			}
		},
		OnRetry: func(pe *poller.PollError, at time.Time) {
			prog.retry(pe, at, w.options(ctx).Policy.RetryBudget)
		},
		OnStall: func(obs poller.Observation, d time.Duration) {
			prog.note(fmt.Sprintf("no change for %s (still %s)", d.Round(time.Second), obs.Status))
		},
		StallAfter: stallAfter,
	})
	prog.close()
	last := p.Last()
	out := resultJSON{Status: last.Status, Detail: last.Detail}
	var we *poller.WaitError
	switch {
	case werr == nil:
		out.Result = res
	case errors.As(werr, &we):
		// Interrupted or timed out: a hand-off. The token is saved for the
		// next run, which continues the same schedule.
		var saveErr error
		if src.writable() {
			saveErr = a.saveRaw(context.WithoutCancel(ctx), src, we.Token, p)
		}
		if !src.writable() || saveErr != nil {
			out.Token = we.Token
		}
		if out.Status == "" {
			out.Status = poller.StatusRunning
		}
		if we.StillRunning() {
			out.Handoff = "still_running"
		}
		out.Polls, out.ElapsedSeconds = we.Polls, we.Elapsed.Seconds()
		out.RemainingSeconds = we.Remaining.Seconds()
		if !we.NextPoll.IsZero() {
			n := we.NextPoll.UTC()
			out.NextPoll = &n
		}
		out.Error = &errorJSON{Message: oneLine(we.Error())}
		if saveErr != nil {
			return a.staleToken(out, src, werr, saveErr)
		}
	case last.Status == poller.StatusSucceeded && w.noResult:
		werr = nil // the outcome is all that was asked for
	case last.Status == poller.StatusSucceeded:
		werr = resultUnavailable(&out, werr)
		out.Error = &errorJSON{Message: oneLine(werr.Error())}
	default:
		out.Error = errJSON(werr)
	}
	if o, ok := poller.OutcomeOf(werr); ok {
		out.Outcome = &o
	} else if werr == nil {
		o := p.Outcome()
		o.Reason = poller.ReasonTerminal
		out.Outcome = &o
	}
	if err := save(); err != nil {
		if tok, terr := p.ResumeToken(); terr == nil {
			out.Token = tok
		}
		return a.staleToken(out, src, werr, err)
	}
	if err := writeJSON(a.stdout, out); err != nil {
		return err
	}
	return werr
}

// staleToken ends a wait whose token could not be saved: the output carries
// the fresh token, and the exit code (6) says the one on disk is stale
// whatever the operation's state; the message gives that state.
func (a *app) staleToken(out resultJSON, src *tokenSource, werr, saveErr error) error {
	out.TokenStale = true
	if err := writeJSON(a.stdout, out); err != nil {
		return err
	}
	state := string(out.Status)
	if out.Detail != "" {
		state += " (" + out.Detail + ")"
	}
	msg := fmt.Sprintf("the operation is %s, but the token in %s is stale: saving it failed", state, src.describe())
	if werr != nil {
		msg += fmt.Sprintf(" (the wait ended: %v)", oneLine(werr.Error()))
	}
	return withCode(exitStore, fmt.Errorf("%s; the fresh token is in the output's \"token\": %w", msg, saveErr))
}

// tokenSaver returns a function that writes the poller's current token back
// to where it came from (nothing for --token).
func (a *app) tokenSaver(ctx context.Context, src *tokenSource, p *resume.Poller) (func() error, func(), error) {
	switch {
	case src.store != "":
		st, err := openStore(ctx, src.store)
		if err != nil {
			return nil, nil, err
		}
		tr, err := persist.Track(context.WithoutCancel(ctx), st, src.key, p, nil)
		if err != nil {
			closeStore(st)
			return nil, nil, fmt.Errorf("saving the token to the store: %w", err)
		}
		return func() error { return tr.Save(context.WithoutCancel(ctx)) }, func() { closeStore(st) }, nil
	case src.file != "" && src.file != "-":
		return func() error {
			tok, err := p.ResumeToken()
			if err != nil {
				return err
			}
			return src.saveFile(tok)
		}, func() {}, nil
	}
	return func() error { return nil }, func() {}, nil
}

// saveToken writes p's token back to src after a single poll.
func (a *app) saveToken(ctx context.Context, src *tokenSource, p *resume.Poller) error {
	save, done, err := a.tokenSaver(ctx, src, p)
	if err != nil {
		return err
	}
	defer done()
	return save()
}

// saveRaw writes a given token (a WaitError's) back to src.
func (a *app) saveRaw(ctx context.Context, src *tokenSource, token string, p *resume.Poller) error {
	switch {
	case src.store != "":
		st, err := openStore(ctx, src.store)
		if err != nil {
			return err
		}
		defer closeStore(st)
		r, err := st.Get(ctx, src.key)
		if err != nil {
			return err
		}
		r.Token, r.Status, r.Detail = token, p.Last().Status, p.Last().Detail
		_, err = st.Put(ctx, r)
		return err
	case src.file != "" && src.file != "-":
		return src.saveFile(token)
	}
	return nil
}

func (a *app) cancelCmd() *cobra.Command {
	var src tokenSource
	var au auth
	var hdr headerFlags
	cmd := &cobra.Command{
		Use:   "cancel TOKEN-SOURCE",
		Short: "Ask the provider to cancel the operation",
		Long: `cancel asks the provider to cancel the operation; cancellation is a request,
so follow it with "lrokit wait" to learn the outcome. Operations the provider
cannot cancel give exit 5 with a message saying so.
` + tokenAuthHelp,
		Args: tokenSourceArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := src.fromArgs(args); err != nil {
				return err
			}
			ctx := cmd.Context()
			if err := a.prepare(&au, &hdr); err != nil {
				return err
			}
			p, err := a.open(ctx, &src, &au, sealOptions())
			if err != nil {
				return err
			}
			if err := p.Cancel(ctx); err != nil {
				return withCode(exitPollError, err)
			}
			if err := a.saveToken(ctx, &src, p); err != nil {
				return err
			}
			fmt.Fprintln(a.stderr, "lrokit: cancellation requested; run lrokit wait to learn the outcome")
			return nil
		},
	}
	src.register(cmd.Flags())
	au.register(cmd.Flags())
	hdr.register(cmd.Flags())
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// jsonField returns a string field of a JSON object, or "".
func jsonField(obj json.RawMessage, name string) string {
	var m map[string]any
	if json.Unmarshal(obj, &m) != nil {
		return ""
	}
	s, _ := m[name].(string)
	return s
}

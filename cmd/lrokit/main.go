package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/spf13/cobra"

	"github.com/lrokit/lrokit/internal/trust"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// Exit codes, documented in --help and the README.
const (
	exitOK          = 0 // the operation succeeded (or the command did its job)
	exitFailed      = 1 // the operation failed
	exitUsage       = 2 // usage error or invalid token
	exitCanceled    = 3 // the operation was canceled
	exitInterrupted = 4 // timed out or interrupted; the token was saved
	exitPollError   = 5 // the state could not be learned (permanent error)
	exitStore       = 6 // the token store or file could not be opened, read or written
	exitMayExist    = 7 // an earlier begin may have started the operation: check it
)

const exitCodesHelp = `Exit codes:
  0  the operation succeeded (or the command did its job)
  1  the operation failed
  2  usage error or invalid token
  3  the operation was canceled
  4  timed out or interrupted; still running, the updated token was saved
     (run wait again to continue the same schedule)
  5  could not poll (a permanent error, or the retry budget spent), or the
     operation succeeded but its result could not be fetched
  6  the token store or file could not be opened, read or written: begin
     sent nothing; wait's token on disk is stale (the fresh one is printed)
  7  an earlier begin recorded its intent but no token, and sending again is
     not safe: check whether the operation exists (the message says where)`

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var ee *exitError
	var oe *poller.OperationError
	var we *poller.WaitError
	var pe *poller.PollError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, persist.ErrMayExist):
		return exitMayExist
	case errors.As(err, &oe):
		if oe.Status == poller.StatusCanceled {
			return exitCanceled
		}
		return exitFailed
	case errors.As(err, &we), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return exitInterrupted
	case errors.Is(err, poller.ErrInvalidToken), errors.Is(err, persist.ErrInvalid),
		errors.Is(err, poller.ErrSealKey), errors.Is(err, trust.ErrUntrusted):
		return exitUsage
	case errors.As(err, &pe):
		return exitPollError
	}
	return exitPollError
}

// app is the command line's environment, replaceable in tests.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// isTerminal reports whether stderr is a terminal (live progress line).
	isTerminal func() bool
	// clock is the pollers' clock; nil means the real one. Tests run the
	// demo in virtual time.
	clock poller.Clock
	// verbose logs one line per request; debug adds the pollers' debug
	// records (--verbose, --debug).
	verbose, debug bool
	// azureCred and transport replace DefaultAzureCredential and the HTTP
	// transport of the clients built for tokens; nil means the real ones.
	// Tests point them at fakes.
	azureCred azcore.TokenCredential
	transport *http.Client
}

// withHooks returns au with the app's test hooks.
func (a *app) withHooks(au *auth) *auth {
	c := *au
	if a.azureCred != nil {
		c.cred = a.azureCred
	}
	if a.transport != nil {
		c.transport = a.transport
	}
	return &c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, isTerminal: stderrIsTerminal}
	code := a.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns its exit code.
func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCmd()
	root.SetArgs(args)
	ctx, end := a.startTelemetry(ctx, args)
	err := root.ExecuteContext(ctx)
	end(err)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(a.stderr, "lrokit:", oneLine(humanError(err)))
	return exitCode(err)
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "lrokit",
		Short: "Wait for long-running cloud operations across CI jobs",
		Long: `lrokit starts or adopts a long-running operation on Azure, Google Cloud, AWS or
any REST API, prints a resume token, and waits on that token — in this job or
a later one, on this machine or another.

Tokens come from one of: --token STRING, --token-file PATH ("-" for stdin),
or --store DSN --key KEY (a directory, "file:///dir", "mem:" or
"postgres://..."). Tokens hold no credentials; each command uses the
cloud's standard credential chain unless --no-auth is given.

A token never decides where credentials go: Azure tokens may use the
Resource Manager endpoint of --cloud and the hosts of --allow-host; REST
tokens the hosts of --allow-host; Google tokens *.googleapis.com or
--gcp-endpoint; AWS tokens the service's own endpoint for their region or
--endpoint-url. A token outside them is refused (exit 2) before any request.

Seal keys: LROKIT_SEAL_KEY (at least 32 bytes) seals tokens when written
and requires sealed tokens when read; LROKIT_SEAL_KEYS holds older keys,
comma-separated, still accepted (rotation). A key is raw bytes,
"base64:..." or "hex:...". Sealed tokens keep credential-bearing URLs
encrypted; unsealed ones refuse them unless --plaintext-secrets.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE:          groupRun,
		Version:       versionString(),
	}
	root.SetVersionTemplate("lrokit {{.Version}}\n")
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "log each request on stderr: method, host, path, status (never query strings or headers)")
	root.PersistentFlags().BoolVar(&a.debug, "debug", false, "--verbose plus the poller's debug records (each poll, its status and the next delay)")
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetIn(a.stdin)
	// A bad seal key is a configuration error, reported before anything
	// else runs (exit 2).
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		_, _, err := sealKeys()
		return err
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	root.AddCommand(
		a.beginCmd("azure"), a.beginCmd("rest"),
		a.gcpCmd(), a.awsCmd(),
		a.statusCmd(), a.waitCmd(), a.cancelCmd(),
		a.tokenCmd(), a.waitersCmd(), a.fleetCmd(), a.demoCmd(), a.fakeCmd(),
	)
	return root
}

// urlInText matches a URL inside a message or log line.
var urlInText = regexp.MustCompile(`https?://[^\s"'<>]+`)

// redactText replaces every URL in s by its redacted form (query values
// other than api-version hidden, user info dropped): capability URLs are
// never printed.
func redactText(s string) string {
	return urlInText.ReplaceAllStringFunc(s, func(m string) string {
		if !strings.ContainsAny(m, "?@#") {
			return m
		}
		return trust.RedactString(m)
	})
}

// oneLine keeps an error message to one line for CI logs, redacted.
func oneLine(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\n' || r == '\r' {
			r = ' '
		}
		out = append(out, r)
	}
	return redactText(string(out))
}

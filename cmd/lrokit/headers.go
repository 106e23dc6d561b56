package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/spf13/pflag"

	"github.com/lrokit/lrokit/internal/trust"
)

// headerFlags are --header and --header-env, on every command that sends
// requests. The headers go with every request of the operation and are
// never written to tokens, logs or messages.
type headerFlags struct {
	raw, env []string
}

func (h *headerFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&h.raw, "header", nil, `a request header "K: V", sent with every request of the operation
(start, polls, final GET, cancel; repeatable); never stored in tokens or printed`)
	fs.StringArrayVar(&h.env, "header-env", nil, `a request header K=ENVVAR: header K with the value of environment variable
ENVVAR, so the secret stays out of the command line (repeatable)`)
}

// build checks the flags and returns the headers. Messages name headers and
// variables, never values.
func (h *headerFlags) build() (http.Header, error) {
	out := http.Header{}
	for _, kv := range h.raw {
		k, v, ok := strings.Cut(kv, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !validHeaderName(k) {
			return nil, usageErr(`--header wants "Name: value" with a header name before the colon`)
		}
		if !validHeaderValue(v) {
			return nil, usageErr("--header %s: the value holds a control character", k)
		}
		out.Add(k, v)
	}
	for _, kv := range h.env {
		k, name, ok := strings.Cut(kv, "=")
		if !ok || !validHeaderName(k) || name == "" {
			return nil, usageErr("--header-env wants NAME=ENVVAR, e.g. Authorization=API_TOKEN")
		}
		v, set := os.LookupEnv(name)
		if !set || v == "" {
			return nil, usageErr("--header-env %s: the environment variable %s is not set", k, name)
		}
		if !validHeaderValue(v) {
			return nil, usageErr("--header-env %s: the value of %s holds a control character", k, name)
		}
		out.Add(k, v)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// validHeaderValue reports whether v is an RFC 9110 §5.5 field value
// without CR, LF or NUL.
func validHeaderValue(v string) bool {
	for _, c := range v {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// sendOpts are what a command adds to every request it sends: the caller's
// headers and, with --verbose, one log line per request.
type sendOpts struct {
	header http.Header
	// reqLog receives one line per request (method, host, path, status; no
	// query, no headers); nil logs nothing.
	reqLog io.Writer
	mu     sync.Mutex
}

// logRequest writes one request line.
func (s *sendOpts) logRequest(req *http.Request, status int, err error, took time.Duration) {
	if s == nil || s.reqLog == nil {
		return
	}
	outcome := fmt.Sprint(status)
	if err != nil {
		outcome = "error: " + oneLine(humanNetError(err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.reqLog, "lrokit: request %s %s%s -> %s (%s)\n", req.Method, req.URL.Host, req.URL.EscapedPath(), outcome, took.Round(time.Millisecond))
}

// restClient is the HTTP client of resumed REST operations. The caller's
// headers go only to the hosts the caller trusts (--allow-host): trust
// comes from the caller, never from the token.
func (s *sendOpts) restClient(hosts []string, base *http.Client) *http.Client {
	if s == nil || (len(s.header) == 0 && s.reqLog == nil) {
		return base
	}
	var rt http.RoundTripper
	if base != nil {
		rt = base.Transport
	}
	anchors, err := trust.New("--allow-host", false, hosts...)
	if err != nil {
		anchors = trust.Anchors{} // the adapter reports the bad pattern
	}
	return &http.Client{Transport: &sendTransport{opts: s, anchors: anchors, base: rt}}
}

// httpClient is an HTTP client that logs each request (--verbose), for
// SDKs that take one (AWS).
func (s *sendOpts) httpClient() *http.Client {
	return &http.Client{Transport: &sendTransport{opts: &sendOpts{reqLog: s.reqLog}}}
}

// sendTransport adds the caller's headers for trusted hosts and logs
// requests.
type sendTransport struct {
	opts    *sendOpts
	anchors trust.Anchors
	base    http.RoundTripper
}

func (t *sendTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if len(t.opts.header) > 0 && t.anchors.Check(req.URL) == nil {
		req = req.Clone(req.Context())
		for k, vs := range t.opts.header {
			req.Header[k] = append([]string(nil), vs...)
		}
	}
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	start := time.Now()
	resp, err := base.RoundTrip(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	t.opts.logRequest(req, status, err, time.Since(start))
	return resp, err
}

// azurePolicies are the pipeline policies for the caller's headers (per
// call) and the request log (per try).
func (s *sendOpts) azurePolicies() (perCall, perRetry []policy.Policy) {
	if s == nil {
		return nil, nil
	}
	if len(s.header) > 0 {
		perCall = append(perCall, headerPolicy(s.header))
	}
	if s.reqLog != nil {
		perRetry = append(perRetry, logPolicy{s})
	}
	return perCall, perRetry
}

// headerPolicy sets the caller's headers on every request of the pipeline;
// the Azure adapter sends only to the caller's trusted hosts.
type headerPolicy http.Header

func (h headerPolicy) Do(req *policy.Request) (*http.Response, error) {
	for k, vs := range h {
		req.Raw().Header[k] = append([]string(nil), vs...)
	}
	return req.Next()
}

type logPolicy struct{ s *sendOpts }

func (l logPolicy) Do(req *policy.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := req.Next()
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	l.s.logRequest(req.Raw(), status, err, time.Since(start))
	return resp, err
}

// headers returns the caller's headers; nil when there are none.
func (s *sendOpts) headers() http.Header {
	if s == nil {
		return nil
	}
	return s.header
}

// prepare checks a command's header flags and sets what its requests carry.
func (a *app) prepare(au *auth, h *headerFlags) error {
	header, err := h.build()
	if err != nil {
		return err
	}
	au.send = &sendOpts{header: header}
	if a.verbose || a.debug {
		au.send.reqLog = a.stderr
	}
	return nil
}

// pollLogger is the pollers' logger: their debug records with --debug,
// nothing otherwise (retries are reported by the progress output).
func (a *app) pollLogger() *slog.Logger {
	if !a.debug {
		return nil
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

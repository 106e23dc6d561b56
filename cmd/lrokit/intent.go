package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/rest"
)

// testHookEnv names the environment variable of the crash tests: at the
// named point a begin says so on stderr and stops until it is killed, so
// that a kill lands exactly there. Nothing else sets it.
const testHookEnv = "LROKIT_TEST_HOOK"

// Points a begin passes, in order, for testHookEnv.
const (
	hookIntentWritten    = "intent-written"    // the intent is durable; nothing sent yet
	hookResponseReceived = "response-received" // the operation exists; no token saved yet
	hookTokenWritten     = "token-written"     // the token replaced the intent
)

func testHook(point string) {
	if os.Getenv(testHookEnv) != point {
		return
	}
	fmt.Fprintf(os.Stderr, "lrokit-test-hook: %s\n", point)
	for {
		time.Sleep(time.Hour)
	}
}

// intent describes the request about to be sent: its URL without the query
// (where signatures travel), and a digest of the whole request by which a
// rerun recognises it. Request headers are never recorded.
func (r *request) intent(provider string, body []byte) persist.Intent {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", provider, strings.ToUpper(r.method), r.url)
	h.Write(body)
	return persist.Intent{
		Provider: provider, Method: strings.ToUpper(r.method), Target: redactedURL(r.url),
		Digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), Created: time.Now(),
		IdempotencyKey: persist.NewIdempotencyKey(),
	}
}

// redactedURL is u without query, fragment and user information.
func redactedURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "the request's URL"
	}
	p.RawQuery, p.ForceQuery, p.Fragment, p.RawFragment, p.User = "", false, "", "", nil
	return p.String()
}

// safeToResend reports whether sending the request a second time cannot
// start a second operation: PUT and DELETE are idempotent (RFC 9110
// §9.2.2), and any method is once the API deduplicates by a key we send.
func safeToResend(method, idemHeader string) bool {
	return method == http.MethodPut || method == http.MethodDelete || idemHeader != ""
}

// sendFunc sends a begin's initial request and makes its poller; retry
// reports that an earlier begin recorded the intent and may have sent it.
type sendFunc func(ctx context.Context, in persist.Intent, retry bool) (*poller.Poller[json.RawMessage], error)

// doFunc sends one request to the begin's URL.
type doFunc func(ctx context.Context, method string, h http.Header, body []byte) (*http.Response, error)

// send sends the initial request (again, on a retry that is safe) and
// returns the operation's poller.
func (a *app) send(ctx context.Context, provider string, r *request, s *started, body []byte, in persist.Intent, retry bool) (*poller.Poller[json.RawMessage], error) {
	method := strings.ToUpper(r.method)
	if retry && !r.replaceIntent && !safeToResend(method, r.idemHeader) {
		return nil, fmt.Errorf("%w: %s %s was recorded at %s and may have been sent; %s without --idempotency-header is not safe to send again. "+
			"Check whether the operation exists; if it does not, run again with --replace-intent",
			persist.ErrMayExist, in.Method, in.Target, in.Created.UTC().Format(time.RFC3339), method)
	}
	if retry {
		why := "idempotent, RFC 9110 §9.2.2"
		switch {
		case r.replaceIntent:
			why = "--replace-intent"
		case r.idemHeader != "":
			why = "same " + r.idemHeader
		}
		fmt.Fprintf(a.stderr, "lrokit: an earlier begin recorded %s %s at %s but no token; sending it again (%s)\n",
			in.Method, in.Target, in.Created.UTC().Format(time.RFC3339), why)
	}
	h := r.header()
	if r.idemHeader != "" {
		h.Set(r.idemHeader, in.IdempotencyKey)
		if strings.EqualFold(r.idemHeader, "Repeatability-Request-ID") {
			// OASIS Repeatable Requests, as the Microsoft REST guidelines use them.
			h.Set("Repeatability-First-Sent", in.Created.UTC().Format(http.TimeFormat))
		}
	}
	if provider == "azure" {
		return a.sendAzure(ctx, r, s, method, h, body, retry)
	}
	return a.sendREST(ctx, r, s, method, h, body, retry)
}

func (a *app) sendAzure(ctx context.Context, r *request, s *started, method string, h http.Header, body []byte, retry bool) (*poller.Poller[json.RawMessage], error) {
	au := a.withHooks(&s.au)
	pl, err := au.azurePipeline()
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	ao, err := au.azureOptions(s.options(ctx))
	if err != nil {
		return nil, err
	}
	do := func(ctx context.Context, method string, h http.Header, body []byte) (*http.Response, error) {
		req, err := runtime.NewRequest(ctx, method, r.url)
		if err != nil {
			return nil, usageErr("building the request: %v", err)
		}
		for k, vs := range h {
			for _, v := range vs {
				req.Raw().Header.Add(k, v)
			}
		}
		if body != nil {
			if err := req.SetBody(streaming.NopCloser(bytes.NewReader(body)), "application/json"); err != nil {
				return nil, usageErr("setting the body: %v", err)
			}
		}
		return pl.Do(req)
	}
	resp, err := sendAndReconcile(ctx, do, method, h, body, retry)
	if err != nil {
		return nil, err
	}
	ao.FinalStateVia = azure.FinalStateVia(r.finalStateVia)
	p, err := azure.NewPoller[json.RawMessage](resp, pl, ao)
	if err != nil {
		return nil, initialError(err)
	}
	return p, nil
}

func (a *app) sendREST(ctx context.Context, r *request, s *started, method string, h http.Header, body []byte, retry bool) (*poller.Poller[json.RawMessage], error) {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if s.au.send != nil && s.au.send.reqLog != nil {
		client.Transport = &sendTransport{opts: &sendOpts{reqLog: s.au.send.reqLog}}
	}
	do := func(ctx context.Context, method string, h http.Header, body []byte) (*http.Response, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, r.url, rd)
		if err != nil {
			return nil, usageErr("building the request: %v", err)
		}
		req.Header = h.Clone()
		if body != nil && req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		return resp, redactURL(err)
	}
	resp, err := sendAndReconcile(ctx, do, method, h, body, retry)
	if err != nil {
		return nil, err
	}
	p, err := rest.NewPoller[json.RawMessage](resp, client, &rest.Options{
		Options: s.options(ctx), FinalStateVia: rest.FinalStateVia(r.finalStateVia), AllowedHosts: s.au.hosts,
		Header: s.au.send.headers(),
	})
	if err != nil {
		return nil, initialError(err)
	}
	return p, nil
}

// sendAndReconcile sends the initial request. On a retry it settles the
// answers that mean the earlier request did arrive: a PUT that conflicts
// with an operation in progress adopts it from the resource's
// provisioningState (ARM), and a DELETE of a resource that is gone has
// finished (RFC 9110 §9.3.5).
func sendAndReconcile(ctx context.Context, do doFunc, method string, h http.Header, body []byte, retry bool) (*http.Response, error) {
	resp, err := do(ctx, method, h, body)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, err
		}
		return nil, withCode(exitPollError, fmt.Errorf("sending the initial request: %w", err))
	}
	testHook(hookResponseReceived)
	if !retry {
		return resp, nil
	}
	switch {
	case method == http.MethodPut && resp.StatusCode == http.StatusConflict:
		drain(resp)
		g, err := do(ctx, http.MethodGet, nil, nil)
		if err != nil {
			return nil, withCode(exitPollError, fmt.Errorf("the re-sent PUT conflicts; reading the resource: %w", err))
		}
		if g.StatusCode != http.StatusOK {
			drain(g)
			return nil, fmt.Errorf("%w: the re-sent PUT conflicts with another operation and the resource cannot be read (HTTP %d): check the resource",
				persist.ErrMayExist, g.StatusCode)
		}
		// The resource's provisioningState is the PUT's state: poll it
		// as the PUT's own response would have had us do.
		g.Request = resp.Request
		return g, nil
	case method == http.MethodDelete && resp.StatusCode == http.StatusNotFound:
		drain(resp)
		resp.StatusCode, resp.Status = http.StatusNoContent, "204 No Content"
		resp.Header = http.Header{}
		resp.Body = http.NoBody
	}
	return resp, nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

// beginDurably records the intent where the token will go, sends, and
// replaces the intent with the token; it returns the token. With neither
// --store nor --token-file it only sends: there is nowhere to record an
// intent first.
func (a *app) beginDurably(ctx context.Context, s *started, in persist.Intent, send sendFunc) (string, error) {
	switch {
	case s.out.store != "":
		return a.beginToStore(ctx, s, in, send)
	case s.out.file != "":
		return a.beginToFile(ctx, s, in, send)
	}
	p, err := send(ctx, in, false)
	if err != nil {
		note := "no intent was recorded (the token goes to stdout; --token-file or --store make begin crash-safe): check " + in.Target
		var ee *exitError
		if errors.As(err, &ee) && ee.code == exitPollError && ctx.Err() == nil {
			// A transport error after the request left says nothing of
			// whether the server acted on it.
			return "", withCode(exitPollError, fmt.Errorf("%w; the request may have reached the server and %s", err, note))
		}
		return "", interrupted(ctx, err, in, note)
	}
	return p.ResumeToken()
}

// interrupted turns a send that Ctrl-C or SIGTERM cut short into exit 4
// with what to do next.
func interrupted(ctx context.Context, err error, in persist.Intent, next string) error {
	if ctx.Err() == nil {
		return err
	}
	return withCode(exitInterrupted, fmt.Errorf("interrupted while sending %s %s: the operation may have started; %s", in.Method, in.Target, next))
}

func (a *app) beginToStore(ctx context.Context, s *started, in persist.Intent, send sendFunc) (string, error) {
	key := s.out.key
	st, err := openStore(ctx, s.out.store)
	if err != nil {
		return "", fmt.Errorf("nothing was sent: %w", err)
	}
	defer closeStore(st)
	var sent *poller.Poller[json.RawMessage]
	tr, err := persist.Begin(ctx, st, key, in, func(ctx context.Context, in persist.Intent, retry bool) (persist.Source, error) {
		testHook(hookIntentWritten)
		p, err := send(ctx, in, retry)
		if err != nil {
			return nil, err
		}
		sent = p
		return p, nil
	}, &persist.TrackOptions{Labels: s.out.labelMap()})
	var ee *exitError
	switch {
	case err == nil:
		testHook(hookTokenWritten)
		return tr.Record().Token, nil
	case errors.Is(err, persist.ErrStarted):
		rec, gerr := st.Get(ctx, key)
		if gerr != nil {
			return "", withCode(storeErrCode(gerr), fmt.Errorf("reading key %q from the store: %w", key, gerr))
		}
		fmt.Fprintf(a.stderr, "lrokit: key %q already holds the token of an unfinished %s operation (%s); nothing was sent\n", key, rec.Provider, rec.Status)
		return rec.Token, nil
	case sent != nil:
		// The operation exists but its token did not reach the store: hand
		// it over here rather than lose it.
		tok, terr := sent.ResumeToken()
		if terr == nil {
			fmt.Fprintln(a.stdout, tok)
		}
		return "", withCode(exitStore, fmt.Errorf("the operation started but its token could not be saved under key %q (it is printed on stdout; the store keeps the intent, so a rerun reconciles): %w", key, err))
	case ctx.Err() != nil:
		return "", interrupted(ctx, err, in, fmt.Sprintf("the intent is kept under key %q: run the same command again to reconcile", key))
	case errors.As(err, &ee), errors.Is(err, persist.ErrMayExist):
		return "", err
	case errors.Is(err, persist.ErrConflict):
		return "", withCode(exitMayExist, fmt.Errorf("another begin recorded its intent under key %q at the same moment and may be sending: %w", key, err))
	}
	return "", withCode(storeErrCode(err), err)
}

func (a *app) beginToFile(ctx context.Context, s *started, in persist.Intent, send sendFunc) (string, error) {
	path := s.out.file
	retry := false
	b, err := os.ReadFile(path)
	cur := strings.TrimSpace(string(b))
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && cur == ""):
	case err != nil:
		return "", withCode(exitStore, fmt.Errorf("reading the token file (nothing was sent): %w", err))
	case persist.IsIntent(cur):
		stored, derr := persist.DecodeIntent(cur)
		if derr != nil {
			return "", usageErr("the token file holds an intent that cannot be read (%v): check whether its operation exists, then remove the file", derr)
		}
		if stored.Digest != in.Digest {
			return "", usageErr("the token file holds the intent of another request (%s %s, %s): name another file",
				stored.Method, stored.Target, stored.Created.UTC().Format(time.RFC3339))
		}
		in, retry = stored, true
	default:
		tok, derr := poller.DecodeToken(cur, sealKey())
		if derr != nil {
			// Never overwritten: it may be the only handle on an operation
			// (a token sealed with another key, from a newer lrokit).
			return "", usageErr("the token file holds no token or intent this lrokit can read (%v): remove it or name another file", derr)
		}
		if tok.Last == nil || !tok.Last.Status.Terminal() {
			fmt.Fprintf(a.stderr, "lrokit: the token file already holds the token of an unfinished %s operation; nothing was sent\n", tok.Provider)
			return cur, nil
		}
		// The file's operation finished: this begin starts a new one.
	}
	if !retry {
		enc, err := in.Encode()
		if err != nil {
			return "", withCode(exitUsage, err)
		}
		if err := writeFileAtomic(path, []byte(enc+"\n")); err != nil {
			return "", withCode(exitStore, fmt.Errorf("writing the intent to the token file (nothing was sent): %w", err))
		}
	}
	testHook(hookIntentWritten)
	p, err := send(ctx, in, retry)
	if err != nil {
		return "", interrupted(ctx, err, in, "the token file keeps the intent: run the same command again to reconcile")
	}
	tok, err := p.ResumeToken()
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(path, []byte(tok+"\n")); err != nil {
		fmt.Fprintln(a.stdout, tok)
		return "", withCode(exitStore, fmt.Errorf("the operation started but the token file could not be written (the token is printed on stdout; the file keeps the intent, so a rerun reconciles): %w", err))
	}
	testHook(hookTokenWritten)
	return tok, nil
}

// intentNotToken is the error of a command that wanted a token and found
// the intent of a begin that never recorded one.
func intentNotToken(token, where string) error {
	in, err := persist.DecodeIntent(token)
	if err != nil {
		return usageErr("%s holds an intent that cannot be read: %v", where, err)
	}
	return withCode(exitMayExist, fmt.Errorf("%s holds the intent of a begin that never recorded a token (%s %s at %s): "+
		"run the same begin again to reconcile, or check whether the operation exists", where, in.Method, in.Target, in.Created.UTC().Format(time.RFC3339)))
}

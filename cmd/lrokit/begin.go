package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lrokit/lrokit/internal/trust"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// started is what every begin/adopt command shares: where the token goes,
// and whether to go straight on to waiting.
type started struct {
	out  output
	au   auth
	wait bool
	w    waitFlags
}

// register adds the flags every begin/adopt has; skip names the auth flags
// its provider does not read.
func (s *started) register(cmd *cobra.Command, skip ...string) {
	s.out.register(cmd.Flags())
	s.au.registerExcept(cmd.Flags(), skip...)
	cmd.Flags().BoolVar(&s.wait, "wait", false, "go straight on to waiting in this process")
	s.w.register(cmd)
}

func (s *started) check() error {
	if err := s.out.check(); err != nil {
		return err
	}
	if err := s.au.checkHosts(); err != nil {
		return err
	}
	return s.w.check()
}

// options are the poller options for the new token: the wait flags' and
// --plaintext-secrets.
func (s *started) options(ctx context.Context) poller.Options {
	o := s.w.options(ctx)
	o.PlaintextSecrets = s.au.plaintext
	return o
}

// finish stores or prints a new token, then waits if --wait.
func (a *app) finish(ctx context.Context, s *started, token string) error {
	switch {
	case s.out.store != "":
		st, err := openStore(ctx, s.out.store)
		if err != nil {
			return err
		}
		defer closeStore(st)
		tok, _ := poller.DecodeToken(token, sealKey(), olderSealKeys()...)
		rec := persist.Record{Key: s.out.key, Token: token, Labels: s.out.labelMap()}
		if tok.Last != nil {
			rec.Status, rec.Detail = tok.Last.Status, tok.Last.Detail
		}
		if cur, err := st.Get(ctx, s.out.key); err == nil {
			rec.Generation = cur.Generation
		}
		if _, err := st.Put(ctx, rec); err != nil {
			return withCode(storeErrCode(err), fmt.Errorf("saving the token under key %q: %w", s.out.key, err))
		}
	case s.out.file != "":
		if err := writeFileAtomic(s.out.file, []byte(token+"\n")); err != nil {
			return withCode(exitStore, fmt.Errorf("writing the token file: %w", err))
		}
	}
	return a.printOrWait(ctx, s, token)
}

// printOrWait prints a token that went nowhere else, and waits if --wait.
func (a *app) printOrWait(ctx context.Context, s *started, token string) error {
	if s.out.store == "" && s.out.file == "" && !s.wait {
		_, err := fmt.Fprintln(a.stdout, token)
		return err
	}
	if !s.wait {
		return nil
	}
	src := s.out.source()
	if src.store == "" && src.file == "" {
		src.token = token
	}
	p, err := a.resumer(&s.au, s.options(ctx))(ctx, token)
	if err != nil {
		return err
	}
	return a.wait(ctx, p, &src, s.w)
}

// finishPoller is finish for a poller the command just made.
func (a *app) finishPoller(ctx context.Context, s *started, p interface{ ResumeToken() (string, error) }) error {
	token, err := p.ResumeToken()
	if err != nil {
		return err
	}
	return a.finish(ctx, s, token)
}

// request holds the flags that describe the initial HTTP request.
type request struct {
	method, url, body, finalStateVia string
	hdr                              headerFlags
	// idemHeader names the header that carries the intent's idempotency
	// key, for APIs that honour one.
	idemHeader string
	// replaceIntent sends even when an earlier begin's intent says its
	// request may have been sent and resending is not safe.
	replaceIntent bool
}

func (r *request) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&r.method, "method", "", "PUT, PATCH, POST or DELETE")
	cmd.Flags().StringVar(&r.url, "url", "", "the operation's URL")
	cmd.Flags().StringVar(&r.body, "body", "", "the request body: JSON, or @file")
	r.hdr.register(cmd.Flags())
	cmd.Flags().StringVar(&r.finalStateVia, "final-state-via", "", "where a POST's result comes from: azure-async-operation, location, original-uri or operation-location")
	cmd.Flags().StringVar(&r.idemHeader, "idempotency-header", "", `send the begin's idempotency key in this header, for APIs that honour one
("Idempotency-Key", "Repeatability-Request-ID"): a POST or PATCH is then safe to rerun`)
	cmd.Flags().BoolVar(&r.replaceIntent, "replace-intent", false, `send even though an earlier begin's intent says its request may have been sent
(after checking that its operation does not exist)`)
}

func (r *request) check() error {
	switch strings.ToUpper(r.method) {
	case http.MethodPut, http.MethodPatch, http.MethodPost, http.MethodDelete:
	default:
		return usageErr("--method must be PUT, PATCH, POST or DELETE")
	}
	u, err := url.Parse(r.url)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return usageErr("--url must be an absolute URL")
	}
	switch r.finalStateVia {
	case "", "azure-async-operation", "location", "original-uri", "operation-location":
	default:
		return usageErr("--final-state-via must be azure-async-operation, location, original-uri or operation-location")
	}
	if _, err := r.hdr.build(); err != nil {
		return err
	}
	if r.idemHeader != "" && !validHeaderName(r.idemHeader) {
		return usageErr("--idempotency-header must be a header name, e.g. Idempotency-Key")
	}
	return nil
}

// validHeaderName reports whether s is an RFC 9110 §5.1 field name (a token).
func validHeaderName(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return s != ""
}

func (r *request) bodyBytes() ([]byte, error) {
	switch {
	case r.body == "":
		return nil, nil
	case strings.HasPrefix(r.body, "@"):
		b, err := os.ReadFile(r.body[1:])
		if err != nil {
			return nil, usageErr("reading --body file: %v", err)
		}
		return b, nil
	}
	if !json.Valid([]byte(r.body)) {
		return nil, usageErr("--body is not valid JSON (use @file for other content)")
	}
	return []byte(r.body), nil
}

// header returns the caller's headers (checked by check) in a fresh map.
func (r *request) header() http.Header {
	h, _ := r.hdr.build()
	if h == nil {
		h = http.Header{}
	}
	return h
}

func (a *app) beginCmd(provider string) *cobra.Command {
	var r request
	var s started
	short := "Start an Azure operation (through azcore, with Azure credentials) and print its token"
	if provider == "rest" {
		short = "Start an operation on any REST API (plain HTTP, no Azure credential) and print its token"
	}
	begin := &cobra.Command{
		Use:   "begin",
		Short: short,
		Long: short + `.

Only the token goes to stdout, so TOKEN=$(lrokit ` + provider + ` begin ...) works;
or --token-file / --store + --key keep it. --wait goes straight on to waiting.

With --token-file or --store, begin is crash-safe: it records an intent there
before sending anything (a store that cannot be written stops it, exit 6),
then replaces the intent with the token. Run again after a crash, it finds the
intent and re-sends where that is safe (PUT and DELETE are idempotent; POST and
PATCH only with --idempotency-header), adopts the operation a re-sent PUT
conflicts with, or stops with exit 7 naming what to check. Run again after it
finished, it finds the token and sends nothing. Printing to stdout records
nothing first: a crash there can leave an operation no token names.

` + exitCodesHelp,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := r.check(); err != nil {
				return err
			}
			if err := s.check(); err != nil {
				return err
			}
			if err := a.prepare(&s.au, &r.hdr); err != nil {
				return err
			}
			// A URL whose query is a credential (a SAS, a function key)
			// could not go into the token: refuse before anything is sent.
			if u, _ := url.Parse(r.url); trust.IsCapability(u) && len(sealKey()) == 0 && !s.au.plaintext {
				return usageErr("--url carries a credential in its query string: set %s so the token keeps it encrypted, or give --plaintext-secrets to store it in clear; nothing was sent", sealKeyEnv)
			}
			body, err := r.bodyBytes()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			send := func(ctx context.Context, in persist.Intent, retry bool) (*poller.Poller[json.RawMessage], error) {
				return a.send(ctx, provider, &r, &s, body, in, retry)
			}
			token, err := a.beginDurably(ctx, &s, r.intent(provider, body), send)
			if err != nil {
				return err
			}
			return a.printOrWait(ctx, &s, token)
		},
	}
	r.register(begin)
	if provider == "rest" {
		s.register(begin, restSkips...)
		hideNoAuth(begin)
	} else {
		s.register(begin, azureSkips...)
	}
	return group(provider, providerShort(provider), begin)
}

func providerShort(p string) string {
	switch p {
	case "azure":
		return "Azure Resource Manager and Azure data-plane operations"
	case "rest":
		return "Operations on any API following the REST LRO guidelines or async request-reply"
	}
	return p
}

// initialError maps a refused initial response: the operation did not start.
func initialError(err error) error {
	return withCode(exitFailed, fmt.Errorf("the operation did not start: %w", err))
}

// redactURL drops the query string from a *url.Error's URL.
func redactURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			ue.URL = u.String()
		}
	}
	return err
}

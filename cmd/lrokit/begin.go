package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/spf13/cobra"

	"github.com/lrokit/lrokit/azure"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/rest"
)

// started is what every begin/adopt command shares: where the token goes,
// and whether to go straight on to waiting.
type started struct {
	out  output
	au   auth
	wait bool
	w    waitFlags
}

func (s *started) register(cmd *cobra.Command) {
	s.out.register(cmd.Flags())
	s.au.register(cmd.Flags())
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
func (s *started) options() poller.Options {
	o := s.w.options()
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
			return withCode(exitPollError, fmt.Errorf("saving the token under key %q: %w", s.out.key, err))
		}
	case s.out.file != "":
		if err := writeFileAtomic(s.out.file, []byte(token+"\n")); err != nil {
			return withCode(exitPollError, fmt.Errorf("writing the token file: %w", err))
		}
	default:
		if !s.wait {
			_, err := fmt.Fprintln(a.stdout, token)
			return err
		}
	}
	if !s.wait {
		return nil
	}
	src := s.out.source()
	if src.store == "" && src.file == "" {
		src.token = token
	}
	p, err := a.resumer(&s.au, s.options())(ctx, token)
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
	headers                          []string
}

func (r *request) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&r.method, "method", "", "PUT, PATCH, POST or DELETE")
	cmd.Flags().StringVar(&r.url, "url", "", "the operation's URL")
	cmd.Flags().StringVar(&r.body, "body", "", "the request body: JSON, or @file")
	cmd.Flags().StringArrayVar(&r.headers, "header", nil, `a request header "K: V" (repeatable); never stored in the token`)
	cmd.Flags().StringVar(&r.finalStateVia, "final-state-via", "", "where a POST's result comes from: azure-async-operation, location, original-uri or operation-location")
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
	for _, h := range r.headers {
		if k, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(k) == "" {
			return usageErr(`--header wants "K: V"`)
		}
	}
	return nil
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

func (r *request) header() http.Header {
	h := http.Header{}
	for _, kv := range r.headers {
		k, v, _ := strings.Cut(kv, ":")
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
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

` + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := r.check(); err != nil {
				return err
			}
			if err := s.check(); err != nil {
				return err
			}
			body, err := r.bodyBytes()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var token string
			if provider == "azure" {
				token, err = a.beginAzure(ctx, &r, &s, body)
			} else {
				token, err = a.beginREST(ctx, &r, &s, body)
			}
			if err != nil {
				return err
			}
			return a.finish(ctx, &s, token)
		},
	}
	r.register(begin)
	s.register(begin)
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

func (a *app) beginAzure(ctx context.Context, r *request, s *started, body []byte) (string, error) {
	au := a.withHooks(&s.au)
	pl, err := au.azurePipeline()
	if err != nil {
		return "", withCode(exitUsage, err)
	}
	ao, err := au.azureOptions(s.options())
	if err != nil {
		return "", err
	}
	req, err := runtime.NewRequest(ctx, strings.ToUpper(r.method), r.url)
	if err != nil {
		return "", usageErr("building the request: %v", err)
	}
	for k, vs := range r.header() {
		for _, v := range vs {
			req.Raw().Header.Add(k, v)
		}
	}
	if body != nil {
		if err := req.SetBody(streaming.NopCloser(bytes.NewReader(body)), "application/json"); err != nil {
			return "", usageErr("setting the body: %v", err)
		}
	}
	resp, err := pl.Do(req)
	if err != nil {
		return "", withCode(exitPollError, fmt.Errorf("sending the initial request: %w", err))
	}
	ao.FinalStateVia = azure.FinalStateVia(r.finalStateVia)
	p, err := azure.NewPoller[json.RawMessage](resp, pl, ao)
	if err != nil {
		return "", initialError(err)
	}
	return p.ResumeToken()
}

func (a *app) beginREST(ctx context.Context, r *request, s *started, body []byte) (string, error) {
	au := &s.au
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(r.method), r.url, rd)
	if err != nil {
		return "", usageErr("building the request: %v", err)
	}
	req.Header = r.header()
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return "", withCode(exitPollError, fmt.Errorf("sending the initial request: %w", redactURL(err)))
	}
	p, err := rest.NewPoller[json.RawMessage](resp, client, &rest.Options{
		Options: s.options(), FinalStateVia: rest.FinalStateVia(r.finalStateVia), AllowedHosts: au.hosts,
	})
	if err != nil {
		return "", initialError(err)
	}
	return p.ResumeToken()
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

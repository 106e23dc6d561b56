package httplro

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"

	"github.com/lrokit/lrokit/internal/trust"

	"github.com/lrokit/lrokit/poller"
)

// Doer sends one HTTP request. *http.Client satisfies it; the azure
// package wraps an azcore runtime.Pipeline in one.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// MaxBody bounds how much of a response body is read.
const MaxBody = 32 << 20

// maxRedirects bounds the redirects a final GET follows by hand.
const maxRedirects = 5

// ResponseError reports an HTTP response that is not what the protocol
// allows. It keeps the provider's error code and message, the raw body and
// the response (whose Body can be read again).
type ResponseError struct {
	// Method and URL name the request; URL has no query string.
	Method, URL string
	StatusCode  int
	// Code is error.code from the body, or the x-ms-error-code header.
	Code    string
	Message string
	Raw     []byte
	// Response is the response, its Body replaced by a reader over Raw.
	Response *http.Response
}

func (e *ResponseError) Error() string {
	var b strings.Builder
	if e.Method != "" || e.URL != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.URL)
	}
	fmt.Fprintf(&b, "unexpected status %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.Code != "" && e.Message != "":
		fmt.Fprintf(&b, ": %s: %s", e.Code, e.Message)
	case e.Code != "":
		fmt.Fprintf(&b, ": %s", e.Code)
	case e.Message != "":
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// NewResponseError builds a *ResponseError from a response and its body.
func NewResponseError(resp *http.Response, body []byte) error {
	e := &ResponseError{StatusCode: resp.StatusCode, Raw: body, Response: resp}
	if resp.Request != nil {
		e.Method, e.URL = resp.Request.Method, Redact(resp.Request.URL)
	}
	if b, err := ParseBody(body); err == nil {
		e.Code, e.Message = b.Code, b.Message
	}
	if c := resp.Header.Get("x-ms-error-code"); c != "" {
		e.Code = c
	}
	return e
}

// ReadBody reads and closes resp.Body (up to MaxBody) and replaces it with a
// reader over the bytes read, so the response can be read again. A body cut
// short is a transient error.
func ReadBody(resp *http.Response) ([]byte, error) {
	if resp.Body == nil || resp.Body == http.NoBody {
		resp.Body = http.NoBody
		return nil, nil
	}
	b, err := readAtMost(resp.Body, resp.ContentLength)
	_ = resp.Body.Close()
	rb := new(replayBody)
	rb.Reset(b)
	resp.Body = rb
	if err != nil {
		return nil, poller.Transient(fmt.Errorf("reading response body: %w", redactErr(err)), 0)
	}
	if len(b) > MaxBody {
		return nil, fmt.Errorf("response body is larger than %d bytes", MaxBody)
	}
	return b, nil
}

// readAtMost is io.ReadAll stopped once more than MaxBody bytes are read,
// in one allocation when the length is announced (the buffer has room for
// the read that meets EOF). The body is kept as the operation's status, so
// it is not rounded up to ReadAll's 512 bytes.
func readAtMost(r io.Reader, length int64) ([]byte, error) {
	size := 512
	if length >= 0 && length < MaxBody {
		size = int(length) + 1
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		switch {
		case len(b) > MaxBody || err == io.EOF:
			return b, nil
		case err != nil:
			return b, err
		}
	}
}

// replayBody is a response body read again from memory.
type replayBody struct{ bytes.Reader }

func (*replayBody) Close() error { return nil }

// acceptJSON is every request's Accept header. It is shared: a slice of
// length and capacity 1, which Header.Add copies rather than extends.
var acceptJSON = []string{"application/json"}

// wire is what send keeps between an operation's requests, so that a poll
// costs no allocation beyond the request's own (TestPollAllocs in azure/).
type wire struct {
	// checked is the last URL that passed the trusted-host check. URLs are
	// never modified once learned (each request gets a copy).
	checked *url.URL
}

// send performs one request and reads its body. The URL was checked
// against the trusted hosts when it was learned; a redirect the Doer
// follows is refused before anything is written to an untrusted host (see
// guardRedirects), and checked again on the response. Transport failures
// are transient (the core retries them), except certificate errors, refused
// redirects and the caller's own cancellation.
func (o *Op) send(ctx context.Context, method string, u *url.URL) (*http.Response, []byte, error) {
	if u != o.wire.checked {
		if err := o.trusted.Check(u); err != nil {
			// Defence in depth: every URL is checked where it is learned.
			return nil, nil, fmt.Errorf("%s %s: %w", method, Redact(u), err)
		}
		o.wire.checked = u
	}
	var guard *redirectGuard
	if o.cfg.GuardRedirects {
		ctx, guard = o.guardRedirects(ctx, u)
	}
	req, err := newRequest(ctx, method, u)
	if err != nil {
		return nil, nil, fmt.Errorf("building %s %s: %w", method, Redact(u), redactErr(err))
	}
	for k, vs := range o.cfg.Header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	resp, err := o.cfg.Doer.Do(req)
	refused := guard.refusal()
	guard.done()
	if refused != "" {
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		return nil, nil, fmt.Errorf("%s %s was redirected to %s, which is not trusted; nothing was sent there: %w", method, Redact(u), refused, ErrHostNotAllowed)
	}
	if err != nil {
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		return nil, nil, classifyTransport(ctx, method, u, err)
	}
	if r := resp.Request; r != nil && r.URL != nil && *r.URL != *u && r.URL.String() != u.String() {
		if err := o.trusted.Check(r.URL); err != nil {
			_ = resp.Body.Close()
			return nil, nil, fmt.Errorf("%s %s was redirected: %w", method, Redact(u), err)
		}
	}
	body, err := ReadBody(resp)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, Redact(u), err)
	}
	return resp, body, nil
}

// newRequest is http.NewRequestWithContext(ctx, method, u.String(), nil)
// without printing u and parsing it again: the request gets a copy of u
// (a Doer's policies may modify its URL) and the Accept header.
func newRequest(ctx context.Context, method string, u *url.URL) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, "", nil)
	if err != nil {
		return nil, err
	}
	*req.URL = *u
	if h := u.Host; strings.HasSuffix(h, ":") && strings.LastIndexByte(h, ':') > strings.LastIndexByte(h, ']') {
		req.URL.Host = h[:len(h)-1] // net/http's removeEmptyPort
	}
	req.Host = req.URL.Host
	req.Header["Accept"] = acceptJSON
	return req, nil
}

// guardRedirects is the package function with a guard from a pool,
// unless ctx already carries a trace: httptrace.WithClientTrace composes
// the caller's hooks into ours, so a pooled guard would collect them. The
// guard's hooks run inside Do (GetConn and GotConn are called on the
// request's own path), so send returns it once Do has returned. Made per
// request, a guard and its trace cost 6 allocations per poll; kept per
// operation, 280 bytes of every waiting operation's heap.
func (o *Op) guardRedirects(ctx context.Context, first *url.URL) (context.Context, *redirectGuard) {
	if httptrace.ContextClientTrace(ctx) != nil {
		return guardRedirects(ctx, first, o.trusted)
	}
	g := guards.Get().(*redirectGuard)
	g.mu.Lock()
	g.first, g.trusted, g.pending, g.refused, g.pooled = first, o.trusted, "", "", true
	g.mu.Unlock()
	return httptrace.WithClientTrace(ctx, g.trace), g
}

var guards = sync.Pool{New: func() any {
	g := new(redirectGuard)
	g.trace = &httptrace.ClientTrace{GetConn: g.getConn, GotConn: g.gotConn}
	return g
}}

// done returns a pooled guard to the pool.
func (g *redirectGuard) done() {
	if g == nil || !g.pooled {
		return
	}
	g.mu.Lock()
	g.first, g.trusted, g.pooled = nil, trust.Anchors{}, false
	g.mu.Unlock()
	guards.Put(g)
}

// guardRedirects protects requests sent through a transport whose redirect
// policy is not ours (an azcore pipeline's http.Client follows redirects,
// and forwards Authorization to the same host name on any port). Each
// connection the request asks for is announced by httptrace's GetConn with
// its host:port; one for a redirect to a host:port the anchors do not
// trust is closed in GotConn, before the request is written to it, and the
// refused host is reported. Behind an HTTP proxy every connection goes to
// the proxy, so the response check in send is what remains.
func guardRedirects(ctx context.Context, first *url.URL, trusted trust.Anchors) (context.Context, *redirectGuard) {
	g := &redirectGuard{first: first, trusted: trusted}
	g.trace = &httptrace.ClientTrace{GetConn: g.getConn, GotConn: g.gotConn}
	return httptrace.WithClientTrace(ctx, g.trace), g
}

func (g *redirectGuard) refusal() string {
	if g == nil {
		return ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.refused
}

type redirectGuard struct {
	first   *url.URL // the request's own URL
	trusted trust.Anchors
	trace   *httptrace.ClientTrace
	pooled  bool // from guards, back to it after the request
	mu      sync.Mutex
	pending string
	refused string
}

func (g *redirectGuard) getConn(addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending = ""
	if !sameHostPort(addr, g.first) && !trustedAddr(addr, g.trusted) {
		g.pending = addr
	}
}

func (g *redirectGuard) gotConn(info httptrace.GotConnInfo) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending != "" {
		g.refused = g.pending
		_ = info.Conn.Close()
	}
}

// trustedAddr reports whether some trusted https or http origin has the
// host:port addr.
func trustedAddr(addr string, trusted trust.Anchors) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	for _, scheme := range []string{"https", "http"} {
		u := &url.URL{Scheme: scheme, Host: host + ":" + port}
		if trusted.Check(u) == nil {
			return true
		}
	}
	return false
}

// sameHostPort reports whether addr (host:port, as httptrace gives it) is
// u's host and port (the scheme's default when u names none), comparing
// without building u's host:port.
func sameHostPort(addr string, u *url.URL) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || u == nil {
		return false
	}
	up := u.Port()
	if up == "" {
		up = "443"
		if strings.EqualFold(u.Scheme, "http") {
			up = "80"
		}
	}
	return host == u.Hostname() && port == up
}

func classifyTransport(ctx context.Context, method string, u *url.URL, err error) error {
	err = redactErr(err)
	wrapped := fmt.Errorf("%s %s: %w", method, Redact(u), err)
	if ctx.Err() != nil {
		return wrapped
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.Is(err, ErrHostNotAllowed) {
		return wrapped
	}
	return poller.Transient(wrapped, 0)
}

// redactErr replaces the URL of every *url.Error in err's chain head with
// its redacted form: url.Error's message would otherwise print the query.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: RedactString(ue.URL), Err: redactErr(ue.Err)}
	}
	return err
}

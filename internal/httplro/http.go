package httplro

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

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
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return nil, poller.Transient(fmt.Errorf("reading response body: %w", redactErr(err)), 0)
	}
	if len(b) > MaxBody {
		return nil, fmt.Errorf("response body is larger than %d bytes", MaxBody)
	}
	return b, nil
}

// send performs one request and reads its body. Transport failures are
// transient (the core retries them), except certificate errors and the
// caller's own cancellation. A redirect the transport followed to a host the
// rules refuse is an error.
func (o *Op) send(ctx context.Context, method string, u *url.URL) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("building %s %s: %w", method, Redact(u), redactErr(err))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := o.cfg.Doer.Do(req)
	if err != nil {
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		return nil, nil, classifyTransport(ctx, method, u, err)
	}
	if resp.Request != nil && resp.Request.URL != nil && resp.Request.URL.Host != u.Host && !o.hosts.Allowed(resp.Request.URL) {
		_ = resp.Body.Close()
		return nil, nil, fmt.Errorf("%s %s was redirected: %w: %s", method, Redact(u), ErrHostNotAllowed, resp.Request.URL.Host)
	}
	body, err := ReadBody(resp)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, Redact(u), err)
	}
	return resp, body, nil
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

package httplro

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// errRelativeURL is wrapped when an Azure response names a relative
// polling or result URL: ARM requires absolute ones (ARM RPC, "Asynchronous
// operations": the Azure-AsyncOperation and Location headers hold absolute
// URIs), and azcore refuses them (pollers IsValidURL).
var errRelativeURL = errors.New("the URL is relative; absolute polling URLs are required")

// resolve parses ref, from a response header, a status body or a redirect
// (what names it for messages), resolves it against base where relative
// URLs are allowed (RFC 9110 §10.2.2 allows a relative Location), and
// checks it against the trusted hosts. Errors never echo a query string.
func (o *Op) resolve(base *url.URL, ref, what string) (*url.URL, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, fmt.Errorf("the %s URL is empty", what)
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("the %s URL does not parse", what)
	}
	if !u.IsAbs() {
		if o.cfg.AbsoluteOnly {
			return nil, fmt.Errorf("the %s header: %w", what, errRelativeURL)
		}
		if base == nil {
			return nil, fmt.Errorf("the %s URL is not absolute", what)
		}
		u = base.ResolveReference(u)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("the %s URL has no host", what)
	}
	u.Fragment, u.RawFragment = "", ""
	if err := o.trusted.Check(u); err != nil {
		return nil, fmt.Errorf("the %s URL: %w", what, err)
	}
	return u, nil
}

// CheckOrigin validates the original request's URL, which the caller sent
// itself: absolute, http(s), no user info, and https unless the host is
// loopback (or plain http is allowed).
func CheckOrigin(u *url.URL, allowHTTP bool) error {
	if u == nil || !u.IsAbs() || u.Host == "" {
		return errors.New("the original request URL is not absolute")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !allowHTTP && !IsLoopback(u.Hostname()) {
			return fmt.Errorf("%s uses http to a non-loopback host; https is required", Redact(u))
		}
	default:
		return fmt.Errorf("URL scheme %q is not http or https", u.Scheme)
	}
	if u.User != nil {
		return errors.New("URL carries user information")
	}
	return nil
}

// IsLoopback reports whether host is localhost or a loopback address
// (127.0.0.0/8, ::1).
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Redact returns scheme://host/path of u: no user info, query or fragment,
// so it is safe in logs and errors.
func Redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// RedactString is Redact for a URL string; unparsable input yields
// "(invalid URL)".
func RedactString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid URL)"
	}
	return Redact(u)
}

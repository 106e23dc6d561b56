package httplro

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrHostNotAllowed is wrapped by errors about a URL whose host is neither
// the original request's host nor in the allow-list: following it could
// send the caller's credentials to another party.
var ErrHostNotAllowed = errors.New("polling URL host is not allowed")

// Hosts decides which URLs an operation may request: the original request's
// host and the allow-list. The zero value allows nothing.
type Hosts struct {
	origin  string // canonical host[:port] of the original request
	allowed []string
	// allowHTTP permits plain http to any host (rest.Options.AllowHTTP).
	allowHTTP bool
}

// NewHosts returns the host rules for an operation whose original request
// went to origin. Each allowed entry is a host ("api.example.com",
// optionally with a port) or a suffix starting with a dot (".example.com",
// any subdomain).
func NewHosts(origin *url.URL, allowed []string, allowHTTP bool) Hosts {
	h := Hosts{origin: canonicalHost(origin), allowHTTP: allowHTTP}
	for _, a := range allowed {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" && a != "." {
			h.allowed = append(h.allowed, a)
		}
	}
	return h
}

// CheckOrigin validates the original request's URL: absolute, http(s), no
// user info, and https unless the host is loopback (or plain http is allowed).
func CheckOrigin(u *url.URL, allowHTTP bool) error {
	if u == nil || !u.IsAbs() || u.Host == "" {
		return errors.New("the original request URL is not absolute")
	}
	return checkScheme(u, allowHTTP)
}

func checkScheme(u *url.URL, allowHTTP bool) error {
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

// Resolve parses ref, resolves it against base (RFC 9110 §10.2.2 allows a
// relative Location) and checks it: http(s), https unless loopback, and a
// host the rules allow. Errors never echo a query string.
func (h Hosts) Resolve(base *url.URL, ref string) (*url.URL, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, errors.New("URL is empty")
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil, errors.New("URL does not parse")
	}
	if !u.IsAbs() {
		if base == nil {
			return nil, errors.New("URL is not absolute")
		}
		u = base.ResolveReference(u)
	}
	if u.Host == "" {
		return nil, errors.New("URL has no host")
	}
	u.Fragment, u.RawFragment = "", ""
	if err := checkScheme(u, h.allowHTTP); err != nil {
		return nil, err
	}
	if !h.Allowed(u) {
		return nil, fmt.Errorf("%w: %s is not %s and not in AllowedHosts", ErrHostNotAllowed, u.Host, h.origin)
	}
	return u, nil
}

// Allowed reports whether u's host is the original host or in the allow-list.
func (h Hosts) Allowed(u *url.URL) bool {
	host := canonicalHost(u)
	if host == "" {
		return false
	}
	if host == h.origin {
		return true
	}
	name := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	for _, a := range h.allowed {
		switch {
		case strings.HasPrefix(a, "."):
			if strings.HasSuffix(name, a) {
				return true
			}
		case a == host || a == name:
			return true
		}
	}
	return false
}

// canonicalHost returns host[:port] lower-cased, without a default port.
func canonicalHost(u *url.URL) string {
	if u == nil {
		return ""
	}
	name := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	port := u.Port()
	scheme := strings.ToLower(u.Scheme)
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if name == "" {
		return ""
	}
	if port == "" {
		if strings.Contains(name, ":") {
			return "[" + name + "]"
		}
		return name
	}
	return net.JoinHostPort(name, port)
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

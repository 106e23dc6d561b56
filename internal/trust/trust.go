// Package trust decides which URLs may receive the caller's credentials.
//
// The rule (DESIGN.md, "Tokens"): trust comes from the caller, never from a
// token. A caller names trust anchors — hosts, host:port pairs or domain
// suffixes — in its configuration; a URL from a token, a response header or
// a redirect is requested only when it falls inside them. Comparing a
// token's URLs with each other proves nothing, since an attacker edits them
// all, so nothing here ever reads an anchor from a token.
package trust

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/lrokit/lrokit/internal/safetext"
)

// ErrUntrusted is wrapped by every refusal of a URL: a host outside the
// anchors, a scheme downgrade, user information, or a host that is not
// plain ASCII.
var ErrUntrusted = errors.New("URL not trusted")

// Anchors is a caller-configured set of origins that may receive the
// caller's credentials. The zero value trusts nothing. Anchors are values:
// With returns a copy. A set is never changed once built, so copies share
// it: a waiting operation holds one pointer (issue 17).
type Anchors struct{ s *anchorSet }

type anchorSet struct {
	exact  map[string]bool // "https://host" or "https://host:port", canonical
	suffix []string        // ".example.com": any subdomain, https, default port
	// http lets plain-http URLs match every host-only anchor.
	http bool
	// option names the configuration that widens the set, for messages.
	option string
}

// New returns anchors from patterns. A pattern is "host", "host:port",
// ".suffix" (every subdomain of suffix, default port), or an origin
// "https://host[:port]" / "http://host[:port]". Host-only patterns mean
// https unless allowHTTP; an explicit http:// origin always allows http to
// that origin. option names the setting a user changes to allow a host
// ("azure.Options.AllowedHosts (CLI: --allow-host)"); it appears in
// refusals.
func New(option string, allowHTTP bool, patterns ...string) (Anchors, error) {
	a := &anchorSet{exact: map[string]bool{}, http: allowHTTP, option: option}
	for _, p := range patterns {
		if err := a.add(p); err != nil {
			return Anchors{}, err
		}
	}
	return Anchors{a}, nil
}

// Shared is New, but returns the same set for the same option, allowHTTP
// and patterns (in the same order) as an earlier call, so that callers that
// build anchors per operation from the same configuration (azure.Resume
// from a fleet's Resolver) keep one set between them instead of one each.
// Sets are never changed once built, and only identical arguments share
// one: no caller's patterns reach another's anchors. At most
// sharedCacheSize sets are kept; past that the cache starts again.
func Shared(option string, allowHTTP bool, patterns ...string) (Anchors, error) {
	key := sharedKey(option, allowHTTP, patterns)
	shared.mu.Lock()
	a, ok := shared.m[key]
	shared.mu.Unlock()
	if ok {
		return a, nil
	}
	a, err := New(option, allowHTTP, patterns...)
	if err != nil {
		return Anchors{}, err
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if b, ok := shared.m[key]; ok {
		return b, nil
	}
	if shared.m == nil || len(shared.m) >= sharedCacheSize {
		shared.m = map[string]Anchors{}
	}
	shared.m[key] = a
	return a, nil
}

// sharedCacheSize bounds the sets Shared keeps.
const sharedCacheSize = 256

var shared struct {
	mu sync.Mutex
	m  map[string]Anchors
}

// sharedKey encodes Shared's arguments without ambiguity: every string is
// prefixed with its length.
func sharedKey(option string, allowHTTP bool, patterns []string) string {
	n := len(option) + 8
	for _, p := range patterns {
		n += len(p) + 8
	}
	b := make([]byte, 0, n)
	if allowHTTP {
		b = append(b, 'h')
	} else {
		b = append(b, 's')
	}
	for _, s := range append([]string{option}, patterns...) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	return string(b)
}

// MustNew is New for patterns known to be valid; it panics otherwise.
func MustNew(option string, allowHTTP bool, patterns ...string) Anchors {
	a, err := New(option, allowHTTP, patterns...)
	if err != nil {
		panic(err)
	}
	return a
}

// With returns a copy of a that also trusts patterns (for example the
// origin of a request the caller itself sent).
func (a Anchors) With(patterns ...string) (Anchors, error) {
	s := a.set()
	b := &anchorSet{exact: make(map[string]bool, len(s.exact)+len(patterns)), suffix: append([]string(nil), s.suffix...), http: s.http, option: s.option}
	for k := range s.exact {
		b.exact[k] = true
	}
	for _, p := range patterns {
		if err := b.add(p); err != nil {
			return Anchors{}, err
		}
	}
	return Anchors{b}, nil
}

// empty is the zero Anchors' set.
var empty = &anchorSet{}

func (a Anchors) set() *anchorSet {
	if a.s == nil {
		return empty
	}
	return a.s
}

// Origin returns u's origin "scheme://host[:port]" in canonical form, for
// With. It refuses what Check refuses apart from the anchor match.
func Origin(u *url.URL) (string, error) {
	scheme, host, err := canonical(u)
	if err != nil {
		return "", err
	}
	return scheme + "://" + host, nil
}

func (a *anchorSet) add(p string) error {
	p = strings.TrimSpace(p)
	if p == "" {
		return nil
	}
	bad := func(why string) error { return fmt.Errorf("trusted host %q: %s", p, why) }
	if strings.HasPrefix(p, ".") {
		name := strings.ToLower(strings.TrimSuffix(p, "."))
		if len(name) < 2 || !validName(name[1:]) || !strings.Contains(name[1:], ".") {
			return bad("a suffix must be a domain with at least two labels, such as .example.com")
		}
		a.suffix = append(a.suffix, name)
		return nil
	}
	schemes := []string{"https"}
	raw := p
	if i := strings.Index(p, "://"); i >= 0 {
		schemes = []string{strings.ToLower(p[:i])}
	} else {
		if a.http {
			schemes = append(schemes, "http")
		}
		raw = "https://" + p
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return bad("not a host, host:port or scheme://host[:port]")
	}
	for _, s := range schemes {
		uu := *u
		uu.Scheme = s
		sch, host, err := canonical(&uu)
		if err != nil {
			return bad(err.Error())
		}
		a.exact[sch+"://"+host] = true
	}
	return nil
}

// Empty reports whether a trusts nothing.
func (a Anchors) Empty() bool { s := a.set(); return len(s.exact) == 0 && len(s.suffix) == 0 }

// String lists the anchors, sorted, for messages.
func (a Anchors) String() string {
	s := a.set()
	list := make([]string, 0, len(s.exact)+len(s.suffix))
	for k := range s.exact {
		list = append(list, k)
	}
	sort.Strings(list)
	list = append(list, s.suffix...)
	if len(list) == 0 {
		return "none"
	}
	if len(list) > 4 {
		list = append(list[:4], fmt.Sprintf("and %d more", len(list)-4))
	}
	return strings.Join(list, ", ")
}

// Check reports whether u may be requested with the caller's credentials:
// absolute http(s), no user information, an ASCII host (IDN hosts must be
// given in their xn-- form), and an origin inside the anchors. Errors wrap
// ErrUntrusted, name the host (never the query) and the option that would
// allow it. It never panics.
func (a Anchors) Check(u *url.URL) error {
	scheme, host, err := canonical(u)
	if err != nil {
		return err
	}
	s := a.set()
	if s.exact[scheme+"://"+host] {
		return nil
	}
	if (scheme == "https" || s.http) && !strings.Contains(host, ":") {
		// Suffixes are DNS names: an IP literal or a port never matches.
		for _, suf := range s.suffix {
			if strings.HasSuffix(host, suf) {
				return nil
			}
		}
	}
	if scheme == "http" && s.exact["https://"+host] && !s.http {
		return fmt.Errorf("%w: http://%s is a downgrade of a trusted https host; https is required", ErrUntrusted, host)
	}
	how := ""
	if s.option != "" {
		how = "; to trust it, add it to " + s.option
	}
	return fmt.Errorf("%w: %s://%s is not a trusted host (trusted: %s)%s", ErrUntrusted, scheme, host, a, how)
}

// Parse parses raw as an absolute URL and checks it. Relative references
// are refused: resolve them first where the protocol allows them.
func (a Anchors) Parse(raw string) (*url.URL, error) {
	u, err := ParseAbsolute(raw)
	if err != nil {
		return nil, err
	}
	if err := a.Check(u); err != nil {
		return nil, err
	}
	return u, nil
}

// ParseAbsolute parses raw as an absolute http(s) URL without a fragment.
// Errors wrap ErrUntrusted and never echo the URL.
func ParseAbsolute(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("%w: the URL is empty", ErrUntrusted)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: the URL does not parse", ErrUntrusted)
	}
	if !u.IsAbs() || u.Host == "" {
		return nil, fmt.Errorf("%w: the URL is not absolute", ErrUntrusted)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// canonical returns u's scheme and canonical host[:port]: lower case, no
// trailing dot, no default port. It refuses what no anchor should ever
// match: another scheme, user info, an opaque URL, a host that is not an
// IP literal or an ASCII DNS name (IDN must be given as xn--), a bad port.
func canonical(u *url.URL) (scheme, host string, err error) {
	if u == nil || u.Host == "" || !u.IsAbs() {
		return "", "", fmt.Errorf("%w: the URL is not absolute", ErrUntrusted)
	}
	scheme = strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", "", fmt.Errorf("%w: scheme %q is not http or https", ErrUntrusted, safetext.Clip(scheme))
	}
	if u.User != nil {
		return "", "", fmt.Errorf("%w: the URL carries user information", ErrUntrusted)
	}
	if u.Opaque != "" {
		return "", "", fmt.Errorf("%w: the URL is opaque", ErrUntrusted)
	}
	name := strings.ToLower(u.Hostname())
	port := u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return "", "", fmt.Errorf("%w: the URL has an empty port", ErrUntrusted)
	}
	if ip := net.ParseIP(name); ip != nil && strings.Contains(u.Host, "[") == strings.Contains(name, ":") {
		name = ip.String()
		if ip.To4() == nil {
			name = "[" + name + "]"
		}
	} else {
		name = strings.TrimSuffix(name, ".")
		if !validName(name) {
			return "", "", fmt.Errorf("%w: host %q is not an ASCII DNS name or IP address", ErrUntrusted, safetext.Clip(u.Hostname()))
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", "", fmt.Errorf("%w: port %q is not valid", ErrUntrusted, safetext.Clip(port))
		}
		port = strconv.Itoa(n)
		if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) {
			port = ""
		}
	}
	if port != "" {
		name += ":" + port
	}
	return scheme, name, nil
}

// validName reports whether s is an ASCII DNS name: labels of letters,
// digits, '-' and '_' (seen in real service hosts), none empty.
func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// IsLoopback reports whether u's host is localhost or a loopback address.
func IsLoopback(u *url.URL) bool {
	if u == nil {
		return false
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

package gcp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lrokit/lrokit/poller"
)

// Provider is the provider name of every token this package writes.
const Provider = "gcp"

// Token kinds.
const (
	// KindLongrunning is a google.longrunning.Operation polled with
	// Operations.GetOperation.
	KindLongrunning = "longrunning"
	// KindCompute is a Compute Engine operation polled with
	// zoneOperations, regionOperations or globalOperations.get.
	KindCompute = "compute"
)

// DefaultPollTimeout bounds each round trip when Options.PollTimeout is
// zero. It is shorter than any sensible wait and longer than any healthy
// GetOperation, so a one-hour wait never means one-hour polls. GAPIC's own
// default (10 s) applies only to a context without a deadline, which a
// poll never has unless PollTimeout is negative.
const DefaultPollTimeout = 30 * time.Second

// DefaultPolicy holds this package's defaults under the caller's
// Options.Policy: a 1 s floor, as Google's client libraries start their
// own polling at 1 s; every other field is the core's default.
var DefaultPolicy = poller.Policy{Floor: time.Second}

// Options configure a Google Cloud poller. The zero value (or nil) works.
//
// The embedded poller.Options apply, with two defaults of this package:
// Policy fields left zero come from DefaultPolicy, and a zero PollTimeout
// means DefaultPollTimeout (negative: no bound beyond the caller's context).
type Options struct {
	poller.Options

	// Endpoint is the API endpoint the operation lives on, as given to the
	// client ("us-central1-aiplatform.googleapis.com:443",
	// "https://compute.googleapis.com/compute/v1/"). It is recorded in the
	// token so that a later process can build its client for the same
	// endpoint (see TokenEndpoint); empty records none. On Resume an empty
	// Endpoint takes the token's, and a different one is refused.
	Endpoint string
}

// resolve returns the core options with this package's defaults applied.
func (o *Options) resolve() (poller.Options, string) {
	var po poller.Options
	var endpoint string
	if o != nil {
		po, endpoint = o.Options, o.Endpoint
	}
	po.Policy = po.Policy.Merge(DefaultPolicy)
	if po.PollTimeout == 0 {
		po.PollTimeout = DefaultPollTimeout
	}
	if po.Clock == nil {
		po.Clock = poller.SystemClock
	}
	return po, endpoint
}

// Bounds on token fields, which are untrusted input.
const (
	maxNameLen     = 2048
	maxEndpointLen = 512
	maxComputeLen  = 256
)

// validOperationName accepts a google.longrunning operation name: a resource
// name (AIP-122) such as "projects/p/locations/l/operations/o" or a bare id.
func validOperationName(name string) error {
	switch {
	case name == "":
		return errors.New("operation name is empty")
	case len(name) > maxNameLen:
		return fmt.Errorf("operation name is longer than %d bytes", maxNameLen)
	case !utf8.ValidString(name):
		return errors.New("operation name is not valid UTF-8")
	case strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0:
		return errors.New("operation name contains spaces or control characters")
	}
	return nil
}

// validComputeField accepts a Compute project, zone, region or operation
// name: letters, digits, '-', '_', '.' and ':' (domain-scoped projects).
func validComputeField(what, s string) error {
	if s == "" {
		return fmt.Errorf("compute %s is empty", what)
	}
	if len(s) > maxComputeLen {
		return fmt.Errorf("compute %s is longer than %d bytes", what, maxComputeLen)
	}
	for _, r := range s {
		ok := r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '_' || r == '.' || r == ':')
		if !ok {
			return fmt.Errorf("compute %s has a character outside [A-Za-z0-9._:-]", what)
		}
	}
	return nil
}

// validEndpoint accepts "host[:port]" or an http(s) URL without user info,
// query or fragment: what option.WithEndpoint takes.
func validEndpoint(ep string) error {
	if ep == "" {
		return nil
	}
	if len(ep) > maxEndpointLen {
		return fmt.Errorf("endpoint is longer than %d bytes", maxEndpointLen)
	}
	if strings.IndexFunc(ep, func(r rune) bool { return r <= ' ' || r == 0x7f || r >= utf8.RuneSelf }) >= 0 {
		return errors.New("endpoint contains spaces, control or non-ASCII characters")
	}
	raw := ep
	if !strings.Contains(ep, "://") {
		if strings.ContainsAny(ep, "/?#@") {
			return errors.New(`endpoint is neither "host[:port]" nor an http(s) URL`)
		}
		raw = "https://" + ep
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("endpoint does not parse as host[:port] or URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("endpoint scheme is not http or https")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.Contains(ep, "?") || strings.Contains(ep, "#"):
		return errors.New("endpoint has user info, a query or a fragment")
	case u.Hostname() == "":
		return errors.New("endpoint has no host")
	}
	return nil
}

// sameEndpoint compares endpoints as option.WithEndpoint means them: the
// scheme https and port 443 are the defaults, case and a trailing slash do
// not matter.
func sameEndpoint(a, b string) bool { return normalizeEndpoint(a) == normalizeEndpoint(b) }

func normalizeEndpoint(ep string) string {
	ep = strings.TrimSuffix(strings.ToLower(ep), "/")
	ep = strings.TrimPrefix(ep, "https://")
	host, rest, _ := strings.Cut(ep, "/")
	host = strings.TrimSuffix(host, ":443")
	if rest != "" {
		return host + "/" + rest
	}
	return host
}

// IsGoogleEndpoint reports whether endpoint names a host under
// googleapis.com over https. A caller that builds an authenticated client
// from a token's endpoint (TokenEndpoint) should require this, or its own
// allow-list, so that a tampered token cannot send credentials elsewhere.
func IsGoogleEndpoint(endpoint string) bool {
	if validEndpoint(endpoint) != nil || endpoint == "" {
		return false
	}
	raw := endpoint
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return h == "googleapis.com" || strings.HasSuffix(h, ".googleapis.com")
}

// resumeState is the adapter state of a token of either kind.
type resumeState interface {
	validate() error
	endpoint() string
}

// decodeResume reads an untrusted token of kind into st and returns it with
// the options a resumed poller uses: the caller's, with the token's endpoint
// (a different one is refused).
func decodeResume(token string, opts *Options, kind string, st resumeState) (poller.Token, Options, error) {
	var ro Options
	if opts != nil {
		ro = *opts
	}
	tok, err := decodeToken(token, ro.SealKey, kind, st)
	if err != nil {
		return poller.Token{}, ro, fmt.Errorf("gcp: %w", err)
	}
	if ro.Endpoint, err = endpointOf(st.endpoint(), ro.Endpoint); err != nil {
		return poller.Token{}, ro, fmt.Errorf("gcp: %w", err)
	}
	return tok, ro, nil
}

// endpointHost is an endpoint's host name without scheme, port or path.
func endpointHost(ep string) string {
	if ep == "" {
		return ""
	}
	raw := ep
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// endpointOf picks the endpoint a resumed poller records: the caller's when
// set (it must match the token's), else the token's.
func endpointOf(tokenEP, optsEP string) (string, error) {
	if err := validEndpoint(optsEP); err != nil {
		return "", fmt.Errorf("options: %w", err)
	}
	switch {
	case tokenEP == "":
		return optsEP, nil
	case optsEP == "":
		return tokenEP, nil
	case !sameEndpoint(tokenEP, optsEP):
		return "", fmt.Errorf("the token's operation lives on endpoint %s, not %s", tokenEP, optsEP)
	}
	return optsEP, nil
}

// lroState is the token state of a google.longrunning operation.
type lroState struct {
	Name     string `json:"name"`
	Endpoint string `json:"endpoint,omitempty"`
}

func (s lroState) endpoint() string { return s.Endpoint }

func (s lroState) validate() error {
	if err := validOperationName(s.Name); err != nil {
		return err
	}
	return validEndpoint(s.Endpoint)
}

// computeState is the token state of a Compute operation. Zone and Region
// are mutually exclusive; neither means a global operation.
type computeState struct {
	Project  string `json:"project"`
	Zone     string `json:"zone,omitempty"`
	Region   string `json:"region,omitempty"`
	Name     string `json:"name"`
	Endpoint string `json:"endpoint,omitempty"`
}

func (s computeState) endpoint() string { return s.Endpoint }

func (s computeState) validate() error {
	if err := validComputeField("project", s.Project); err != nil {
		return err
	}
	if err := validComputeField("operation name", s.Name); err != nil {
		return err
	}
	switch {
	case s.Zone != "" && s.Region != "":
		return errors.New("compute operation has both a zone and a region")
	case s.Zone != "":
		if err := validComputeField("zone", s.Zone); err != nil {
			return err
		}
	case s.Region != "":
		if err := validComputeField("region", s.Region); err != nil {
			return err
		}
	}
	return validEndpoint(s.Endpoint)
}

// decodeToken decodes an untrusted token of this provider and kind into
// state. Errors never echo the token.
func decodeToken(token string, key []byte, kind string, state interface{ validate() error }) (poller.Token, error) {
	tok, err := poller.DecodeToken(token, key)
	if err != nil {
		return poller.Token{}, err
	}
	if tok.Provider != Provider || tok.Kind != kind {
		return poller.Token{}, fmt.Errorf("%w: it is a %s/%s token, not %s/%s", poller.ErrInvalidToken,
			printable(tok.Provider), printable(tok.Kind), Provider, kind)
	}
	if len(tok.State) == 0 {
		return poller.Token{}, fmt.Errorf("%w: it has no state", poller.ErrInvalidToken)
	}
	if err := json.Unmarshal(tok.State, state); err != nil {
		return poller.Token{}, fmt.Errorf("%w: its state does not decode", poller.ErrInvalidToken)
	}
	if err := state.validate(); err != nil {
		return poller.Token{}, fmt.Errorf("%w: %w", poller.ErrInvalidToken, err)
	}
	return tok, nil
}

// printable bounds and sanitizes an untrusted word for an error message.
func printable(s string) string {
	const limit = 32
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) && r != utf8.RuneError {
			return r
		}
		return '?'
	}, s)
}

// TokenEndpoint returns the endpoint recorded in a gcp token ("" when it
// records none), so a later process can build its client for it. The
// endpoint is syntactically valid but untrusted: check it with
// IsGoogleEndpoint or an allow-list before sending credentials to it.
func TokenEndpoint(token string, key []byte) (string, error) {
	tok, err := poller.DecodeToken(token, key)
	if err != nil {
		return "", err
	}
	if tok.Provider != Provider {
		return "", fmt.Errorf("%w: it is a %s token, not %s", poller.ErrInvalidToken, printable(tok.Provider), Provider)
	}
	switch tok.Kind {
	case KindLongrunning:
		var st lroState
		if _, err := decodeToken(token, key, KindLongrunning, &st); err != nil {
			return "", err
		}
		return st.Endpoint, nil
	case KindCompute:
		var st computeState
		if _, err := decodeToken(token, key, KindCompute, &st); err != nil {
			return "", err
		}
		return st.Endpoint, nil
	}
	return "", fmt.Errorf("%w: gcp token kind %s is unknown", poller.ErrInvalidToken, printable(tok.Kind))
}

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

	"github.com/lrokit/lrokit/internal/trust"
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

// endpointOption names what a caller sets to trust another endpoint.
const endpointOption = "gcp.Options.Endpoint (CLI: --gcp-endpoint)"

// googleAPIs are the endpoints trusted without configuration: Google's
// API hosts, over https on the default port.
var googleAPIs = trust.MustNew(endpointOption, false, ".googleapis.com")

// endpointURL parses an endpoint in either form option.WithEndpoint takes.
func endpointURL(endpoint string) (*url.URL, error) {
	if err := validEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("%w: %w", trust.ErrUntrusted, err)
	}
	raw := endpoint
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	return trust.ParseAbsolute(raw)
}

// IsGoogleEndpoint reports whether endpoint names a host under
// googleapis.com over https on the default port. A caller that builds an
// authenticated client from a token's endpoint (TokenEndpoint) should
// require this, or name the endpoint itself (see TrustEndpoint), so that a
// tampered token cannot send credentials elsewhere.
func IsGoogleEndpoint(endpoint string) bool {
	if endpoint == "" {
		return false
	}
	u, err := endpointURL(endpoint)
	return err == nil && googleAPIs.Check(u) == nil
}

// TrustEndpoint decides whether a token's endpoint may receive the
// caller's credentials (DESIGN.md, "Tokens": trust comes from the caller,
// never from the token): "" (none recorded), the endpoint the caller
// configured (configured, compared as option.WithEndpoint means it), or,
// when the caller configured none, a Google API host (*.googleapis.com,
// https, default port). Resume and ResumeCompute apply it; a caller that
// builds its client from TokenEndpoint applies it first. Errors wrap
// poller.ErrInvalidToken and trust.ErrUntrusted and name the host and the
// option, never a path.
func TrustEndpoint(endpoint, configured string) error {
	if endpoint == "" {
		return nil
	}
	u, err := endpointURL(endpoint)
	if err != nil {
		return fmt.Errorf("%w: the token's endpoint: %w", poller.ErrInvalidToken, err)
	}
	if configured != "" {
		if sameEndpoint(endpoint, configured) {
			return nil
		}
		o, _ := trust.Origin(u)
		return fmt.Errorf("%w: %w: the token's operation lives on %s, not on the configured endpoint; set %s to it", poller.ErrInvalidToken, trust.ErrUntrusted, o, endpointOption)
	}
	if err := googleAPIs.Check(u); err != nil {
		return fmt.Errorf("%w: the token's endpoint: %w", poller.ErrInvalidToken, err)
	}
	return nil
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
	tok, err := decodeToken(token, keysOf(&ro.Options), kind, st)
	if err != nil {
		return poller.Token{}, ro, fmt.Errorf("gcp: %w", err)
	}
	if err := validEndpoint(ro.Endpoint); err != nil {
		return poller.Token{}, ro, fmt.Errorf("gcp: options: %w", err)
	}
	if err := TrustEndpoint(st.endpoint(), ro.Endpoint); err != nil {
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
func decodeToken(token string, keys [][]byte, kind string, state interface{ validate() error }) (poller.Token, error) {
	tok, err := decodeAny(token, keys)
	if err != nil {
		return poller.Token{}, err
	}
	if err := tok.Check(Provider, kind); err != nil {
		return poller.Token{}, err
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

// keysOf returns the seal keys of o: the current one, then older ones.
func keysOf(o *poller.Options) [][]byte {
	return append([][]byte{o.SealKey}, o.SealKeys...)
}

// decodeAny decodes with keys[0] as the current seal key and the rest as
// older ones; none means unsealed.
func decodeAny(token string, keys [][]byte) (poller.Token, error) {
	if len(keys) == 0 {
		return poller.DecodeToken(token, nil)
	}
	return poller.DecodeToken(token, keys[0], keys[1:]...)
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
// records none), so a later process can build its client for it. keys are
// the seal keys, current first (none: the token is not sealed). The
// endpoint is syntactically valid but untrusted: check it with
// TrustEndpoint before sending credentials to it.
func TokenEndpoint(token string, keys ...[]byte) (string, error) {
	tok, err := decodeAny(token, keys)
	if err != nil {
		return "", err
	}
	if err := tok.Check(Provider, KindLongrunning, KindCompute); err != nil {
		return "", err
	}
	switch tok.Kind {
	case KindLongrunning:
		var st lroState
		if _, err := decodeToken(token, keys, KindLongrunning, &st); err != nil {
			return "", err
		}
		return st.Endpoint, nil
	case KindCompute:
		var st computeState
		if _, err := decodeToken(token, keys, KindCompute, &st); err != nil {
			return "", err
		}
		return st.Endpoint, nil
	}
	return "", nil // unreachable: Check admits only the kinds above
}

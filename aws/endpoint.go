package aws

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	smithyendpoints "github.com/aws/smithy-go/endpoints"

	"github.com/lrokit/lrokit/internal/trust"
	"github.com/lrokit/lrokit/poller"
)

// ErrEndpointNotTrusted is wrapped (with poller.ErrInvalidToken) by Resume's
// refusal of a token whose endpoint the caller did not configure and that
// is not the service's own endpoint for the token's region. It is
// trust.ErrUntrusted, shared with the other adapters.
var ErrEndpointNotTrusted = trust.ErrUntrusted

// endpointOption names what a caller sets to trust an endpoint.
const endpointOption = "aws.Options.BaseEndpoint or the config's BaseEndpoint (CLI: --endpoint-url)"

// resolveFunc returns the endpoint the service's own SDK resolver produces
// for region with the given FIPS and dual-stack variants.
type resolveFunc func(ctx context.Context, region string, fips, dualStack bool) (url.URL, error)

// resolverOf binds a generated service's default EndpointResolverV2, whose
// parameters differ in type per service but not in the fields used here.
func resolverOf[P any](r interface {
	ResolveEndpoint(context.Context, P) (smithyendpoints.Endpoint, error)
}, params func(region string, fips, dualStack bool) P) resolveFunc {
	return func(ctx context.Context, region string, fips, dualStack bool) (url.URL, error) {
		ep, err := r.ResolveEndpoint(ctx, params(region, fips, dualStack))
		return ep.URI, err
	}
}

// serviceResolvers are the SDK resolvers of the built-in waiters' services,
// keyed by the waiter name's prefix ("cloudformation" in
// "cloudformation.StackCreateComplete"). A waiter registered for another
// service trusts only the caller's configured endpoint.
var serviceResolvers = map[string]resolveFunc{
	"cloudformation": resolverOf(cloudformation.NewDefaultEndpointResolverV2(), func(r string, f, d bool) cloudformation.EndpointParameters {
		return cloudformation.EndpointParameters{Region: &r, UseFIPS: &f, UseDualStack: &d}
	}),
	"dynamodb": resolverOf(dynamodb.NewDefaultEndpointResolverV2(), func(r string, f, d bool) dynamodb.EndpointParameters {
		return dynamodb.EndpointParameters{Region: &r, UseFIPS: &f, UseDualStack: &d}
	}),
	"ec2": resolverOf(ec2.NewDefaultEndpointResolverV2(), func(r string, f, d bool) ec2.EndpointParameters {
		return ec2.EndpointParameters{Region: &r, UseFIPS: &f, UseDualStack: &d}
	}),
	"ecs": resolverOf(ecs.NewDefaultEndpointResolverV2(), func(r string, f, d bool) ecs.EndpointParameters {
		return ecs.EndpointParameters{Region: &r, UseFIPS: &f, UseDualStack: &d}
	}),
	"eks": resolverOf(eks.NewDefaultEndpointResolverV2(), func(r string, f, d bool) eks.EndpointParameters {
		return eks.EndpointParameters{Region: &r, UseFIPS: &f, UseDualStack: &d}
	}),
	"lambda": resolverOf(lambda.NewDefaultEndpointResolverV2(), func(r string, f, d bool) lambda.EndpointParameters {
		return lambda.EndpointParameters{Region: &r, UseFIPS: &f, UseDualStack: &d}
	}),
	"rds": resolverOf(rds.NewDefaultEndpointResolverV2(), func(r string, f, d bool) rds.EndpointParameters {
		return rds.EndpointParameters{Region: &r, UseFIPS: &f, UseDualStack: &d}
	}),
}

// validRegion accepts an AWS region name: one DNS label of lower-case
// letters, digits and hyphens ("us-east-1", "us-gov-west-1",
// "cn-north-1"). A dot would let a token splice hosts into the resolver's
// template ("x.execute-api.us-east-1" → an API Gateway host).
func validRegion(r string) bool {
	if r == "" || len(r) > 40 || r[0] == '-' || r[len(r)-1] == '-' {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// configuredEndpoints are the endpoints the caller named: Options'
// BaseEndpoint and the config's.
func configuredEndpoints(o Options, cfg awssdk.Config) []string {
	var out []string
	if o.BaseEndpoint != "" {
		out = append(out, o.BaseEndpoint)
	}
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		out = append(out, *cfg.BaseEndpoint)
	}
	return out
}

// checkTokenEndpoint decides whether a token's endpoint may receive the
// caller's signed requests (DESIGN.md, "Tokens": trust comes from the
// caller, never from the token). It is trusted when it is one of the
// caller's configured endpoints, or when it is, over https, the endpoint
// the service's own SDK resolver gives for the token's region (any FIPS
// or dual-stack variant). A domain match is not enough: anyone can own an
// API Gateway host (*.execute-api.REGION.amazonaws.com) or a bucket. A
// seal proves who wrote a token, not where it may point, so sealing
// changes nothing here. Errors wrap trust.ErrUntrusted and name the host,
// never the path or query.
func checkTokenEndpoint(service, region, endpoint string, configured []string) error {
	if endpoint == "" {
		return nil
	}
	u, err := trust.ParseAbsolute(endpoint)
	if err != nil {
		return err
	}
	for _, c := range configured {
		if sameEndpoint(endpoint, c) {
			return nil
		}
	}
	origin, err := trust.Origin(u)
	if err != nil {
		return err
	}
	refuse := func(why string) error {
		return fmt.Errorf("%w: the token's endpoint %s %s; to use it, set %s to it", trust.ErrUntrusted, origin, why, endpointOption)
	}
	if u.Scheme != "https" {
		return refuse("is not https")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return refuse("has a path or query, which no service endpoint has")
	}
	resolve, ok := serviceResolvers[service]
	if !ok {
		return refuse(fmt.Sprintf("is not configured, and the endpoints of service %q are not known to lrokit", clipWord(service)))
	}
	if !validRegion(region) {
		return refuse("cannot be checked: the region is malformed")
	}
	for _, fips := range []bool{false, true} {
		for _, dual := range []bool{false, true} {
			want, err := resolve(context.Background(), region, fips, dual)
			if err != nil || want.Scheme != "https" || want.Host == "" {
				continue
			}
			if o, err := trust.Origin(&want); err == nil && o == origin {
				return nil
			}
		}
	}
	return refuse(fmt.Sprintf("is not the %s endpoint of region %s", service, region))
}

// sameEndpoint compares endpoints by canonical origin and path: case, a
// default port and a trailing slash do not matter.
func sameEndpoint(a, b string) bool {
	ua, err1 := url.Parse(strings.TrimSpace(a))
	ub, err2 := url.Parse(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return false
	}
	oa, err1 := trust.Origin(ua)
	ob, err2 := trust.Origin(ub)
	return err1 == nil && err2 == nil && oa == ob &&
		strings.TrimSuffix(ua.EscapedPath(), "/") == strings.TrimSuffix(ub.EscapedPath(), "/") &&
		ua.RawQuery == ub.RawQuery
}

// serviceOf is the waiter name's service prefix.
func serviceOf(waiter string) string {
	s, _, _ := strings.Cut(waiter, ".")
	return s
}

// tokenEndpointErr wraps a refusal for Resume.
func tokenEndpointErr(waiter string, err error) error {
	if errors.Is(err, poller.ErrInvalidToken) {
		return fmt.Errorf("aws: waiter %s: %w", waiter, err)
	}
	return fmt.Errorf("aws: waiter %s: %w: %w", waiter, poller.ErrInvalidToken, err)
}

func clipWord(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

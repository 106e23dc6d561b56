package aws

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/lrokit/lrokit/internal/trust"
)

// FuzzTokenEndpoint: the endpoint check never panics, a refusal wraps
// trust.ErrUntrusted, and an endpoint the caller did not configure is
// trusted only over https, on the default port, for the token's service
// and region, and never on a host anyone can own.
func FuzzTokenEndpoint(f *testing.F) {
	f.Add("eks", "eu-west-1", "https://eks.eu-west-1.amazonaws.com")
	f.Add("cloudformation", "cn-north-1", "https://cloudformation.cn-north-1.amazonaws.com.cn")
	f.Add("eks", "us-east-1", "https://eks-fips.us-east-1.amazonaws.com")
	f.Add("ec2", "us-east-1", "https://abc.execute-api.us-east-1.amazonaws.com")
	f.Add("ec2", "us-east-1", "http://ec2.us-east-1.amazonaws.com")
	f.Add("ec2", "x.execute-api.us-east-1", "https://ec2.x.execute-api.us-east-1.amazonaws.com")
	f.Add("nosuch", "us-east-1", "https://nosuch.us-east-1.amazonaws.com")
	f.Fuzz(func(t *testing.T, service, region, endpoint string) {
		err := checkTokenEndpoint(service, region, endpoint, nil)
		if err != nil {
			if !errors.Is(err, trust.ErrUntrusted) {
				t.Fatalf("refusal does not wrap ErrUntrusted: %v", err)
			}
			if u, perr := url.Parse(endpoint); perr == nil && len(u.RawQuery) >= 12 && strings.Contains(err.Error(), u.RawQuery) {
				t.Fatalf("refusal echoes the query: %v", err)
			}
			return
		}
		if endpoint == "" {
			return
		}
		u, perr := url.Parse(endpoint)
		if perr != nil {
			t.Fatalf("trusted an endpoint that does not parse: %q", endpoint)
		}
		host := strings.ToLower(u.Hostname())
		switch {
		case u.Scheme != "https" && u.Scheme != "HTTPS" && !strings.EqualFold(u.Scheme, "https"):
			t.Fatalf("trusted a non-https endpoint %q", endpoint)
		case u.Port() != "" && u.Port() != "443":
			t.Fatalf("trusted another port: %q", endpoint)
		case u.User != nil:
			t.Fatalf("trusted user info: %q", endpoint)
		case strings.Contains(host, "execute-api") || strings.Contains(host, ".s3."):
			t.Fatalf("trusted a host anyone can own: %q", endpoint)
		case !strings.HasPrefix(host, service+".") && !strings.HasPrefix(host, service+"-fips."):
			t.Fatalf("trusted %q for service %q", endpoint, service)
		case !strings.Contains(host, "."+region+"."):
			t.Fatalf("trusted %q for region %q", endpoint, region)
		}
		if err := checkTokenEndpoint(service, region, endpoint, []string{endpoint}); err != nil {
			t.Fatalf("a configured endpoint is refused: %v", err)
		}
	})
}

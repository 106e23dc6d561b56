package trust

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	a := MustNew("Options.AllowedHosts", false,
		"management.azure.com", ".vault.azure.net", "127.0.0.1:8443", "http://127.0.0.1:8080", "[::1]:9000")
	cases := []struct {
		url string
		ok  bool
	}{
		{"https://management.azure.com/subscriptions/x?api-version=1", true},
		{"https://MANAGEMENT.Azure.COM./x", true},              // case and trailing dot are the same host
		{"https://management.azure.com:443/x", true},           // default port
		{"https://management.azure.com:444/x", false},          // other port, same host
		{"http://management.azure.com/x", false},               // downgrade
		{"https://user:pw@management.azure.com/x", false},      // userinfo
		{"https://management.azure.com@evil.example/x", false}, // userinfo trick: host is evil.example
		{"https://management.azure.com.evil.example/x", false},
		{"https://evilmanagement.azure.com/x", false},
		{"https://m%61nagement.azure.com/x", false}, // net/url refuses percent-encoded names
		{"https://mánagement.azure.com/x", false},   // IDN must be xn--
		{"https://ｍanagement.azure.com/x", false},   // full-width letters
		{"https://kv1.vault.azure.net/keys", true},
		{"https://vault.azure.net/keys", false}, // a suffix needs a subdomain
		{"https://kv1.vault.azure.net:8443/keys", false},
		{"https://127.0.0.1:8443/x", true},
		{"http://127.0.0.1:8443/x", false},
		{"http://127.0.0.1:8080/x", true},
		{"https://127.0.0.1:8080/x", false},
		{"https://127.0.0.2:8443/x", false},
		{"https://[::1]:9000/x", true},
		{"https://[0:0::1]:9000/x", true},
		{"https://[::1]:9001/x", false},
		{"ftp://management.azure.com/x", false},
		{"//management.azure.com/x", false},
		{"/relative", false},
	}
	for _, c := range cases {
		u, err := url.Parse(c.url)
		if err != nil {
			if c.ok {
				t.Errorf("%s: parse: %v", c.url, err)
			}
			continue
		}
		err = a.Check(u)
		if (err == nil) != c.ok {
			t.Errorf("Check(%s) = %v, want ok=%v", c.url, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrUntrusted) {
			t.Errorf("Check(%s) error does not wrap ErrUntrusted: %v", c.url, err)
		}
	}
}

func TestRefusalNamesHostAndOptionNotQuery(t *testing.T) {
	a := MustNew("rest.Options.AllowedHosts (CLI: --allow-host)", false, "api.example.com")
	_, err := a.Parse("https://evil.example:8443/ops/1?sig=SECRET")
	if err == nil {
		t.Fatal("foreign host accepted")
	}
	msg := err.Error()
	for _, want := range []string{"evil.example:8443", "--allow-host", "api.example.com"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "SECRET") || strings.Contains(msg, "ops/1") {
		t.Errorf("message %q echoes the URL", msg)
	}
}

func TestZeroAnchorsTrustNothing(t *testing.T) {
	var a Anchors
	u, _ := url.Parse("https://127.0.0.1/x")
	if a.Check(u) == nil {
		t.Fatal("zero Anchors trusted a URL")
	}
	if !a.Empty() {
		t.Fatal("zero Anchors not Empty")
	}
}

func TestAllowHTTPWidensHostPatterns(t *testing.T) {
	a := MustNew("", true, "internal.example", ".corp.example")
	for _, s := range []string{"http://internal.example/x", "https://internal.example/x", "http://a.corp.example/x"} {
		u, _ := url.Parse(s)
		if err := a.Check(u); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestWithCopies(t *testing.T) {
	a := MustNew("", false, "a.example")
	b, err := a.With("https://b.example:8443")
	if err != nil {
		t.Fatal(err)
	}
	ub, _ := url.Parse("https://b.example:8443/")
	if a.Check(ub) == nil {
		t.Error("With changed the original")
	}
	if err := b.Check(ub); err != nil {
		t.Error(err)
	}
}

func TestBadPatterns(t *testing.T) {
	for _, p := range []string{".com", "https://a.example/path", "a.example?x=1", "exämple.com", ".", "https://a.example:0"} {
		if _, err := New("", false, p); err == nil {
			t.Errorf("pattern %q accepted", p)
		}
	}
}

func TestCapabilityAndRedaction(t *testing.T) {
	cases := []struct {
		url        string
		capability bool
		shown      string
	}{
		{"https://h.example/ops/1?api-version=2024-01-01", false, "https://h.example/ops/1?api-version=2024-01-01"},
		{"https://acct.blob.core.windows.net/c/b?sv=2022&sig=abc%2Fdef&se=2030", true, "https://acct.blob.core.windows.net/c/b?se=REDACTED&sig=REDACTED&sv=REDACTED"},
		{"https://fn.example/runtime/webhooks/durabletask/instances/1?taskHub=h&code=K3Y", true, "https://fn.example/runtime/webhooks/durabletask/instances/1?code=REDACTED&taskHub=REDACTED"},
		{"https://b.s3.amazonaws.com/k?X-Amz-Signature=1&X-Amz-Credential=2", true, "https://b.s3.amazonaws.com/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"},
		{"https://h.example/x?%73ig=1", true, "https://h.example/x?sig=REDACTED"},
		{"https://u:p@h.example/x#frag", false, "https://h.example/x"},
		{"https://h.example/x?api-version=1&SIG=2", true, "https://h.example/x?SIG=REDACTED&api-version=1"},
		{"https://h.example/x?a=1;Code=2#f?sig=1", true, "https://h.example/x?REDACTED"},
	}
	for _, c := range cases {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := IsCapability(u); got != c.capability {
			t.Errorf("IsCapability(%s) = %v", c.url, got)
		}
		if got := MayBeCapability(c.url); got != c.capability {
			t.Errorf("MayBeCapability(%s) = %v", c.url, got)
		}
		if got := RedactURL(u); got != c.shown {
			t.Errorf("RedactURL(%s) = %s, want %s", c.url, got, c.shown)
		}
	}
}

// Shared returns one set for identical arguments only: one caller's
// patterns never reach anchors another caller asked for (issue 17).
func TestSharedAnchors(t *testing.T) {
	a, err := Shared("opt", false, "https://management.azure.com", "a.example")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Shared("opt", false, "https://management.azure.com", "a.example")
	if err != nil {
		t.Fatal(err)
	}
	if a.s != b.s {
		t.Error("identical arguments: two sets")
	}
	u, _ := url.Parse("https://b.example/x")
	for _, c := range []struct {
		option    string
		allowHTTP bool
		patterns  []string
	}{
		{"opt", false, []string{"https://management.azure.com"}},
		{"opt", false, []string{"https://management.azure.com", "a.example", "b.example"}},
		{"opt", true, []string{"https://management.azure.com", "a.example"}},
		{"other", false, []string{"https://management.azure.com", "a.example"}},
		{"opt", false, []string{"https://management.azure.com,a.example"}},
		{"opt", false, []string{"https://management.azure.com", "a.example", ""}},
	} {
		d, err := Shared(c.option, c.allowHTTP, c.patterns...)
		if err != nil {
			continue
		}
		if d.s == a.s {
			t.Errorf("Shared(%q, %v, %q) shares %v", c.option, c.allowHTTP, c.patterns, a)
		}
	}
	w, err := a.With("b.example")
	if err != nil {
		t.Fatal(err)
	}
	if w.Check(u) != nil || a.Check(u) == nil || b.Check(u) == nil {
		t.Error("With changed the shared set")
	}
	if _, err := Shared("opt", false, "bad host/x"); err == nil {
		t.Error("a bad pattern is not refused")
	}
	for i := range 2 * sharedCacheSize {
		if _, err := Shared("opt", false, fmt.Sprintf("h%d.example", i)); err != nil {
			t.Fatal(err)
		}
	}
	shared.mu.Lock()
	n := len(shared.m)
	shared.mu.Unlock()
	if n > sharedCacheSize {
		t.Errorf("%d sets kept", n)
	}
	if (Anchors{}).Check(u) == nil || !(Anchors{}).Empty() || (Anchors{}).String() != "none" {
		t.Error("the zero Anchors trusts something")
	}
}

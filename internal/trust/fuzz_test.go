package trust

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzCheck: Check and the redaction helpers never panic, a trusted URL is
// always one of the anchors' origins, and redaction never shows a value
// other than api-version's.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"https://management.azure.com/x?api-version=1", "http://127.0.0.1:8080/a", "https://[::1]:9000/",
		"https://a@b/", "https://kv.vault.azure.net:443/k?sig=s", "https://%65vil.example/", "https://ｍ.example/",
		"https://[::ffff:127.0.0.1]:8080/", "https://127.1:8080/", "https://0x7f.0.0.1:8080/", "//x", "%", "https://x:/",
	} {
		f.Add(s)
	}
	a := MustNew("", false, "management.azure.com", ".vault.azure.net", "http://127.0.0.1:8080", "[::1]:9000")
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		_ = RedactString(raw)
		if err != nil {
			return
		}
		shown := RedactURL(u)
		if u.User != nil {
			if p, ok := u.User.Password(); ok && p != "" && strings.Contains(shown, "@") {
				t.Fatalf("user info shown: %q", shown)
			}
		}
		if IsCapability(u) && !MayBeCapability(raw) {
			t.Fatalf("MayBeCapability(%q) = false, IsCapability true", raw)
		}
		if a.Check(u) != nil {
			return
		}
		o, err := Origin(u)
		if err != nil {
			t.Fatalf("trusted URL has no origin: %q: %v", raw, err)
		}
		switch {
		case o == "https://management.azure.com", o == "http://127.0.0.1:8080", o == "https://[::1]:9000":
		case strings.HasPrefix(o, "https://") && strings.HasSuffix(o, ".vault.azure.net") && !strings.Contains(strings.TrimPrefix(o, "https://"), ":"):
		default:
			t.Fatalf("Check trusted %q (origin %s)", raw, o)
		}
	})
}

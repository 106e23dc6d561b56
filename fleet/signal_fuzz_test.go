package fleet

import (
	"strings"
	"testing"

	"github.com/lrokit/lrokit/poller"
)

// FuzzMatchKeys: an identifier taken from a notification is untrusted.
func FuzzMatchKeys(f *testing.F) {
	for _, s := range []string{"https://management.azure.com/subscriptions/s/x?api-version=1", "/subscriptions/S/resourceGroups/RG",
		"//compute.googleapis.com/projects/p/zones/z/instances/i", "arn:aws:cloudformation:r:1:stack/web/guid", "arn:", "http://[::1", "i-123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		keys := MatchKeys(id)
		if len(id) > maxMatchKeyLen && keys != nil {
			t.Fatalf("keys for an oversized identifier")
		}
		for _, k := range keys {
			if k == "" || k != strings.ToLower(k) || strings.HasPrefix(k, "/") || strings.HasSuffix(k, "/") {
				t.Fatalf("key %q is not normalised", k)
			}
		}
	})
}

// FuzzTokenMatchKeys: a token read back from a store is untrusted.
func FuzzTokenMatchKeys(f *testing.F) {
	for _, st := range []string{`{"method":"POST","url":"https://h/a/b"}`, `{"project":"p","region":"r","name":"n"}`,
		`{"input":{"StackName":"x","Nested":[{"a":["b"]}]}}`, `{"url":7}`, `{}`} {
		for _, p := range []string{"azure", "rest", "gcp", "aws"} {
			tok, err := poller.Token{Version: poller.TokenVersion, Provider: p, Kind: "k", State: []byte(st)}.Encode()
			if err != nil {
				f.Fatal(err)
			}
			f.Add(tok)
		}
	}
	f.Fuzz(func(t *testing.T, token string) {
		if keys := tokenMatchKeys(token, nil); len(keys) > maxMatchKeys {
			t.Fatalf("%d keys, more than %d", len(keys), maxMatchKeys)
		}
	})
}

package httplro

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lrokit/lrokit/internal/trust"
)

type refuseAll struct{}

func (refuseAll) Do(*http.Request) (*http.Response, error) {
	return nil, errors.New("no requests in this test")
}

// FuzzStart feeds hostile initial responses to Start: polling headers,
// status codes and bodies. It must never panic, and an operation it accepts
// polls only a trusted URL: the request's own origin or an anchor.
func FuzzStart(f *testing.F) {
	for _, s := range []struct {
		method string
		code   int
		aao    string
		loc    string
		body   string
	}{
		{"PUT", 201, "https://management.azure.com/op?api-version=1", "", `{"properties":{"provisioningState":"Creating"}}`},
		{"PUT", 202, "", "/op", ``},
		{"PATCH", 200, "https://evil.example/op", "", `{"properties":{"provisioningState":"Succeeded"}}`},
		{"POST", 202, "", "https://user:pw@api.example.com:443/op", ``},
		{"DELETE", 202, "//evil.example/op", "", `{"status":"Running"`},
		{"POST", 200, "", "", `{"status":"Succ`},
		{"POST", 202, "HTTP://API.EXAMPLE.COM:80/op", "https://api.example.com./op", `[]`},
	} {
		f.Add(s.method, s.code, s.aao, s.loc, s.body, false)
		f.Add(s.method, s.code, s.aao, s.loc, s.body, true)
	}
	anchors := trust.MustNew("", false, "management.azure.com")
	f.Fuzz(func(t *testing.T, method string, code int, aao, loc, body string, rest bool) {
		orig, _ := url.Parse("https://api.example.com/things/1?api-version=1")
		resp := &http.Response{
			StatusCode: code, Header: http.Header{},
			Body:    readerOf([]byte(body)),
			Request: &http.Request{Method: method, URL: orig},
		}
		if aao != "" {
			resp.Header.Set("Azure-AsyncOperation", aao)
		}
		if loc != "" {
			resp.Header.Set("Location", loc)
		}
		cfg := Config{Provider: "test", Doer: refuseAll{}, Trusted: anchors, REST: rest, AbsoluteOnly: !rest}
		op, obs, err := Start(resp, cfg)
		if err != nil {
			return
		}
		if obs.Status == "" {
			t.Fatal("an accepted operation has no status")
		}
		if op.poll != nil {
			host := strings.ToLower(op.poll.Host)
			if op.poll.Scheme != "https" || (host != "api.example.com" && host != "management.azure.com" && host != "api.example.com:443" && host != "management.azure.com:443" && host != "api.example.com." && host != "management.azure.com.") {
				t.Fatalf("polls an untrusted URL %q", op.poll)
			}
		}
		if _, err := op.Token(); err != nil {
			t.Fatalf("an accepted operation has no token: %v", err)
		}
	})
}

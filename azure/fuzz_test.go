package azure_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/lrokit/lrokit/azure"
)

// FuzzResume feeds arbitrary strings to Resume as tokens: lrokit tokens,
// their JSON form and azcore tokens. It must never panic, and a token it
// accepts must name only URLs inside the anchors given (Resource Manager's
// endpoint and https://127.0.0.1), so nothing else could be contacted.
func FuzzResume(f *testing.F) {
	for _, s := range []string{
		"", "{}", "lrokit1.", "lrokit1s.x.y",
		`{"lrokit":1,"provider":"azure","kind":"async","state":{"method":"PUT","url":"https://127.0.0.1/r","poll":"https://127.0.0.1/op"}}`,
		`{"lrokit":1,"provider":"azure","kind":"done","state":{"method":"POST","url":"https://127.0.0.1/r","outcome":"Failed","code":"X"}}`,
		`{"type":"T","token":{"asyncURL":"https://127.0.0.1/op","origURL":"https://127.0.0.1/r","method":"PUT"}}`,
		`{"type":"T","token":{"type":"loc","pollURL":"https://127.0.0.1/op"}}`,
		`{"type":"T","token":{"type":"body","pollURL":"https://127.0.0.1/r"}}`,
		`{"type":"T","token":{"oplocURL":"https://127.0.0.1/op","origURL":"https://127.0.0.1/r","method":"POST","resultPath":"result"}}`,
	} {
		f.Add(s)
	}
	pl := newPipeline(http.DefaultClient, noRetries())
	opts := &azure.Options{AllowedHosts: []string{"127.0.0.1"}}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := azure.Resume[json.RawMessage](token, pl, opts)
		if err != nil {
			return
		}
		tok, err := p.Token()
		if err != nil {
			t.Fatalf("accepted token has no token: %v", err)
		}
		var st map[string]any
		_ = json.Unmarshal(tok.State, &st)
		for _, k := range []string{"url", "poll", "location", "content_location", "result"} {
			s, _ := st[k].(string)
			if s == "" {
				continue
			}
			u, err := url.Parse(s)
			if err != nil || u.Scheme != "https" || (u.Host != "127.0.0.1" && u.Host != "management.azure.com") {
				t.Fatalf("accepted a token whose %s URL is outside the anchors: %q", k, s)
			}
		}
	})
}

package rest_test

import (
	"encoding/json"
	"testing"

	"github.com/lrokit/lrokit/rest"
)

// FuzzResume feeds arbitrary strings to Resume as tokens; it must never
// panic, and an accepted token must yield a token again.
func FuzzResume(f *testing.F) {
	for _, s := range []string{"", "{}", "lrokit1.e30",
		`{"lrokit":1,"provider":"rest","kind":"location","state":{"method":"POST","url":"https://127.0.0.1/r","poll":"https://127.0.0.1/s"}}`,
		`{"lrokit":1,"provider":"rest","kind":"done","state":{"method":"POST","url":"https://127.0.0.1/r","outcome":"Succeeded","no_content":true}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := rest.Resume[json.RawMessage](token, nil, nil)
		if err != nil {
			return
		}
		if _, err := p.Token(); err != nil {
			t.Fatalf("accepted token has no token: %v", err)
		}
	})
}

package poller_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

func sampleToken() poller.Token {
	return poller.Token{
		Provider: "azure", Kind: "async",
		State:   json.RawMessage(`{"method":"PUT","url":"https://management.azure.com/x?api-version=1"}`),
		Created: epoch, Polled: epoch.Add(time.Minute), Next: epoch.Add(90 * time.Second), Polls: 3,
		Last: &poller.TokenObservation{Status: poller.StatusRunning, Detail: "InProgress", Progress: 30, Hinted: true},
	}
}

func TestTokenRoundTripsInBothForms(t *testing.T) {
	tok := sampleToken()
	compact, err := tok.Encode()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(compact, "lrokit1."))
	assert.Regexp(t, `^[A-Za-z0-9._-]+$`, compact, "safe in CI variables and unquoted shell")

	fromCompact, err := poller.DecodeToken(compact, nil)
	require.NoError(t, err)
	tok.Version = poller.TokenVersion
	assert.Equal(t, tok, fromCompact)

	plain, err := json.Marshal(tok)
	require.NoError(t, err)
	fromJSON, err := poller.DecodeToken("  "+string(plain)+"\n", nil)
	require.NoError(t, err)
	assert.Equal(t, tok, fromJSON)
}

func TestSealedTokens(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	sealed, err := sampleToken().Seal(key)
	require.NoError(t, err)
	got, err := poller.DecodeToken(sealed, key)
	require.NoError(t, err)
	assert.Equal(t, "azure", got.Provider)

	_, err = poller.DecodeToken(sealed, nil)
	assert.ErrorContains(t, err, "sealed and no key")
	assert.ErrorIs(t, err, poller.ErrSealKeyUnavailable)
	_, err = poller.DecodeToken(sealed, []byte("another key.....another key....."))
	assert.ErrorContains(t, err, "not among the keys given")
	assert.ErrorIs(t, err, poller.ErrSealKeyUnavailable, "a rotated-out key: the right key can still open it")
	assert.ErrorIs(t, err, poller.ErrInvalidToken)
	plain, _ := sampleToken().Encode()
	_, err = poller.DecodeToken(plain, key)
	assert.ErrorContains(t, err, "not sealed")

	// Tamper with the payload: swap the polling URL's host.
	tampered := sampleToken()
	tampered.State = json.RawMessage(`{"method":"PUT","url":"https://evil.example/x"}`)
	evil, _ := tampered.Seal([]byte("attacker key....attacker key...."))
	dot := strings.LastIndexByte(sealed, '.')
	forged := evil[:strings.LastIndexByte(evil, '.')] + sealed[dot:]
	_, err = poller.DecodeToken(forged, key)
	assert.ErrorIs(t, err, poller.ErrInvalidToken)
	// The same forgery under the victim's key id: the MAC still fails.
	evilHead := evil[:strings.LastIndexByte(evil, '.')]
	payload := evilHead[strings.LastIndexByte(evilHead, '.'):]
	forged = sealed[:strings.LastIndexByte(sealed[:dot], '.')] + payload + sealed[dot:]
	_, err = poller.DecodeToken(forged, key)
	assert.ErrorContains(t, err, "seal does not match")
	assert.NotErrorIs(t, err, poller.ErrSealKeyUnavailable, "the key is there: the token is tampered")
	_, err = poller.Token{}.Seal(nil)
	assert.Error(t, err)
}

func TestDecodeTokenRejectsBadInputWithoutEchoingIt(t *testing.T) {
	secretish := "SECRETSECRETSECRET"
	tests := []struct {
		name, input, want string
	}{
		{"empty", "   ", "empty"},
		{"too large", "lrokit1." + strings.Repeat("A", poller.MaxTokenSize), "more than"},
		{"not a token", "hello " + secretish, "neither an lrokit token"},
		{"future format prefix", "lrokit2." + secretish, "upgrade"},
		{"bad base64", "lrokit1.***" + secretish, "not base64url"},
		{"not JSON", "lrokit1." + b64(`{"lrokit":1,`+secretish), "not valid JSON"},
		{"no version", `{"provider":"azure","kind":"x","s":"` + secretish + `"}`, `no "lrokit" version`},
		{"version is a string", `{"lrokit":"1","provider":"azure","kind":"x"}`, "not a positive integer"},
		{"version zero", `{"lrokit":0,"provider":"azure","kind":"x"}`, "not a positive integer"},
		{"future version", `{"lrokit":7,"provider":"azure","kind":"x","s":"` + secretish + `"}`, "format version 7, newer than this lrokit reads (1): upgrade lrokit"},
		{"no provider", `{"lrokit":1,"kind":"x"}`, "no provider"},
		{"no kind", `{"lrokit":1,"provider":"azure"}`, "no kind"},
		{"state not an object", `{"lrokit":1,"provider":"azure","kind":"x","state":[1]}`, "state is not a JSON object"},
		{"wrong field type", `{"lrokit":1,"provider":"azure","kind":"x","created":"` + secretish + `"}`, "wrong type"},
		{"negative counters", `{"lrokit":1,"provider":"azure","kind":"x","polls":-1}`, "negative"},
		{"unknown last status", `{"lrokit":1,"provider":"azure","kind":"x","last":{"status":"` + secretish + `"}}`, "last status"},
		{"sealed without seal", "lrokit1s.abc", "sealed and no key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := poller.DecodeToken(tt.input, nil)
			require.ErrorIs(t, err, poller.ErrInvalidToken)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), secretish)
			assert.Less(t, len(err.Error()), 200)
		})
	}
}

func TestDecodeTokenNormalizesTheLastStatus(t *testing.T) {
	tok, err := poller.DecodeToken(`{"lrokit":1,"provider":"azure","kind":"x","last":{"status":"running"}}`, nil)
	require.NoError(t, err)
	assert.Equal(t, poller.StatusRunning, tok.Last.Status)
	assert.Equal(t, poller.StatusRunning, tok.Last.Observation().Status)
	assert.Equal(t, float64(poller.ProgressUnknown), tok.Last.Observation().Progress)
	var none *poller.TokenObservation
	assert.Equal(t, float64(poller.ProgressUnknown), none.Observation().Progress)
}

func TestEncodeNeedsProviderAndKind(t *testing.T) {
	_, err := poller.Token{Provider: "azure"}.Encode()
	assert.Error(t, err)
}

// Every golden fixture of every format version stays decodable forever.
func TestGoldenTokensStayDecodable(t *testing.T) {
	files, err := filepath.Glob("../testdata/tokens/*")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		if filepath.Ext(f) == ".md" {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			tok, err := poller.DecodeToken(string(b), nil)
			require.NoError(t, err)
			assert.NotEmpty(t, tok.Provider)
			assert.NotEmpty(t, tok.Kind)
			assert.Equal(t, 1, tok.Version)
			assert.False(t, tok.Created.IsZero())
			if tok.Provider != "test" {
				return // adapters resume their own fixtures
			}
			op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Succeeded()}}
			require.NoError(t, op.Restore(tok))
			p, err := poller.Resume[result](op, tok, &poller.Options{Clock: pollertest.NewClock(tok.Created)})
			require.NoError(t, err)
			assert.Equal(t, tok.Polls, p.Polls())
		})
	}
}

func FuzzDecodeToken(f *testing.F) {
	plain, _ := sampleToken().Encode()
	fuzzKey := []byte("fuzz key 0123456789abcdef0123456")
	sealed, _ := sampleToken().Seal(fuzzKey)
	j, _ := json.Marshal(sampleToken())
	for _, s := range []string{plain, sealed, string(j), "", "{", "lrokit1.", "lrokit1s..", `{"lrokit":1e400}`} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, withKey bool) {
		var key []byte
		if withKey {
			key = fuzzKey
		}
		tok, err := poller.DecodeToken(s, key)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid resume token") {
				t.Fatalf("error does not wrap ErrInvalidToken: %v", err)
			}
			return
		}
		if tok.Provider == "" || tok.Kind == "" || tok.Version < 1 {
			t.Fatalf("accepted an incomplete token: %+v", tok)
		}
		if _, err := tok.Encode(); err != nil {
			t.Fatalf("a decoded token does not encode: %v", err)
		}
		if _, ok := poller.ParseTraceparent(tok.Trace); tok.Trace != "" && !ok {
			t.Fatalf("kept a malformed traceparent %q", tok.Trace)
		}
	})
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

package poller_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

var (
	keyOld = []byte("old seal key 0123456789abcdef012")
	keyNew = []byte("new seal key 0123456789abcdef012")
)

func TestSealKeysShorterThan32BytesAreRefused(t *testing.T) {
	for _, k := range [][]byte{[]byte("k"), []byte("0123456789abcdef0123456789abcde")} {
		_, err := sampleToken().Seal(k)
		assert.ErrorIs(t, err, poller.ErrSealKey)
		_, err = poller.DecodeToken("lrokit1.e30", k)
		assert.ErrorIs(t, err, poller.ErrSealKey)
		assert.NotErrorIs(t, err, poller.ErrInvalidToken, "a short key is the caller's configuration, not the token")
		_, err = poller.New[int](&pollertest.Operation{}, &poller.Options{SealKey: k})
		assert.ErrorIs(t, err, poller.ErrSealKey)
	}
}

func TestRotation(t *testing.T) {
	old, err := sampleToken().Seal(keyOld)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(old, "lrokit1k."+poller.SealKeyID(keyOld)+"."), "the sealed form names its key")

	// After rotation: seal with the new key, still open the old one.
	_, err = poller.DecodeToken(old, keyNew, keyOld)
	require.NoError(t, err)
	_, err = poller.DecodeToken(old, keyNew)
	assert.ErrorContains(t, err, "sealed with key "+poller.SealKeyID(keyOld))
	assert.ErrorIs(t, err, poller.ErrInvalidToken)

	opts := poller.Options{SealKey: keyNew, SealKeys: [][]byte{keyOld}}
	_, err = opts.DecodeToken(old)
	require.NoError(t, err)
}

func TestSealKeyIDRevealsNothingAndDiffers(t *testing.T) {
	a, b := poller.SealKeyID(keyOld), poller.SealKeyID(keyNew)
	assert.Len(t, a, 8)
	assert.NotEqual(t, a, b)
	assert.NotContains(t, string(keyOld), a)
}

func TestLegacySealedTokensStillOpen(t *testing.T) {
	// The first release's form: "lrokit1s." payload "." HMAC(payload).
	tok := sampleToken()
	tok.Version = 1
	b, err := json.Marshal(tok)
	require.NoError(t, err)
	payload := base64.RawURLEncoding.EncodeToString(b)
	h := hmac.New(sha256.New, keyOld)
	h.Write([]byte(payload))
	legacy := "lrokit1s." + payload + "." + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
	got, err := poller.DecodeToken(legacy, keyNew, keyOld)
	require.NoError(t, err)
	assert.Equal(t, "azure", got.Provider)
	_, err = poller.DecodeToken(legacy, keyNew)
	assert.ErrorContains(t, err, "matches none of the keys")
	assert.ErrorIs(t, err, poller.ErrSealKeyUnavailable, "without a key id, another key cannot be told from tampering")
}

func TestSecretsAreEncryptedWhenSealedAndRefusedInClear(t *testing.T) {
	tok := sampleToken()
	tok.Secrets = map[string]string{"poll_query": "sig=SECRETSIG&se=2030"}

	_, err := tok.Encode()
	assert.ErrorIs(t, err, poller.ErrSecretNeedsKey)
	assert.NotContains(t, err.Error(), "SECRETSIG")

	sealed, err := tok.Seal(keyNew)
	require.NoError(t, err)
	assert.NotContains(t, sealed, "SECRETSIG")
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(sealed, ".")[2])
	assert.NotContains(t, string(payload), "SECRETSIG", "the secret is encrypted inside the sealed payload")
	assert.Contains(t, string(payload), `"enc":`)

	got, err := poller.DecodeToken(sealed, keyNew)
	require.NoError(t, err)
	assert.Equal(t, tok.Secrets, got.Secrets)

	// Opt-in clear form round-trips, and a sealed token may not smuggle
	// clear secrets.
	clear, err := tok.EncodeWithSecrets()
	require.NoError(t, err)
	got, err = poller.DecodeToken(clear, nil)
	require.NoError(t, err)
	assert.Equal(t, tok.Secrets, got.Secrets)

	// The struct's JSON form never shows them.
	j, _ := json.Marshal(got)
	assert.NotContains(t, string(j), "SECRETSIG")
}

func TestEncryptedPartIsBoundToTheToken(t *testing.T) {
	tok := sampleToken()
	tok.Secrets = map[string]string{"q": "code=K"}
	sealed, err := tok.Seal(keyNew)
	require.NoError(t, err)
	// An "enc" in an unsealed token is refused: only a seal opens it.
	parts := strings.Split(sealed, ".")
	_, err = poller.DecodeToken("lrokit1."+parts[2], nil)
	assert.ErrorContains(t, err, "encrypted part but is not sealed")
}

func TestPollerResumeTokenFollowsTheSecretRule(t *testing.T) {
	op := &pollertest.Operation{Secrets: map[string]string{"q": "sig=S"}}
	p, err := poller.New[int](op, nil)
	require.NoError(t, err)
	_, err = p.ResumeToken()
	assert.ErrorIs(t, err, poller.ErrSecretNeedsKey)

	p, err = poller.New[int](op, &poller.Options{PlaintextSecrets: true})
	require.NoError(t, err)
	s, err := p.ResumeToken()
	require.NoError(t, err)
	tok, err := poller.DecodeToken(s, nil)
	require.NoError(t, err)
	assert.Equal(t, "sig=S", tok.Secrets["q"])

	p, err = poller.New[int](op, &poller.Options{SealKey: keyNew})
	require.NoError(t, err)
	s, err = p.ResumeToken()
	require.NoError(t, err)
	assert.NotContains(t, s, "sig=S")
}

func TestCheck(t *testing.T) {
	tok := sampleToken()
	require.NoError(t, tok.Check("azure"))
	require.NoError(t, tok.Check("azure", "async", "location"))
	assert.ErrorIs(t, tok.Check("rest"), poller.ErrInvalidToken)
	err := tok.Check("azure", "location")
	assert.ErrorIs(t, err, poller.ErrInvalidToken)
	assert.ErrorContains(t, err, "kind")
}

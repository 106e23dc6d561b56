package poller

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lrokit/lrokit/internal/safetext"
)

// MinSealKeySize is the shortest seal key accepted, in bytes: a key is an
// HMAC-SHA256 and AES-256 secret, and anything shorter than the hash is a
// password in disguise. Derive a key from a passphrase with
// SealKeyFromPassphrase.
const MinSealKeySize = 32

// Sealed token forms. "lrokit1k." carries the sealing key's id, so a reader
// with several keys (rotation) knows which one to use; "lrokit1s." is the
// first release's form, without an id, still read by trying every key.
const (
	sealedPrefix       = "lrokit1k."
	legacySealedPrefix = "lrokit1s."
)

// SealKeyFromPassphrase derives a seal key from a passphrase: PBKDF2 with
// HMAC-SHA256, 600,000 iterations (OWASP's 2023 figure for SHA-256), and a
// fixed salt, so every process given the same passphrase derives the same
// key. A random key of MinSealKeySize bytes is better still.
func SealKeyFromPassphrase(passphrase string) ([]byte, error) {
	if len(passphrase) < 12 {
		return nil, fmt.Errorf("a passphrase needs at least 12 characters (got %d)", len(passphrase))
	}
	return pbkdf2.Key(sha256.New, passphrase, []byte("lrokit seal key v1"), 600_000, MinSealKeySize)
}

// SealKeyID returns the public id of a seal key: 8 base64url characters of
// an HMAC of a fixed label under the key. It names the key in sealed tokens
// and in messages without revealing it.
func SealKeyID(key []byte) string {
	return base64.RawURLEncoding.EncodeToString(derive(key, "lrokit key id")[:6])
}

func derive(key []byte, label string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(label))
	return h.Sum(nil)
}

// ErrSealKey is wrapped by errors about a seal key the caller configured
// (too short): a configuration error, not an invalid token.
var ErrSealKey = errors.New("seal key rejected")

// ErrSealKeyUnavailable is wrapped, with ErrInvalidToken, by DecodeToken's
// refusal of a sealed token that none of the given keys can open because
// the key is not there: no key was given, or the token names a key id
// that is not among them (rotated out, or another deployment's), or a
// first-release token (no key id) whose seal matches none of them. The
// token may be sound: a process holding the right key can still use it,
// so a fleet releases such a record instead of failing it. A token whose
// key id matches but whose seal does not is tampered, and wraps only
// ErrInvalidToken.
var ErrSealKeyUnavailable = errors.New("the token's seal key is not available")

func keyErr(format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrInvalidToken, ErrSealKeyUnavailable, fmt.Sprintf(format, args...))
}

// checkKeys validates seal keys: each at least MinSealKeySize bytes.
func checkKeys(keys [][]byte) error {
	for i, k := range keys {
		if len(k) < MinSealKeySize {
			which := "the seal key"
			if i > 0 {
				which = fmt.Sprintf("seal key %d", i+1)
			}
			return fmt.Errorf("%w: %s is %d bytes; at least %d are required (use 32 random bytes, or SealKeyFromPassphrase)", ErrSealKey, which, len(k), MinSealKeySize)
		}
	}
	return nil
}

// Seal returns the compact form authenticated with HMAC-SHA256 under key
// and naming the key's id, for stores the caller does not trust. Secrets
// are encrypted with AES-256-GCM under a key derived from key. DecodeToken
// with the same key (among others) verifies and decrypts it.
func (t Token) Seal(key []byte) (string, error) {
	if len(key) == 0 {
		return "", fmt.Errorf("%w: sealing a token needs a key", ErrSealKey)
	}
	if err := checkKeys([][]byte{key}); err != nil {
		return "", err
	}
	id := SealKeyID(key)
	enc := ""
	if len(t.Secrets) > 0 {
		var err error
		if enc, err = encryptSecrets(key, id, t.Secrets); err != nil {
			return "", err
		}
	}
	b, err := t.marshalWith(nil, enc)
	if err != nil {
		return "", err
	}
	head := sealedPrefix + id + "." + base64.RawURLEncoding.EncodeToString(b)
	return head + "." + base64.RawURLEncoding.EncodeToString(derive(key, head)), nil
}

func aead(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(derive(key, "lrokit token encryption v1"))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func encryptSecrets(key []byte, id string, secrets map[string]string) (string, error) {
	plain, err := json.Marshal(secrets)
	if err != nil {
		return "", err
	}
	g, err := aead(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(g.Seal(nonce, nonce, plain, []byte(id))), nil
}

func decryptSecrets(key []byte, id, enc string) (map[string]string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return nil, tokenErr("its encrypted part is not base64url")
	}
	g, err := aead(key)
	if err != nil {
		return nil, tokenErr("its encrypted part cannot be opened")
	}
	if len(raw) < g.NonceSize()+g.Overhead() {
		return nil, tokenErr("its encrypted part is too short")
	}
	plain, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], []byte(id))
	if err != nil {
		return nil, tokenErr("its encrypted part does not open with the key")
	}
	var secrets map[string]string
	if json.Unmarshal(plain, &secrets) != nil {
		return nil, tokenErr("its encrypted part does not decode")
	}
	return secrets, nil
}

// DecodeToken parses a token in any form (compact, JSON, sealed), as
// untrusted input. With keys, the token must be sealed with one of them
// (key is the current one, older are accepted for rotation); without, a
// sealed token is refused. Errors wrap ErrInvalidToken and never echo the
// token. A token of a newer format version is refused with an error that
// says to upgrade. Keys shorter than MinSealKeySize are an error.
func DecodeToken(s string, key []byte, older ...[]byte) (Token, error) {
	if len(s) > MaxTokenSize {
		return Token{}, tokenErr("it is %d bytes, more than the %d allowed", len(s), MaxTokenSize)
	}
	var keys [][]byte
	for _, k := range append([][]byte{key}, older...) {
		if len(k) > 0 {
			keys = append(keys, k)
		}
	}
	if err := checkKeys(keys); err != nil {
		return Token{}, err
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Token{}, tokenErr("it is empty")
	case strings.HasPrefix(s, sealedPrefix), strings.HasPrefix(s, legacySealedPrefix):
		if len(keys) == 0 {
			return Token{}, keyErr("it is sealed and no key was given")
		}
		return openSealed(s, keys)
	case len(keys) > 0:
		return Token{}, tokenErr("it is not sealed, and a sealed token is required")
	case strings.HasPrefix(s, compactPrefix):
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s[len(compactPrefix):], "="))
		if err != nil {
			return Token{}, tokenErr("its payload is not base64url")
		}
		return decodeJSON(raw, nil, "")
	case s[0] == '{':
		return decodeJSON([]byte(s), nil, "")
	case strings.HasPrefix(s, "lrokit"):
		return Token{}, tokenErr("its format prefix is unknown; it may come from a newer lrokit: upgrade")
	}
	return Token{}, tokenErr("it is neither an lrokit token (lrokit1.…) nor its JSON form")
}

func openSealed(s string, keys [][]byte) (Token, error) {
	dot := strings.LastIndexByte(s, '.')
	head, sig := s[:dot], s[dot+1:]
	want, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || dot < len(legacySealedPrefix) {
		return Token{}, tokenErr("its seal is missing")
	}
	var payload, id string
	if strings.HasPrefix(s, sealedPrefix) {
		var ok bool
		if id, payload, ok = strings.Cut(head[len(sealedPrefix):], "."); !ok {
			return Token{}, tokenErr("its seal is missing")
		}
	} else {
		payload = head[len(legacySealedPrefix):]
	}
	for _, k := range keys {
		if id != "" && SealKeyID(k) != id {
			continue
		}
		var mac []byte
		if id != "" {
			mac = derive(k, head)
		} else {
			mac = derive(k, payload) // the first release MACed the payload alone
		}
		if !hmac.Equal(want, mac) {
			continue
		}
		raw, err := base64.RawURLEncoding.DecodeString(payload)
		if err != nil {
			return Token{}, tokenErr("its payload is not base64url")
		}
		return decodeJSON(raw, k, id)
	}
	if id != "" && !hasID(keys, id) {
		return Token{}, keyErr("it is sealed with key %s, which is not among the keys given (rotated out, or another deployment's)", safetext.Clip(id))
	}
	if id == "" {
		return Token{}, keyErr("its seal matches none of the keys given (sealed with another key, or tampered)")
	}
	return Token{}, tokenErr("its seal does not match key %s (tampered)", safetext.Clip(id))
}

func hasID(keys [][]byte, id string) bool {
	for _, k := range keys {
		if SealKeyID(k) == id {
			return true
		}
	}
	return false
}

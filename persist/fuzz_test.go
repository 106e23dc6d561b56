package persist

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzDecodeRecord feeds untrusted record files to the decoder: it never
// panics, and what it accepts survives an encode/decode round trip.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"lrokit_record":1,"key":"a","token":"t","generation":1,"updated":"2026-03-01T12:00:00Z"}`))
	f.Add([]byte(`{"lrokit_record":1,"key":"deploy/prod/aks","token":"lrokit1.e30","provider":"azure","status":"running","labels":{"env":"prod"},"generation":7,"updated":"2026-03-01T12:00:00.123456789+02:00","expires_at":"2027-01-01T00:00:00Z","lease_owner":"w","lease_expires":"2026-03-01T12:01:00Z","lease_epoch":3}`))
	f.Add([]byte(`{"lrokit_record":2}`))
	f.Add([]byte(`{"lrokit_record":1,"key":"../x","generation":1}`))
	f.Add([]byte(`{"lrokit_record":"1"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			if strings.Contains(err.Error(), string(b)) && len(b) > 16 {
				t.Fatalf("error quotes the file: %v", err)
			}
			return
		}
		if ValidateKey(r.Key) != nil || r.Generation < 1 {
			t.Fatalf("accepted an invalid record %+v", r)
		}
		enc, err := encodeRecord(r)
		if err != nil {
			t.Fatalf("encode accepted record: %v", err)
		}
		back, err := decodeRecord(enc)
		if err != nil {
			t.Fatalf("decode re-encoded record: %v", err)
		}
		if back.Key != r.Key || back.Token != r.Token || back.Generation != r.Generation || back.Status != r.Status ||
			!back.Updated.Equal(r.Updated) || !back.ExpiresAt.Equal(r.ExpiresAt) || back.Lease.Epoch != r.Lease.Epoch ||
			len(back.Labels) != len(r.Labels) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", r, back)
		}
	})
}

// FuzzFileName checks that every valid key maps to one safe path element
// inside the store directory, reversible when not hashed, and that
// keyFromName never panics on foreign names.
func FuzzFileName(f *testing.F) {
	for _, k := range []string{"deploy/prod/aks", "Ab", "con", "../x", "a/./b", ".hidden", "é/日本", "a%2F", strings.Repeat("x/", 200), "a\x00b", "\xff"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		keyFromName(key) // foreign names never panic
		if ValidateKey(key) != nil {
			return
		}
		n := fileName(key)
		if len(n) > maxNameBase+len(recordExt) || !strings.HasSuffix(n, recordExt) {
			t.Fatalf("name %q of %q is too long or lacks its extension", n, key)
		}
		base := strings.TrimSuffix(n, recordExt)
		for i := 0; i < len(base); i++ {
			if c := base[i]; !plainByte(c) && c != '%' && c != '~' && !('A' <= c && c <= 'F') {
				t.Fatalf("name %q of %q holds byte %q", n, key, c)
			}
		}
		if windowsReserved(base) {
			t.Fatalf("name %q is a Windows device", n)
		}
		if strings.Contains(base, "~") {
			return
		}
		back, ok := keyFromName(n)
		if !ok || back != key {
			t.Fatalf("name %q decodes to %q, %v; want %q", n, back, ok, key)
		}
	})
}

// FuzzParseDSN feeds arbitrary DSNs to the parsers: they never panic, and
// errors never quote a password.
func FuzzParseDSN(f *testing.F) {
	for _, d := range []string{"mem:", "file:///x", "file:rel", "./dir", "postgres://u:pw@h/db?schema=s&table=t", "postgresql://h/db?schema=UP", "ftp://x", "file://host/x", "postgres://u:pw@[::1/db"} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		kind, target, err := parseDSN(dsn)
		if err == nil && kind == "file" && target == "" {
			t.Fatalf("file DSN %q names no directory", dsn)
		}
		if err == nil && kind == "postgres" {
			conn, _, _, err := splitPostgresDSN(target)
			if err != nil && strings.Contains(dsn, ":pw@") && strings.Contains(err.Error(), "pw@") {
				t.Fatalf("error quotes the password: %v", err)
			}
			if err == nil && strings.HasPrefix(conn, "postgres") {
				u, perr := url.Parse(conn)
				if perr != nil {
					t.Fatalf("split DSN does not parse: %v", perr)
				}
				if q := u.Query(); q.Has("schema") || q.Has("table") {
					t.Fatalf("lrokit's parameters reach the driver: %q", conn)
				}
			}
		}
	})
}

// FuzzDecodeIntent feeds untrusted stored intents to the decoder: it never
// panics, never quotes its input, and what it accepts survives a round trip.
func FuzzDecodeIntent(f *testing.F) {
	f.Add(IntentPrefix + "eyJscm9raXRfaW50ZW50IjoxLCJwcm92aWRlciI6InJlc3QiLCJ0YXJnZXQiOiJodHRwczovL2gveCIsImNyZWF0ZWQiOiIyMDI2LTAzLTAxVDEyOjAwOjAwWiJ9")
	f.Add(IntentPrefix)
	f.Add("lrokit1.e30")
	f.Fuzz(func(t *testing.T, s string) {
		in, err := DecodeIntent(s)
		if err != nil {
			if len(s) > 24 && strings.Contains(err.Error(), s) {
				t.Fatalf("error quotes the input: %v", err)
			}
			return
		}
		enc, err := in.Encode()
		if err != nil {
			t.Fatalf("encode accepted intent: %v", err)
		}
		back, err := DecodeIntent(enc)
		if err != nil {
			t.Fatalf("decode re-encoded intent: %v", err)
		}
		if back.Provider != in.Provider || back.Target != in.Target || back.IdempotencyKey != in.IdempotencyKey ||
			back.Digest != in.Digest || !back.Created.Equal(in.Created) || string(back.Input) != string(in.Input) {
			t.Fatalf("round trip changed the intent:\n%+v\n%+v", in, back)
		}
	})
}

package push

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode holds every decoder to never panicking, and to returning
// either an error or a delivery within the limits. Seeds: testdata/*.json
// and testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "", "")
		f.Add(b, "application/cloudevents+json", "")
		f.Add(b, "application/json", "1.0")
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType, specversion string) {
		h := http.Header{}
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
		if specversion != "" {
			h.Set("Ce-Specversion", specversion)
		}
		d, err := Decode(h, body)
		if err != nil {
			return
		}
		if len(d.Refs) > MaxRefs {
			t.Fatalf("%d refs, more than %d", len(d.Refs), MaxRefs)
		}
		seen := map[string]bool{}
		for _, r := range d.Refs {
			if r == "" || seen[r] {
				t.Fatalf("empty or repeated ref %q", r)
			}
			seen[r] = true
		}
	})
}

// FuzzReceiver holds the HTTP handler to an answer for any body.
func FuzzReceiver(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		f.Add(b, "application/json")
	}
	rc, err := NewReceiver(newRecorder(), &Options{Unauthenticated: true, MaxBody: 64 << 10, QueueSize: 4})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		rc.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK, http.StatusAccepted, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}

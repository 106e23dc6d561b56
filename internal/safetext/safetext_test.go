package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestClip(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"api.example.com", "api.example.com"},
		{"a\nb\x1b[2Jc\x7f", "a?b?[2Jc?"},
		{strings.Repeat("x", 41), strings.Repeat("x", 40) + "…"},
		{strings.Repeat("x", 39) + "é", strings.Repeat("x", 39) + "\uFFFD…"},
		{"\xff", "\uFFFD"},
	}
	for _, tt := range tests {
		got := Clip(tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
		assert.True(t, utf8.ValidString(got))
	}
}

func FuzzClip(f *testing.F) {
	f.Add("host\r\nX-Injected: 1")
	f.Fuzz(func(t *testing.T, s string) {
		got := Clip(s)
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\r\n\x1b") || len(got) > MaxQuote*3+len("…") {
			t.Fatalf("Clip(%q) = %q", s, got)
		}
	})
}

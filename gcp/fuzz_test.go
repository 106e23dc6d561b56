package gcp

import (
	"context"
	"errors"
	"strings"
	"testing"

	lroauto "cloud.google.com/go/longrunning/autogen"
	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// FuzzResume feeds untrusted tokens to every decoder of this package:
// Resume, ResumeCompute and TokenEndpoint never panic, and a token they
// accept re-encodes into one they accept again, with the same state.
func FuzzResume(f *testing.F) {
	for _, s := range []string{
		`{"lrokit":1,"provider":"gcp","kind":"longrunning","state":{"name":"projects/p/locations/l/operations/o"},"created":"2026-03-01T12:00:00Z"}`,
		`{"lrokit":1,"provider":"gcp","kind":"longrunning","state":{"name":"operations/o","endpoint":"us-central1-aiplatform.googleapis.com:443"},"created":"2026-03-01T12:00:00Z","next":"2026-03-01T12:00:30Z","polls":3,"last":{"status":"Running","detail":"RUNNING","progress":40}}`,
		`{"lrokit":1,"provider":"gcp","kind":"compute","state":{"project":"p","zone":"us-central1-a","name":"operation-1"},"created":"2026-03-01T12:00:00Z"}`,
		`{"lrokit":1,"provider":"gcp","kind":"compute","state":{"project":"p","region":"us-central1","name":"operation-1","endpoint":"https://compute.googleapis.com/compute/v1/"},"created":"2026-03-01T12:00:00Z","last":{"status":"Succeeded"}}`,
		`{"lrokit":1,"provider":"gcp","kind":"compute","state":{"project":"p","zone":"z","region":"r","name":"n"},"created":"2026-03-01T12:00:00Z"}`,
		`{"lrokit":1,"provider":"gcp","kind":"longrunning","state":null,"created":"0001-01-01T00:00:00Z"}`,
		`lrokit1.eyJscm9raXQiOjEsInByb3ZpZGVyIjoiZ2NwIiwia2luZCI6ImxvbmdydW5uaW5nIn0`,
		"lrokit1s.e30.AAAA",
		"",
		"{",
	} {
		f.Add(s)
	}
	ctx := context.Background()
	client := startFuzzClient(f)
	svc, err := compute.NewService(ctx, option.WithEndpoint("http://127.0.0.1:1/compute/v1/"), option.WithoutAuthentication())
	if err != nil {
		f.Fatal(err)
	}
	opts := &Options{Options: poller.Options{Clock: pollertest.NewClock(epoch)}}
	f.Fuzz(func(t *testing.T, token string) {
		_, _ = TokenEndpoint(token, nil)
		if p, err := Resume[*anypb.Any](token, client, opts); err == nil {
			again, err := p.ResumeToken()
			if err != nil {
				t.Fatalf("an accepted token does not re-encode: %v", err)
			}
			q, err := Resume[*anypb.Any](again, client, opts)
			if err != nil {
				t.Fatalf("a re-encoded token is refused: %v", err)
			}
			if a, b := stateOf(t, p), stateOf(t, q); a != b {
				t.Fatalf("state changed across re-encoding: %s != %s", a, b)
			}
		}
		if p, err := ResumeCompute(token, svc, opts); err == nil {
			again, err := p.ResumeToken()
			if err != nil {
				t.Fatalf("an accepted token does not re-encode: %v", err)
			}
			if _, err := ResumeCompute(again, svc, opts); err != nil {
				t.Fatalf("a re-encoded token is refused: %v", err)
			}
		}
	})
}

func stateOf[T any](t *testing.T, p *poller.Poller[T]) string {
	tok, err := p.Token()
	if err != nil {
		t.Fatal(err)
	}
	return string(tok.State)
}

// startFuzzClient returns a client for an address nothing listens on:
// resuming makes no call.
func startFuzzClient(f *testing.F) *lroauto.OperationsClient {
	c, err := newClientAt("127.0.0.1:1")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = c.Close() })
	return c
}

// FuzzDescribeMetadata feeds untrusted operation metadata (any JSON object
// a server could send as a google.protobuf.Struct) to the progress, state
// and start-time reader: it never panics, and progress stays unknown or
// within 0..100.
func FuzzDescribeMetadata(f *testing.F) {
	for _, s := range []string{
		`{"progressPercent":40,"state":"RUNNING","createTime":"2026-03-01T12:00:00Z"}`,
		`{"progress_percent":"150"}`,
		`{"progress":{"progress_percent":12.5}}`,
		`{"percent_complete":"NaN","state":""}`,
		`{"state":"` + strings.Repeat("x", 200) + `"}`,
		`{}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var st structpb.Struct
		if protojson.Unmarshal([]byte(doc), &st) != nil {
			return
		}
		a, err := anypb.New(&st)
		if err != nil {
			return
		}
		v := describeMetadata(a)
		if v.Progress != poller.ProgressUnknown && (v.Progress < 0 || v.Progress > 100) {
			t.Fatalf("progress %v out of range", v.Progress)
		}
		if len(v.State) > 64 {
			t.Fatalf("state of %d bytes kept", len(v.State))
		}
	})
}

// FuzzTrustEndpoint: the endpoint check never panics, every refusal wraps
// poller.ErrInvalidToken, and without a configured endpoint only a Google
// API host over https on the default port is trusted.
func FuzzTrustEndpoint(f *testing.F) {
	for _, s := range [][2]string{
		{"us-central1-aiplatform.googleapis.com:443", ""},
		{"https://compute.googleapis.com/compute/v1/", ""},
		{"127.0.0.1:8443", "127.0.0.1:8443"},
		{"http://compute.googleapis.com/", ""},
		{"compute.googleapis.com:8443", ""},
		{"https://u@compute.googleapis.com/", ""},
		{"compute.googleapis.com.evil.example", ""},
		{"COMPUTE.GOOGLEAPIS.COM", "https://compute.googleapis.com/"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, endpoint, configured string) {
		err := TrustEndpoint(endpoint, configured)
		if err != nil {
			if !errors.Is(err, poller.ErrInvalidToken) {
				t.Fatalf("refusal does not wrap ErrInvalidToken: %v", err)
			}
			return
		}
		if endpoint == "" || configured != "" {
			return
		}
		if !IsGoogleEndpoint(endpoint) {
			t.Fatalf("trusted %q, which is not a Google API endpoint", endpoint)
		}
		u, perr := endpointURL(endpoint)
		if perr != nil {
			t.Fatalf("trusted %q, which does not parse: %v", endpoint, perr)
		}
		h := strings.ToLower(u.Hostname())
		if !strings.EqualFold(u.Scheme, "https") || (u.Port() != "" && u.Port() != "443") || u.User != nil || !strings.HasSuffix(strings.TrimSuffix(h, "."), ".googleapis.com") {
			t.Fatalf("trusted %q", endpoint)
		}
	})
}

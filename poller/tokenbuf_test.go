package poller_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/poller"
)

func bufToken() poller.Token {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	return poller.Token{Provider: "azure", Kind: "async",
		State:   json.RawMessage(`{"method":"PUT","orig":"https://management.azure.com/s/x?api-version=1","poll":"https://management.azure.com/op/1"}`),
		Created: t0, Polled: t0.Add(time.Minute), Next: t0.Add(2 * time.Minute), Polls: 3, LowHints: 1,
		Last: &poller.TokenObservation{Status: poller.StatusRunning, Detail: "InProgress", Progress: 40, Hinted: true}}
}

func TestAppendEncode_IsEncode(t *testing.T) {
	zone := time.FixedZone("x", 5*3600+30*60)
	for name, edit := range map[string]func(*poller.Token){
		"typical": func(*poller.Token) {},
		"zero schedule": func(t *poller.Token) {
			t.Created, t.Polled, t.Next, t.Polls, t.LowHints, t.Last = time.Time{}, time.Time{}, time.Time{}, 0, 0, nil
		},
		"no state":          func(t *poller.Token) { t.State = nil },
		"null state":        func(t *poller.Token) { t.State = json.RawMessage(`null`) },
		"spaced state":      func(t *poller.Token) { t.State = json.RawMessage(" { \"a\" : [1, 2] }\n") },
		"html in state":     func(t *poller.Token) { t.State = json.RawMessage(`{"u":"a<b>&c"}`) },
		"non-ascii state":   func(t *poller.Token) { t.State = json.RawMessage("{\"u\":\"é\u2028\"}") },
		"invalid state":     func(t *poller.Token) { t.State = json.RawMessage(`{"u":`) },
		"escaped detail":    func(t *poller.Token) { t.Last.Detail = "say \"hi\"\n<tab>\t&\x01é\u2029\xff" },
		"zone":              func(t *poller.Token) { t.Created = t.Created.In(zone); t.Deadline = t.Next.In(zone) },
		"year 10000":        func(t *poller.Token) { t.Next = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"tiny progress":     func(t *poller.Token) { t.Last.Progress = 1e-7 },
		"negative progress": func(t *poller.Token) { t.Last.Progress = -1 },
		"NaN progress":      func(t *poller.Token) { t.Last.Progress = math.NaN() },
		"no status":         func(t *poller.Token) { t.Last.Status = "" },
		"version 0":         func(t *poller.Token) { t.Version = 0 },
		"version 1":         func(t *poller.Token) { t.Version = 1 },
		"no kind":           func(t *poller.Token) { t.Kind = "" },
		"secrets":           func(t *poller.Token) { t.Secrets = map[string]string{"poll": "sig=x"} },
	} {
		t.Run(name, func(t *testing.T) {
			tok := bufToken()
			edit(&tok)
			want, werr := tok.Encode()
			got, err := tok.AppendEncode([]byte("prefix:"))
			if werr != nil {
				require.Error(t, err)
				assert.Equal(t, werr.Error(), err.Error())
				assert.Equal(t, "prefix:", string(got), "dst is returned unchanged")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "prefix:"+want, string(got))
		})
	}
}

func FuzzAppendEncode(f *testing.F) {
	f.Add("azure", "async", `{"a":1}`, "InProgress", int64(0), 50.0, 3)
	f.Add("p", "k<", ` [ ] `, "\xff", int64(-1), 1e300, -2)
	f.Fuzz(func(t *testing.T, provider, kind, state, detail string, created int64, progress float64, polls int) {
		tok := poller.Token{Provider: provider, Kind: kind, State: json.RawMessage(state),
			Created: time.Unix(0, created), Next: time.Unix(created, 0).UTC(), Polls: polls,
			Last: &poller.TokenObservation{Status: poller.StatusRunning, Detail: detail, Progress: progress}}
		want, werr := tok.Encode()
		got, err := tok.AppendEncode(nil)
		if (werr == nil) != (err == nil) || (werr == nil && want != string(got)) {
			t.Fatalf("AppendEncode = %q, %v; Encode = %q, %v", got, err, want, werr)
		}
	})
}

func TestDigest_IgnoresScheduleBookkeepingOnly(t *testing.T) {
	base := bufToken()
	d := base.Digest()
	same := base
	same.Next, same.Polled, same.Polls = base.Next.Add(time.Hour), base.Polled.Add(time.Hour), 99
	assert.Equal(t, d, same.Digest())
	for name, edit := range map[string]func(*poller.Token){
		"state":    func(t *poller.Token) { t.State = json.RawMessage(`{"seen":true}`) },
		"status":   func(t *poller.Token) { t.Last = &poller.TokenObservation{Status: poller.StatusSucceeded} },
		"detail":   func(t *poller.Token) { l := *t.Last; l.Detail = "Deleting"; t.Last = &l },
		"progress": func(t *poller.Token) { l := *t.Last; l.Progress = 41; t.Last = &l },
		"hinted":   func(t *poller.Token) { l := *t.Last; l.Hinted = false; t.Last = &l },
		"no last":  func(t *poller.Token) { t.Last = nil },
		"deadline": func(t *poller.Token) { t.Deadline = t.Created.Add(time.Hour) },
		"created":  func(t *poller.Token) { t.Created = t.Created.Add(time.Second) },
		"hints":    func(t *poller.Token) { t.LowHints = 2 },
		"secrets":  func(t *poller.Token) { t.Secrets = map[string]string{"poll": "sig=x"} },
		"kind":     func(t *poller.Token) { t.Kind = "location" },
	} {
		tok := base
		edit(&tok)
		assert.NotEqual(t, d, tok.Digest(), name)
	}
}

func TestAppendEncode_Allocs(t *testing.T) {
	tok := bufToken()
	buf := make([]byte, 0, 1024)
	n := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = tok.AppendEncode(buf[:0]); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, n)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = tok.Digest() }))
}

func BenchmarkTokenEncode(b *testing.B) {
	tok := bufToken()
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tok.Encode(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendEncode", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if buf, err = tok.AppendEncode(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

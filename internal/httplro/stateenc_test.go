package httplro

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// appendState must write what json.Marshal writes, byte for byte, or leave
// it to json.Marshal: tokens and their digests do not change with it.
func TestAppendStateMatchesMarshal(t *testing.T) {
	states := []State{
		{},
		{Method: "PUT", URL: "https://management.azure.com/subscriptions/s/x?api-version=2024-01-01&a=<b>", Poll: `https://h.example/"q"\x`, Seen: true},
		{Method: "POST", Location: "https://h/l", ContentLocation: "https://h/c", Result: "https://h/r", FinalStateVia: FinalStateViaLocation, ResultPath: "result", Fallback: true},
		{Outcome: poller.StatusFailed, Detail: "Failed", Code: "Conflict", Message: "a & b <c> \"d\" \\ e\x7f", NoContent: true},
		{Message: "tab\there"},
		{Message: "caf\u00e9"},
		{Method: "PUT", NotFoundSince: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)},
	}
	for _, st := range states {
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendState([]byte("prefix"), &st)
		if !ok {
			if string(got) != "prefix" {
				t.Errorf("appendState(%+v) refused but wrote %q", st, got)
			}
			continue
		}
		if string(got) != "prefix"+string(want) {
			t.Errorf("appendState(%+v)\n got %s\nwant %s", st, got[len("prefix"):], want)
		}
		if n := stateSize(&st); n < len(want) {
			t.Errorf("stateSize %d < %d", n, len(want))
		}
	}
}

func FuzzAppendState(f *testing.F) {
	f.Add("PUT", "https://h/x?a=1&b=2", "Failed", "<msg>", true)
	f.Fuzz(func(t *testing.T, method, u, detail, msg string, seen bool) {
		st := State{Method: method, URL: u, Poll: u, Detail: detail, Message: msg, Seen: seen, Code: msg}
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendState(nil, &st)
		if ok && string(got) != string(want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
		if ok && stateSize(&st) < len(got) {
			t.Fatalf("stateSize %d < %d", stateSize(&st), len(got))
		}
	})
}

// A token taken after every poll costs one allocation, its state's
// encoding; a state with a credential-bearing URL is redacted as before.
func TestTokenAllocs(t *testing.T) {
	o := &Op{cfg: Config{Provider: "azure"}, proto: protocolOf(KindAsync), st: State{Method: "PUT",
		URL:  "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.Test/widgets/w?api-version=2024-01-01",
		Poll: "https://management.azure.com/providers/Microsoft.Test/locations/l/operationStatuses/o?api-version=2024-01-01&t=1", Seen: true}}
	tok, err := o.Token()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(o.st)
	if string(tok.State) != string(want) || tok.Secrets != nil || tok.Provider != "azure" || tok.Kind != "async" {
		t.Fatalf("token %+v", tok)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = o.Token() }); n > 1 {
		t.Errorf("Token: %v allocations, want 1", n)
	}
	o.st.Poll = "https://acct.blob.core.windows.net/c/b?sv=2022&sig=abc"
	tok, err = o.Token()
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(tok.State, &st); err != nil {
		t.Fatal(err)
	}
	if st.Poll != "https://acct.blob.core.windows.net/c/b?sig=REDACTED&sv=REDACTED" || tok.Secrets["poll"] != "sv=2022&sig=abc" {
		t.Errorf("secrets not moved: %s %v", tok.State, tok.Secrets)
	}
}

package httplro

import (
	"testing"

	"github.com/lrokit/lrokit/poller"
)

// FuzzParseBody feeds arbitrary bodies to the status-body parser: it must
// never panic, and what it returns must be sane.
func FuzzParseBody(f *testing.F) {
	for _, s := range []string{"", "{}", `{"status":"InProgress"}`, `{"properties":{"provisioningState":"Creating"}}`,
		`{"status":"running","percentComplete":50,"resourceLocation":"https://h/r"}`, `null`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := ParseBody(b)
		if err != nil {
			return
		}
		if body.Progress != poller.ProgressUnknown && (body.Progress < 0 || body.Progress > 100) {
			t.Fatalf("progress %v out of range", body.Progress)
		}
		_ = MapState(body.Status)
		_ = body.IsStatusMonitor()
		_ = body.Detail(body.Status)
	})
}

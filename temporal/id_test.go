package temporal

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lrokit/lrokit/poller"
)

func TestWorkflowIDNamesTheOperationNotThePoll(t *testing.T) {
	base := poller.Token{Provider: "gcp", Kind: "longrunning", State: json.RawMessage(`{"name":"operations/op1","endpoint":"container.googleapis.com:443"}`)}
	later := base
	later.State = json.RawMessage(`{ "endpoint": "container.googleapis.com:443", "name": "operations/op1" }`)
	later.Polls, later.Next = 7, time.Now()
	other := base
	other.State = json.RawMessage(`{"name":"operations/op2","endpoint":"container.googleapis.com:443"}`)

	id := workflowID(base)
	if !strings.HasPrefix(id, "lrokit/gcp/longrunning/") {
		t.Errorf("id %q does not name provider and kind", id)
	}
	if got := workflowID(later); got != id {
		t.Errorf("a later token of the same operation maps to %q, want %q", got, id)
	}
	if got := workflowID(other); got == id {
		t.Errorf("another operation maps to the same id %q", got)
	}
}

func TestFailureMessage(t *testing.T) {
	for _, tc := range []struct {
		o    Outcome
		want string
	}{
		{Outcome{Status: poller.StatusFailed, Detail: "Failed", Code: "Conflict", Message: "busy"}, "operation Failed: Conflict: busy"},
		{Outcome{Status: poller.StatusFailed, Detail: "ROLLBACK_COMPLETE"}, "operation Failed (ROLLBACK_COMPLETE)"},
		{Outcome{Status: poller.StatusCanceled, Message: "stopped"}, "operation Canceled: stopped"},
	} {
		if got := failureMessage(tc.o); got != tc.want {
			t.Errorf("failureMessage(%+v) = %q, want %q", tc.o, got, tc.want)
		}
	}
}

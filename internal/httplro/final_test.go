package httplro

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFinalRules(t *testing.T) {
	for _, tc := range []struct {
		method string
		kind   Kind
		via    string
		want   []source
	}{
		{"PUT", KindLocation, "", []source{srcLearned, srcContentLocation, srcLastBody, srcOriginal}},
		{"PATCH", KindLocation, FinalStateViaOriginalURI, []source{srcLearned, srcContentLocation, srcLastBody, srcOriginal}},
		{"PUT", KindAsync, FinalStateViaLocation, []source{srcOriginal}},
		{"POST", KindAsync, "", []source{srcContentLocation, srcLocation, srcStatusBody}},
		{"POST", KindAsync, FinalStateViaAzureAsyncOp, []source{srcStatusBody}},
		{"POST", KindOperation, FinalStateViaLocation, []source{srcLocation, srcLearned, srcStatusBody}},
		{"POST", KindOperation, FinalStateViaOpLocation, []source{srcLearned, srcContentLocation, srcLocation, srcStatusBody}},
		{"", KindAsync, FinalStateViaOriginalURI, []source{srcOriginal}}, // imported azcore token: read as POST
		{"DELETE", KindAsync, FinalStateViaLocation, nil},
	} {
		assert.Equal(t, tc.want, ruleFor(tc.method, tc.kind, tc.via).Sources, "%s %s %s", tc.method, tc.kind, tc.via)
	}
	// Every method and protocol has a rule.
	for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodPost, http.MethodDelete} {
		for _, k := range []Kind{KindAsync, KindOperation, KindLocation, KindBody, KindDone} {
			if m == http.MethodPost && k == KindBody {
				continue // the body protocol is PUT and PATCH only
			}
			assert.NotEmpty(t, ruleFor(m, k, "").Why, "%s %s", m, k)
		}
	}
}

package httplro

import (
	"context"
	"net/http"

	"github.com/lrokit/lrokit/poller"
)

// asyncProtocol is ARM's Azure-AsyncOperation: the header names a status
// monitor ({"status": "InProgress" | "Succeeded" | ...}); the initial
// response's properties.provisioningState may already be terminal
// (azcore async.New reads it, so a synchronous finish costs no poll). It
// is preferred over every other header (ARM async operations guide:
// "Azure-AsyncOperation takes precedence over Location").
var asyncProtocol = protocol{
	kind:         KindAsync,
	header:       "Azure-AsyncOperation",
	statusRule:   "Azure-AsyncOperation: status field",
	acceptedRule: "Azure-AsyncOperation: 202 with a polling header",
	selects: func(_ string, _ int, h http.Header, _ *Config) bool {
		return h.Get("Azure-AsyncOperation") != ""
	},
	initialWord: func(b Body, _ int, _ *Config) string { return b.ProvisioningState },
	poll: func(ctx context.Context, o *Op) (poller.Observation, error) {
		return readStatusMonitor(ctx, o)
	},
}

package httplro

import (
	"context"
	"net/http"

	"github.com/lrokit/lrokit/poller"
)

// operationProtocol is the REST guidelines' Operation-Location (reference
// 001): the header names the operation resource, whose "status" is
// NotStarted, Running, Succeeded, Failed or Canceled, with an optional
// percentComplete and resourceLocation. The initial body's "status" may
// already be terminal (azcore op.New reads it), and so may an ARM
// resource's provisioningState (a PUT or PATCH that finished at once).
// DELETE on the operation
// resource requests cancellation (405 when unsupported).
var operationProtocol = protocol{
	kind:         KindOperation,
	header:       "Operation-Location",
	statusRule:   "Operation-Location: status field",
	acceptedRule: "Operation-Location: 202 with a polling header",
	selects: func(_ string, _ int, h http.Header, _ *Config) bool {
		return h.Get("Operation-Location") != ""
	},
	initialWord: func(b Body, _ int, _ *Config) string {
		if b.IsStatusMonitor() {
			return b.Status
		}
		return b.ProvisioningState
	},
	poll: func(ctx context.Context, o *Op) (poller.Observation, error) {
		return readStatusMonitor(ctx, o)
	},
	cancel: func(*Config) bool { return true },
}

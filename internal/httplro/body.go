package httplro

import (
	"context"
	"net/http"

	"github.com/lrokit/lrokit/poller"
)

// bodyProtocol polls the resource itself and reads its
// properties.provisioningState (ARM RPC: a PUT or PATCH answered 201 or
// 200 with a non-terminal provisioningState, or 202 without a polling
// header). It comes last in the table: every header protocol is preferred
// (azcore body.Applicable). An initial 204 has succeeded; a 200 without
// provisioningState has too; an ARM 201 without one is still being
// created, a REST 201 is done (RFC 9110 §15.3.2).
var bodyProtocol = protocol{
	kind: KindBody,
	selects: func(method string, _ int, _ http.Header, _ *Config) bool {
		return method == http.MethodPut || method == http.MethodPatch
	},
	initialWord: func(b Body, code int, cfg *Config) string {
		switch {
		case code == http.StatusNoContent:
			return "Succeeded"
		case b.ProvisioningState != "":
			return b.ProvisioningState
		case code == http.StatusCreated && !cfg.REST:
			return ""
		}
		return "Succeeded"
	},
	poll: func(ctx context.Context, o *Op) (poller.Observation, error) { return pollResource(ctx, o) },
}

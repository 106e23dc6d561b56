package httplro

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// locationProtocol polls the Location URL. ARM and azcore's loc poller:
// 202 while running, then 200/201/204 when done, whose body is the result
// (for PUT and PATCH too: the final answer of the Location URL is the
// resource). The async request-reply pattern (reference 002) adds: the
// status endpoint may answer a status body ({"status": ...} or a
// Kubernetes-style status.state), a 302/303 to the finished resource, or a
// persisted 4xx error that is the operation's failure; a REST 2xx initial
// response with a Location is done, not polled (201 Created names the new
// resource), so only a 202 selects the protocol there.
var locationProtocol = protocol{
	kind:   KindLocation,
	header: "Location",
	selects: func(_ string, code int, h http.Header, cfg *Config) bool {
		return h.Get("Location") != "" && (!cfg.REST || code == http.StatusAccepted)
	},
	initialWord: func(b Body, _ int, cfg *Config) string {
		if cfg.REST && b.IsStatusMonitor() {
			return b.Status
		}
		return b.ProvisioningState
	},
	poll:   pollLocation,
	cancel: func(cfg *Config) bool { return cfg.REST },
}

func pollLocation(ctx context.Context, o *Op) (poller.Observation, error) {
	resp, body, err := o.send(ctx, http.MethodGet, o.poll)
	if err != nil {
		return poller.Observation{}, err
	}
	code := resp.StatusCode
	switch {
	case isGone(code):
		return o.gone(resp, body)
	case isRedirect(code):
		// Reference 002: 302/303 to the finished resource.
		target, err := o.resolve(o.poll, resp.Header.Get("Location"), "redirect")
		if err != nil {
			return poller.Observation{}, fmt.Errorf("%s: status endpoint redirect refused: %w", o.Name(), err)
		}
		o.st.NotFoundSince = time.Time{}
		o.st.Seen = true
		o.st.Result = target.String()
		o.final = nil
		return o.observe(fmt.Sprintf("Location: %d redirect to the result", code), poller.StatusSucceeded, http.StatusText(code), poller.ProgressUnknown, resp), nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusProxyAuthRequired || poller.TransientHTTPStatus(code):
		return poller.Observation{}, o.httpFailure(resp, body)
	case code >= 400:
		// Reference 002: an error is persisted at the status URL as a 4xx;
		// it is the operation's failure, not a transport error (azcore loc
		// likewise calls any other status Failed).
		b, _ := ParseBody(body)
		o.st.Seen = true
		obs := o.observe(fmt.Sprintf("Location: status URL answered %d", code), poller.StatusFailed, fmt.Sprintf("%d %s", code, http.StatusText(code)), poller.ProgressUnknown, resp)
		obs.Err = o.opError(poller.StatusFailed, b, resp, body, fmt.Sprintf("status URL answered %d", code))
		return obs, nil
	case code < 200:
		return poller.Observation{}, o.httpFailure(resp, body)
	}
	o.st.NotFoundSince = time.Time{}
	o.st.Seen = true
	b, perr := ParseBody(body)
	if code == http.StatusAccepted {
		if loc := resp.Header.Get("Location"); loc != "" {
			// A new Location handed out mid-poll is followed, if trusted
			// (azcore loc does the same, without the check).
			u, err := o.resolve(o.poll, loc, "Location")
			if err != nil {
				return poller.Observation{}, fmt.Errorf("%s: refusing the new Location: %w", o.Name(), err)
			}
			o.poll, o.st.Poll = u, u.String()
		}
		word := "Accepted"
		switch {
		case perr == nil && b.Status != "" && !MapState(b.Status).Terminal():
			word = b.Status
		case perr == nil && b.ProvisioningState != "" && !MapState(b.ProvisioningState).Terminal():
			word = b.ProvisioningState
		}
		// A 202 is never terminal, whatever its body says.
		st := poller.StatusRunning
		if MapState(word) == poller.StatusNotStarted {
			st = poller.StatusNotStarted
		}
		obs := o.observe("Location: 202 Accepted", st, b.Detail(word), b.Progress, resp)
		obs.Message = b.ConditionMessage
		return obs, nil
	}
	if perr != nil && looksJSON(resp, body) && !json.Valid(body) {
		return poller.Observation{}, fmt.Errorf("%s: polling %s: %w", o.Name(), Redact(o.poll), perr)
	}
	if perr == nil && o.cfg.REST && b.IsStatusMonitor() {
		st := MapState(b.Status)
		obs := o.observe("Location: status field", st, b.Detail(b.Status), b.Progress, resp)
		obs.Message = b.ConditionMessage
		switch st {
		case poller.StatusFailed, poller.StatusCanceled:
			obs.Err = o.opError(st, b, resp, body, "status is "+b.Status)
		case poller.StatusSucceeded:
			o.statusBody, o.final = body, finalBody(body)
			if b.ResourceLocation != "" {
				o.st.Result = b.ResourceLocation
			}
			if _, _, err := o.finalSource(); err != nil {
				return poller.Observation{}, err
			}
		}
		return obs, nil
	}
	if perr == nil && b.ProvisioningState != "" {
		st := MapState(b.ProvisioningState)
		obs := o.observe("Location: properties.provisioningState", st, b.ProvisioningState, b.Progress, resp)
		switch st {
		case poller.StatusFailed, poller.StatusCanceled:
			obs.Err = o.opError(st, b, resp, body, "provisioningState is "+b.ProvisioningState)
		case poller.StatusSucceeded:
			o.final = finalBody(body)
		}
		return obs, nil
	}
	// Any other 2xx: done, and its body is the result (ARM Location rule).
	o.final = finalBody(body)
	return o.observe(fmt.Sprintf("Location: %d without a status (ARM: done)", code), poller.StatusSucceeded, "Succeeded", poller.ProgressUnknown, resp), nil
}

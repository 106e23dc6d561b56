package httplro

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// protocol is one wire protocol, with the same small set of functions in
// each file: which header selects it, what an initial 2xx says, one poll,
// and whether the service can cancel. Where the result comes from is the
// final-result table (final.go).
type protocol struct {
	kind Kind
	// header is the response header that selects the protocol and holds
	// its polling URL; "" for the resource-body protocol.
	header string
	// selects reports whether an initial response selects the protocol,
	// given that no protocol earlier in the table did.
	selects func(method string, code int, h http.Header, cfg *Config) bool
	// initialWord reads the provider's state word from a 200/201/204
	// initial response; "" means still running.
	initialWord func(b Body, code int, cfg *Config) string
	// poll performs one round trip.
	poll func(ctx context.Context, o *Op) (poller.Observation, error)
	// cancel reports whether DELETE on the polling URL cancels (nil: never).
	cancel func(cfg *Config) bool
	// statusRule and acceptedRule name, for Observation.Rule, what decided
	// a status monitor's answer (constants: a poll allocates none).
	statusRule, acceptedRule string
}

// protocols is the selection table, in ARM's order of preference: the
// first that selects an initial response drives the operation. Start and
// Resume both read it, so a started and a resumed operation can never pick
// different protocols.
var protocols = []*protocol{&asyncProtocol, &operationProtocol, &locationProtocol, &bodyProtocol}

// selectProtocol returns the protocol an initial response selects, or nil.
func selectProtocol(method string, code int, h http.Header, cfg *Config) *protocol {
	for _, p := range protocols {
		if p.selects(method, code, h, cfg) {
			return p
		}
	}
	return nil
}

// protocolOf returns the protocol of a token's kind, or nil (KindDone).
func protocolOf(k Kind) *protocol {
	for _, p := range protocols {
		if p.kind == k {
			return p
		}
	}
	return nil
}

// readStatusMonitor reads a status monitor's answer (Azure-AsyncOperation
// and Operation-Location): 2xx with {"status": ...}.
func readStatusMonitor(ctx context.Context, o *Op) (poller.Observation, error) {
	resp, body, err := o.send(ctx, http.MethodGet, o.poll)
	if err != nil {
		return poller.Observation{}, err
	}
	code := resp.StatusCode
	switch {
	case isGone(code):
		return o.gone(resp, body)
	case code < 200 || code > 299:
		return poller.Observation{}, o.httpFailure(resp, body)
	}
	o.st.NotFoundSince = time.Time{}
	b, perr := ParseBody(body)
	if code == http.StatusAccepted && hasPollingHeader(resp.Header) {
		// A 202 that still names a polling URL is not a terminal answer,
		// whatever its body says.
		word := "Accepted"
		if perr == nil && b.Status != "" && !MapState(b.Status).Terminal() {
			word = b.Status
		}
		o.st.Seen = true
		obs := o.observe(o.proto.acceptedRule, poller.StatusRunning, b.Detail(word), b.Progress, resp)
		obs.Message = b.ConditionMessage
		return obs, nil
	}
	if perr != nil {
		return poller.Observation{}, fmt.Errorf("%s: polling %s: %w", o.Name(), Redact(o.poll), perr)
	}
	if b.Status == "" {
		return poller.Observation{}, fmt.Errorf("%s: polling %s: %w: it has no status field", o.Name(), Redact(o.poll), ErrMalformedStatus)
	}
	o.st.Seen = true
	st := MapState(b.Status)
	o.statusBody = body
	obs := o.observe(o.proto.statusRule, st, b.Detail(b.Status), b.Progress, resp)
	obs.Message = b.ConditionMessage
	switch st {
	case poller.StatusFailed, poller.StatusCanceled:
		obs.Err = o.opError(st, b, resp, body, "status is "+b.Status)
	case poller.StatusSucceeded:
		if b.ResourceLocation != "" {
			o.st.Result = b.ResourceLocation
		}
		// Refuse now, not at Result, a result URL that will be requested
		// and is not trusted.
		if _, _, err := o.finalSource(); err != nil {
			return poller.Observation{}, err
		}
	}
	return obs, nil
}

package httplro

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// source is where a succeeded operation's result can come from.
type source string

const (
	// srcOriginal: GET the original request's URL (the resource of a PUT
	// or PATCH).
	srcOriginal source = "GET the original URL"
	// srcLocation: GET the initial response's Location, when another header
	// drove polling.
	srcLocation source = "GET the initial Location"
	// srcLearned: GET the URL learned while polling: a status monitor's
	// resourceLocation, or a status endpoint's 302/303 target (reference
	// 002).
	srcLearned source = "GET resourceLocation (or the 3xx target)"
	// srcContentLocation: GET the initial Content-Location (reference 001's
	// hybrid model; REST only).
	srcContentLocation source = "GET the initial Content-Location"
	// srcStatusBody: the final status monitor body, or its ResultPath field
	// (TypeSpec @lroResult).
	srcStatusBody source = "the final status body (its ResultPath field when set)"
	// srcLastBody: the body of the answer that ended polling — the Location
	// URL's final 2xx, the resource's own body, or the initial response.
	srcLastBody source = "the final polling answer's body"
)

// finalRule says, for a method, protocol and final-state-via, which
// sources give the result, in order: the first one available is used.
// No source at all means no result (T keeps its zero value).
type finalRule struct {
	Methods string // "PUT PATCH", "POST" or "DELETE"
	Kind    Kind   // "" for any
	Via     string // a FinalStateVia value, or "" for any other
	Sources []source
	Why     string
}

// finalRules is the final-result table, first match wins. It follows
// azcore's pollers (async, op, loc, body Result methods) for ARM, the REST
// guidelines for Operation-Location, and reference 002 for async
// request-reply; TestFinalTablePrinted keeps azure/doc.go in step.
var finalRules = []finalRule{
	{"DELETE", "", "", nil, "a deleted resource has no representation"},

	{"PUT PATCH", KindAsync, "", []source{srcOriginal}, "ARM: once Azure-AsyncOperation succeeds, the resource is read at its own URL (azcore async)"},
	{"PUT PATCH", KindOperation, FinalStateViaLocation, []source{srcLocation, srcOriginal}, "final-state-via: location (azcore op)"},
	{"PUT PATCH", KindOperation, "", []source{srcLearned, srcContentLocation, srcOriginal}, "REST guidelines: resourceLocation names the result; else the resource itself (azcore op)"},
	{"PUT PATCH", KindLocation, "", []source{srcLearned, srcContentLocation, srcLastBody, srcOriginal}, "the Location URL's final answer is the resource (azcore loc); a 3xx names it (reference 002); a bodiless final answer leaves the resource's own URL"},
	{"PUT PATCH", KindBody, "", []source{srcLastBody}, "the resource's own final body"},
	{"PUT PATCH", KindDone, "", []source{srcLastBody, srcOriginal}, "the initial response; once resumed, the resource's own URL"},

	{"POST", KindAsync, FinalStateViaAzureAsyncOp, []source{srcStatusBody}, "final-state-via: azure-async-operation (azcore async)"},
	{"POST", KindAsync, FinalStateViaOriginalURI, []source{srcOriginal}, "final-state-via: original-uri (azcore async)"},
	{"POST", KindAsync, "", []source{srcContentLocation, srcLocation, srcStatusBody}, "ARM: the Location of a POST names its result; without one, the status body (azcore async)"},
	{"POST", KindOperation, FinalStateViaOriginalURI, []source{srcOriginal}, "final-state-via: original-uri"},
	{"POST", KindOperation, FinalStateViaLocation, []source{srcLocation, srcLearned, srcStatusBody}, "final-state-via: location (azcore op)"},
	{"POST", KindOperation, "", []source{srcLearned, srcContentLocation, srcLocation, srcStatusBody}, "REST guidelines: resourceLocation, else the status monitor's result (azcore op)"},
	{"POST", KindLocation, "", []source{srcLearned, srcContentLocation, srcLastBody}, "the Location URL's 3xx target (reference 002), the hybrid model's Content-Location (reference 001), else its final answer (azcore loc)"},
	{"POST", KindDone, "", []source{srcLastBody, srcLearned, srcContentLocation}, "the initial response; a REST 201's Location names the created resource (RFC 9110 §15.3.2)"},
}

// ruleFor returns the rule for an operation. An imported azcore token
// whose method is unknown is read as a POST (only POST consults
// final-state-via beyond the defaults).
func ruleFor(method string, kind Kind, via string) finalRule {
	if method == "" {
		method = http.MethodPost
	}
	for _, r := range finalRules {
		if !strings.Contains(" "+r.Methods+" ", " "+method+" ") {
			continue
		}
		if r.Kind != "" && r.Kind != kind {
			continue
		}
		if r.Via != "" && r.Via != via {
			continue
		}
		return r
	}
	return finalRule{}
}

// finalSource applies the final-result table. It returns a URL to GET, or
// the bytes already in memory (with a nil URL), or neither for "no
// result". A URL is checked against the trusted hosts here, so a result
// URL that will be requested is refused when the operation ends, not at
// Result.
func (o *Op) finalSource() (*url.URL, []byte, error) {
	rule := ruleFor(o.st.Method, o.kind(), o.st.FinalStateVia)
	if o.st.Fallback && (o.final != nil) && o.st.Method != http.MethodDelete {
		// The status URL is gone and the resource itself answered last
		// (see gone): its body is the result, as for the body protocol.
		rule = finalRule{Sources: []source{srcLastBody, srcOriginal}}
	}
	get := func(ref, what string) (*url.URL, []byte, error) {
		base := o.poll
		if base == nil {
			base = o.origURL()
		}
		u, err := o.resolve(base, ref, what)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: the result URL (%s) is refused: %w", o.Name(), what, err)
		}
		return u, nil, nil
	}
	for _, src := range rule.Sources {
		switch src {
		case srcOriginal:
			if u := o.origURL(); u != nil {
				return u, nil, nil
			}
		case srcLocation:
			if o.st.Location != "" {
				return get(o.st.Location, "Location")
			}
		case srcLearned:
			if o.st.Result != "" {
				return get(o.st.Result, "resourceLocation")
			}
		case srcContentLocation:
			if o.st.ContentLocation != "" {
				return get(o.st.ContentLocation, "Content-Location")
			}
		case srcStatusBody:
			if o.statusBody != nil || o.kind() != KindDone {
				return nil, o.statusBody, nil
			}
		case srcLastBody:
			if (o.final != nil) && len(bytes.TrimSpace(o.final)) > 0 {
				return nil, o.final, nil
			}
			if (o.final != nil) && len(rule.Sources) == 1 {
				return nil, nil, nil // an empty final body is the (empty) result
			}
		}
	}
	if o.kind() == KindDone && !(o.final != nil) && !o.st.NoContent && len(rule.Sources) > 0 {
		return nil, nil, fmt.Errorf("%s: %w", o.Name(), ErrResultNotKept)
	}
	return nil, nil, nil
}

// Result fetches the final payload per the final-result table and decodes
// it into out. An empty body leaves out untouched.
func (o *Op) Result(ctx context.Context, out any) error {
	u, b, err := o.finalSource()
	if err != nil {
		return err
	}
	if u == nil {
		path := ""
		if b != nil && bytes.Equal(b, o.statusBody) {
			path = o.st.ResultPath
		}
		return decode(b, path, out)
	}
	for range maxRedirects + 1 {
		resp, body, err := o.send(ctx, http.MethodGet, u)
		if err != nil {
			return err
		}
		code := resp.StatusCode
		switch {
		case code >= 200 && code <= 299:
			o.st.NotFoundSince = time.Time{}
			o.final = finalBody(body)
			return decode(body, "", out)
		case isRedirect(code):
			if u, err = o.resolve(u, resp.Header.Get("Location"), "redirect"); err != nil {
				return fmt.Errorf("%s: final GET redirect refused: %w", o.Name(), err)
			}
			continue
		case o.notReady(code):
			return poller.Transient(fmt.Errorf("%s: the result is not ready yet (404)", o.Name()), 0)
		}
		return fmt.Errorf("%s: final GET: %w", o.Name(), o.httpFailure(resp, body))
	}
	return fmt.Errorf("%s: final GET: more than %d redirects", o.Name(), maxRedirects)
}

func decode(b []byte, path string, out any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || out == nil {
		return nil
	}
	if path != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			return fmt.Errorf("decoding the final body: %w", err)
		}
		raw, ok := field(obj, path)
		if !ok {
			return fmt.Errorf("decoding the final body: it has no %q field (the operation's result path)", path)
		}
		b = raw
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decoding the final body: %w", err)
	}
	return nil
}

// FinalTable renders the final-result table as aligned text, for the
// adapters' documentation (azure/doc.go keeps a copy, checked by a test).
func FinalTable() string {
	var b strings.Builder
	b.WriteString("method     protocol   final-state-via        result, first available\n")
	for _, r := range finalRules {
		kind := string(r.Kind)
		if kind == "" {
			kind = "any"
		}
		via := r.Via
		if via == "" {
			via = "any other"
		}
		srcs := "none"
		if len(r.Sources) > 0 {
			parts := make([]string, len(r.Sources))
			for i, s := range r.Sources {
				parts[i] = string(s)
			}
			srcs = strings.Join(parts, "; else ")
		}
		fmt.Fprintf(&b, "%-10s %-10s %-22s %s\n", strings.ReplaceAll(r.Methods, " ", ","), kind, via, srcs)
		fmt.Fprintf(&b, "%-45s (%s)\n", "", r.Why)
	}
	return b.String()
}

package fleet

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/lrokit/lrokit/poller"
)

// Match keys bound what one token or one event can put in the index.
const (
	maxMatchKeys   = 32
	maxMatchKeyLen = 1024
)

// MatchKeys returns the normalised keys under which an identifier taken
// from a notification (a resource or operation URL, a Google operation or
// resource name, an AWS ARN, stack name or instance id) is looked up in an
// engine's index. Both the index and the lookup use it, so that
// "https://Management.azure.com/subscriptions/s/x?api-version=1" and the
// Event Grid subject "/subscriptions/s/x" meet on "subscriptions/s/x".
//
// Normalisation drops the scheme, query and fragment, lower-cases
// everything (ARM ids are case-insensitive; a false match costs one poll,
// never a result) and trims slashes. A URL gives host+path and path alone;
// a Google full resource name ("//compute.googleapis.com/projects/…") gives
// the name without its service; an ARN gives itself and its resource id
// ("arn:aws:cloudformation:…:stack/name/guid" → "name"). Empty or oversized
// identifiers give nothing.
func MatchKeys(id string) []string {
	id = strings.TrimSpace(id)
	if id == "" || len(id) > maxMatchKeyLen {
		return nil
	}
	var out []string
	add := func(k string) {
		k = strings.Trim(strings.ToLower(k), "/")
		if k != "" {
			out = append(out, k)
		}
	}
	switch {
	case strings.HasPrefix(id, "//"): // Google full resource name
		host, path, _ := strings.Cut(id[2:], "/")
		add(host + "/" + path)
		add(path)
	case strings.HasPrefix(strings.ToLower(id), "arn:"):
		add(id)
		// arn:partition:service:region:account:resource, where resource is
		// "type/id[/…]", "type:id" or "id" (AWS General Reference, ARN format).
		parts := strings.SplitN(id, ":", 6)
		if len(parts) == 6 {
			res := parts[5]
			if t, rest, ok := strings.Cut(res, "/"); ok && t != "" {
				name, _, _ := strings.Cut(rest, "/")
				add(name)
			} else if _, rest, ok := strings.Cut(res, ":"); ok {
				add(rest)
			} else {
				add(res)
			}
		}
	case strings.Contains(id, "://"):
		u, err := url.Parse(id)
		if err != nil || u.Host == "" {
			return nil
		}
		p := u.EscapedPath()
		if up, err := url.PathUnescape(p); err == nil {
			p = up
		}
		add(u.Host + "/" + strings.Trim(p, "/"))
		add(p)
	default:
		if i := strings.IndexAny(id, "?#"); i >= 0 {
			id = id[:i]
		}
		add(id)
	}
	return out
}

// tokenMatchKeys derives the index keys of an operation from its resume
// token's state, without importing the adapters: Azure and REST URLs
// (original request, polling, Location, Content-Location, result; for a
// POST also the URL's parent, the resource an action acts on), a Google
// operation name or Compute operation path, the string inputs of an AWS
// waiter (stack name or ARN, instance ids…). A token that cannot be
// decoded gives none: its operation is still woken by key.
func tokenMatchKeys(token string, sealKey []byte) []string {
	tok, err := poller.DecodeToken(token, sealKey)
	if err != nil || len(tok.State) == 0 {
		return nil
	}
	var ids []string
	switch tok.Provider {
	case "azure", "rest":
		var st struct {
			Method          string `json:"method"`
			URL             string `json:"url"`
			Poll            string `json:"poll"`
			Location        string `json:"location"`
			ContentLocation string `json:"content_location"`
			Result          string `json:"result"`
		}
		if json.Unmarshal(tok.State, &st) != nil {
			return nil
		}
		ids = append(ids, st.URL, st.Poll, st.Location, st.ContentLocation, st.Result)
		if strings.EqualFold(st.Method, "POST") {
			if u, err := url.Parse(st.URL); err == nil && u.Host != "" {
				u.Path = u.Path[:max(strings.LastIndexByte(strings.TrimRight(u.Path, "/"), '/'), 0)]
				u.RawPath, u.RawQuery = "", ""
				ids = append(ids, u.String())
			}
		}
	case "gcp":
		var st struct {
			Name    string `json:"name"`
			Project string `json:"project"`
			Zone    string `json:"zone"`
			Region  string `json:"region"`
		}
		if json.Unmarshal(tok.State, &st) != nil {
			return nil
		}
		ids = append(ids, st.Name)
		if st.Project != "" && st.Name != "" {
			switch {
			case st.Zone != "":
				ids = append(ids, "projects/"+st.Project+"/zones/"+st.Zone+"/operations/"+st.Name)
			case st.Region != "":
				ids = append(ids, "projects/"+st.Project+"/regions/"+st.Region+"/operations/"+st.Name)
			default:
				ids = append(ids, "projects/"+st.Project+"/global/operations/"+st.Name)
			}
		}
	case "aws":
		var st struct {
			Input json.RawMessage `json:"input"`
		}
		if json.Unmarshal(tok.State, &st) != nil {
			return nil
		}
		var in any
		if json.Unmarshal(st.Input, &in) != nil {
			return nil
		}
		ids = stringLeaves(in, ids, 0)
	}
	return matchKeysOf(ids)
}

// stringLeaves collects the strings of a decoded JSON value, depth-bounded.
func stringLeaves(v any, out []string, depth int) []string {
	if depth > 4 || len(out) >= maxMatchKeys {
		return out
	}
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, e := range x {
			out = stringLeaves(e, out, depth+1)
		}
	case map[string]any:
		for _, e := range x {
			out = stringLeaves(e, out, depth+1)
		}
	}
	return out
}

// matchKeysOf normalises ids to the keys the index holds, without
// duplicates and at most maxMatchKeys: of each id, only its most general
// key, the last MatchKeys gives (a URL's path without its host, a Google
// full name's path, an ARN's resource id). A lookup normalises a
// notification's identifier to all of its keys, the most general one
// among them, so it still finds the operation; an operation keeps half
// the index entries (issue 17), and two operations that differ only in
// the more specific part (the host, the account) are both polled, which
// costs a poll, never a result.
func matchKeysOf(ids []string) []string {
	var out []string
	for _, id := range ids {
		ks := MatchKeys(id)
		if len(ks) == 0 {
			continue
		}
		if k := ks[len(ks)-1]; !slices.Contains(out, k) && len(out) < maxMatchKeys {
			out = append(out, k)
		}
	}
	return out
}

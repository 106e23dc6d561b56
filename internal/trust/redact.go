package trust

import (
	"net/url"
	"sort"
	"strings"
)

// credentialParams are query parameters whose values are credentials: a
// URL that carries one is a capability — whoever holds it may use it.
// Azure SAS (sig), AWS SigV4 presigned URLs (X-Amz-*), Google signed URLs
// (X-Goog-*), Azure Functions keys and Durable Functions status URLs
// (code), OAuth parameters, and the usual API-key spellings.
var credentialParams = map[string]bool{
	"sig": true, "signature": true,
	"x-amz-signature": true, "x-amz-credential": true, "x-amz-security-token": true,
	"x-goog-signature": true, "x-goog-credential": true,
	"code": true, "token": true, "access_token": true, "id_token": true, "refresh_token": true,
	"client_secret": true, "secret": true, "password": true, "pwd": true,
	"key": true, "api-key": true, "apikey": true, "api_key": true, "x-api-key": true,
	"sessiontoken": true, "session_token": true, "auth": true, "authorization": true,
}

// keptParams are query parameters whose values are printed: they name an
// API version, never a secret.
var keptParams = map[string]bool{"api-version": true}

// IsCapability reports whether u's query carries a credential (see
// credentialParams); such a URL is itself a secret.
func IsCapability(u *url.URL) bool {
	if u == nil || u.RawQuery == "" {
		return false
	}
	for _, kv := range strings.FieldsFunc(u.RawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
		k, _, _ := strings.Cut(kv, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if credentialParams[strings.ToLower(strings.TrimSpace(k))] {
			return true
		}
	}
	return false
}

// RedactURL returns u for display: scheme, host and path, and the query
// with every value replaced by "REDACTED" except api-version. User
// information and the fragment are dropped. It never panics.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	s := u.Scheme + "://" + u.Host + u.EscapedPath()
	if u.RawQuery == "" {
		return s
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil && len(q) == 0 {
		return s + "?REDACTED"
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			if keptParams[strings.ToLower(k)] {
				b.WriteString(url.QueryEscape(v))
			} else {
				b.WriteString("REDACTED")
			}
		}
	}
	return s + "?" + b.String()
}

// RedactString is RedactURL for a string; what does not parse becomes
// "(invalid URL)".
func RedactString(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "(invalid URL)"
	}
	return RedactURL(u)
}

// MayBeCapability reports whether the URL raw may carry a credential in its
// query: false only when IsCapability of raw, parsed, is surely false. It
// reads raw without parsing it and never allocates, so a caller checks
// every URL it writes and parses only those it must (a key escaped with
// '%' or '+', or not ASCII, counts as a possible credential).
func MayBeCapability(raw string) bool {
	raw, _, _ = strings.Cut(raw, "#")
	_, q, ok := strings.Cut(raw, "?")
	if !ok {
		return false
	}
	for q != "" {
		var kv string
		if i := strings.IndexAny(q, "&;"); i >= 0 {
			kv, q = q[:i], q[i+1:]
		} else {
			kv, q = q, ""
		}
		k, _, _ := strings.Cut(kv, "=")
		for i := 0; i < len(k); i++ {
			if c := k[i]; c == '%' || c == '+' || c <= ' ' || c >= 0x7f {
				return true
			}
		}
		for p := range credentialParams {
			if strings.EqualFold(k, p) {
				return true
			}
		}
	}
	return false
}

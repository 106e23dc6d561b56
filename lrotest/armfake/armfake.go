package armfake

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is a failure injected instead of, or in the middle of, a response.
type Fault int

const (
	// NoFault sends the response as scripted.
	NoFault Fault = iota
	// Drop closes the connection without answering (hijack and close): the
	// client sees a connection error.
	Drop
	// Truncate sends the status line, the headers with the full
	// Content-Length, and half the body, then closes the connection: the
	// client sees an unexpected EOF.
	Truncate
)

// Response is one scripted answer.
//
// In Header values and Body, "{base}" becomes the server's URL (scheme and
// host, no trailing slash), and "{date+N}" an HTTP-date N seconds after the
// moment of the response (for Retry-After in its date form).
type Response struct {
	Status int
	Header map[string]string
	Body   string
	Fault  Fault
}

// WithHeader returns r with the header key set to value.
func (r Response) WithHeader(key, value string) Response {
	h := make(map[string]string, len(r.Header)+1)
	for k, v := range r.Header {
		h[k] = v
	}
	h[key] = value
	r.Header = h
	return r
}

// WithStatus returns r with status code.
func (r Response) WithStatus(code int) Response {
	r.Status = code
	return r
}

// WithRetryAfter returns r with a Retry-After header (seconds or a date,
// see Response).
func (r Response) WithRetryAfter(value string) Response { return r.WithHeader("Retry-After", value) }

// JSON returns a response with status code and a JSON body.
func JSON(code int, body string) Response {
	return Response{Status: code, Header: map[string]string{"Content-Type": "application/json"}, Body: body}
}

// Status returns a 200 status-monitor body {"status": status}, the shape of
// Azure-AsyncOperation and Operation-Location status URLs.
func Status(status string) Response {
	return JSON(http.StatusOK, fmt.Sprintf(`{"status":%q}`, status))
}

// StatusFailed returns a 200 status body reporting a failure with an
// ARM error object.
func StatusFailed(code, message string) Response {
	return JSON(http.StatusOK, fmt.Sprintf(`{"status":"Failed","error":{"code":%q,"message":%q}}`, code, message))
}

// Resource returns a 200 ARM resource body with properties.provisioningState
// (omitted when state is "") and a name.
func Resource(name, state string) Response {
	if state == "" {
		return JSON(http.StatusOK, fmt.Sprintf(`{"name":%q,"properties":{}}`, name))
	}
	return JSON(http.StatusOK, fmt.Sprintf(`{"name":%q,"properties":{"provisioningState":%q}}`, name, state))
}

// Accepted returns an empty 202.
func Accepted() Response { return Response{Status: http.StatusAccepted} }

// Error returns an ARM error response with status code.
func Error(code int, errCode, message string) Response {
	return JSON(code, fmt.Sprintf(`{"error":{"code":%q,"message":%q}}`, errCode, message))
}

// Route is a method and path with its script: the responses served to
// successive requests, the last one repeating forever.
type Route struct {
	Method, Path string
	Script       []Response
}

// Scenario is a named set of routes.
type Scenario struct {
	Name   string
	Routes []Route
}

// Request is a request the server received.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Host     string
	Header   http.Header
	// N is the request's 1-based position among the requests to its route.
	N int
}

// Server is a loopback HTTP server that serves scripted routes and records
// every request. Requests to a route with no script get an ARM 404. It is
// safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu     sync.Mutex
	routes map[string][]Response
	served map[string]int
	reqs   []Request
}

// New starts a plain-http server on 127.0.0.1 (loopback, so lrokit accepts
// http URLs on it).
func New() *Server { return start(false) }

// NewTLS starts an https server on 127.0.0.1; use Client, or its
// Transport, to trust its certificate. All NewTLS servers share one
// certificate, so one Client trusts them all.
func NewTLS() *Server { return start(true) }

func start(tls bool) *Server {
	s := &Server{routes: map[string][]Response{}, served: map[string]int{}}
	h := http.HandlerFunc(s.serve)
	if tls {
		s.srv = httptest.NewTLSServer(h)
	} else {
		s.srv = httptest.NewServer(h)
	}
	return s
}

// URL returns the server's base URL, such as http://127.0.0.1:41234.
func (s *Server) URL() string { return s.srv.URL }

// Client returns an *http.Client that trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close shuts the server down, closing client connections.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

func key(method, path string) string { return strings.ToUpper(method) + " " + path }

// Handle scripts the route method path (path without query). It replaces
// any earlier script and restarts its count.
func (s *Server) Handle(method, path string, script ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(method, path)
	s.routes[k] = append([]Response(nil), script...)
	s.served[k] = 0
}

// Load scripts every route of sc.
func (s *Server) Load(sc Scenario) {
	for _, r := range sc.Routes {
		s.Handle(r.Method, r.Path, r.Script...)
	}
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	copy(out, s.reqs)
	return out
}

// Count returns how many requests method path received.
func (s *Server) Count(method, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == strings.ToUpper(method) && r.Path == path {
			n++
		}
	}
	return n
}

// Summary returns "METHOD /path ×n" lines for every route that received
// requests, sorted, for test failure messages.
func (s *Server) Summary() string {
	counts := map[string]int{}
	for _, r := range s.Requests() {
		counts[key(r.Method, r.Path)]++
	}
	lines := make([]string, 0, len(counts))
	for k, n := range counts {
		lines = append(lines, fmt.Sprintf("%s ×%d", k, n))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	k := key(r.Method, r.URL.Path)
	s.mu.Lock()
	script, ok := s.routes[k]
	n := s.served[k]
	s.served[k] = n + 1
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Host: r.Host, Header: r.Header.Clone(), N: n + 1})
	s.mu.Unlock()
	if !ok || len(script) == 0 {
		writeResponse(w, Error(http.StatusNotFound, "ResourceNotFound", "no script for "+k), s.URL())
		return
	}
	resp := script[min(n, len(script)-1)]
	switch resp.Fault {
	case Drop:
		hijack(w, nil)
	case Truncate:
		body := expand(resp.Body, s.URL())
		var b strings.Builder
		code := resp.Status
		if code == 0 {
			code = http.StatusOK
		}
		fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
		for k, v := range resp.Header {
			fmt.Fprintf(&b, "%s: %s\r\n", k, expand(v, s.URL()))
		}
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body)+8, body[:len(body)/2])
		hijack(w, []byte(b.String()))
	default:
		writeResponse(w, resp, s.URL())
	}
}

func hijack(w http.ResponseWriter, prefix []byte) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("armfake: connection cannot be hijacked")
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	if prefix != nil {
		_, _ = buf.Write(prefix)
		_ = buf.Flush()
	}
	_ = conn.Close()
}

func writeResponse(w http.ResponseWriter, resp Response, base string) {
	for k, v := range resp.Header {
		w.Header().Set(k, expand(v, base))
	}
	code := resp.Status
	if code == 0 {
		code = http.StatusOK
	}
	w.WriteHeader(code)
	_, _ = w.Write([]byte(expand(resp.Body, base)))
}

// expand replaces "{base}" and "{date+N}" placeholders.
func expand(s, base string) string {
	s = strings.ReplaceAll(s, "{base}", base)
	for {
		i := strings.Index(s, "{date+")
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return s
		}
		n, err := strconv.Atoi(s[i+len("{date+") : i+j])
		if err != nil {
			return s
		}
		date := time.Now().Add(time.Duration(n) * time.Second).UTC().Format(http.TimeFormat)
		s = s[:i] + date + s[i+j+1:]
	}
}

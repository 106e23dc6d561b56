// Package foreign is a loopback "foreign" server for tamper tests: it
// stands for a host an attacker owns, and records the credentials that
// reach it.
//
// Server listens twice, over TLS (HTTP/1.1 and HTTP/2, so gRPC clients
// reach it too) and over plain HTTP, and records every request's
// Authorization, X-Amz-Security-Token and Cookie headers. Transport routes
// every connection to it except those to the addresses a test names as
// legitimate, so a client that follows a tampered token to any host at
// all (an API Gateway name, an IDN look-alike) lands here and is counted.
package foreign

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Request is what the server saw of one request.
type Request struct {
	Method, Host, Path string
	// Authorization, AmzSecurityToken and Cookie are the credential
	// headers ("" when absent). AWS SigV4 signatures travel in
	// Authorization.
	Authorization, AmzSecurityToken, Cookie string
}

// Credentialed reports whether the request carried a credential header.
func (r Request) Credentialed() bool {
	return r.Authorization != "" || r.AmzSecurityToken != "" || r.Cookie != ""
}

// Server records what reaches it. Its zero value is not usable: use New.
type Server struct {
	tls, plain *httptest.Server

	mu   sync.Mutex
	reqs []Request
}

// New starts the server. Every request is answered 200 with a JSON body
// that claims success, and a Set-Cookie, as a hostile host would.
func New() *Server {
	s := &Server{}
	h := http.HandlerFunc(s.serve)
	s.tls = httptest.NewUnstartedServer(h)
	s.tls.EnableHTTP2 = true
	s.tls.StartTLS()
	s.plain = httptest.NewServer(h)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{
		Method: r.Method, Host: r.Host, Path: r.URL.Path,
		Authorization: r.Header.Get("Authorization"), AmzSecurityToken: r.Header.Get("X-Amz-Security-Token"),
		Cookie: r.Header.Get("Cookie"),
	})
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "stolen", Value: "1"})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"Succeeded","provisioningState":"Succeeded","done":true}`))
}

// URL is the TLS origin, "https://127.0.0.1:PORT".
func (s *Server) URL() string { return s.tls.URL }

// HTTPURL is the plain-HTTP origin, "http://127.0.0.1:PORT".
func (s *Server) HTTPURL() string { return s.plain.URL }

// Addr is the TLS listener's "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.tls.Listener.Addr().String() }

// Requests returns every request seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Count is the number of requests seen.
func (s *Server) Count() int { return len(s.Requests()) }

// Credentialed is the number of requests that carried a credential.
func (s *Server) Credentialed() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Credentialed() {
			n++
		}
	}
	return n
}

// Close stops both listeners.
func (s *Server) Close() {
	s.tls.Close()
	s.plain.Close()
}

// Transport returns an HTTP transport that connects to the legitimate
// addresses as asked ("127.0.0.1:PORT" for TLS, "http://127.0.0.1:PORT"
// for plain HTTP), and every other connection to the server: TLS ones to
// its TLS listener, plain ones to its HTTP one.
// Certificates are not verified (every loopback test server uses the same
// test certificate, so verification would prove nothing here).
func (s *Server) Transport(legit ...string) *http.Transport {
	ok := func(addr string) bool {
		for _, l := range legit {
			if strings.EqualFold(addr, l) {
				return true
			}
		}
		return false
	}
	var d net.Dialer
	tr := &http.Transport{
		ForceAttemptHTTP2: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback test servers only
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if !ok("http://" + addr) {
				addr = s.plain.Listener.Addr().String()
			}
			return d.DialContext(ctx, network, addr)
		},
	}
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		if !ok(addr) {
			addr = s.Addr()
		}
		td := tls.Dialer{NetDialer: &d, Config: &tls.Config{InsecureSkipVerify: true, ServerName: host, NextProtos: []string{"h2", "http/1.1"}}} //nolint:gosec // as above
		return td.DialContext(ctx, network, addr)
	}
	return tr
}

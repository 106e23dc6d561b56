package push

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/lrokit/lrokit/fleet"
)

// Target takes signals; *fleet.Engine is one.
type Target interface {
	Signal(fleet.Signal) int
}

// Source is a pull source of notifications (a Pub/Sub subscription, an SQS
// queue): Run receives until ctx ends, decodes each message with
// DecodeMessage, hands its identifiers to t and acknowledges it. A message
// it cannot decode is acknowledged too (it can never become readable).
type Source interface {
	Run(ctx context.Context, t Target) error
}

// Auth says how a Receiver authenticates deliveries. Every check that is
// configured must pass; a request that fails any is answered 401 and
// signals nothing. Secrets are compared in constant time.
type Auth struct {
	// PathToken, when set, must be the last segment of the request path:
	// the receiver is reached at https://host/<anything>/<PathToken>. The
	// option for senders that cannot sign: Event Grid webhooks, Eventarc
	// HTTP destinations, Pub/Sub push subscriptions.
	PathToken string
	// HMACKey, when set, is the key of an HMAC-SHA256 of the raw body that
	// the sender puts in HMACHeader as hex, optionally prefixed "sha256=".
	HMACKey []byte
	// HMACHeader names the signature header; default "X-Lrokit-Signature".
	HMACHeader string
	// HeaderName and HeaderValue, when set, are a static secret header
	// (an EventBridge API destination's API-key connection sends one).
	HeaderName, HeaderValue string
}

func (a Auth) configured() bool {
	return a.PathToken != "" || len(a.HMACKey) > 0 || a.HeaderName != ""
}

// check reports whether r, with its body, passes every configured check.
// An OPTIONS handshake has no body to sign and passes without the HMAC.
func (a Auth) check(r *http.Request, body []byte) bool {
	ok := true
	if a.PathToken != "" {
		p := strings.TrimRight(r.URL.Path, "/")
		last := p[strings.LastIndexByte(p, '/')+1:]
		ok = subtle.ConstantTimeCompare([]byte(last), []byte(a.PathToken)) == 1 && ok
	}
	if a.HeaderName != "" {
		ok = subtle.ConstantTimeCompare([]byte(r.Header.Get(a.HeaderName)), []byte(a.HeaderValue)) == 1 && ok
	}
	if len(a.HMACKey) > 0 && r.Method != http.MethodOptions {
		name := a.HMACHeader
		if name == "" {
			name = "X-Lrokit-Signature"
		}
		got, err := hex.DecodeString(strings.TrimPrefix(r.Header.Get(name), "sha256="))
		m := hmac.New(sha256.New, a.HMACKey)
		m.Write(body)
		ok = err == nil && hmac.Equal(got, m.Sum(nil)) && ok
	}
	return ok
}

// Sign returns the signature header value of body under key, as a sender
// configured with Auth.HMACKey computes it: "sha256=" and the hex HMAC.
func Sign(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Options configure a Receiver.
type Options struct {
	// Auth authenticates deliveries; NewReceiver refuses an empty Auth
	// unless Unauthenticated is set.
	Auth Auth
	// Unauthenticated accepts deliveries from anyone. Results still never
	// depend on them, but anyone could make the engine poll sooner.
	Unauthenticated bool
	// MaxBody bounds a request body; larger ones are answered 413.
	// Default 1 MiB (Event Grid batches are at most 1 MB).
	MaxBody int64
	// QueueSize bounds the signals waiting for Run; when full, the oldest
	// is dropped (and counted). Default 4096.
	QueueSize int
	// Source names the receiver in signals; default "webhook".
	Source string
	// Logger receives rejections; nil means none. Bodies are never logged.
	Logger *slog.Logger
}

// Stats count what a Receiver did.
type Stats struct {
	Accepted    int64 // deliveries acknowledged (validation included)
	Unauthentic int64 // answered 401
	Invalid     int64 // answered 400, 405 or 415
	TooLarge    int64 // answered 413
	Validations int64 // Event Grid and CloudEvents webhook handshakes answered
	Dropped     int64 // queued signals dropped when the queue was full
	Signaled    int64 // signals handed to the target
	Matched     int64 // operations the target said the signals named
}

// Receiver is an http.Handler for push notifications. It authenticates
// each delivery, decodes it (see Decode), answers at once, and queues a
// fleet.Signal that Run hands to the target: a delivery is acknowledged
// before anything is polled, and a slow target never holds a sender.
type Receiver struct {
	target Target
	opts   Options
	log    *slog.Logger

	mu     sync.Mutex
	queue  []fleet.Signal // ring
	head   int
	n      int
	notify chan struct{}
	stats  Stats
}

// NewReceiver returns a receiver that signals t. Start its Run.
func NewReceiver(t Target, o *Options) (*Receiver, error) {
	if t == nil {
		return nil, errors.New("push: nil target")
	}
	var opts Options
	if o != nil {
		opts = *o
	}
	if !opts.Auth.configured() && !opts.Unauthenticated {
		return nil, errors.New("push: no authentication configured (set Auth, or Unauthenticated)")
	}
	if opts.Auth.HeaderName != "" && opts.Auth.HeaderValue == "" {
		return nil, errors.New("push: Auth.HeaderName needs a HeaderValue")
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.Source == "" {
		opts.Source = "webhook"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Receiver{target: t, opts: opts, log: opts.Logger, queue: make([]fleet.Signal, opts.QueueSize), notify: make(chan struct{}, 1)}, nil
}

// ServeHTTP answers one delivery. POST carries notifications; OPTIONS is
// the CloudEvents webhook abuse-protection handshake (CloudEvents "HTTP 1.1
// Web Hooks for Event Delivery" §4), which Event Grid uses for its
// CloudEvents schema. It never panics on any input.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
	case http.MethodOptions:
		rc.handshake(w, r)
		return
	default:
		rc.count(func(s *Stats) { s.Invalid++ })
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.opts.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			rc.count(func(s *Stats) { s.TooLarge++ })
			http.Error(w, fmt.Sprintf("body larger than %d bytes", rc.opts.MaxBody), http.StatusRequestEntityTooLarge)
			return
		}
		rc.count(func(s *Stats) { s.Invalid++ })
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if !rc.opts.Auth.check(r, body) {
		rc.count(func(s *Stats) { s.Unauthentic++ })
		rc.log.LogAttrs(r.Context(), slog.LevelWarn, "push: unauthenticated delivery", slog.String("remote", r.RemoteAddr))
		http.Error(w, "unauthenticated", http.StatusUnauthorized)
		return
	}
	d, err := Decode(r.Header, body)
	if err != nil {
		rc.count(func(s *Stats) { s.Invalid++ })
		rc.log.LogAttrs(r.Context(), slog.LevelWarn, "push: undecodable delivery", slog.String("error", err.Error()))
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if d.ValidationCode != "" {
		// Event Grid webhook validation: echo the code in the response.
		rc.count(func(s *Stats) { s.Accepted++; s.Validations++ })
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"validationResponse": d.ValidationCode})
		return
	}
	if len(d.Refs) > 0 {
		rc.enqueue(fleet.Signal{Source: rc.opts.Source, Refs: d.Refs})
	}
	rc.count(func(s *Stats) { s.Accepted++ })
	w.WriteHeader(http.StatusAccepted)
}

func (rc *Receiver) handshake(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("WebHook-Request-Origin")
	if origin == "" || !rc.opts.Auth.check(r, nil) {
		rc.count(func(s *Stats) { s.Unauthentic++ })
		http.Error(w, "unauthenticated", http.StatusUnauthorized)
		return
	}
	rc.count(func(s *Stats) { s.Accepted++; s.Validations++ })
	w.Header().Set("WebHook-Allowed-Origin", origin)
	w.Header().Set("WebHook-Allowed-Rate", "*")
	w.Header().Set("Allow", "POST, OPTIONS")
	w.WriteHeader(http.StatusOK)
}

func (rc *Receiver) count(f func(*Stats)) {
	rc.mu.Lock()
	f(&rc.stats)
	rc.mu.Unlock()
}

// enqueue adds sig, dropping the oldest queued signal when full: a newer
// notification is the likelier to matter, and a dropped one only delays a
// poll that the schedule makes anyway.
func (rc *Receiver) enqueue(sig fleet.Signal) {
	rc.mu.Lock()
	size := len(rc.queue)
	if rc.n == size {
		rc.queue[rc.head] = fleet.Signal{}
		rc.head = (rc.head + 1) % size
		rc.n--
		rc.stats.Dropped++
	}
	rc.queue[(rc.head+rc.n)%size] = sig
	rc.n++
	rc.mu.Unlock()
	select {
	case rc.notify <- struct{}{}:
	default:
	}
}

func (rc *Receiver) dequeue() (fleet.Signal, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.n == 0 {
		return fleet.Signal{}, false
	}
	sig := rc.queue[rc.head]
	rc.queue[rc.head] = fleet.Signal{}
	rc.head = (rc.head + 1) % len(rc.queue)
	rc.n--
	return sig, true
}

// Run hands queued signals to the target until ctx ends; it returns nil
// then. Signals still queued are dropped: each only asked for a poll
// sooner.
func (rc *Receiver) Run(ctx context.Context) error {
	for {
		for {
			sig, ok := rc.dequeue()
			if !ok {
				break
			}
			n := rc.target.Signal(sig)
			rc.count(func(s *Stats) { s.Signaled++; s.Matched += int64(n) })
		}
		select {
		case <-ctx.Done():
			return nil
		case <-rc.notify:
		}
	}
}

// Stats returns the receiver's counts so far.
func (rc *Receiver) Stats() Stats {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.stats
}

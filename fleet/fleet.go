package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// Poller is what the engine needs of one operation's poller.
// *poller.Poller[T] implements it for every T.
type Poller interface {
	// Poll performs one round trip and schedules the next (see poller.Poller.Poll).
	Poll(ctx context.Context) (poller.Observation, error)
	// Done reports whether the operation reached a terminal status.
	Done() bool
	// NextPollAt is when the poller next wants to be polled.
	NextPollAt() time.Time
	// Last is the last observation.
	Last() poller.Observation
	// Polls counts the polls made, across resumptions.
	Polls() int
	// Created is when the operation started.
	Created() time.Time
	// ResumeToken is the token to continue from.
	ResumeToken() (string, error)
}

// Op is one operation as the engine drives it, as a Resolver returns it.
type Op struct {
	// Poller polls the operation.
	Poller Poller
	// Host is the host its polls go to ("management.azure.com",
	// "cloudformation.eu-west-1.amazonaws.com"): the unit of rate limiting.
	Host string
	// Kind names the kind of operation for learned durations: provider and
	// operation type, e.g. "aws cloudformation.StackCreateComplete" or
	// "azure PUT Microsoft.ContainerService/managedClusters". Empty: no
	// priors are learned or used.
	Kind string
	// Match lists identifiers a Signal may name the operation by, beyond
	// those the engine derives from its token (see MatchKeys). Optional.
	Match []string
}

// Resolver turns a stored resume token into an Op, with the caller's own
// clients for each provider (package resume provides one). opts carries the
// engine's clock, logger and base policy; the resolver passes it to the
// adapter's Resume. It must not send the operation's initial request: the
// operation already exists. Errors wrapping poller.ErrInvalidToken mark the
// record failed; other errors leave it for another engine to try.
type Resolver func(ctx context.Context, token string, opts *poller.Options) (Op, error)

// Store is what the engine needs of a store: records with compare-and-swap,
// and leases with fencing. Every store of package persist implements it.
type Store interface {
	persist.Store
	persist.Leaser
}

// DefaultRetryBudget is the transient-error budget of the fleet and of the
// command line's wait, one setting with one default: unlimited. Outages and
// 429s are not the operation's fault, and a wait that gives up on them loses
// the operation's schedule; the caller's timeout (a CI job's, --timeout)
// bounds the wait instead, handing the token on.
const DefaultRetryBudget = poller.UnlimitedRetries

// ReservedPrefix starts the keys the engine keeps for itself (learned
// priors). Add refuses such keys and List hides them.
const ReservedPrefix = "_lrokit/"

// ErrReservedKey is returned by Add for a key under ReservedPrefix.
var ErrReservedKey = errors.New("key is reserved for lrokit")

// Options configure an Engine. The zero value works.
type Options struct {
	// Owner names this engine in leases; default hostname-pid-random.
	// Engines sharing a store must have distinct owners.
	Owner string
	// Workers bounds the polls (and store calls) in flight. Default 32.
	Workers int
	// Capacity is the most operations the engine holds at once. Default
	// 10,000.
	Capacity int
	// ClaimBatch is the most operations one claim takes, so that engines
	// starting together share the work. Default 1,000.
	ClaimBatch int
	// ClaimInterval is how often the engine looks for operations to take
	// (new ones, and those whose owner's lease lapsed). Default 5 s.
	ClaimInterval time.Duration
	// LeaseTTL is the lease on each held operation, renewed every third of
	// it. A dead engine's operations are taken over within about
	// LeaseTTL+ClaimInterval. Default 30 s.
	LeaseTTL time.Duration
	// Limits configure the adaptive per-host rate limits.
	Limits HostLimits
	// Priors configure learned durations.
	Priors PriorOptions
	// Signals configure how Signal moves polls and what the schedule
	// learns from sources that deliver.
	Signals SignalOptions
	// Policy is the base poller policy handed to the Resolver. Unless set,
	// RetryBudget is DefaultRetryBudget: a fleet never gives up an
	// operation for transient errors (a throttled host is not the
	// operation's fault).
	Policy poller.Policy
	// PollTimeout bounds each poll. Default 30 s.
	PollTimeout time.Duration
	// SealKey, when set, is the key tokens are sealed with (see
	// poller.Token.Seal); Add checks tokens with it.
	SealKey []byte
	// SealKeys are older keys still accepted (rotation). A record sealed
	// with a key the engine does not hold is released for another engine
	// and reported (EventReleased, a warning, Stats.Keyless), never marked
	// failed: the right key can still finish it.
	SealKeys [][]byte
	// OverdueAfter is how late an operation's poll may be before it counts
	// as overdue in Stats and metrics. Default 1 min.
	OverdueAfter time.Duration
	// ShutdownTimeout bounds how long Run waits, once its context ends, for
	// the polls in flight, and then for releasing leases. Default 30 s.
	ShutdownTimeout time.Duration
	// ExitWhenDone makes Run return once the engine holds nothing and the
	// store has no unfinished operation left (instead of waiting for more).
	ExitWhenDone bool
	// OnEvent receives the engine's events, on the scheduler goroutine, one
	// at a time and in order: keep it quick (hand off to a channel if
	// needed). It may call the engine's methods.
	OnEvent func(Event)
	// Clock is the time source of the engine, its pollers and its rate
	// limits; nil means poller.SystemClock.
	Clock poller.Clock
	// Lockstep makes the scheduler sleep only when nothing is in flight, so
	// that a virtual clock that advances on timers
	// (pollertest.NewAutoClock) never moves under a running poll: runs are
	// then reproducible. Tests set it; with a real clock it would let one
	// slow poll hold back the others.
	Lockstep bool
	// Logger receives the engine's logs (claims, throttles, rate changes,
	// lost leases, give-ups); nil means none. Records never hold tokens.
	Logger *slog.Logger
	// MeterProvider receives the engine's metrics (see package doc); nil
	// means none.
	MeterProvider metric.MeterProvider
	// TracerProvider traces each poll as a span linked to the span that
	// began the operation (poller.Options.TracerProvider); nil means none.
	TracerProvider trace.TracerProvider
}

func (o Options) resolved() Options {
	if o.Owner == "" {
		o.Owner = defaultOwner()
	}
	if o.Workers <= 0 {
		o.Workers = 32
	}
	if o.Capacity <= 0 {
		o.Capacity = 10_000
	}
	if o.ClaimBatch <= 0 {
		o.ClaimBatch = 1_000
	}
	if o.ClaimInterval <= 0 {
		o.ClaimInterval = 5 * time.Second
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 30 * time.Second
	}
	o.Limits = o.Limits.resolved()
	o.Priors = o.Priors.resolved()
	o.Signals = o.Signals.resolved(o.Policy.BaseDelay(24 * time.Hour))
	if o.Policy.RetryBudget == 0 {
		o.Policy.RetryBudget = DefaultRetryBudget
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 30 * time.Second
	}
	if o.OverdueAfter <= 0 {
		o.OverdueAfter = time.Minute
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	if o.Clock == nil {
		o.Clock = poller.SystemClock
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "engine"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Engine watches many operations at once: one scheduler ordered by each
// operation's next poll time, a bounded pool of workers, adaptive per-host
// rate limits, every poll saved to the store, operations shared with other
// engines through leases. Create it with New and run it with Run.
type Engine struct {
	store   Store
	resolve Resolver
	opts    Options
	clock   poller.Clock
	log     *slog.Logger
	met     *metrics

	kick chan struct{}

	mu       sync.Mutex
	running  bool
	ops      map[string]*entry
	hosts    map[string]*host
	ready    hostHeap // hosts with queued operations, by ready time
	inflight int
	priors   *priors
	sig      *signals
	counters counters
	// keyless holds the keys of records already reported as sealed with
	// a key this engine does not hold.
	keyless  map[string]bool
	claimNow bool
	events   []Event
}

// New returns an engine over store (which must also implement
// persist.Leaser, as every store of package persist does) that rebuilds
// operations with resolve.
func New(store persist.Store, resolve Resolver, opts *Options) (*Engine, error) {
	s, ok := store.(Store)
	if !ok {
		return nil, errors.New("fleet: the store does not implement leases (persist.Leaser)")
	}
	if resolve == nil {
		return nil, errors.New("fleet: nil Resolver")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	o = o.resolved()
	if err := validOwner(o.Owner); err != nil {
		return nil, err
	}
	e := &Engine{
		store: s, resolve: resolve, opts: o, clock: o.Clock, log: o.Logger,
		kick:    make(chan struct{}, 1),
		ops:     map[string]*entry{},
		keyless: map[string]bool{},
		hosts:   map[string]*host{},
		priors:  newPriors(o.Priors),
		sig:     newSignals(o.Signals),
	}
	m, err := newMetrics(o.MeterProvider, e)
	if err != nil {
		return nil, fmt.Errorf("fleet: metrics: %w", err)
	}
	e.met = m
	return e, nil
}

func validOwner(owner string) error {
	if len(owner) > persist.MaxOwnerLen || strings.ContainsRune(owner, 0) {
		return fmt.Errorf("fleet: owner must be at most %d bytes without NUL", persist.MaxOwnerLen)
	}
	return nil
}

// Owner returns the name this engine holds leases under.
func (e *Engine) Owner() string { return e.opts.Owner }

// Add stores a new operation under key, for this engine (which claims it at
// its next scheduling round) or any engine on the same store. See Add.
func (e *Engine) Add(ctx context.Context, key, token string, labels map[string]string) (persist.Record, error) {
	r, err := add(ctx, e.store, key, token, labels, e.opts.SealKey, e.opts.SealKeys...)
	if err == nil {
		e.mu.Lock()
		e.claimNow = true
		e.mu.Unlock()
		e.poke()
	}
	return r, err
}

// Add stores a new operation under key in s, for engines on s to pick up:
// a record holding token (already started: no engine sends its initial
// request) and labels. It fails with persist.ErrConflict when key exists,
// ErrReservedKey for keys under ReservedPrefix, and an error wrapping
// poller.ErrInvalidToken when token cannot be decoded (with sealKey when
// tokens are sealed; older keys are accepted for rotation).
func Add(ctx context.Context, s persist.Store, key, token string, labels map[string]string, sealKey []byte, older ...[]byte) (persist.Record, error) {
	return add(ctx, s, key, token, labels, sealKey, older...)
}

func add(ctx context.Context, s persist.Store, key, token string, labels map[string]string, sealKey []byte, older ...[]byte) (persist.Record, error) {
	if strings.HasPrefix(key, ReservedPrefix) {
		return persist.Record{}, fmt.Errorf("fleet: add %q: %w", key, ErrReservedKey)
	}
	tok, err := poller.DecodeToken(token, sealKey, older...)
	if err != nil {
		return persist.Record{}, fmt.Errorf("fleet: add %q: %w", key, err)
	}
	r := persist.Record{Key: key, Token: token, Provider: tok.Provider, Status: poller.StatusNotStarted, Labels: labels}
	if tok.Last != nil {
		r.Status, r.Detail = tok.Last.Status, tok.Last.Detail
	}
	out, err := s.Put(ctx, r)
	if err != nil {
		return persist.Record{}, fmt.Errorf("fleet: add %q: %w", key, err)
	}
	return out, nil
}

// List returns the operations in s that f selects, without the engine's
// reserved records.
func List(ctx context.Context, s persist.Store, f persist.Filter) ([]persist.Record, error) {
	recs, err := s.List(ctx, f)
	out := recs[:0]
	for _, r := range recs {
		if !strings.HasPrefix(r.Key, ReservedPrefix) {
			out = append(out, r)
		}
	}
	return out, err
}

// Wake moves the next poll of the operation under key to now (within its
// host's rate limit), for example when a webhook or push notification says
// it changed. It reports whether this engine holds the operation; a poll in
// flight is followed at once by another.
func (e *Engine) Wake(key string) bool {
	e.mu.Lock()
	en, ok := e.ops[key]
	if ok {
		if en.inflight {
			en.wake = true
		} else if en.host != nil && en.idx >= 0 {
			en.due, en.deferred = e.clock.Now(), false
			en.host.fix(en)
			e.ready.update(en.host)
		}
	}
	e.mu.Unlock()
	if ok {
		e.poke()
	}
	return ok
}

func (e *Engine) poke() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

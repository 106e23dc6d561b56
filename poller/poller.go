package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Options configure a Poller. The zero value works: the default Policy on the
// real clock, no logging.
type Options struct {
	// Policy decides the delays between polls. Adapters merge their
	// provider defaults under the caller's fields.
	Policy Policy
	// Clock is the time source; nil means SystemClock.
	Clock Clock
	// Logger receives one debug record per poll and warnings for transient
	// errors and stalls. Records never hold token contents or credentials.
	// nil means no logging.
	Logger *slog.Logger
	// PollTimeout bounds each round trip separately from the overall wait,
	// so a one-hour wait does not mean one-hour polls. Zero: no bound
	// beyond the caller's context.
	PollTimeout time.Duration
	// Deadline, when set, is the absolute time Wait gives up with a
	// *WaitError wrapping ErrDeadline. It is kept in the resume token.
	Deadline time.Time
	// SealKey, when set, makes ResumeToken seal tokens with HMAC-SHA256
	// and encrypt their secrets (see Token.Seal); adapters' Resume then
	// require a token sealed with it or with one of SealKeys. At least
	// MinSealKeySize bytes.
	SealKey []byte
	// SealKeys are older keys still accepted when resuming, so keys can be
	// rotated: seal with the new SealKey, keep the old one here until
	// every stored token has been rewritten.
	SealKeys [][]byte
	// PlaintextSecrets lets ResumeToken write a credential-bearing polling
	// URL (a SAS signature, a function key) in clear when no SealKey is
	// set. Without it such a token is refused with ErrSecretNeedsKey; the
	// poller still waits in-process.
	PlaintextSecrets bool

	// Started is when the operation began; zero means now. Set by adapters
	// that adopt an operation whose start time the provider reports.
	Started time.Time
	// Initial is what the operation's initial response said. Set by
	// adapters; nil means nothing is known yet and the first poll happens
	// at once.
	Initial *Observation

	// TracerProvider, when set, traces each Wait as a span and each poll
	// as a child span (see SpanWait). nil means no tracing, at no cost;
	// the global provider is used only if the caller passes it.
	TracerProvider trace.TracerProvider
	// TraceOrigin is the span that began the operation; resume tokens
	// carry it (Token.Trace) so waits resumed anywhere link to it. Zero:
	// the token's, or else the first traced wait or poll.
	TraceOrigin trace.SpanContext
	// Learned is what is known of this kind of operation's durations: it
	// sets the stall threshold (StallFactor × P95) and the Outcome's
	// estimate of the time left.
	Learned Learned
	// StallAfter reports the operation as stalled when its status, detail,
	// progress and message have not changed for this long (a log record,
	// a span event, WaitOptions.OnStall). Zero: StallFactor × Learned.P95
	// when known, else no stall reports.
	StallAfter time.Duration
	// StallFactor multiplies Learned.P95 into the stall threshold; zero
	// means DefaultStallFactor.
	StallFactor float64
	// GiveUpWhenStalled makes Wait return a *WaitError wrapping ErrStalled
	// once the operation stalls; by default the wait goes on.
	GiveUpWhenStalled bool
}

// sealKeys returns the keys given, the sealing one first, empty ones left out.
func (o *Options) sealKeys() [][]byte {
	var keys [][]byte
	for _, k := range append([][]byte{o.SealKey}, o.SealKeys...) {
		if len(k) > 0 {
			keys = append(keys, k)
		}
	}
	return keys
}

// DecodeToken decodes token with the options' seal keys (see the package
// function DecodeToken).
func (o *Options) DecodeToken(token string) (Token, error) {
	return DecodeToken(token, o.SealKey, o.SealKeys...)
}

// Poller waits for one long-running operation. It owns the schedule: when to
// poll, how to honor server hints, how to retry transient errors. The
// Operation only performs round trips.
//
// A Poller is not safe for concurrent use; several Pollers (in one process or
// many) may watch the same operation.
type Poller[T any] struct {
	op       Operation
	provider string
	kind     string // the token's kind, the name of an operation without one
	// name is the operation's name (Namer), made when first needed (errors,
	// logs, traces): not kept by every waiting operation of a fleet that
	// never logs it (issue 17). See opName.
	name   string
	policy *Policy // resolved, shared (never changed: see Policy.share)
	clock  Clock
	log    *slog.Logger
	// From Options, what is used after New: not the whole copy (~260
	// bytes of every waiting operation in a fleet).
	pollTimeout time.Duration
	sealKey     []byte
	watch       *watchOptions // nil when all zero (most pollers); see watchOpts

	created  time.Time
	next     time.Time
	polled   time.Time
	deadline time.Time
	polls    int
	last     Observation

	retry *retryBackOff // made at the first failure: see retrier

	result T

	// Together, in one word (issue 17: the struct is in every waiting
	// operation).
	plaintextSecrets bool
	done             bool
	resultSet        bool
	lowHints         uint8 // consecutive hints below the floor, at most lowHintLimit

	ins insight // outcome.go, trace.go
}

// watchOpts returns the stall and estimate options.
func (p *Poller[T]) watchOpts() watchOptions {
	if p.watch == nil {
		return watchOptions{}
	}
	return *p.watch
}

// New returns a Poller for a freshly started operation. Adapters call it;
// users call the adapters' constructors.
func New[T any](op Operation, opts *Options) (*Poller[T], error) {
	p, err := newPoller[T](op, opts)
	if err != nil {
		return nil, err
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	now := p.clock.Now()
	p.created = now
	if !o.Started.IsZero() && !o.Started.After(now) {
		p.created = o.Started
	}
	p.next = now
	p.ins.start(now)
	if init := o.Initial; init != nil {
		if err := p.observe(*init, now); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Resume returns a Poller that continues the schedule kept in tok, for an
// Operation an adapter rebuilt from tok's state. It does not poll before the
// token's next-poll time. Times from the token are untrusted: a creation
// time in the future counts as now, and a next-poll time is brought within
// the policy's hint ceiling.
func Resume[T any](op Operation, tok Token, opts *Options) (*Poller[T], error) {
	p, err := newPoller[T](op, opts)
	if err != nil {
		return nil, err
	}
	now := p.clock.Now()
	p.created = tok.Created
	if p.created.IsZero() || p.created.After(now) {
		p.created = now
	}
	p.polled = tok.Polled
	p.polls = tok.Polls
	p.lowHints = uint8(min(max(tok.LowHints, 0), lowHintLimit))
	if p.deadline.IsZero() {
		p.deadline = tok.Deadline
	}
	p.last = tok.Last.Observation()
	p.ins.start(now)
	if sc, ok := ParseTraceparent(tok.Trace); ok {
		p.ins.setOrigin(sc)
	}
	p.next = tok.Next
	switch {
	case p.last.Status.Terminal():
		// The adapter knows how to finish without a new round trip, or
		// re-learns the terminal state (and its error) in one.
		p.next = now
	case p.next.IsZero() || p.next.Before(now):
		p.next = now
	case p.next.Sub(now) > p.policy.HintCeiling:
		p.next = now.Add(p.policy.HintCeiling)
	}
	return p, nil
}

// discard is the logger of pollers given none.
var discard = slog.New(slog.DiscardHandler)

func newPoller[T any](op Operation, opts *Options) (*Poller[T], error) {
	if op == nil {
		return nil, errors.New("poller: nil Operation")
	}
	p := &Poller[T]{op: op}
	var o Options
	if opts != nil {
		o = *opts
	}
	p.policy = o.Policy.resolved().share()
	p.clock = o.Clock
	if p.clock == nil {
		p.clock = SystemClock
	}
	p.log = o.Logger
	if p.log == nil {
		p.log = discard
	}
	p.deadline = o.Deadline
	p.pollTimeout, p.sealKey, p.plaintextSecrets = o.PollTimeout, o.SealKey, o.PlaintextSecrets
	if err := checkKeys(o.sealKeys()); err != nil {
		return nil, fmt.Errorf("poller: %w", err)
	}
	tok, err := op.Token()
	if err != nil {
		return nil, fmt.Errorf("poller: operation has no token: %w", err)
	}
	p.provider, p.kind = tok.Provider, tok.Kind
	p.last = Observation{Progress: ProgressUnknown}
	if w := (watchOptions{StallAfter: o.StallAfter, StallFactor: o.StallFactor, Learned: o.Learned, GiveUpWhenStalled: o.GiveUpWhenStalled}); w != (watchOptions{}) {
		p.watch = &w
	}
	var traced string
	if o.TracerProvider != nil {
		traced = p.opName()
	}
	p.ins.initTracing(&o, op, p.provider, traced, tok.Kind)
	p.ins.setOrigin(o.TraceOrigin)
	return p, nil
}

// Operation returns the adapter's operation, for adapter-specific accessors.
func (p *Poller[T]) Operation() Operation { return p.op }

// Done reports whether the operation reached a terminal status.
func (p *Poller[T]) Done() bool { return p.done }

// Last returns the last observation.
func (p *Poller[T]) Last() Observation { return p.last }

// Polls returns the number of polls made, across resumptions.
func (p *Poller[T]) Polls() int { return p.polls }

// Created returns when the operation started, as the schedule counts it.
func (p *Poller[T]) Created() time.Time { return p.created }

// NextPollAt returns when the poller next wants to be polled. A scheduler that
// drives many pollers calls Poll once this time has come.
func (p *Poller[T]) NextPollAt() time.Time { return p.next }

// Poll performs one round trip now, whatever the schedule says, and schedules
// the next. After a terminal status it returns the last observation without
// a round trip. An error is a *PollError: the state could not be learned.
// A transient one is scheduled for retry; Final reports that the poller gave
// up (a permanent error, or the retry budget spent).
func (p *Poller[T]) Poll(ctx context.Context) (Observation, error) {
	if p.done {
		return p.last, nil
	}
	var span trace.Span
	if p.ins.traced() {
		ctx, span = p.ins.tr.startSpan(ctx, SpanPoll, p.clock.Now())
	}
	pctx := ctx
	if p.pollTimeout > 0 {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, p.pollTimeout)
		defer cancel()
	}
	obs, err := p.op.Poll(pctx)
	now := p.clock.Now()
	if err == nil && obs.Status == "" {
		err = errors.New("adapter reported no status")
	}
	if err != nil {
		return p.last, p.failed(ctx, span, err, now)
	}
	p.polled = now
	p.polls++
	p.retry.reset()
	if err := p.observe(obs, now); err != nil {
		if pe := (*PollError)(nil); span != nil && errors.As(err, &pe) {
			failPoll(span, pe, 0, now)
		}
		return p.last, err
	}
	if span != nil {
		endPoll(span, obs, p.next.Sub(now), p.ins.delayWhy.String(), now)
	}
	if p.log.Enabled(ctx, slog.LevelDebug) {
		p.log.LogAttrs(ctx, slog.LevelDebug, "lro poll", p.attrs(
			slog.String("status", string(p.last.Status)), slog.String("detail", p.last.Detail),
			slog.Float64("progress", p.last.Progress), slog.Duration("next_in", p.next.Sub(now)))...)
	}
	out := p.last
	out.Hinted = obs.Hinted // what the adapter saw; Last applies the floor rule
	return out, nil
}

// observe takes obs as the current state and schedules the next poll.
func (p *Poller[T]) observe(obs Observation, now time.Time) error {
	if _, ok := ParseStatus(string(obs.Status)); !ok {
		return &PollError{Operation: p.label(), Err: fmt.Errorf("adapter reported unknown status %q", obs.Status), Final: true, Last: p.last}
	}
	p.ins.see(p.last, obs, now)
	if obs.Status == StatusFailed || obs.Status == StatusCanceled {
		obs.Err = p.operationError(obs)
	}
	if obs.Status.Terminal() {
		p.last = p.informative(obs)
		p.done = true
		p.next = now
		return nil
	}
	p.next = now.Add(p.delay(obs))
	p.last = p.informative(obs)
	return nil
}

func (p *Poller[T]) operationError(obs Observation) error {
	var oe *OperationError
	if !errors.As(obs.Err, &oe) {
		oe = &OperationError{Err: obs.Err}
		if obs.Err != nil {
			oe.Message = obs.Err.Error()
		}
	}
	if oe.Provider == "" {
		oe.Provider = p.provider
	}
	if oe.Operation == "" {
		oe.Operation = p.opName()
	}
	if oe.Status == "" {
		oe.Status = obs.Status
	}
	if oe.Last.Status == "" {
		last := obs
		last.Err = nil
		oe.Last = last
	}
	if oe.Outcome == nil {
		// observe sets p.last after this; the outcome is of obs.
		saved := p.last
		p.last = obs
		p.last.Err = oe
		o := p.outcome(ReasonTerminal, p.clock.Now())
		oe.Outcome, p.last = &o, saved
	}
	return oe
}

// informative returns obs with Hinted set only for a hint at or above the
// floor (see Observation.Hinted). Before this rule the fleet dropped its
// learned hold after every "Retry-After: 0": +29 % requests on such hosts
// (bench, wide-spread-hint-zero, 19.72 vs 15.29 req/op).
func (p *Poller[T]) informative(obs Observation) Observation {
	obs.Hinted = obs.RetryAfter >= p.policy.Floor && obs.RetryAfter > 0
	return obs
}

// delay is the wait before the next poll after obs.
func (p *Poller[T]) delay(obs Observation) time.Duration {
	if obs.hinted() {
		low := obs.RetryAfter < p.policy.Floor
		if low {
			p.lowHints = min(p.lowHints+1, lowHintLimit)
		} else {
			p.lowHints = 0
		}
		// A hint below the floor asks for sooner than the poller would
		// poll anyway and says nothing about the duration: it counts as
		// none ("Retry-After: 0" on an operation that takes minutes).
		// Raising the first two to the floor cost the fleet +4.6 %
		// requests on such hosts (bench, wide-spread-hint-zero).
		if d, ok := p.policy.hintDelay(obs.RetryAfter, int(p.lowHints)); ok {
			p.ins.delayWhy = delayHint
			return d
		}
	}
	elapsed := p.clock.Now().Sub(p.created)
	d := p.policy.nextDelay(elapsed, p.clock)
	switch {
	case p.policy.Expected > 0 && elapsed < p.policy.Expected:
		p.ins.delayWhy = delayLearned
	case p.policy.baseDelay(elapsed) <= p.policy.Floor:
		p.ins.delayWhy = delayFloor
	default:
		p.ins.delayWhy = delayBackoff
	}
	return d
}

func (p *Poller[T]) failed(ctx context.Context, span trace.Span, err error, now time.Time) error {
	pe := &PollError{Operation: p.label(), Err: err, Last: p.last}
	if callerStopped(ctx) {
		// The caller stopped the poll; that says nothing about the operation.
		if span != nil {
			failPoll(span, pe, 0, now)
		}
		return pe
	}
	pe.Transient = IsTransient(err)
	if pe.Transient {
		d, ok := p.retrier().next(RetryAfterOf(err))
		pe.Attempts = p.retry.tries()
		if ok {
			p.next = now.Add(d)
			p.log.LogAttrs(ctx, slog.LevelWarn, "lro poll failed, will retry", p.attrs(
				slog.Int("attempt", pe.Attempts), slog.Duration("retry_in", d), slog.String("error", stripQuery(err.Error())))...)
			if span != nil {
				failPoll(span, pe, d, now)
			}
			return pe
		}
	} else {
		pe.Attempts = p.retry.tries() + 1
	}
	pe.Final = true
	o := p.outcome(ReasonPollError, now)
	pe.Outcome = &o
	if span != nil {
		failPoll(span, pe, 0, now)
	}
	p.retrier().gaveUp = pe
	p.log.LogAttrs(ctx, slog.LevelError, "lro poll failed, giving up", p.attrs(
		slog.Int("attempt", pe.Attempts), slog.String("error", stripQuery(err.Error())))...)
	return pe
}

// callerStopped reports whether ctx ended, or its deadline passed a moment
// before the context noticed (a server may answer DEADLINE_EXCEEDED first).
// Deadlines are real time, whatever the poller's clock.
func callerStopped(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// Result returns the final payload once the operation succeeded, the
// *OperationError once it failed or was canceled, and ErrNotDone before.
func (p *Poller[T]) Result(ctx context.Context) (T, error) {
	var zero T
	switch {
	case !p.done:
		return zero, fmt.Errorf("%s: %w", p.label(), ErrNotDone)
	case p.last.Status != StatusSucceeded:
		return zero, p.last.Err
	case p.resultSet:
		return p.result, nil
	}
	var out T
	if err := p.op.Result(ctx, &out); err != nil {
		return zero, err
	}
	p.result, p.resultSet = out, true
	return out, nil
}

// Cancel asks the provider to cancel the operation, or returns
// ErrCancelNotSupported. Keep polling to learn the outcome.
func (p *Poller[T]) Cancel(ctx context.Context) error {
	c, ok := p.op.(Canceler)
	if !ok {
		return fmt.Errorf("%s: %w", p.label(), ErrCancelNotSupported)
	}
	return c.Cancel(ctx)
}

// Token returns the resume token as a struct: the adapter's state plus the
// schedule (creation, last and next poll, deadline, last observation).
func (p *Poller[T]) Token() (Token, error) {
	t, err := p.op.Token()
	if err != nil {
		return Token{}, err
	}
	t.Version = TokenVersion
	t.Created = p.created
	t.Polled = p.polled
	t.Next = p.next
	t.Deadline = p.deadline
	t.Polls = p.polls
	t.LowHints = int(p.lowHints)
	t.Trace = FormatTraceparent(p.ins.origin())
	if p.last.Status != "" {
		t.Last = &TokenObservation{Status: p.last.Status, Detail: p.last.Detail, Hinted: p.last.Hinted}
		if p.last.Progress >= 0 {
			t.Last.Progress = p.last.Progress
		}
	}
	return t, nil
}

// ResumeToken returns the encoded resume token (sealed when Options.SealKey
// is set). It can be resumed any number of times, by several processes at
// once, with the adapter's Resume.
func (p *Poller[T]) ResumeToken() (string, error) {
	t, err := p.Token()
	if err != nil {
		return "", err
	}
	switch {
	case len(p.sealKey) > 0:
		return t.Seal(p.sealKey)
	case p.plaintextSecrets:
		return t.EncodeWithSecrets()
	}
	return t.Encode()
}

// AppendToken appends t, encoded as ResumeToken encodes the poller's own
// token (sealed with Options.SealKey, or with secrets in clear on
// Options.PlaintextSecrets), to dst. An unsealed token is written without
// allocating (Token.AppendEncode). A caller that saves the token after
// every poll takes Token, compares its Digest with the one saved last, and
// encodes only a token that changed.
func (p *Poller[T]) AppendToken(dst []byte, t Token) ([]byte, error) {
	var s string
	var err error
	switch {
	case len(p.sealKey) > 0:
		s, err = t.Seal(p.sealKey)
	case p.plaintextSecrets:
		s, err = t.EncodeWithSecrets()
	default:
		return t.AppendEncode(dst)
	}
	if err != nil {
		return dst, err
	}
	return append(dst, s...), nil
}

// retrier returns the schedule of consecutive transient errors, made at the
// first one: most waiting operations never fail a poll (issue 17).
func (p *Poller[T]) retrier() *retryBackOff {
	if p.retry == nil {
		p.retry = newRetryBackOff(*p.policy, p.clock)
	}
	return p.retry
}

func (p *Poller[T]) label() string { return operationLabel(p.provider, p.opName()) }

// opName returns the operation's name: its Namer's, else the token's kind.
// It is made at the first error, log record or trace, then kept.
func (p *Poller[T]) opName() string {
	if p.name == "" {
		p.name = p.kind
		if n, ok := p.op.(Namer); ok {
			if s := n.Name(); s != "" {
				p.name = s
			}
		}
	}
	return p.name
}

func (p *Poller[T]) attrs(extra ...slog.Attr) []slog.Attr {
	return append([]slog.Attr{slog.String("provider", p.provider), slog.String("operation", p.opName())}, extra...)
}

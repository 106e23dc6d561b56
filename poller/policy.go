package poller

import (
	"math"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Default values of Policy's fields.
const (
	DefaultFloor       = 2 * time.Second
	DefaultCap         = 60 * time.Second
	DefaultRatio       = 1.0 / 3
	DefaultJitter      = 0.1
	DefaultHintCeiling = 10 * time.Minute
	DefaultRetryBudget = 10
	// UnlimitedRetries is the RetryBudget of a wait that never gives up an
	// operation for transient errors (outages, 429s, 5xx): only the
	// caller's context or the poller's deadline ends it.
	UnlimitedRetries = -1
	// lowHintLimit is how many consecutive hints below the floor make the
	// poller treat a server's hints as absent.
	lowHintLimit = 3
)

// Policy decides when to poll next. The zero value is the default policy;
// each zero field takes its default. Adapters supply provider defaults with
// Merge and callers override them.
//
// Without a server hint, the next delay is Ratio times the time the
// operation has already run, clamped to [Floor, Cap] and jittered by
// ±Jitter: in steady state an exponential backoff with multiplier 1+Ratio.
// Short operations are noticed within seconds; long ones are not hammered.
// Because the delay derives from the operation's start time, which the
// resume token keeps, a resumed poller continues the same schedule.
//
// A server hint (Retry-After) is honored up to HintCeiling. A hint below
// Floor is treated as no hint: it asks for sooner than the poller would poll
// anyway and says nothing about how long the operation takes.
type Policy struct {
	// Floor is the shortest delay between polls. Default 2 s.
	Floor time.Duration
	// Cap is the longest delay the schedule chooses by itself. Default 60 s.
	Cap time.Duration
	// Ratio is the next delay as a fraction of the time already run.
	// Default 1/3.
	Ratio float64
	// Jitter spreads each scheduled delay by ±Jitter (a fraction). Default
	// 0.1; negative means none.
	Jitter float64
	// HintCeiling caps the server's hints and the expected-duration wait.
	// Default 10 min.
	HintCeiling time.Duration
	// Expected is the duration before which completion is implausible (for
	// example an early quantile of this kind of operation): without a
	// server hint, no poll happens before it. Zero means unknown.
	Expected time.Duration
	// RetryBudget is how many consecutive transient poll errors Wait
	// tolerates before giving up. Default 10 (about six minutes of outage
	// at the default Floor and Cap); negative (UnlimitedRetries) means
	// unlimited.
	RetryBudget int
}

// Merge returns p with each zero field taken from defaults.
func (p Policy) Merge(defaults Policy) Policy {
	if p.Floor == 0 {
		p.Floor = defaults.Floor
	}
	if p.Cap == 0 {
		p.Cap = defaults.Cap
	}
	if p.Ratio == 0 {
		p.Ratio = defaults.Ratio
	}
	if p.Jitter == 0 {
		p.Jitter = defaults.Jitter
	}
	if p.HintCeiling == 0 {
		p.HintCeiling = defaults.HintCeiling
	}
	if p.Expected == 0 {
		p.Expected = defaults.Expected
	}
	if p.RetryBudget == 0 {
		p.RetryBudget = defaults.RetryBudget
	}
	return p
}

// sharedPolicies holds one copy of each resolved policy in use: the pollers
// of a fleet nearly all have the same one, and keep a pointer to it instead
// of a copy each (issue 17). Past maxSharedPolicies distinct policies, a
// poller keeps its own.
var sharedPolicies struct {
	sync.Mutex
	m map[Policy]*Policy
}

const maxSharedPolicies = 256

// share returns the shared copy of the resolved policy p.
func (p Policy) share() *Policy {
	sharedPolicies.Lock()
	defer sharedPolicies.Unlock()
	if q := sharedPolicies.m[p]; q != nil {
		return q
	}
	q := &p
	if len(sharedPolicies.m) < maxSharedPolicies {
		if sharedPolicies.m == nil {
			sharedPolicies.m = map[Policy]*Policy{}
		}
		sharedPolicies.m[p] = q
	}
	return q
}

// jitter is the randomization factor: Jitter, or 0 for none.
func (p Policy) jitter() float64 { return max(p.Jitter, 0) }

// resolved returns p with every zero or nonsensical field set to its
// default. It is idempotent.
func (p Policy) resolved() Policy {
	p = p.Merge(Policy{
		Floor: DefaultFloor, Cap: DefaultCap, Ratio: DefaultRatio, Jitter: DefaultJitter,
		HintCeiling: DefaultHintCeiling, RetryBudget: DefaultRetryBudget,
	})
	if p.Floor < 0 {
		p.Floor = 0
	}
	if p.Cap < p.Floor {
		p.Cap = p.Floor
	}
	if p.HintCeiling < p.Floor {
		p.HintCeiling = p.Floor
	}
	if p.Ratio < 0 || math.IsNaN(p.Ratio) || math.IsInf(p.Ratio, 0) {
		p.Ratio = DefaultRatio
	}
	// A negative Jitter stays negative ("none") so that resolving twice
	// does not bring back the default.
	if p.Jitter < 0 {
		p.Jitter = -1
	}
	if math.IsNaN(p.Jitter) {
		p.Jitter = DefaultJitter
	}
	if p.Jitter > 1 {
		p.Jitter = 1
	}
	if p.Expected < 0 {
		p.Expected = 0
	}
	return p
}

// BaseDelay is the unjittered delay the schedule picks, without a server
// hint, for an operation that has run for elapsed: Ratio×elapsed within
// [Floor, Cap], or the rest of Expected while elapsed is shorter.
func (p Policy) BaseDelay(elapsed time.Duration) time.Duration {
	p = p.resolved()
	return p.baseDelay(elapsed)
}

func (p Policy) baseDelay(elapsed time.Duration) time.Duration {
	if elapsed < 0 {
		elapsed = 0
	}
	if p.Expected > 0 && elapsed < p.Expected {
		return clamp(p.Expected-elapsed, p.Floor, p.HintCeiling)
	}
	d := time.Duration(float64(elapsed) * p.Ratio)
	if float64(elapsed)*p.Ratio > float64(math.MaxInt64) {
		d = p.Cap
	}
	return clamp(d, p.Floor, p.Cap)
}

// HintDelay applies the hint rules to a server hint: it reports the delay
// to use and whether the hint counts. A hint below Floor never counts.
// lowHints, the number of consecutive hints below Floor, no longer changes
// the answer; it is kept for compatibility.
func (p Policy) HintDelay(hint time.Duration, lowHints int) (d time.Duration, ok bool) {
	p = p.resolved()
	return p.hintDelay(hint, lowHints)
}

func (p Policy) hintDelay(hint time.Duration, lowHints int) (time.Duration, bool) {
	if hint < p.Floor {
		return 0, false
	}
	if hint > p.HintCeiling {
		return p.HintCeiling, true
	}
	return hint, true
}

// BackOff returns the no-hint schedule of an operation that started at
// start, as a backoff.BackOff on clock: each NextBackOff derives the delay
// from the time elapsed since start (see BaseDelay) and jitters it. It never
// returns backoff.Stop, and it keeps no state worth persisting.
func (p Policy) BackOff(start time.Time, clock backoff.Clock) backoff.BackOff {
	p = p.resolved()
	if clock == nil {
		clock = SystemClock
	}
	b := backoff.NewExponentialBackOff(
		backoff.WithRandomizationFactor(p.jitter()),
		backoff.WithMultiplier(1+p.Ratio),
		backoff.WithMaxInterval(math.MaxInt64),
		backoff.WithMaxElapsedTime(0),
		backoff.WithClockProvider(clock),
	)
	return &schedule{policy: p, start: start, b: b}
}

// schedule re-derives the exponential backoff's interval from the elapsed
// time at every step, so it needs no state beyond the start time.
type schedule struct {
	policy Policy
	start  time.Time
	b      *backoff.ExponentialBackOff
}

func (s *schedule) NextBackOff() time.Duration {
	s.b.InitialInterval = s.policy.baseDelay(s.b.Clock.Now().Sub(s.start))
	s.b.Reset()
	d := s.b.NextBackOff()
	if d < s.policy.Floor {
		d = s.policy.Floor
	}
	return d
}

func (s *schedule) Reset() {}

// schedules are exponential backoffs lent to one no-hint delay at a time
// (nextDelay): the schedule is a function of the elapsed time, so a
// waiting poller needs none of its own.
var schedules = sync.Pool{New: func() any {
	return backoff.NewExponentialBackOff(backoff.WithMaxInterval(math.MaxInt64), backoff.WithMaxElapsedTime(0))
}}

// nextDelay is the next delay of p's no-hint schedule (BackOff's, for an
// operation that has run for elapsed) drawn with a pooled backoff: no
// allocation, and nothing held between polls. p must be resolved.
func (p Policy) nextDelay(elapsed time.Duration, clock backoff.Clock) time.Duration {
	b := schedules.Get().(*backoff.ExponentialBackOff)
	b.RandomizationFactor, b.Multiplier, b.Clock = p.jitter(), 1+p.Ratio, clock
	b.InitialInterval = p.baseDelay(elapsed)
	b.Reset()
	d := b.NextBackOff()
	b.Clock = nil
	schedules.Put(b)
	return max(d, p.Floor)
}

// retryBackOff is the delay schedule of consecutive transient poll errors:
// exponential from Floor doubling to Cap, with jitter. It latches Stop once
// the budget is spent, since backoff's own Stop is not sticky.
type retryBackOff struct {
	policy   Policy
	clock    backoff.Clock
	b        *backoff.ExponentialBackOff // made at the first failure
	attempts int
	// gaveUp is the error the poller gave up with (Final), until a poll
	// succeeds: here rather than in every Poller (issue 17).
	gaveUp *PollError
}

func newRetryBackOff(p Policy, clock backoff.Clock) *retryBackOff {
	return &retryBackOff{policy: p, clock: clock}
}

// backOff returns the exponential backoff, made on first use: most
// operations never fail a poll, and a fleet holds thousands of pollers
// (94 bytes each).
func (r *retryBackOff) backOff() *backoff.ExponentialBackOff {
	if r.b == nil {
		initial := r.policy.Floor
		if initial <= 0 {
			initial = time.Second
		}
		r.b = backoff.NewExponentialBackOff(
			backoff.WithInitialInterval(initial),
			backoff.WithRandomizationFactor(r.policy.jitter()),
			backoff.WithMultiplier(2),
			backoff.WithMaxInterval(max(r.policy.Cap, initial)),
			backoff.WithMaxElapsedTime(0),
			backoff.WithClockProvider(r.clock),
		)
	}
	return r.b
}

// next records a failure and returns the delay before the next attempt and
// whether another attempt is allowed. hint is the server's Retry-After.
func (r *retryBackOff) next(hint time.Duration) (time.Duration, bool) {
	r.attempts++
	if r.policy.RetryBudget >= 0 && r.attempts > r.policy.RetryBudget {
		return 0, false
	}
	// The server's hint is a minimum, not a replacement: a throttled herd
	// told "1 s" must still spread out and back off, or it returns in
	// lockstep and spends its budget in seconds (bench: 8,035 of 10,000
	// operations abandoned with the hint as a replacement, none with it
	// as a minimum).
	d := r.backOff().NextBackOff()
	if hint > 0 {
		d = max(d, clamp(hint, r.policy.Floor, r.policy.HintCeiling))
	}
	return d, true
}

func (r *retryBackOff) reset() {
	if r == nil {
		return
	}
	r.attempts, r.gaveUp = 0, nil
	if r.b != nil {
		r.b.Reset()
	}
}

// tries returns the consecutive failures counted (0 when none was).
// given is the error the poller gave up with, if it did.
func (r *retryBackOff) given() *PollError {
	if r == nil {
		return nil
	}
	return r.gaveUp
}

func (r *retryBackOff) tries() int {
	if r == nil {
		return 0
	}
	return r.attempts
}

func clamp(d, lo, hi time.Duration) time.Duration {
	if d < lo {
		return lo
	}
	if d > hi {
		return hi
	}
	return d
}

package fleet

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// HostLimits configure the adaptive rate limit the engine keeps for each host
// it polls. The zero value works; each zero field takes its default.
//
// Every host starts at Rate. A throttled response (poller.IsThrottled: HTTP
// 429, RESOURCE_EXHAUSTED, AWS throttling errors) pauses the whole host until
// the response's Retry-After (or Pause when it gives none) and, once per
// round of requests, multiplies the host's rate by Decrease. The rate then
// climbs back linearly (additive increase, multiplicative decrease), but no
// higher than Headroom times the rate that was throttled, so a host with a
// fixed server-side limit stops being throttled after a few rounds; that
// ceiling is forgotten after Forget without a throttle, and the rate probes
// up to Rate again.
type HostLimits struct {
	// Rate is the nominal request rate per host, in requests per second.
	// Default 10.
	Rate rate.Limit
	// Burst is the token bucket's size at Rate; it shrinks in proportion
	// when the rate is lowered. Default Rate/10, at least 1.
	Burst int
	// PerHost overrides Rate for the hosts it names.
	PerHost map[string]rate.Limit
	// Min is the lowest rate a host is brought down to, as a fraction of
	// its nominal rate. Default 0.01.
	Min float64
	// Decrease multiplies the rate at each throttle. Default 0.5.
	Decrease float64
	// Headroom is the fraction of a throttled rate the recovery stops at.
	// Default 0.9.
	Headroom float64
	// Recovery is how long the rate takes to climb from zero to its nominal
	// rate without throttles. Default 1 min.
	Recovery time.Duration
	// Forget is how long without a throttle before a host's learned
	// ceiling is forgotten. Default 10 min.
	Forget time.Duration
	// Pause is how long a host is paused after a throttled response that
	// carries no Retry-After. Default 1 s.
	Pause time.Duration
	// MaxPause caps the pause a Retry-After asks for. Default 5 min.
	MaxPause time.Duration
}

func (l HostLimits) resolved() HostLimits {
	if l.Rate <= 0 || math.IsNaN(float64(l.Rate)) {
		l.Rate = 10
	}
	if l.Burst <= 0 {
		l.Burst = max(1, int(l.Rate/10))
	}
	if l.Min <= 0 || l.Min > 1 {
		l.Min = 0.01
	}
	if l.Decrease <= 0 || l.Decrease >= 1 {
		l.Decrease = 0.5
	}
	if l.Headroom <= 0 || l.Headroom > 1 {
		l.Headroom = 0.9
	}
	if l.Recovery <= 0 {
		l.Recovery = time.Minute
	}
	if l.Forget <= 0 {
		l.Forget = 10 * time.Minute
	}
	if l.Pause <= 0 {
		l.Pause = time.Second
	}
	if l.MaxPause <= 0 {
		l.MaxPause = 5 * time.Minute
	}
	return l
}

// nominal is the configured rate of host.
func (l HostLimits) nominal(host string) float64 {
	if r, ok := l.PerHost[host]; ok && r > 0 {
		return float64(r)
	}
	return float64(l.Rate)
}

// hostLimiter is one host's adaptive token bucket. It works on explicit
// times, so it runs in virtual time; it is not safe for concurrent use.
type hostLimiter struct {
	cfg     HostLimits
	lim     *rate.Limiter
	nominal float64
	burst   float64 // burst at the nominal rate
	rate    float64
	ceiling float64 // 0: no throttle remembered

	pausedUntil  time.Time
	lastThrottle time.Time
	lastDecrease time.Time
	lastGrow     time.Time
}

func newHostLimiter(cfg HostLimits, host string, now time.Time) *hostLimiter {
	n := cfg.nominal(host)
	h := &hostLimiter{cfg: cfg, nominal: n, rate: n, burst: float64(cfg.Burst) * n / float64(cfg.Rate), lastGrow: now}
	h.lim = rate.NewLimiter(rate.Limit(n), h.burstAt(n))
	return h
}

func (h *hostLimiter) burstAt(r float64) int {
	return max(1, int(h.burst*r/h.nominal))
}

// reserve takes a token for one request at now, or reports how long to wait
// before one is available (the host's pause included) and takes nothing.
func (h *hostLimiter) reserve(now time.Time) time.Duration {
	if now.Before(h.pausedUntil) {
		return h.pausedUntil.Sub(now)
	}
	r := h.lim.ReserveN(now, 1)
	if !r.OK() {
		return h.cfg.Pause
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return max(d, time.Millisecond)
	}
	return 0
}

// throttled records a throttled response to a request sent at sent, received
// at now, with the server's Retry-After (0 for none). It reports whether the
// rate was lowered: only the first throttle of requests sent since the last
// decrease lowers it, so a volley of 429s in flight counts once.
func (h *hostLimiter) throttled(now, sent time.Time, retryAfter time.Duration) bool {
	pause := h.cfg.Pause
	if retryAfter > 0 {
		pause = min(retryAfter, h.cfg.MaxPause)
	}
	if until := now.Add(pause); until.After(h.pausedUntil) {
		h.pausedUntil = until
	}
	h.lastThrottle = now
	if !h.lastDecrease.IsZero() && !sent.After(h.lastDecrease) {
		return false
	}
	h.ceiling = h.rate
	h.setRate(now, max(h.nominal*h.cfg.Min, h.rate*h.cfg.Decrease))
	h.lastDecrease, h.lastGrow = now, now
	return true
}

// succeeded records a response that was not throttled and lets the rate
// climb toward its target.
func (h *hostLimiter) succeeded(now time.Time) {
	if h.ceiling > 0 && now.Sub(h.lastThrottle) >= h.cfg.Forget {
		h.ceiling = 0
	}
	target := h.target()
	if h.rate >= target {
		h.lastGrow = now
		return
	}
	dt := now.Sub(h.lastGrow)
	if dt <= 0 {
		return
	}
	h.lastGrow = now
	h.setRate(now, min(target, h.rate+h.nominal*dt.Seconds()/h.cfg.Recovery.Seconds()))
}

// target is the rate recovery climbs to.
func (h *hostLimiter) target() float64 {
	if h.ceiling > 0 {
		return min(h.nominal, h.ceiling*h.cfg.Headroom)
	}
	return h.nominal
}

func (h *hostLimiter) setRate(now time.Time, r float64) {
	h.rate = r
	h.lim.SetLimitAt(now, rate.Limit(r))
	h.lim.SetBurstAt(now, h.burstAt(r))
}

package pollertest

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// Clock is a virtual poller.Clock. Time moves only when the test moves it
// (Advance, Set), or, in auto mode, when a goroutine starts waiting on a
// timer: the clock then jumps straight to that timer's deadline. It is safe
// for concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	auto    bool
	timers  []*timer
	made    uint64 // timers made so far, for Made and WaitForTimerAfter
	changed chan struct{}
}

// NewClock returns a manual virtual clock set to start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, changed: make(chan struct{})}
}

// NewAutoClock returns a virtual clock that fires every timer as soon as it is
// created, advancing time to its deadline: a single goroutine's wait loop
// runs to completion at once, in virtual time.
func NewAutoClock(start time.Time) *Clock {
	c := NewClock(start)
	c.auto = true
	return c
}

// Now returns the virtual time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Since returns the virtual time elapsed since t.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// NewTimer returns a timer that fires when virtual time reaches now+d.
func (c *Clock) NewTimer(d time.Duration) poller.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.made++
	t := &timer{c: c, at: c.now.Add(d), seq: c.made, ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.fire(c.now)
		return t
	}
	if c.auto {
		c.now = t.at
		t.fire(c.now)
		c.fireDueLocked()
		return t
	}
	c.timers = append(c.timers, t)
	c.notifyLocked()
	return t
}

// Advance moves virtual time forward by d, firing the timers that fall due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.fireDueLocked()
}

// Set moves virtual time to t (never backwards), firing due timers.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	c.fireDueLocked()
}

// AdvanceToNext moves virtual time to the earliest pending timer and fires it.
// It reports false when no timer is pending.
func (c *Clock) AdvanceToNext() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return false
	}
	sort.Slice(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
	if c.timers[0].at.After(c.now) {
		c.now = c.timers[0].at
	}
	c.fireDueLocked()
	return true
}

// Next returns when the earliest pending timer fires; false when none is
// pending.
func (c *Clock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var at time.Time
	for _, t := range c.timers {
		if at.IsZero() || t.at.Before(at) {
			at = t.at
		}
	}
	return at, !at.IsZero()
}

// Made returns how many timers the clock has made so far: a mark for
// WaitForTimerAfter.
func (c *Clock) Made() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.made
}

// WaitForTimerAfter blocks until a timer made after mark (see Made) is
// pending, or ctx ends. A test that drives a scheduler in lockstep uses it to
// know the scheduler finished its work and sleeps again.
func (c *Clock) WaitForTimerAfter(ctx context.Context, mark uint64) error {
	return c.waitUntil(ctx, func() bool {
		for _, t := range c.timers {
			if t.seq > mark {
				return true
			}
		}
		return false
	})
}

// Pending returns the number of timers waiting to fire.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// WaitForTimers blocks until at least n timers are pending or ctx ends. Use
// it to know that a goroutine under test has gone to sleep.
func (c *Clock) WaitForTimers(ctx context.Context, n int) error {
	return c.waitUntil(ctx, func() bool { return len(c.timers) >= n })
}

// waitUntil blocks until cond, checked under the lock whenever the timers
// change, holds, or ctx ends.
func (c *Clock) waitUntil(ctx context.Context, cond func() bool) error {
	for {
		c.mu.Lock()
		if cond() {
			c.mu.Unlock()
			return nil
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *Clock) fireDueLocked() {
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.fire(c.now)
		} else {
			kept = append(kept, t)
		}
	}
	for i := len(kept); i < len(c.timers); i++ {
		c.timers[i] = nil
	}
	c.timers = kept
	c.notifyLocked()
}

func (c *Clock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Clock) remove(t *timer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			c.notifyLocked()
			return true
		}
	}
	return false
}

type timer struct {
	c     *Clock
	seq   uint64
	at    time.Time
	ch    chan time.Time
	fired bool
}

func (t *timer) fire(now time.Time) {
	if !t.fired {
		t.fired = true
		t.ch <- now
	}
}

func (t *timer) C() <-chan time.Time { return t.ch }
func (t *timer) Stop() bool          { return t.c.remove(t) }

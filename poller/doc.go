// Package poller is the core of lrokit: one way to wait for a long-running
// cloud operation, whatever the provider, across process restarts.
//
// An adapter (packages azure, rest, gcp, aws) implements Operation: one round
// trip per Poll, reported as an Observation with a normalized Status. A
// Poller[T] owns everything about when to poll:
//
//   - It honors the server's Retry-After within Policy.Floor and
//     Policy.HintCeiling; a server whose last three hints were all below the
//     floor is treated as giving none.
//   - Without a hint it waits a third of the time the operation has already
//     run, between 2 s and 60 s, jittered by ±10 % (an exponential backoff
//     with multiplier 4/3 in steady state, built on cenkalti/backoff/v4).
//     Short operations are noticed within seconds; long ones are not
//     hammered.
//   - It retries transient poll errors (connection resets, timeouts, 408,
//     429, 5xx) with backoff and the error's Retry-After, up to
//     Policy.RetryBudget consecutive failures, without giving up the
//     operation; a permanent error ends the wait at once.
//   - It stops on a terminal status, a permanent error, the context or its
//     own deadline. Stopping early returns a *WaitError carrying a fresh
//     resume token.
//
// # Resume tokens
//
// ResumeToken returns a Token: a versioned envelope holding the adapter's
// state, the operation's start time, the absolute time of the next poll and
// the last observation, and never credentials. Because the schedule derives
// from the start time, a poller resumed from a token in another process
// continues the same schedule and does not poll before the stored time. A
// token can be resumed any number of times, by several processes at once.
// DecodeToken treats tokens as untrusted input; Token.Seal authenticates them
// for stores the caller does not trust.
//
// # Schedulers and tests
//
// Wait runs the loop in the caller's goroutine. Schedulers that drive many
// operations call Poll when NextPollAt has come instead (see package fleet).
// Time comes from a Clock; package pollertest has a virtual one, so tests of
// wait loops run without real sleeps.
//
// # Observability
//
// With Options.TracerProvider set, each Wait is a span (SpanWait) and each
// poll a child span (SpanPoll) with the status, the provider's word, the
// delay chosen and why (hint, learned, backoff, floor), and events for
// transient failures, retries and stalls; without one, tracing costs
// nothing. Tokens carry the W3C traceparent of the span that began the
// operation, so a wait resumed anywhere is linked to it. Every error Wait
// returns carries an Outcome (OutcomeOf): the last state in the provider's
// words, time in that state, polls, elapsed, the rule that decided, a stall
// flag and an estimate of the time left from Options.Learned.
//
// # Errors
//
//   - *OperationError: the operation failed or was canceled; it keeps the
//     provider's code, message and raw body.
//   - *PollError: the state could not be learned; Final when the poller gave
//     up. errors.Is(err, ErrOperationNotFound) when the provider no longer
//     knows the operation.
//   - *WaitError: the context or deadline ended the wait first; store its
//     Token and resume later.
package poller

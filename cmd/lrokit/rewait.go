package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// finishedToken answers a wait on a token that already records a terminal
// state, without the network, when nothing more is to be learned: Failed
// and Canceled always (exit 1, 3), Succeeded with --no-result (exit 0). It
// reports false when the wait must go to the provider (a result to fetch,
// or an operation still running).
func (a *app) finishedToken(token string, noResult bool) (bool, error) {
	tok, err := poller.DecodeToken(token, sealKey())
	if err != nil || tok.Last == nil || !tok.Last.Status.Terminal() {
		return false, nil // resuming reports a bad token
	}
	st := tok.Last.Status
	if st == poller.StatusSucceeded && !noResult {
		return false, nil
	}
	when := "earlier"
	if !tok.Polled.IsZero() {
		when = "at " + tok.Polled.UTC().Format(time.RFC3339)
	}
	out := resultJSON{Status: st, Detail: tok.Last.Detail, Ended: "from_token", Polls: tok.Polls}
	why := fmt.Sprintf("the token records that the %s operation ended %s (%s); nothing was sent", tok.Provider, when, describeState(st, tok.Last.Detail))
	var code int
	switch st {
	case poller.StatusSucceeded:
		fmt.Fprintln(a.stderr, "lrokit:", why+"; --no-result: its result is not fetched")
		return true, writeJSON(a.stdout, out)
	case poller.StatusCanceled:
		code = exitCanceled
	default:
		code = exitFailed
	}
	out.Error = &errorJSON{Message: why}
	if err := writeJSON(a.stdout, out); err != nil {
		return true, err
	}
	return true, withCode(code, errors.New(why))
}

func describeState(st poller.Status, detail string) string {
	if detail == "" || detail == string(st) {
		return string(st)
	}
	return fmt.Sprintf("%s, %s", st, detail)
}

// resultUnavailable is the end of a wait whose operation succeeded but whose
// result could not be fetched: exit 5 (the wait could not learn everything
// it was asked for), with the output saying so rather than a bare error.
func resultUnavailable(out *resultJSON, werr error) error {
	out.Ended = "result_unavailable"
	return withCode(exitPollError, fmt.Errorf("the operation succeeded, but its result could not be fetched (run wait again to fetch it, or pass --no-result when only the outcome matters): %w", werr))
}

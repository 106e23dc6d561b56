package poller

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// TransientError marks an error as retryable: the operation goes on, only
// this round trip failed. Adapters wrap errors with Transient or Throttled.
type TransientError struct {
	Err error
	// RetryAfter is the server's hint for the next attempt; 0 when none.
	RetryAfter time.Duration
	// Throttled reports that the server refused the request for its rate
	// (HTTP 429, RESOURCE_EXHAUSTED, AWS throttling errors).
	Throttled bool
}

func (e *TransientError) Error() string {
	if e.Err == nil {
		return "transient error"
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *TransientError) Unwrap() error { return e.Err }

// Transient marks err as retryable, with the server's hint (0 for none).
// It returns nil for a nil err.
func Transient(err error, retryAfter time.Duration) error {
	if err == nil {
		return nil
	}
	return &TransientError{Err: err, RetryAfter: retryAfter}
}

// Throttled marks err as a rate-limit refusal, with the server's hint.
// It returns nil for a nil err.
func Throttled(err error, retryAfter time.Duration) error {
	if err == nil {
		return nil
	}
	return &TransientError{Err: err, RetryAfter: retryAfter, Throttled: true}
}

// IsTransient reports whether a poll error is worth retrying: an error marked
// with Transient or Throttled, or a network failure that says nothing about the
// operation (timeouts, connection reset or refused, a response cut short).
// ErrOperationNotFound and context cancellation are never transient.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, ErrOperationNotFound) || errors.Is(err, context.Canceled) {
		return false
	}
	var te *TransientError
	if errors.As(err, &te) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// A per-poll timeout; Wait checks its own context separately.
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// IsThrottled reports whether err was marked with Throttled.
func IsThrottled(err error) bool {
	var te *TransientError
	return errors.As(err, &te) && te.Throttled
}

// RetryAfterOf returns the server's hint carried by a transient error, or 0.
func RetryAfterOf(err error) time.Duration {
	var te *TransientError
	if errors.As(err, &te) {
		return te.RetryAfter
	}
	return 0
}

// TransientHTTPStatus reports whether an HTTP status code means "try again"
// rather than "this request is wrong": 408, 429 and 5xx except 501 and 505.
func TransientHTTPStatus(code int) bool {
	switch {
	case code == 408, code == 429:
		return true
	case code == 501, code == 505:
		return false
	case code >= 500 && code <= 599:
		return true
	}
	return false
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/lrokit/lrokit/poller"
)

// humanError is the one message a command's error prints: Go's own
// wording ("context deadline exceeded", "dial tcp ...") comes with what
// it means and what to do.
func humanError(err error) string {
	var we *poller.WaitError
	if errors.As(err, &we) {
		last := "not polled yet"
		if we.Last.Status != "" {
			last = "last " + string(we.Last.Status)
		}
		why := "stopped"
		switch {
		case errors.Is(we.Err, context.Canceled):
			why = "interrupted"
		case errors.Is(we.Err, context.DeadlineExceeded), errors.Is(we.Err, poller.ErrDeadline):
			why = "timed out (--timeout)"
		}
		return fmt.Sprintf("%s while %s is still running (%s, %d polls); the token was saved (or is in the output's \"token\"): run lrokit wait again to continue",
			why, we.Operation, last, we.Polls)
	}
	msg := redactURL(err).Error()
	if hint := netHint(err); hint != "" {
		return hint + " — " + msg
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted — " + msg
	case errors.Is(err, context.DeadlineExceeded):
		return "a request took too long (no answer in time): check the network and the endpoint, then run the command again — " + msg
	}
	return msg
}

// humanNetError says what a transport error means, without the URL's query.
func humanNetError(err error) string {
	if hint := netHint(err); hint != "" {
		return hint
	}
	return redactURL(err).Error()
}

// netHint explains a network failure: which host, what happened, what to
// do. "" when err is not one.
func netHint(err error) string {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(err, &dns):
		return fmt.Sprintf("could not resolve the host %q: check the URL and DNS, then run the command again", dns.Name)
	case errors.As(err, &op) && errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing is listening at %s (connection refused): check the URL or endpoint, then run the command again", addrOf(op))
	case errors.As(err, &op) && op.Timeout():
		return fmt.Sprintf("%s did not answer in time: check the network or a proxy, then run the command again", addrOf(op))
	case errors.As(err, &op) && errors.Is(err, syscall.ECONNRESET):
		return fmt.Sprintf("%s closed the connection: the service or a proxy dropped it; run the command again", addrOf(op))
	case errors.As(err, &op):
		return fmt.Sprintf("could not reach %s (%v): check the network, the URL or a proxy, then run the command again", addrOf(op), op.Err)
	}
	return ""
}

func addrOf(op *net.OpError) string {
	if op.Addr != nil {
		return op.Addr.String()
	}
	return "the host"
}

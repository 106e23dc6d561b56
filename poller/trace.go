package poller

import (
	"context"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// TracerName is the instrumentation scope of the poller's spans.
const TracerName = "github.com/lrokit/lrokit/poller"

// Span and attribute names. Attributes name the provider, the kind of
// operation and the host, never a URL, a query string or a token.
const (
	SpanWait = "lrokit.wait"
	SpanPoll = "lrokit.poll"

	EventStalled   = "lrokit.stalled"
	EventTransient = "lrokit.transient_failure"
	EventRetry     = "lrokit.retry"
)

// tracing is a Poller's trace state; a nil tracer turns it off at the cost
// of one comparison per poll.
type tracing struct {
	tracer trace.Tracer
	// origin is the span that began the operation: Options.TraceOrigin, the
	// token's traceparent, or else the first traced wait or poll.
	origin trace.SpanContext
	attrs  []attribute.KeyValue
	// waiting is set while a traced Wait runs.
	waiting bool
}

// traced reports whether spans are recorded.
func (in *insight) traced() bool { return in.tr != nil && in.tr.tracer != nil }

// origin is the span that began the operation, if known.
func (in *insight) origin() trace.SpanContext {
	if in.tr == nil {
		return trace.SpanContext{}
	}
	return in.tr.origin
}

// setOrigin records sc as the span that began the operation.
func (in *insight) setOrigin(sc trace.SpanContext) {
	if in.tr == nil {
		if !sc.IsValid() {
			return
		}
		in.tr = &tracing{}
	}
	in.tr.origin = sc
}

// initTracing sets up tracing when o has a TracerProvider.
func (in *insight) initTracing(o *Options, op Operation, provider, name, kind string) {
	if o.TracerProvider == nil {
		return
	}
	if in.tr == nil {
		in.tr = &tracing{}
	}
	t := in.tr
	t.tracer = o.TracerProvider.Tracer(TracerName)
	if l, ok := op.(Locator); ok {
		if l.OperationType() != "" {
			kind = l.OperationType()
		}
		if h := l.Host(); h != "" {
			t.attrs = append(t.attrs, attribute.String("server.address", h))
		}
	}
	t.attrs = append(t.attrs, attribute.String("lrokit.provider", provider),
		attribute.String("lrokit.operation.kind", stripQuery(kind)),
		attribute.String("lrokit.operation.name", stripQuery(name)))
}

// startSpan starts a wait or poll span, linked to the origin unless that
// is its parent or the span is a poll inside a traced wait (which links).
// The first span of a fresh operation becomes its origin.
func (t *tracing) startSpan(ctx context.Context, name string, now time.Time) (context.Context, trace.Span) {
	opts := []trace.SpanStartOption{trace.WithAttributes(t.attrs...), trace.WithTimestamp(now)}
	parent := trace.SpanContextFromContext(ctx)
	if t.origin.IsValid() && t.origin.SpanID() != parent.SpanID() && !(name == SpanPoll && t.waiting) {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: t.origin,
			Attributes: []attribute.KeyValue{attribute.String("lrokit.link", "operation-origin")}}))
	}
	ctx, span := t.tracer.Start(ctx, name, opts...)
	if !t.origin.IsValid() {
		t.origin = span.SpanContext()
	}
	return ctx, span
}

// endWait records how a wait ended on its span.
func endWait(span trace.Span, o Outcome, err error, now time.Time) {
	span.SetAttributes(outcomeAttrs(o)...)
	if err != nil && o.Status != StatusSucceeded {
		span.SetStatus(codes.Error, stripQuery(o.Reason+": "+err.Error()))
	}
	span.End(trace.WithTimestamp(now))
}

func outcomeAttrs(o Outcome) []attribute.KeyValue {
	a := []attribute.KeyValue{
		attribute.String("lrokit.outcome.reason", o.Reason),
		attribute.String("lrokit.status", string(o.Status)),
		attribute.Int("lrokit.polls", o.Polls),
		attribute.Float64("lrokit.elapsed_s", o.Elapsed.Seconds()),
		attribute.Float64("lrokit.in_state_s", o.InState.Seconds()),
		attribute.Bool("lrokit.stalled", o.Stalled),
	}
	if o.Detail != "" {
		a = append(a, attribute.String("lrokit.detail", stripQuery(o.Detail)))
	}
	if o.Rule != "" {
		a = append(a, attribute.String("lrokit.rule", stripQuery(o.Rule)))
	}
	if o.Code != "" {
		a = append(a, attribute.String("lrokit.error.code", stripQuery(o.Code)))
	}
	if o.Message != "" {
		a = append(a, attribute.String("lrokit.message", stripQuery(o.Message)))
	}
	if o.Remaining > 0 {
		a = append(a, attribute.Float64("lrokit.remaining_s", o.Remaining.Seconds()))
	}
	return a
}

// endPoll records one poll's observation and the delay chosen after it.
func endPoll(span trace.Span, obs Observation, delay time.Duration, why string, now time.Time) {
	a := []attribute.KeyValue{attribute.String("lrokit.status", string(obs.Status))}
	if obs.Detail != "" {
		a = append(a, attribute.String("lrokit.detail", stripQuery(obs.Detail)))
	}
	if obs.Rule != "" {
		a = append(a, attribute.String("lrokit.rule", stripQuery(obs.Rule)))
	}
	if obs.Progress >= 0 {
		a = append(a, attribute.Float64("lrokit.progress", obs.Progress))
	}
	if obs.hinted() {
		a = append(a, attribute.Float64("lrokit.hint_s", obs.RetryAfter.Seconds()))
	}
	if !obs.Status.Terminal() {
		a = append(a, attribute.Float64("lrokit.delay_s", delay.Seconds()), attribute.String("lrokit.delay.reason", why))
	}
	span.SetAttributes(a...)
	span.End(trace.WithTimestamp(now))
}

// failPoll records a failed poll: a transient failure and its retry, or a
// final error.
func failPoll(span trace.Span, pe *PollError, retryIn time.Duration, now time.Time) {
	msg := stripQuery(pe.Err.Error())
	ev := []attribute.KeyValue{attribute.Int("lrokit.attempt", pe.Attempts), attribute.String("error.message", msg),
		attribute.Bool("lrokit.throttled", IsThrottled(pe.Err))}
	if pe.Transient {
		span.AddEvent(EventTransient, trace.WithAttributes(ev...), trace.WithTimestamp(now))
	}
	if pe.Transient && !pe.Final {
		span.AddEvent(EventRetry, trace.WithAttributes(attribute.Int("lrokit.attempt", pe.Attempts+1),
			attribute.Float64("lrokit.retry_in_s", retryIn.Seconds())), trace.WithTimestamp(now))
	}
	if pe.Final {
		span.SetStatus(codes.Error, msg)
	}
	span.End(trace.WithTimestamp(now))
}

// stripQuery removes the query strings of URLs in s: signatures and keys
// travel there.
func stripQuery(s string) string {
	if !strings.Contains(s, "?") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			break
		}
		end := i + strings.IndexAny(s[i:], " \t\n\"'<>")
		if end < i {
			end = len(s)
		}
		url := s[:end]
		if q := strings.IndexAny(url[i:], "?#"); q >= 0 {
			url = url[:i+q]
		}
		b.WriteString(url)
		s = s[end:]
	}
	b.WriteString(s)
	return b.String()
}

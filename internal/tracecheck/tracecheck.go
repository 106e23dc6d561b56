// Package tracecheck records spans in memory for tests and checks them for
// leaked secrets. Only tests import it, so the OpenTelemetry SDK stays out
// of the library's own dependencies.
package tracecheck

import (
	"fmt"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Recorder is a TracerProvider that keeps every ended span in memory.
type Recorder struct {
	*sdktrace.TracerProvider
	exp *tracetest.InMemoryExporter
}

// New returns a Recorder that samples every span.
func New() *Recorder {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	return &Recorder{TracerProvider: tp, exp: exp}
}

// Spans returns the ended spans, in the order they ended.
func (r *Recorder) Spans() tracetest.SpanStubs { return r.exp.GetSpans() }

// Named returns the ended spans called name.
func (r *Recorder) Named(name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range r.exp.GetSpans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// Attr returns the value of span s's attribute key as a string, and
// whether it is set.
func Attr(s tracetest.SpanStub, key string) (string, bool) {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.Emit(), true
		}
	}
	return "", false
}

// HasEvent reports whether span s has an event called name.
func HasEvent(s tracetest.SpanStub, name string) bool {
	for _, e := range s.Events {
		if e.Name == name {
			return true
		}
	}
	return false
}

// LinksTo reports whether span s links to sc.
func LinksTo(s tracetest.SpanStub, sc trace.SpanContext) bool {
	for _, l := range s.Links {
		if l.SpanContext.TraceID() == sc.TraceID() && l.SpanContext.SpanID() == sc.SpanID() {
			return true
		}
	}
	return false
}

// Leaks returns every attribute, event attribute, link attribute and status
// message of spans that holds a URL query string ("?" after "://"), a
// resume token ("lrokit1.") or one of secrets.
func Leaks(spans tracetest.SpanStubs, secrets ...string) []string {
	var out []string
	check := func(span, where, v string) {
		bad := strings.Contains(v, "lrokit1.")
		if i := strings.Index(v, "://"); i >= 0 && strings.ContainsAny(v[i:], "?") {
			bad = true
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(v, s) {
				bad = true
			}
		}
		if bad {
			out = append(out, fmt.Sprintf("%s %s: %q", span, where, v))
		}
	}
	for _, s := range spans {
		check(s.Name, "status", s.Status.Description)
		for _, a := range s.Attributes {
			check(s.Name, string(a.Key), a.Value.Emit())
		}
		for _, e := range s.Events {
			for _, a := range e.Attributes {
				check(s.Name, e.Name+"."+string(a.Key), a.Value.Emit())
			}
		}
		for _, l := range s.Links {
			for _, a := range l.Attributes {
				check(s.Name, "link."+string(a.Key), a.Value.Emit())
			}
		}
	}
	return out
}

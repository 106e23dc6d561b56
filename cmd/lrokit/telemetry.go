package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/lrokit/lrokit/poller"
)

// telemetry is what a command's pollers report through: a logger always,
// a tracer provider when OTLP export is configured.
type telemetry struct {
	tp     trace.TracerProvider
	logger *slog.Logger
}

type telemetryKey struct{}

// withTelemetry adds the command's logger, tracer provider and trace
// origin (the command's span, or TRACEPARENT's) to opts. A resumed token's
// own traceparent takes precedence over the origin.
func withTelemetry(ctx context.Context, opts poller.Options) poller.Options {
	if tel, ok := ctx.Value(telemetryKey{}).(*telemetry); ok {
		if opts.Logger == nil {
			opts.Logger = tel.logger
		}
		if opts.TracerProvider == nil && tel.tp != nil {
			opts.TracerProvider = tel.tp
		}
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && !opts.TraceOrigin.IsValid() {
		opts.TraceOrigin = sc
	}
	return opts
}

// startTelemetry sets a command up for logs and traces: the parent span
// from TRACEPARENT (the convention of CI systems and otel-cli), and an OTLP
// exporter configured by the standard OTEL_EXPORTER_OTLP_* variables when
// an endpoint is set. The returned func ends the command's span and flushes.
func (a *app) startTelemetry(ctx context.Context, args []string) (context.Context, func(error)) {
	tel := &telemetry{logger: slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	ctx = context.WithValue(ctx, telemetryKey{}, tel)
	if tp := os.Getenv("TRACEPARENT"); tp != "" {
		if sc, ok := poller.ParseTraceparent(tp); ok {
			ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
		} else {
			fmt.Fprintln(a.stderr, "lrokit: ignoring TRACEPARENT: not a W3C traceparent")
		}
	}
	exp, err := otlpExporter(ctx)
	if exp == nil {
		if err != nil {
			fmt.Fprintln(a.stderr, "lrokit: tracing off:", oneLine(err.Error()))
		}
		return ctx, func(error) {}
	}
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(resource.NewSchemaless(
		attribute.String("service.name", cmp.Or(os.Getenv("OTEL_SERVICE_NAME"), "lrokit")))))
	tel.tp = sdk
	ctx, span := sdk.Tracer("github.com/lrokit/lrokit/cmd/lrokit").Start(ctx, commandName(args))
	return ctx, func(err error) {
		if err != nil {
			span.SetStatus(codes.Error, oneLine(err.Error()))
			span.SetAttributes(attribute.Int("lrokit.exit_code", exitCode(err)))
		}
		span.End()
		flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := sdk.Shutdown(flush); err != nil {
			fmt.Fprintln(a.stderr, "lrokit: exporting traces:", oneLine(err.Error()))
		}
	}
}

// otlpExporter returns the span exporter the environment asks for, or nil
// when no OTLP endpoint is set or tracing is turned off.
func otlpExporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") || os.Getenv("OTEL_TRACES_EXPORTER") == "none" {
		return nil, nil
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return nil, nil
	}
	switch proto := cmp.Or(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), "http/protobuf"); proto {
	case "http/protobuf":
		return otlptracehttp.New(ctx)
	case "grpc":
		return otlptracegrpc.New(ctx)
	default:
		return nil, fmt.Errorf("OTLP protocol %q is not supported (http/protobuf, grpc)", proto)
	}
}

var commandWord = regexp.MustCompile(`^[a-z][a-z-]*$`)

// commandName names the command's span by its subcommands ("lrokit azure
// begin"), never by flags or their values.
func commandName(args []string) string {
	name := "lrokit"
	for _, a := range args[:min(len(args), 3)] {
		if !commandWord.MatchString(a) {
			break
		}
		name += " " + a
	}
	return name
}

// waitLogger is the logger of a wait: JSON lines when progress is JSON, so
// that stderr stays one JSON document per line (with the debug records
// under --debug).
func (a *app) waitLogger(progress string) *slog.Logger {
	if progress != "json" {
		return nil
	}
	level := slog.LevelWarn
	if a.debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewJSONHandler(a.stderr, &slog.HandlerOptions{Level: level}))
}

// Package azure waits for Azure long-running operations — Azure Resource
// Manager and data-plane services that follow the Microsoft REST API
// guidelines — through an azcore runtime.Pipeline, so the caller's
// credential, telemetry and custom policies apply to every poll.
//
// NewPoller takes the operation's initial *http.Response; Resume takes a
// resume token, either lrokit's or one made by azcore's
// runtime.Poller[T].ResumeToken (async, op, loc and body kinds), so an
// existing Azure SDK user can switch in the middle of an operation.
//
// # Protocols
//
// The initial response selects the protocol, in ARM's order of preference:
// Azure-AsyncOperation, then Operation-Location, then Location, then the
// resource's properties.provisioningState (PUT and PATCH only). A 200, 201
// or 204 that is already terminal gives a poller that is done at once, and
// its token resolves at once. A 202 to POST or DELETE with no polling
// header, and any non-2xx initial response (returned as an
// *azcore.ResponseError), is an error.
//
// States compare case-insensitively: Succeeded and Completed succeed;
// Failed fails; Canceled and Cancelled cancel; NotStarted has not started;
// any other word keeps polling and is reported in Observation.Detail. A
// status body that is empty, truncated or has no status field is a
// permanent error (ErrMalformedStatus). A 202 is never taken as a terminal
// answer while a polling header is present; a new Location handed out
// mid-poll is followed; a junk Location is ignored while another header
// drives polling. percentComplete becomes Observation.Progress.
//
// A failure is detected from the status before any final GET, and the
// *poller.OperationError keeps error.code (or x-ms-error-code),
// error.message, the raw body, and the *azcore.ResponseError (errors.As).
//
// When the status URL answers 404 or 410 after the operation was accepted
// (for example a token resumed after the service's retention period), PUT
// and PATCH fall back to the resource's own provisioningState, DELETE
// treats the resource's 404 as done, and Detail says so; a POST's
// operation is then no longer known (poller.ErrOperationNotFound).
//
// # Final GET
//
// Where the result comes from once the operation succeeded:
//
//	method      final-state-via          result
//	PUT, PATCH  (any)                    GET the original URI
//	POST        "" or location           GET the initial Location; without one, the
//	                                     status body (Azure-AsyncOperation), resourceLocation
//	                                     then the status body (Operation-Location), or the
//	                                     Location URL's final body (Location)
//	POST        azure-async-operation    the final status body
//	POST        original-uri             GET the original URI
//	POST        operation-location       GET resourceLocation; without one, the status body
//	DELETE      (any)                    none
//
// A final body may be any JSON value or empty (T keeps its zero value);
// use json.RawMessage as T for the raw body.
//
// # Retries: the pipeline's and the poller's
//
// The poller retries transient poll failures (connection errors, truncated
// bodies, 408, 429, 5xx) itself, on the virtual-clock-friendly schedule of
// poller.Policy: exponential from Floor, honoring Retry-After, up to
// Policy.RetryBudget consecutive failures (default 10). If azcore's retry
// policy also retried each request (default MaxRetries 3), the two would
// multiply: (3+1) × (10+1) = 44 requests for one outage, with azcore's
// sleeps invisible to the poller's clock and logs. So polling and
// final-GET requests go through the pipeline with its retries turned off
// (policy.WithRetryOptions, MaxRetries -1): each Poll is exactly one
// request, and an outage costs at most RetryBudget+1 requests, spaced by
// the poller. All other policies still apply. Options.PipelineRetries
// restores the pipeline's retries, with the multiplied worst case.
// Cancel requests keep the pipeline's retries.
//
// # Tokens and hosts
//
// A token holds the kind, the original URL and method, the polling and
// final URLs (query strings kept: ARM needs api-version), final-state-via
// and the schedule — nothing from request headers. Every polling or result
// URL, from a response header, a status body or a token, must be absolute,
// https unless its host is loopback (127.0.0.0/8, ::1, localhost), and on
// the original request's host or in Options.AllowedHosts; otherwise it is
// refused (ErrHostNotAllowed) before any request, so a hostile header or a
// tampered token cannot send the caller's bearer token elsewhere. A token
// whose original URL is itself rewritten is caught only by sealing
// (poller.Options.SealKey). Names in logs and errors never include query
// strings.
package azure

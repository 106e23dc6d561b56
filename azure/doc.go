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
// First, the initial response says whether the operation is already
// finished: a 200, 201 or 204 whose provisioningState (or status monitor
// "status") is terminal, or a POST or DELETE answered 200/201/204, gives a
// poller that is done at once, and its polling headers are neither used
// nor checked. Otherwise the protocol is chosen, in ARM's order of
// preference: Azure-AsyncOperation, then Operation-Location, then
// Location, then the resource's properties.provisioningState (PUT and
// PATCH only). The polling URL must be absolute (ARM requires it; a
// relative one is an error, never a poll) and trusted (see Tokens and
// hosts). A 202 to POST or DELETE with no polling header, a 200 or 201
// whose JSON body cannot be read, and any non-2xx initial response
// (returned as an *azcore.ResponseError) are errors.
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
// When the status URL answers 404 or 410 after it gave at least one valid
// status (for example a token resumed after the service's retention
// period), PUT and PATCH fall back to the resource's own
// provisioningState, DELETE treats the resource's 404 as done, and Detail
// says so. A status URL gone before it ever answered, or a POST's, means
// the operation is not known (poller.ErrOperationNotFound): a success is
// always based on a status the service gave.
//
// # Final result
//
// Where the result comes from once the operation succeeded: the first
// available source of the matching row (TestDocFinalTable keeps this copy
// of internal/httplro's table in step):
//
//	method     protocol   final-state-via        result, first available
//	DELETE     any        any other              none
//	                                              (a deleted resource has no representation)
//	PUT,PATCH  async      any other              GET the original URL
//	                                              (ARM: once Azure-AsyncOperation succeeds, the resource is read at its own URL (azcore async))
//	PUT,PATCH  operation  location               GET the initial Location; else GET the original URL
//	                                              (final-state-via: location (azcore op))
//	PUT,PATCH  operation  any other              GET resourceLocation (or the 3xx target); else GET the initial Content-Location; else GET the original URL
//	                                              (REST guidelines: resourceLocation names the result; else the resource itself (azcore op))
//	PUT,PATCH  location   any other              GET resourceLocation (or the 3xx target); else GET the initial Content-Location; else the final polling answer's body; else GET the original URL
//	                                              (the Location URL's final answer is the resource (azcore loc); a 3xx names it (reference 002); a bodiless final answer leaves the resource's own URL)
//	PUT,PATCH  body       any other              the final polling answer's body
//	                                              (the resource's own final body)
//	PUT,PATCH  done       any other              the final polling answer's body; else GET the original URL
//	                                              (the initial response; once resumed, the resource's own URL)
//	POST       async      azure-async-operation  the final status body (its ResultPath field when set)
//	                                              (final-state-via: azure-async-operation (azcore async))
//	POST       async      original-uri           GET the original URL
//	                                              (final-state-via: original-uri (azcore async))
//	POST       async      any other              GET the initial Content-Location; else GET the initial Location; else the final status body (its ResultPath field when set)
//	                                              (ARM: the Location of a POST names its result; without one, the status body (azcore async))
//	POST       operation  original-uri           GET the original URL
//	                                              (final-state-via: original-uri)
//	POST       operation  location               GET the initial Location; else GET resourceLocation (or the 3xx target); else the final status body (its ResultPath field when set)
//	                                              (final-state-via: location (azcore op))
//	POST       operation  any other              GET resourceLocation (or the 3xx target); else GET the initial Content-Location; else GET the initial Location; else the final status body (its ResultPath field when set)
//	                                              (REST guidelines: resourceLocation, else the status monitor's result (azcore op))
//	POST       location   any other              GET resourceLocation (or the 3xx target); else GET the initial Content-Location; else the final polling answer's body
//	                                              (the Location URL's 3xx target (reference 002), the hybrid model's Content-Location (reference 001), else its final answer (azcore loc))
//	POST       done       any other              the final polling answer's body; else GET resourceLocation (or the 3xx target); else GET the initial Content-Location
//	                                              (the initial response; a REST 201's Location names the created resource (RFC 9110 §15.3.2))
//
// "The final polling answer's body" is the Location URL's final 2xx, the
// resource's own body, or a finished initial response; a bodiless one
// falls through to the next source. When a status URL is gone and the
// resource was followed instead, the resource's body is the result. A
// final body may be any JSON value or empty (T keeps its zero value); use
// json.RawMessage as T for the raw body. Options.ResultPath names the
// field of the final status body that holds the result (TypeSpec
// @lroResult, "result" in Azure.Core RPC operations); a status body
// without it is an error.
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
// final URLs (query strings kept: ARM needs api-version), final-state-via,
// the result path and the schedule — nothing from request headers. A URL
// whose query is a credential (a SAS sig, a function code) is kept
// redacted, its query encrypted when tokens are sealed and refused
// otherwise (poller.Options.PlaintextSecrets opts in).
//
// Trust comes from the caller, never from the token. The hosts that may
// receive the pipeline's credentials are the Resource Manager endpoint of
// Options.Cloud (management.azure.com by default) and Options.AllowedHosts
// (data-plane services); NewPoller adds the initial request's origin, which
// the caller chose. Every polling, result or redirect URL — from a response
// header, a status body or a token — must be inside that set, with the same
// scheme and port, or it is refused (ErrHostNotAllowed) before any request;
// a token refusal also wraps poller.ErrInvalidToken and names the host and
// the option that would allow it. Redirects that the pipeline's transport
// follows are refused before anything is written to an untrusted host:port.
// Sealing (poller.Options.SealKey) adds integrity on top; it does not
// widen trust. Names in logs and errors never include query strings.
package azure

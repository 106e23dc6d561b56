// Package rest waits for long-running operations of any HTTP API that
// follows the Microsoft REST API guidelines (202 + Location or
// Operation-Location to an operation resource with status notstarted,
// running, succeeded, failed or canceled, percentComplete and
// resourceLocation) or the asynchronous request-reply pattern (202 +
// Location to a status endpoint that answers 202 while pending and 302/303
// or 200/201/204 when done), over a plain *http.Client.
//
// It shares its wire mechanics with package azure — protocol selection,
// status bodies, the final-GET table, tokens and host checks — and adds the
// async request-reply rules:
//
//   - a status endpoint that answers 302 or 303 is done: the result is read
//     from the redirect target (the client's own redirect policy is
//     replaced, so every hop's host is checked);
//   - a 4xx from the status endpoint after the request was accepted is the
//     operation's failure, carrying that body (401, 403 and 407 stay errors);
//   - a status body of the form {"status":{"state":...,"conditions":[...]}}
//     reports the state, and the newest condition's reason and message in
//     Observation.Detail and in errors;
//   - Content-Location on the initial 202 (the hybrid model) names the
//     resource fetched at the end;
//   - a 201 Created, or any other terminal 2xx, is done at once;
//   - Options.NotFoundGrace treats a 404 from the status or result URL as
//     "not ready yet" for a bounded time, for services that answer that way.
//
// Relative Location headers are resolved against the request URL (RFC
// 9110 §10.2.2). Polling and result URLs must use https unless their host is
// loopback or Options.AllowHTTP is set, and must be on the original
// request's host or in Options.AllowedHosts. Operation-Location and
// Location status monitors can be canceled (DELETE on the operation URL;
// a 405 means the service does not support it).
//
// The poller retries transient failures (connection errors, 408, 429, 5xx)
// with its own budget; the *http.Client should not retry by itself.
package rest

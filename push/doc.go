// Package push turns cloud notifications into fleet signals: hints that
// make an engine poll the operations they name sooner. The poll still
// decides every outcome, so a lost, late, duplicated or forged
// notification never changes a result (DESIGN.md, "Push as a hint").
//
// Receiver is an http.Handler for the formats clouds push:
//   - the REST guidelines' notification, {"value": [{"resourceUrl": ...}]}
//     (Microsoft REST API guidelines, long-running operations, "The typical
//     flow, push notifications");
//   - CloudEvents 1.0 over HTTP in binary, structured and batched modes
//     (CloudEvents HTTP protocol binding §3.1-§3.3), with the webhook
//     abuse-protection handshake (CloudEvents "HTTP 1.1 Web Hooks" §4);
//   - Azure Event Grid's own schema, with its subscription validation
//     handshake (SubscriptionValidationEvent → {"validationResponse": code});
//   - a Pub/Sub push envelope, and bare EventBridge events, SNS
//     notifications and Cloud Audit Logs entries.
//
// It authenticates each delivery (Auth: a secret last path segment, an
// HMAC-SHA256 header, a static API-key header), caps the body, answers
// at once and signals asynchronously through a bounded queue that drops
// the oldest signal when full.
//
// Which option each cloud can use: Event Grid webhooks and Eventarc HTTP
// destinations cannot sign, so give them a URL ending in a PathToken;
// EventBridge API destinations send an API-key header (HeaderName,
// HeaderValue); a service that follows the REST guidelines, or your own
// relay, signs with HMACKey. Pull sources live in their own packages
// (push/pubsub, push/sqs) and implement Source; docs/push.md shows how to
// route each cloud's events.
package push

// Package pubsub is a pull source of push notifications for package push:
// it receives from a Google Cloud Pub/Sub subscription — typically fed by
// a Cloud Logging sink of Cloud Audit Logs, whose entries name the
// long-running operation (operation.id) and the resource — and turns each
// message into a fleet.Signal. Messages are hints only: the fleet still
// polls each operation for its result, so a lost, late or duplicated
// message never changes one.
//
// It lives in its own package so that the core does not import the
// Pub/Sub client.
package pubsub

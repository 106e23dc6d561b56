// Package sqs is a pull source of push notifications for package push: it
// long-polls an Amazon SQS queue that an EventBridge rule (CloudFormation
// "Stack Status Change", EC2 "Instance State-change Notification", ...) or
// an SNS subscription feeds, and turns each message into a fleet.Signal.
// Messages are hints only: the fleet still polls each operation for its
// result, so a lost, late or duplicated message never changes one.
//
// It lives in its own package so that the core does not import the SQS
// client.
package sqs

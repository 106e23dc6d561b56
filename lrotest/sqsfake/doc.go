// Package sqsfake is a loopback fake of Amazon SQS that the real
// aws-sdk-go-v2 SQS client reaches through BaseEndpoint with static
// credentials: SendMessage, ReceiveMessage (long polling answered as soon
// as a message is sent, or the request ends), DeleteMessage and
// DeleteMessageBatch, in the awsJson 1.0 protocol the client speaks. A
// received message stays in flight until deleted or Requeue'd; Fail makes
// the next receive answer an error, for tests of a consumer's retries.
package sqsfake

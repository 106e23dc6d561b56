package sqsfake_test

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lrokit/lrokit/lrotest/sqsfake"
)

// Send a message with the real client, receive and delete it.
func Example() {
	fake := sqsfake.New()
	defer fake.Close()
	q := fake.QueueURL("events")
	c := awssqs.NewFromConfig(fake.Config())
	ctx := context.Background()
	if _, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: awssdk.String(q), MessageBody: awssdk.String("hello")}); err != nil {
		panic(err)
	}
	out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: awssdk.String(q), WaitTimeSeconds: 20})
	if err != nil {
		panic(err)
	}
	fmt.Println(*out.Messages[0].Body)
	_, err = c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: awssdk.String(q), ReceiptHandle: out.Messages[0].ReceiptHandle})
	fmt.Println(err)
	fmt.Println(fake.Counts(q))
	// Output:
	// hello
	// <nil>
	// 0 0 1
}

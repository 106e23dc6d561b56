package sqs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/push"
)

// API is what the source needs of an SQS client; *sqs.Client has it.
type API interface {
	ReceiveMessage(ctx context.Context, in *awssqs.ReceiveMessageInput, optFns ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *awssqs.DeleteMessageBatchInput, optFns ...func(*awssqs.Options)) (*awssqs.DeleteMessageBatchOutput, error)
}

// Source pulls notifications from an SQS queue (an EventBridge rule's
// target, or an SNS subscription) and signals what each names. It
// implements push.Source.
type Source struct {
	// Client receives and deletes messages.
	Client API
	// QueueURL is the queue's URL.
	QueueURL string
	// WaitTime is the long-poll wait of each receive; default 20 s, the
	// most SQS allows.
	WaitTime time.Duration
	// Clock times the backoff after a failed receive; nil means the
	// system clock.
	Clock poller.Clock
	// Logger receives receive and delete failures; nil means none.
	Logger *slog.Logger
}

// Stats of a source are kept by the caller's Target; Run reports only its
// fatal errors.

// Run receives until ctx ends, then returns nil. Each message is decoded
// with push.DecodeMessage (its string message attributes as attributes),
// its identifiers handed to t as one fleet.Signal with Source "sqs", and
// then deleted, whether it could be decoded or not: a hint that cannot be
// read now never can, and the polls go on without it. A failed receive is
// retried with backoff (1 s doubling to 1 min); Run never gives up on a
// transient error. It returns an error only for a misconfiguration.
func (s *Source) Run(ctx context.Context, t push.Target) error {
	if s.Client == nil || s.QueueURL == "" || t == nil {
		return errors.New("sqs: Source needs a Client, a QueueURL and a target")
	}
	clock := s.Clock
	if clock == nil {
		clock = poller.SystemClock
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wait := s.WaitTime
	if wait <= 0 {
		wait = 20 * time.Second
	}
	fails := 0
	for ctx.Err() == nil {
		out, err := s.Client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
			QueueUrl:                    awssdk.String(s.QueueURL),
			MaxNumberOfMessages:         10,
			WaitTimeSeconds:             int32(min(wait, 20*time.Second) / time.Second),
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: nil,
		})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			fails++
			d := min(time.Second<<min(fails-1, 6), time.Minute)
			log.LogAttrs(ctx, slog.LevelWarn, "sqs: receive failed", slog.String("queue", s.QueueURL), slog.Duration("retry_in", d), slog.String("error", err.Error()))
			if !sleep(ctx, clock, d) {
				break
			}
			continue
		}
		fails = 0
		s.handle(ctx, t, log, out.Messages)
	}
	return nil
}

func (s *Source) handle(ctx context.Context, t push.Target, log *slog.Logger, msgs []types.Message) {
	if len(msgs) == 0 {
		return
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		attrs := map[string]string{}
		for k, v := range m.MessageAttributes {
			if v.StringValue != nil {
				attrs[k] = *v.StringValue
			}
		}
		d, err := push.DecodeMessage(attrs, []byte(awssdk.ToString(m.Body)))
		switch {
		case err != nil:
			log.LogAttrs(ctx, slog.LevelWarn, "sqs: undecodable message", slog.String("id", awssdk.ToString(m.MessageId)), slog.String("error", err.Error()))
		case len(d.Refs) > 0:
			t.Signal(fleet.Signal{Source: "sqs", Refs: d.Refs})
		}
		if m.ReceiptHandle != nil {
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: awssdk.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	if len(del) == 0 {
		return
	}
	out, err := s.Client.DeleteMessageBatch(context.WithoutCancel(ctx), &awssqs.DeleteMessageBatchInput{QueueUrl: awssdk.String(s.QueueURL), Entries: del})
	if err == nil && len(out.Failed) > 0 {
		err = fmt.Errorf("%d of %d deletes failed", len(out.Failed), len(del))
	}
	if err != nil {
		// Not deleted: the message comes back after its visibility
		// timeout, a duplicate hint that costs at most one poll.
		log.LogAttrs(ctx, slog.LevelWarn, "sqs: delete failed", slog.String("queue", s.QueueURL), slog.String("error", err.Error()))
	}
}

func sleep(ctx context.Context, clock poller.Clock, d time.Duration) bool {
	t := clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}

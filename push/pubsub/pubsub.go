package pubsub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	gpubsub "cloud.google.com/go/pubsub/v2"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/push"
)

// Source pulls notifications from a Pub/Sub subscription (fed by a Cloud
// Logging sink of audit logs, an Eventarc trigger, or a service's own
// notifications) and signals what each message names. It implements
// push.Source.
type Source struct {
	// Subscriber receives the messages, e.g. client.Subscriber("lrokit").
	// Its ReceiveSettings apply.
	Subscriber *gpubsub.Subscriber
	// Logger receives undecodable messages; nil means none.
	Logger *slog.Logger
}

// Run receives until ctx ends. Each message is decoded with
// push.DecodeMessage (its attributes, which may carry a binary-mode
// CloudEvent's "ce-" attributes, and its data), its identifiers handed to
// t as one fleet.Signal with Source "pubsub", and acknowledged whether it
// could be decoded or not: the polls go on without it. The client retries
// transient errors itself; Run returns nil when ctx ends, and the
// subscriber's error otherwise (a missing subscription, no permission).
func (s *Source) Run(ctx context.Context, t push.Target) error {
	if s.Subscriber == nil || t == nil {
		return errors.New("pubsub: Source needs a Subscriber and a target")
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	err := s.Subscriber.Receive(ctx, func(ctx context.Context, m *gpubsub.Message) {
		d, err := push.DecodeMessage(m.Attributes, m.Data)
		switch {
		case err != nil:
			log.LogAttrs(ctx, slog.LevelWarn, "pubsub: undecodable message", slog.String("id", m.ID), slog.String("error", err.Error()))
		case len(d.Refs) > 0:
			t.Signal(fleet.Signal{Source: "pubsub", Refs: d.Refs})
		}
		m.Ack()
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("pubsub: receive: %w", err)
	}
	return nil
}

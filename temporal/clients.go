package temporal

// This file is the only one that knows package resume: resuming a token into
// a poller with the worker's own clients, and classifying why that failed.

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/resume"
)

// Clients are the worker's own clients and credentials for every provider,
// built from the worker's configuration. They never enter workflow history:
// a token names an operation, the worker decides who may be called with
// which credentials (resume.Clients.AllowedHosts for Azure and REST).
type Clients = resume.Clients

// polling is what the activities need of a resumed operation.
type polling interface {
	Poll(ctx context.Context) (poller.Observation, error)
	Last() poller.Observation
	Polls() int
	NextPollAt() time.Time
	Cancel(ctx context.Context) error
	ResumeToken() (string, error)
	Result(ctx context.Context) (json.RawMessage, error)
	Host() string
}

func (a *Activities) resume(ctx context.Context, token string) (polling, error) {
	p, err := resume.Any(ctx, token, a.Clients)
	if err != nil {
		typ := ErrTypeInvalidToken
		if errors.Is(err, resume.ErrNoClient) {
			typ = ErrTypeNoClient
		}
		// Neither gets better by retrying on this worker; the message never
		// echoes the token.
		return nil, temporal.NewNonRetryableApplicationError("resuming the token: "+err.Error(), typ, err)
	}
	return p, nil
}

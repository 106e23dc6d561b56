package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

func TestListenPush_NeedsASecretAndAnAddress(t *testing.T) {
	eng, err := fleet.New(persist.NewMemoryStore(nil), func(context.Context, string, *poller.Options) (fleet.Op, error) {
		return fleet.Op{}, poller.ErrInvalidToken
	}, nil)
	require.NoError(t, err)
	t.Setenv(envPushToken, "")
	t.Setenv(envPushHMACKey, "")
	_, err = listenPush(context.Background(), "127.0.0.1:0", eng)
	assert.ErrorContains(t, err, envPushToken)

	t.Setenv(envPushToken, "s3cret")
	_, err = listenPush(context.Background(), "not an address", eng)
	assert.ErrorContains(t, err, "--listen")
	stop, err := listenPush(context.Background(), "127.0.0.1:0", eng)
	require.NoError(t, err)
	stop()
}

package main

import (
	"context"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/poller"
)

type countingCredential struct{ tokens *atomic.Int32 }

func (c countingCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.tokens.Add(1)
	return azcore.AccessToken{Token: "t"}, nil
}

func TestOneAzureCredentialPerProcess(t *testing.T) {
	var made, tokens atomic.Int32
	saved := newAzureCredential
	newAzureCredential = func() (azcore.TokenCredential, error) {
		made.Add(1)
		return countingCredential{&tokens}, nil
	}
	defer func() { newAzureCredential = saved }()

	b, err := os.ReadFile("../../testdata/tokens/v1-azure-async.txt")
	require.NoError(t, err)
	token := strings.TrimSpace(string(b))
	au := &auth{}
	for range 20 {
		c, err := au.clients(context.Background(), token, poller.Options{})
		require.NoError(t, err)
		require.NotNil(t, c.Azure)
	}
	assert.Equal(t, int32(1), made.Load(), "20 operations, one credential")
	assert.Len(t, au.cache().pipelines, 1, "one pipeline per scope")

	other := &auth{}
	_, err = other.azureCredential()
	require.NoError(t, err)
	assert.Equal(t, int32(2), made.Load(), "the cache is the command's, not global")
}

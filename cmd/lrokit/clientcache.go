package main

import (
	"context"
	"sync"

	lroauto "cloud.google.com/go/longrunning/autogen"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	awssdk "github.com/aws/aws-sdk-go-v2/aws"
)

// newAzureCredential makes the Azure credential; tests count the calls.
var newAzureCredential = func() (azcore.TokenCredential, error) {
	return azidentity.NewDefaultAzureCredential(nil)
}

// clientCache holds what a command builds for its operations, so that a
// fleet of many operations shares one credential per provider and one
// client per endpoint: one Azure credential (so one token request per
// scope, not one per operation), one pipeline per scope, one AWS config per
// region, one Google operations client (one gRPC connection) per endpoint.
type clientCache struct {
	mu        sync.Mutex
	azureCred azcore.TokenCredential
	pipelines map[string]runtime.Pipeline
	aws       map[string]awssdk.Config
	gcp       map[string]*lroauto.OperationsClient
}

// caches maps each *auth (one per command, so one per process) to its
// cache.
var caches sync.Map

func (a *auth) cache() *clientCache {
	c, _ := caches.LoadOrStore(a, &clientCache{
		pipelines: map[string]runtime.Pipeline{}, aws: map[string]awssdk.Config{}, gcp: map[string]*lroauto.OperationsClient{},
	})
	return c.(*clientCache)
}

// azureCredential returns the command's one Azure credential.
func (a *auth) azureCredential() (azcore.TokenCredential, error) {
	c := a.cache()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.azureCred == nil {
		cred, err := newAzureCredential()
		if err != nil {
			return nil, err
		}
		c.azureCred = cred
	}
	return c.azureCred, nil
}

// cachedPipeline is azurePipeline, built once per credential scope.
func (a *auth) cachedPipeline() (runtime.Pipeline, error) {
	scope, err := a.azureScope()
	if err != nil {
		return runtime.Pipeline{}, err
	}
	c := a.cache()
	c.mu.Lock()
	pl, ok := c.pipelines[scope]
	c.mu.Unlock()
	if ok {
		return pl, nil
	}
	pl, err = a.azurePipeline()
	if err != nil {
		return pl, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.pipelines[scope]; ok {
		return old, nil
	}
	c.pipelines[scope] = pl
	return pl, nil
}

// cachedAWSConfig is awsConfig, loaded once per region.
func (a *auth) cachedAWSConfig(ctx context.Context, region string) (awssdk.Config, error) {
	c := a.cache()
	c.mu.Lock()
	defer c.mu.Unlock()
	if cfg, ok := c.aws[region]; ok {
		return cfg, nil
	}
	cfg, err := a.awsConfig(ctx, region)
	if err != nil {
		return cfg, err
	}
	c.aws[region] = cfg
	return cfg, nil
}

// cachedGCPClient is gcpClient, one per endpoint.
func (a *auth) cachedGCPClient(ctx context.Context, endpoint string) (*lroauto.OperationsClient, error) {
	c := a.cache()
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.gcp[endpoint]; ok {
		return cl, nil
	}
	cl, err := a.gcpClient(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	c.gcp[endpoint] = cl
	return cl, nil
}

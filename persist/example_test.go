package persist_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "lrokit-state")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	store, err := persist.Open(ctx, dir) // the file store: one JSON file per record
	if err != nil {
		panic(err)
	}
	defer store.(io.Closer).Close()

	tok, _ := poller.Token{Provider: "azure", Kind: "async", Last: &poller.TokenObservation{Status: poller.StatusRunning}}.Encode()
	r, err := store.Put(ctx, persist.Record{Key: "deploy/prod/aks", Token: tok, Labels: map[string]string{"env": "prod"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Key, r.Generation, r.Provider, r.Status)

	stale := r
	r.Detail = "InProgress"
	if _, err := store.Put(ctx, r); err != nil {
		panic(err)
	}
	_, err = store.Put(ctx, stale) // written meanwhile by someone else
	fmt.Println(errors.Is(err, persist.ErrConflict))

	running, _ := store.List(ctx, persist.Filter{Prefix: "deploy/", Status: []poller.Status{poller.StatusRunning}})
	fmt.Println(len(running), running[0].Generation, running[0].Detail)
	// Output:
	// deploy/prod/aks 1 azure Running
	// true
	// 1 2 InProgress
}

func ExampleTrack() {
	ctx := context.Background()
	store := persist.NewMemoryStore(nil)
	clock := pollertest.NewAutoClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))

	// Start the operation (the fake stands for an adapter's poller), then
	// save its token at once and after every poll.
	op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Running("Creating", 40), pollertest.Succeeded()}}
	p, _ := poller.New[any](op, &poller.Options{Clock: clock})
	tr, err := persist.Track(ctx, store, "deploy/prod/aks", p, nil)
	if err != nil {
		panic(err)
	}
	if _, err := p.Wait(ctx, &poller.WaitOptions{OnPoll: tr.OnPoll}); err != nil {
		panic(err)
	}

	// Another process would read the record and resume from its token.
	r, _ := store.Get(ctx, "deploy/prod/aks")
	tok, _ := poller.DecodeToken(r.Token, nil)
	fmt.Println(r.Status, r.Detail, r.Generation, tok.Polls)
	// Output:
	// Succeeded Succeeded 3 2
}

func ExampleLeaser() {
	ctx := context.Background()
	clock := pollertest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	store := persist.NewMemoryStore(&persist.Options{Clock: clock})
	for _, k := range []string{"op/1", "op/2", "op/3"} {
		store.Put(ctx, persist.Record{Key: k, Token: "…", Status: poller.StatusRunning})
	}

	mine, _ := store.Claim(ctx, "worker-a", time.Minute, 2)
	theirs, _ := store.Claim(ctx, "worker-b", time.Minute, 2)
	fmt.Println(len(mine), len(theirs))

	// worker-a stalls past its lease; worker-b takes the record over.
	clock.Advance(2 * time.Minute)
	taken, _ := store.Claim(ctx, "worker-b", time.Minute, 1)
	fmt.Println(taken[0].Key, taken[0].Lease.Owner, taken[0].Lease.Epoch)

	// worker-a's late write is fenced.
	late := mine[0]
	late.Detail = "stale news"
	_, err := store.Put(ctx, late)
	fmt.Println(errors.Is(err, persist.ErrLeaseLost))
	// Output:
	// 2 1
	// op/1 worker-b 2
	// true
}

// ExampleBegin starts an operation crash-safely: the intent, with its
// idempotency key, is in the store before the request goes out, and a rerun
// after a crash re-sends under the same key instead of starting a second
// operation. Here start stands for a Google create call carrying the key as
// its requestId (AIP-155); for AWS it would be ClientRequestToken
// (CloudFormation) or ClientToken (EC2).
func ExampleBegin() {
	ctx := context.Background()
	store := persist.NewMemoryStore(nil)
	sent := map[string]int{} // requestId → operations the fake API started

	start := func(ctx context.Context, in persist.Intent, retry bool) (persist.Source, error) {
		// req := &containerpb.CreateClusterRequest{..., RequestId: in.IdempotencyKey}: the API
		// answers a repeated requestId with the operation it already started.
		if sent[in.IdempotencyKey] == 0 {
			sent[in.IdempotencyKey]++
		}
		op := &pollertest.Operation{Steps: []pollertest.Step{pollertest.Succeeded()}}
		return poller.New[any](op, &poller.Options{Initial: &poller.Observation{Status: poller.StatusRunning}})
	}
	in := persist.Intent{Provider: "gcp", Method: "projects.locations.clusters.create", Target: "container.googleapis.com/projects/p/locations/l"}

	// A first attempt dies before it stores its token ...
	_, err := persist.Begin(ctx, store, "deploy/gke", in, func(ctx context.Context, in persist.Intent, retry bool) (persist.Source, error) {
		_, _ = start(ctx, in, retry)
		return nil, errors.New("killed")
	}, nil)
	fmt.Println("first:", err != nil)
	rec, _ := store.Get(ctx, "deploy/gke")
	_, isIntent, _ := persist.IntentOf(rec)
	fmt.Println("stored:", rec.Status, isIntent)

	// ... the rerun finds the intent and re-sends under the same requestId.
	tr, err := persist.Begin(ctx, store, "deploy/gke", in, start, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("rerun:", tr.Record().Status, "operations started:", len(sent))

	// A third run finds the token: nothing is sent.
	_, err = persist.Begin(ctx, store, "deploy/gke", in, start, nil)
	fmt.Println(errors.Is(err, persist.ErrStarted))
	// Output:
	// first: true
	// stored: NotStarted true
	// rerun: Running operations started: 1
	// true
}

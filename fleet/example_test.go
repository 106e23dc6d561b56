package fleet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// script is what the fake operations answer: two polls in progress, then done.
func script() *pollertest.Operation {
	return &pollertest.Operation{Steps: []pollertest.Step{
		pollertest.Running("Deploying", 30), pollertest.Running("Deploying", 70), pollertest.Succeeded(),
	}}
}

func Example() {
	ctx := context.Background()
	clock := pollertest.NewAutoClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	store := persist.NewMemoryStore(&persist.Options{Clock: clock}) // persist.Open(ctx, "postgres://...") for a fleet

	// Operations started elsewhere are handed over as resume tokens.
	for _, key := range []string{"deploy/eu", "deploy/us"} {
		p, _ := poller.New[json.RawMessage](script(), &poller.Options{Clock: clock})
		token, _ := p.ResumeToken()
		if _, err := fleet.Add(ctx, store, key, token, map[string]string{"team": "web"}, nil); err != nil {
			panic(err)
		}
	}

	// The resolver rebuilds a poller from a token with the caller's own
	// clients (package resume); here, the scripted fake.
	resolve := func(ctx context.Context, token string, opts *poller.Options) (fleet.Op, error) {
		tok, err := poller.DecodeToken(token, opts.SealKey)
		if err != nil {
			return fleet.Op{}, err
		}
		op := script()
		if err := op.Restore(tok); err != nil {
			return fleet.Op{}, err
		}
		p, err := poller.Resume[json.RawMessage](op, tok, opts)
		return fleet.Op{Poller: p, Host: "management.azure.com", Kind: "azure PUT Microsoft.Web/sites"}, err
	}

	var done []string
	engine, err := fleet.New(store, resolve, &fleet.Options{
		Clock: clock, Lockstep: true, // virtual time for the example; omit both in production
		ExitWhenDone: true,
		OnEvent: func(ev fleet.Event) {
			if ev.Kind == fleet.EventDone {
				done = append(done, fmt.Sprintf("%s %s after %d polls", ev.Key, ev.Obs.Status, ev.Polls))
			}
		},
	})
	if err != nil {
		panic(err)
	}
	if err := engine.Run(ctx); err != nil { // until ctx ends (SIGTERM) in a long-lived worker
		panic(err)
	}
	slices.Sort(done)
	for _, d := range done {
		fmt.Println(d)
	}
	st := engine.Stats()
	fmt.Println("requests to", st.Hosts[0].Host+":", st.Hosts[0].Requests)
	// Output:
	// deploy/eu Succeeded after 3 polls
	// deploy/us Succeeded after 3 polls
	// requests to management.azure.com: 6
}

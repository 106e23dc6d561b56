package main

import (
	"context"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/resume"
)

// learnedFor returns the durations a fleet learned for p's kind in the
// store the token comes from, or nil: they set the stall threshold and the
// outcome's estimate of the time left.
func learnedFor(ctx context.Context, src *tokenSource, p *resume.Poller) *poller.Learned {
	if src.store == "" {
		return nil
	}
	st, err := openStore(ctx, src.store)
	if err != nil {
		return nil
	}
	defer closeStore(st)
	priors, _ := fleet.Priors(ctx, st)
	for _, pr := range priors {
		if pr.Kind == p.Type() && (pr.Median > 0 || pr.P95 > 0) {
			return &poller.Learned{Median: pr.Median, P95: pr.P95}
		}
	}
	return nil
}

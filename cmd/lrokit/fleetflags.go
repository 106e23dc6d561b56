package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/time/rate"

	"github.com/lrokit/lrokit/fleet"
)

// fleetSizing are fleet run's knobs for leases, claims, capacity and
// per-host request rates (fleet.Options).
type fleetSizing struct {
	leaseTTL   time.Duration
	claimBatch int
	capacity   int
	hostRates  []string
}

func (s *fleetSizing) register(fs *pflag.FlagSet) {
	fs.DurationVar(&s.leaseTTL, "lease-ttl", 30*time.Second, `the lease on each operation this worker holds, renewed every third of it;
a dead worker's operations are taken over within about this plus 5s`)
	fs.IntVar(&s.claimBatch, "claim-batch", 1000, "the most operations one claim takes, so workers starting together share the work")
	fs.IntVar(&s.capacity, "capacity", 10_000, "the most operations this worker holds at once")
	fs.StringArrayVar(&s.hostRates, "host-rate", nil, `requests per second to each host: "N" for every host (default 10), or "HOST=N"
for one (repeatable); lowered automatically while a host throttles`)
}

// check validates the flags and returns the host limits they ask for.
func (s *fleetSizing) check() (fleet.HostLimits, error) {
	var l fleet.HostLimits
	if s.leaseTTL < time.Second {
		return l, usageErr("--lease-ttl must be at least 1s, not %s", s.leaseTTL)
	}
	if s.claimBatch < 1 || s.capacity < 1 {
		return l, usageErr("--claim-batch and --capacity must be positive")
	}
	if s.claimBatch > s.capacity {
		return l, usageErr("--claim-batch (%d) must not exceed --capacity (%d)", s.claimBatch, s.capacity)
	}
	for _, hr := range s.hostRates {
		host, n, perHost := strings.Cut(hr, "=")
		if !perHost {
			n = host
		}
		r, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err != nil || r <= 0 {
			return l, usageErr(`--host-rate wants "N" or "HOST=N" with N requests per second above 0, not %q`, hr)
		}
		if !perHost {
			l.Rate = rate.Limit(r)
			continue
		}
		host = strings.ToLower(strings.TrimSpace(host))
		if host == "" {
			return l, usageErr(`--host-rate wants "HOST=N", got %q`, hr)
		}
		if l.PerHost == nil {
			l.PerHost = map[string]rate.Limit{}
		}
		l.PerHost[host] = rate.Limit(r)
	}
	return l, nil
}

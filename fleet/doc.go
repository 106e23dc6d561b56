// Package fleet watches thousands of long-running operations at once,
// politely, across many worker processes.
//
// An Engine holds operations claimed from a store (package persist) and
// drives their pollers from one scheduler: a heap of hosts ordered by when
// each can next send a request, each host holding a heap of its operations
// ordered by their next poll time. No goroutine waits per operation; a
// bounded pool of workers performs the polls and the store writes.
//
//   - Politeness: every host has a token-bucket rate limit
//     (golang.org/x/time/rate) that adapts. A throttled response pauses the
//     whole host until its Retry-After and halves the host's rate; the rate
//     climbs back linearly, to just under the rate that was throttled (see
//     HostLimits).
//   - Durability: every poll's resume token and observation are saved to
//     the store, fenced by the engine's lease, before the next poll is
//     scheduled. An engine restarted on the same store continues every
//     operation from its last token, without a repeated initial request.
//   - Distribution: engines on one store (PostgreSQL for several machines)
//     Claim leases on a share of the operations, renew them while polling
//     and release them when done or shutting down. A dead engine's
//     operations are taken over once its leases lapse; fencing refuses its
//     late writes. The database is the only coordinator.
//   - Learned durations: the engine records how long each kind of operation
//     took and holds the first poll of a new one until an early quantile of
//     those durations (see PriorOptions).
//   - Events: OnEvent reports claims, polls, releases and, exactly once per
//     operation, its terminal result. Wake polls an operation now.
//   - Push as a hint: Signal takes a notification's identifiers (URLs,
//     operation names, ARNs; see MatchKeys), polls the operations they name
//     at the next opportunity and changes nothing else, so a lost, late,
//     duplicated or forged notification never changes a result. Package
//     push receives them over HTTP; SignalOptions bound what they save.
//   - Observability: Stats, log/slog records, and OpenTelemetry metrics
//     (Options.MeterProvider): lrokit.fleet.requests {host, outcome},
//     lrokit.fleet.poll.duration {host}, lrokit.fleet.operations.completed
//     {kind, status}, and gauges lrokit.fleet.operations.held, .inflight,
//     .overdue and lrokit.fleet.host.rate {host}.
//
// A Resolver turns a stored token back into a poller with the caller's own
// clients (package resume provides one for every adapter).
package fleet

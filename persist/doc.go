// Package persist keeps resume tokens between runs: where an in-flight
// operation's only handle lives while no process waits on it.
//
// A Record holds an operation's token under the caller's key, with its last
// status, labels, an optional expiry and a worker lease. Three stores keep
// records with the same semantics, checked by one conformance suite
// (package persisttest):
//
//   - FileStore, the embedded default: one JSON file per record in a
//     directory, replaced atomically and guarded by a lock file, so that
//     CI jobs can hand the directory on as an artifact;
//   - MemoryStore, for tests and single-process tools;
//   - PostgresStore, for fleets of workers sharing records, with leases
//     handed out by FOR UPDATE SKIP LOCKED.
//
// Open picks one from a DSN ("./state", "file:///var/lib/lrokit", "mem:",
// "postgres://…").
//
// Every write is a compare-and-swap on Record.Generation, so concurrent
// writers — goroutines, processes, machines — never lose an update silently:
// the loser gets ErrConflict and reads again. Leases (Leaser) let a fleet
// split records between workers; writes under a lease are fenced by its
// epoch, so a worker whose lease lapsed cannot overwrite a record another
// worker claimed since (ErrLeaseLost). BatchRenewer renews a worker's
// leases in one call (one statement on PostgreSQL).
//
// Track saves a poller's token and last observation after every poll, so a
// process killed at any moment resumes from the last saved state without
// sending the operation's initial request again. Begin closes the window
// before the first token: it stores an Intent (what is about to be sent,
// under which idempotency key) before the initial request, so a begin
// killed between sending and saving is reconciled by running it again
// rather than repeated.
//
// Stored data is untrusted on the way back in: a corrupt record yields a
// *CorruptError naming it while every other record stays readable, data
// written by a newer lrokit is refused with ErrNewerVersion, and keys are
// checked (ValidateKey) so that no key names a file outside the store's
// directory.
package persist

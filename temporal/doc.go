// Package temporal waits for long-running cloud operations as Temporal
// workflows, for users whose waits outgrow one machine and who already run
// orchestration on Temporal. It is its own module, so importing lrokit never
// pulls in the Temporal SDK.
//
// One workflow, WaitOperation, waits for one operation given its resume
// token. A poll activity resumes the token with resume.Any on a worker, polls
// once, and returns the observation, the new token and the next poll time;
// the workflow sleeps on a durable timer until then and, every PollsPerRun
// polls, continues as new with the latest token, so history stays bounded on
// multi-hour operations. The token is the only operation state in history;
// clients and credentials are built from each worker's configuration and
// passed to Register.
//
// Start derives the workflow id from the operation (provider, kind and a
// digest of its state), so starting twice waits on the same workflow. Result
// and Wait return the Outcome, or an *Error with the last state and token.
// Canceling the workflow asks the provider to cancel where it can and reports
// where it cannot.
//
// Polls keep lrokit's schedule: Retry-After, the proportional backoff, and
// transient errors retried inside the poll activity within the policy's
// retry budget, so a 429 never fails an activity and loses the schedule. A
// worker lost mid-poll costs one repeated poll from the same token on
// another worker; the operation's initial request is never part of the
// workflow. Politeness across workers: start operations with a PollQueue per
// host group and run its workers with worker.Options.TaskQueueActivitiesPerSecond,
// a limit the Temporal server enforces for the whole queue; Activities.HostLimit
// adds a per-process limit per host.
//
// The command lrokit-temporal (cmd/lrokit-temporal) runs a worker and starts
// and awaits waits from tokens. See docs/temporal.md.
package temporal

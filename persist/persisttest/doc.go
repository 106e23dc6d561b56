// Package persisttest is the conformance suite for persist.Store
// implementations, exported so that third-party stores can prove they keep
// the same promises: Run checks CRUD, compare-and-swap, limits, expiry, list
// filters and, where implemented, sweeps, leases and fencing, on a virtual
// clock.
//
// PostgresDSN gives tests a private schema on the test PostgreSQL server.
package persisttest

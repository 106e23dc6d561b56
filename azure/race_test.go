//go:build race

package azure_test

// raceEnabled: under the race detector sync.Pool drops a quarter of what
// is put back, so allocation counts that rely on a pool are not exact.
const raceEnabled = true

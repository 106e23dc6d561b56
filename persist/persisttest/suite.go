package persisttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// Factory returns a new, empty store whose time comes from clock. Run calls
// it once per subtest, from parallel subtests; the store should be closed by
// a t.Cleanup the factory registers.
type Factory func(t *testing.T, clock poller.Clock) persist.Store

// Start is the virtual time every subtest's clock starts at.
var Start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Run runs the conformance suite against the stores open returns: CRUD,
// compare-and-swap, validation and limits, expiry, list filters, and, when
// the store implements them, persist.Sweeper, persist.Leaser (leases and
// fencing) and persist.BatchRenewer.
func Run(t *testing.T, open Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, *fixture)
	}{
		{"CreateGetUpdateDelete", testCRUD},
		{"CreateOverExistingConflicts", testCreateTwice},
		{"StaleGenerationConflicts", testStaleGeneration},
		{"PutOfMissingRecordAtGenerationConflicts", testPutMissing},
		{"DeleteChecksGeneration", testDeleteGeneration},
		{"ProviderAndStatusComeFromToken", testFromToken},
		{"StoredRecordIsACopy", testCopy},
		{"OddKeysRoundTrip", testOddKeys},
		{"InvalidInputIsRefused", testInvalid},
		{"InputAtTheLimitsIsAccepted", testLimits},
		{"ConcurrentCompareAndSwapLosesNoUpdate", testConcurrentCAS},
		{"ExpiredRecordsAreGone", testExpiry},
		{"CreateOverExpiredRecordSucceeds", testCreateOverExpired},
		{"ListFilters", testListFilters},
		{"ListPages", testListPaging},
		{"CanceledContextFails", testCanceled},
		{"SweepRemovesExpired", testSweep},
		{"ClaimHandsOutClaimableRecords", testClaim},
		{"ClaimPrefersNeverLeasedThenLongestLapsed", testClaimOrder},
		{"LapsedLeaseIsHandedOverAndFenced", testHandover},
		{"ReclaimBySameOwnerFencesTheOldEpoch", testEpochFence},
		{"RenewKeepsLease", testRenew},
		{"RenewBatchRenewsOnlyHeldLeases", testRenewBatch},
		{"RenewBatchNeverRevivesALapsedLease", testRenewBatchLapsed},
		{"RenewBatchRefusesBadArguments", testRenewBatchArgs},
		{"ReleaseMakesRecordClaimable", testRelease},
		{"PutKeepsLease", testPutKeepsLease},
		{"ConcurrentClaimersNeverShareARecord", testConcurrentClaim},
		{"ClaimRefusesBadArguments", testClaimArgs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := pollertest.NewClock(Start)
			tc.fn(t, &fixture{s: open(t, clock), clock: clock, ctx: context.Background()})
		})
	}
}

type fixture struct {
	s     persist.Store
	clock *pollertest.Clock
	ctx   context.Context
}

func (f *fixture) leaser(t *testing.T) persist.Leaser {
	l, ok := f.s.(persist.Leaser)
	if !ok {
		t.Skip("store does not implement persist.Leaser")
	}
	return l
}

func (f *fixture) batchRenewer(t *testing.T) persist.BatchRenewer {
	b, ok := f.s.(persist.BatchRenewer)
	if !ok {
		t.Skip("store does not implement persist.BatchRenewer")
	}
	return b
}

func (f *fixture) sweeper(t *testing.T) persist.Sweeper {
	sw, ok := f.s.(persist.Sweeper)
	if !ok {
		t.Skip("store does not implement persist.Sweeper")
	}
	return sw
}

func (f *fixture) put(t *testing.T, r persist.Record) persist.Record {
	t.Helper()
	out, err := f.s.Put(f.ctx, r)
	require.NoError(t, err)
	return out
}

func (f *fixture) now() time.Time { return f.clock.Now().UTC() }

// Token returns an encoded resume token of provider whose last observation
// is st (none when st is empty).
func Token(t testing.TB, provider string, st poller.Status) string {
	t.Helper()
	tok := poller.Token{Provider: provider, Kind: "test", State: json.RawMessage(`{"op":"x"}`), Created: Start}
	if st != "" {
		tok.Last = &poller.TokenObservation{Status: st, Detail: string(st)}
	}
	s, err := tok.Encode()
	require.NoError(t, err)
	return s
}

func keys(rs []persist.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Key
	}
	return out
}

func testCRUD(t *testing.T, f *fixture) {
	in := persist.Record{Key: "deploy/prod/aks", Token: "opaque-token", Provider: "azure", Status: poller.StatusRunning,
		Detail: "InProgress", Labels: map[string]string{"env": "prod"}, ExpiresAt: Start.Add(48 * time.Hour)}
	created := f.put(t, in)
	assert.Equal(t, int64(1), created.Generation)
	assert.True(t, created.Updated.Equal(Start), "Updated %v is the store clock's now", created.Updated)
	assert.Equal(t, persist.Lease{}, created.Lease)

	got, err := f.s.Get(f.ctx, in.Key)
	require.NoError(t, err)
	assert.Equal(t, created, got)
	assert.Equal(t, in.Token, got.Token)
	assert.Equal(t, in.Labels, got.Labels)
	assert.True(t, got.ExpiresAt.Equal(in.ExpiresAt))

	f.clock.Advance(time.Minute)
	got.Status, got.Detail = poller.StatusSucceeded, "Succeeded"
	updated := f.put(t, got)
	assert.Equal(t, int64(2), updated.Generation)
	assert.True(t, updated.Updated.Equal(Start.Add(time.Minute)))
	again, err := f.s.Get(f.ctx, in.Key)
	require.NoError(t, err)
	assert.Equal(t, updated, again)

	require.NoError(t, f.s.Delete(f.ctx, in.Key, updated.Generation))
	_, err = f.s.Get(f.ctx, in.Key)
	assert.ErrorIs(t, err, persist.ErrNotFound)
	assert.ErrorIs(t, f.s.Delete(f.ctx, in.Key, 0), persist.ErrNotFound)
	assert.ErrorIs(t, f.s.Delete(f.ctx, "never/was", 0), persist.ErrNotFound)
}

func testCreateTwice(t *testing.T, f *fixture) {
	f.put(t, persist.Record{Key: "a", Token: "t1"})
	_, err := f.s.Put(f.ctx, persist.Record{Key: "a", Token: "t2"})
	require.ErrorIs(t, err, persist.ErrConflict)
	got, err := f.s.Get(f.ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "t1", got.Token, "a refused create leaves the record alone")
}

func testStaleGeneration(t *testing.T, f *fixture) {
	r1 := f.put(t, persist.Record{Key: "a", Token: "t1"})
	stale := r1
	r1.Token = "t2"
	f.put(t, r1)
	stale.Token = "lost"
	_, err := f.s.Put(f.ctx, stale)
	require.ErrorIs(t, err, persist.ErrConflict)
	got, err := f.s.Get(f.ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "t2", got.Token)
	assert.Equal(t, int64(2), got.Generation)
}

func testPutMissing(t *testing.T, f *fixture) {
	_, err := f.s.Put(f.ctx, persist.Record{Key: "a", Token: "t", Generation: 3})
	require.ErrorIs(t, err, persist.ErrConflict)
	_, err = f.s.Get(f.ctx, "a")
	assert.ErrorIs(t, err, persist.ErrNotFound)
}

func testDeleteGeneration(t *testing.T, f *fixture) {
	r := f.put(t, persist.Record{Key: "a", Token: "t"})
	require.ErrorIs(t, f.s.Delete(f.ctx, "a", r.Generation+1), persist.ErrConflict)
	_, err := f.s.Get(f.ctx, "a")
	require.NoError(t, err, "a refused delete leaves the record")
	require.NoError(t, f.s.Delete(f.ctx, "a", 0), "generation 0 deletes whatever is stored")
	_, err = f.s.Get(f.ctx, "a")
	assert.ErrorIs(t, err, persist.ErrNotFound)
}

func testFromToken(t *testing.T, f *fixture) {
	r := f.put(t, persist.Record{Key: "a", Token: Token(t, "gcp", poller.StatusRunning)})
	assert.Equal(t, "gcp", r.Provider)
	assert.Equal(t, poller.StatusRunning, r.Status)
	got, err := f.s.Get(f.ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "gcp", got.Provider)
	assert.Equal(t, poller.StatusRunning, got.Status)

	r = f.put(t, persist.Record{Key: "b", Token: Token(t, "gcp", poller.StatusRunning), Provider: "mine", Status: poller.StatusFailed})
	assert.Equal(t, "mine", r.Provider, "given fields win over the token's")
	assert.Equal(t, poller.StatusFailed, r.Status)

	r = f.put(t, persist.Record{Key: "c", Token: "not a token", Status: "running"})
	assert.Equal(t, "", r.Provider, "an unreadable token is stored as is")
	assert.Equal(t, poller.StatusRunning, r.Status, "status spelling is normalized")
}

func testCopy(t *testing.T, f *fixture) {
	in := persist.Record{Key: "a", Token: "t", Labels: map[string]string{"k": "v"}}
	r := f.put(t, in)
	in.Labels["k"] = "changed"
	r.Labels["k"] = "changed too"
	got, err := f.s.Get(f.ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"k": "v"}, got.Labels)
	got.Labels["k"] = "and again"
	got2, err := f.s.Get(f.ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"k": "v"}, got2.Labels)
}

// OddKeys are valid keys that stress file naming and SQL: case variants
// (distinct on case-insensitive file systems), Windows device names,
// escapes, dots, unicode, LIKE metacharacters, and the longest key.
func OddKeys() []string {
	return []string{
		"deploy/prod/aks", "Ab", "aB", "AB", "ab", "con", "CON", "nul.txt", "com1", "lpt9/x", "a b", "a%2Fb", "a%2fb",
		"a.b", ".hidden", "...", "-", "_", "a~b", "x:y", `back\slash`, "ünïcödé/日本", "a%", "a_", `a\`, "100%_sure",
		strings.Repeat("k", persist.MaxKeyLen), strings.Repeat("K/", persist.MaxKeyLen/2-1) + "z",
		strings.Repeat("é", persist.MaxKeyLen/2),
	}
}

func testOddKeys(t *testing.T, f *fixture) {
	ks := OddKeys()
	for i, k := range ks {
		f.put(t, persist.Record{Key: k, Token: strconv.Itoa(i)})
	}
	for i, k := range ks {
		got, err := f.s.Get(f.ctx, k)
		require.NoError(t, err, "key %q", k)
		assert.Equal(t, k, got.Key)
		assert.Equal(t, strconv.Itoa(i), got.Token, "key %q", k)
	}
	all, err := f.s.List(f.ctx, persist.Filter{})
	require.NoError(t, err)
	want := slices.Clone(ks)
	slices.Sort(want)
	assert.Equal(t, want, keys(all), "List returns every key once, byte-wise sorted")
	for _, k := range ks {
		require.NoError(t, f.s.Delete(f.ctx, k, 0), "key %q", k)
	}
	all, err = f.s.List(f.ctx, persist.Filter{})
	require.NoError(t, err)
	assert.Empty(t, all)
}

func testInvalid(t *testing.T, f *fixture) {
	many := map[string]string{}
	for i := range persist.MaxLabels + 1 {
		many[fmt.Sprint("l", i)] = "v"
	}
	tests := []struct {
		name string
		r    persist.Record
	}{
		{"empty key", persist.Record{Token: "t"}},
		{"key with NUL", persist.Record{Key: "a\x00b", Token: "t"}},
		{"key with newline", persist.Record{Key: "a\nb", Token: "t"}},
		{"parent segment", persist.Record{Key: "../escape", Token: "t"}},
		{"inner parent segment", persist.Record{Key: "a/../../b", Token: "t"}},
		{"dot segment", persist.Record{Key: "a/./b", Token: "t"}},
		{"absolute key", persist.Record{Key: "/etc/passwd", Token: "t"}},
		{"trailing slash", persist.Record{Key: "a/", Token: "t"}},
		{"double slash", persist.Record{Key: "a//b", Token: "t"}},
		{"dot-dot key", persist.Record{Key: "..", Token: "t"}},
		{"invalid UTF-8 key", persist.Record{Key: "a\xffb", Token: "t"}},
		{"key too long", persist.Record{Key: strings.Repeat("k", persist.MaxKeyLen+1), Token: "t"}},
		{"token too large", persist.Record{Key: "a", Token: strings.Repeat("t", persist.MaxTokenLen+1)}},
		{"token with NUL", persist.Record{Key: "a", Token: "t\x00"}},
		{"unknown status", persist.Record{Key: "a", Token: "t", Status: "Exploded"}},
		{"detail too long", persist.Record{Key: "a", Token: "t", Detail: strings.Repeat("d", persist.MaxDetailLen+1)}},
		{"too many labels", persist.Record{Key: "a", Token: "t", Labels: many}},
		{"empty label key", persist.Record{Key: "a", Token: "t", Labels: map[string]string{"": "v"}}},
		{"label value too long", persist.Record{Key: "a", Token: "t", Labels: map[string]string{"k": strings.Repeat("v", persist.MaxLabelValueLen+1)}}},
		{"negative generation", persist.Record{Key: "a", Token: "t", Generation: -1}},
		{"expiry past year 9999", persist.Record{Key: "a", Token: "t", ExpiresAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"expiry before year 1 in UTC", persist.Record{Key: "a", Token: "t", ExpiresAt: time.Date(1, 1, 1, 0, 0, 0, 1, time.FixedZone("", 3600))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.Put(f.ctx, tc.r)
			require.ErrorIs(t, err, persist.ErrInvalid)
		})
	}
	for _, k := range []string{"", "../x", "a\x00", "/abs"} {
		_, err := f.s.Get(f.ctx, k)
		assert.ErrorIs(t, err, persist.ErrInvalid, "Get(%q)", k)
		assert.ErrorIs(t, f.s.Delete(f.ctx, k, 0), persist.ErrInvalid, "Delete(%q)", k)
	}
	_, err := f.s.List(f.ctx, persist.Filter{Status: []poller.Status{"Exploded"}})
	assert.ErrorIs(t, err, persist.ErrInvalid)
	_, err = f.s.List(f.ctx, persist.Filter{Prefix: "a\x00"})
	assert.ErrorIs(t, err, persist.ErrInvalid)
	all, err := f.s.List(f.ctx, persist.Filter{})
	require.NoError(t, err)
	assert.Empty(t, all, "refused input stores nothing")
}

func testLimits(t *testing.T, f *fixture) {
	labels := map[string]string{}
	for i := range persist.MaxLabels {
		labels[fmt.Sprintf("%0*d", persist.MaxLabelKeyLen, i)] = strings.Repeat("v", persist.MaxLabelValueLen)
	}
	in := persist.Record{Key: strings.Repeat("k", persist.MaxKeyLen), Token: strings.Repeat("t", persist.MaxTokenLen),
		Detail: strings.Repeat("d", persist.MaxDetailLen), Labels: labels}
	f.put(t, in)
	got, err := f.s.Get(f.ctx, in.Key)
	require.NoError(t, err)
	assert.Equal(t, in.Token, got.Token)
	assert.Equal(t, in.Detail, got.Detail)
	assert.Equal(t, in.Labels, got.Labels)
}

// How many goroutines the concurrency test runs, and how many increments
// each makes.
const concurrentWorkers, concurrentIncrements = 6, 15

// Increment adds one to the counter kept in the record's token under key,
// by compare-and-swap, retrying conflicts. It returns how many conflicts it
// met.
func Increment(ctx context.Context, s persist.Store, key string) (conflicts int, err error) {
	for {
		r, err := s.Get(ctx, key)
		if errors.Is(err, persist.ErrNotFound) {
			r = persist.Record{Key: key, Token: "0"}
		} else if err != nil {
			return conflicts, err
		}
		n, err := strconv.Atoi(r.Token)
		if err != nil {
			return conflicts, fmt.Errorf("counter %q is not a number", r.Token)
		}
		r.Token = strconv.Itoa(n + 1)
		if r.Generation == 0 {
			r.Token = "1"
		}
		_, err = s.Put(ctx, r)
		if errors.Is(err, persist.ErrConflict) {
			conflicts++
			continue
		}
		return conflicts, err
	}
}

func testConcurrentCAS(t *testing.T, f *fixture) {
	var wg sync.WaitGroup
	errs := make(chan error, concurrentWorkers)
	var mu sync.Mutex
	conflicts := 0
	for range concurrentWorkers {
		wg.Go(func() {
			for range concurrentIncrements {
				c, err := Increment(f.ctx, f.s, "counter")
				mu.Lock()
				conflicts += c
				mu.Unlock()
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := f.s.Get(f.ctx, "counter")
	require.NoError(t, err)
	const want = concurrentWorkers * concurrentIncrements
	assert.Equal(t, strconv.Itoa(want), got.Token, "no increment is lost")
	assert.Equal(t, int64(want), got.Generation, "one generation per successful put")
	t.Logf("%d increments, %d conflicts retried", want, conflicts)
}

func testExpiry(t *testing.T, f *fixture) {
	exp := Start.Add(time.Hour)
	f.put(t, persist.Record{Key: "short", Token: "t", Status: poller.StatusRunning, ExpiresAt: exp})
	f.put(t, persist.Record{Key: "long", Token: "t", Status: poller.StatusRunning})
	f.clock.Advance(time.Hour - time.Second)
	_, err := f.s.Get(f.ctx, "short")
	require.NoError(t, err, "not yet expired")

	f.clock.Advance(time.Second)
	_, err = f.s.Get(f.ctx, "short")
	require.ErrorIs(t, err, persist.ErrNotFound, "expired at ExpiresAt")
	all, err := f.s.List(f.ctx, persist.Filter{})
	require.NoError(t, err)
	assert.Equal(t, []string{"long"}, keys(all))
	assert.ErrorIs(t, f.s.Delete(f.ctx, "short", 0), persist.ErrNotFound)
	f.put(t, persist.Record{Key: "brief", Token: "t", ExpiresAt: f.now().Add(time.Second)})
	f.clock.Advance(time.Second)
	assert.ErrorIs(t, f.s.Delete(f.ctx, "brief", 0), persist.ErrNotFound, "an expired record is gone for Delete too")
	if l, ok := f.s.(persist.Leaser); ok {
		f.put(t, persist.Record{Key: "short2", Token: "t", Status: poller.StatusRunning, ExpiresAt: f.now()})
		got, err := l.Claim(f.ctx, "w", time.Minute, 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"long"}, keys(got), "expired records are never claimed")
	}
}

func testCreateOverExpired(t *testing.T, f *fixture) {
	old := f.put(t, persist.Record{Key: "a", Token: "old", ExpiresAt: Start.Add(time.Minute)})
	f.clock.Advance(time.Minute)
	_, err := f.s.Put(f.ctx, old)
	require.ErrorIs(t, err, persist.ErrConflict, "an expired record cannot be updated")
	r := f.put(t, persist.Record{Key: "a", Token: "new"})
	assert.Equal(t, int64(1), r.Generation)
	assert.True(t, r.ExpiresAt.IsZero())
	got, err := f.s.Get(f.ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "new", got.Token)
}

func seedList(t *testing.T, f *fixture) {
	for _, r := range []persist.Record{
		{Key: "deploy/prod/aks", Status: poller.StatusRunning, Labels: map[string]string{"env": "prod", "cloud": "azure"}},
		{Key: "deploy/prod/eks", Status: poller.StatusSucceeded, Labels: map[string]string{"env": "prod", "cloud": "aws"}},
		{Key: "deploy/staging/gke", Status: poller.StatusFailed, Labels: map[string]string{"env": "staging", "cloud": "gcp"}},
		{Key: "deploy/prodx", Status: poller.StatusRunning},
		{Key: "other/100%_done", Status: poller.StatusNotStarted, Labels: map[string]string{"env": "prod"}},
		{Key: "other/100xydone", Status: poller.StatusCanceled},
		{Key: "unknown", Labels: map[string]string{"env": "prod", "cloud": "azure", "x": "1"}},
	} {
		r.Token = "t"
		f.put(t, r)
	}
}

func testListFilters(t *testing.T, f *fixture) {
	seedList(t, f)
	tests := []struct {
		name string
		f    persist.Filter
		want []string
	}{
		{"all, sorted", persist.Filter{}, []string{"deploy/prod/aks", "deploy/prod/eks", "deploy/prodx", "deploy/staging/gke", "other/100%_done", "other/100xydone", "unknown"}},
		{"prefix", persist.Filter{Prefix: "deploy/prod/"}, []string{"deploy/prod/aks", "deploy/prod/eks"}},
		{"prefix without slash", persist.Filter{Prefix: "deploy/prod"}, []string{"deploy/prod/aks", "deploy/prod/eks", "deploy/prodx"}},
		{"prefix with LIKE metacharacters is literal", persist.Filter{Prefix: "other/100%_"}, []string{"other/100%_done"}},
		{"prefix matching nothing", persist.Filter{Prefix: "nope"}, nil},
		{"one status", persist.Filter{Status: []poller.Status{poller.StatusRunning}}, []string{"deploy/prod/aks", "deploy/prodx"}},
		{"status spelling is normalized", persist.Filter{Status: []poller.Status{"running"}}, []string{"deploy/prod/aks", "deploy/prodx"}},
		{"any of several statuses", persist.Filter{Status: []poller.Status{poller.StatusFailed, poller.StatusCanceled}}, []string{"deploy/staging/gke", "other/100xydone"}},
		{"one label", persist.Filter{Labels: map[string]string{"env": "prod"}}, []string{"deploy/prod/aks", "deploy/prod/eks", "other/100%_done", "unknown"}},
		{"every label must match", persist.Filter{Labels: map[string]string{"env": "prod", "cloud": "azure"}}, []string{"deploy/prod/aks", "unknown"}},
		{"label value must match", persist.Filter{Labels: map[string]string{"env": "dev"}}, nil},
		{"prefix, status and labels together", persist.Filter{Prefix: "deploy/", Status: []poller.Status{poller.StatusRunning, poller.StatusSucceeded}, Labels: map[string]string{"cloud": "aws"}}, []string{"deploy/prod/eks"}},
		{"limit", persist.Filter{Limit: 2}, []string{"deploy/prod/aks", "deploy/prod/eks"}},
		{"after", persist.Filter{After: "deploy/staging/gke"}, []string{"other/100%_done", "other/100xydone", "unknown"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.s.List(f.ctx, tc.f)
			require.NoError(t, err)
			assert.Equal(t, tc.want, nilIfEmpty(keys(got)))
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func testListPaging(t *testing.T, f *fixture) {
	seedList(t, f)
	var seen []string
	after := ""
	for page := 0; page < 10; page++ {
		rs, err := f.s.List(f.ctx, persist.Filter{Prefix: "", After: after, Limit: 3})
		require.NoError(t, err)
		if len(rs) == 0 {
			break
		}
		seen = append(seen, keys(rs)...)
		after = rs[len(rs)-1].Key
	}
	all, err := f.s.List(f.ctx, persist.Filter{})
	require.NoError(t, err)
	assert.Equal(t, keys(all), seen)
}

func testCanceled(t *testing.T, f *fixture) {
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	_, err := f.s.Put(ctx, persist.Record{Key: "a", Token: "t"})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = f.s.Get(ctx, "a")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = f.s.List(ctx, persist.Filter{})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = f.s.Get(f.ctx, "a")
	assert.ErrorIs(t, err, persist.ErrNotFound)
}

func testSweep(t *testing.T, f *fixture) {
	sw := f.sweeper(t)
	for i := range 5 {
		f.put(t, persist.Record{Key: fmt.Sprint("e", i), Token: "t", ExpiresAt: Start.Add(time.Duration(i+1) * time.Minute)})
	}
	f.put(t, persist.Record{Key: "keep", Token: "t"})
	n, err := sw.Sweep(f.ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, n)
	f.clock.Advance(3 * time.Minute)
	_, err = f.s.Get(f.ctx, "e0")
	require.ErrorIs(t, err, persist.ErrNotFound, "removed on access")
	n, err = sw.Sweep(f.ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "e1 and e2 were still stored, e0 was removed by Get")
	f.clock.Advance(time.Hour)
	n, err = sw.Sweep(f.ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	all, err := f.s.List(f.ctx, persist.Filter{})
	require.NoError(t, err)
	assert.Equal(t, []string{"keep"}, keys(all))
}

func seedClaim(t *testing.T, f *fixture) {
	for _, r := range []persist.Record{
		{Key: "run1", Status: poller.StatusRunning},
		{Key: "run2", Status: poller.StatusNotStarted},
		{Key: "run3"},
		{Key: "done", Status: poller.StatusSucceeded},
		{Key: "failed", Status: poller.StatusFailed},
		{Key: "canceled", Status: poller.StatusCanceled},
	} {
		r.Token = "t"
		f.put(t, r)
	}
}

func claimed(t *testing.T, rs []persist.Record) []string {
	t.Helper()
	k := keys(rs)
	slices.Sort(k)
	return nilIfEmpty(k)
}

func testClaim(t *testing.T, f *fixture) {
	l := f.leaser(t)
	seedClaim(t, f)
	a, err := l.Claim(f.ctx, "worker-a", time.Minute, 2)
	require.NoError(t, err)
	require.Len(t, a, 2)
	for _, r := range a {
		assert.Equal(t, "worker-a", r.Lease.Owner)
		assert.Equal(t, int64(1), r.Lease.Epoch)
		assert.True(t, r.Lease.Expires.Equal(Start.Add(time.Minute)))
		assert.Equal(t, int64(1), r.Generation, "a claim does not bump the generation")
		got, err := f.s.Get(f.ctx, r.Key)
		require.NoError(t, err)
		assert.Equal(t, r, got, "the claimed record is what is stored")
	}
	b, err := l.Claim(f.ctx, "worker-b", time.Minute, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"run1", "run2", "run3"}, claimed(t, append(a, b...)), "terminal records are never claimed, leased ones not twice")
	c, err := l.Claim(f.ctx, "worker-c", time.Minute, 10)
	require.NoError(t, err)
	assert.Empty(t, c)
	c, err = l.Claim(f.ctx, "worker-a", time.Minute, 10)
	require.NoError(t, err)
	assert.Empty(t, c, "an owner does not claim its own held records again")
}

func testClaimOrder(t *testing.T, f *fixture) {
	l := f.leaser(t)
	for _, k := range []string{"a", "b", "c"} {
		f.put(t, persist.Record{Key: k, Token: "t", Status: poller.StatusRunning})
	}
	first, err := l.Claim(f.ctx, "w", time.Minute, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, claimed(t, first), "never-leased records by key")
	f.clock.Advance(30 * time.Second)
	second, err := l.Claim(f.ctx, "w", time.Minute, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"b"}, claimed(t, second))
	f.clock.Advance(2 * time.Minute) // both leases lapsed; a's first
	next, err := l.Claim(f.ctx, "w", time.Minute, 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "c"}, claimed(t, next), "c never leased, then a, lapsed longest ago")
}

func testHandover(t *testing.T, f *fixture) {
	l := f.leaser(t)
	f.put(t, persist.Record{Key: "op", Token: "v0", Status: poller.StatusRunning})
	a, err := l.Claim(f.ctx, "worker-a", time.Minute, 1)
	require.NoError(t, err)
	require.Len(t, a, 1)

	f.clock.Advance(time.Minute) // a's lease lapses exactly now
	_, err = l.Renew(f.ctx, "op", a[0].Lease, time.Minute)
	require.ErrorIs(t, err, persist.ErrLeaseLost, "a lapsed lease cannot be renewed")
	b, err := l.Claim(f.ctx, "worker-b", time.Minute, 1)
	require.NoError(t, err)
	require.Len(t, b, 1, "a lapsed lease is handed over")
	assert.Equal(t, int64(2), b[0].Lease.Epoch, "every claim grows the epoch")

	stale := a[0]
	stale.Token = "from the past"
	_, err = f.s.Put(f.ctx, stale)
	require.ErrorIs(t, err, persist.ErrLeaseLost, "the old holder's write is fenced")
	stale.Generation = b[0].Generation
	_, err = f.s.Put(f.ctx, stale)
	require.ErrorIs(t, err, persist.ErrLeaseLost, "even at the current generation")
	require.ErrorIs(t, l.Release(f.ctx, "op", a[0].Lease), persist.ErrLeaseLost)
	_, err = l.Renew(f.ctx, "op", a[0].Lease, time.Minute)
	require.ErrorIs(t, err, persist.ErrLeaseLost)

	mine := b[0]
	mine.Token = "v1"
	out := f.put(t, mine)
	assert.Equal(t, b[0].Lease, out.Lease)
	got, err := f.s.Get(f.ctx, "op")
	require.NoError(t, err)
	assert.Equal(t, "v1", got.Token)
	assert.Equal(t, "worker-b", got.Lease.Owner)

	f.clock.Advance(time.Minute)
	mine = out
	mine.Token = "v2"
	_, err = f.s.Put(f.ctx, mine)
	require.ErrorIs(t, err, persist.ErrLeaseLost, "a lapsed lease fences its holder even when nobody claimed since")
}

func testEpochFence(t *testing.T, f *fixture) {
	l := f.leaser(t)
	f.put(t, persist.Record{Key: "op", Token: "v0"})
	first, err := l.Claim(f.ctx, "worker-a", time.Minute, 1)
	require.NoError(t, err)
	require.Len(t, first, 1)
	f.clock.Advance(2 * time.Minute)
	second, err := l.Claim(f.ctx, "worker-a", time.Minute, 1) // e.g. the worker restarted under the same name
	require.NoError(t, err)
	require.Len(t, second, 1)
	assert.Equal(t, first[0].Lease.Epoch+1, second[0].Lease.Epoch)

	old := first[0]
	old.Token = "from the first claim"
	_, err = f.s.Put(f.ctx, old)
	require.ErrorIs(t, err, persist.ErrLeaseLost, "same owner, older epoch")
	_, err = l.Renew(f.ctx, "op", first[0].Lease, time.Minute)
	require.ErrorIs(t, err, persist.ErrLeaseLost)
	require.ErrorIs(t, l.Release(f.ctx, "op", first[0].Lease), persist.ErrLeaseLost)
	cur := second[0]
	cur.Token = "v1"
	f.put(t, cur)
}

func testRenew(t *testing.T, f *fixture) {
	l := f.leaser(t)
	f.put(t, persist.Record{Key: "op", Token: "t"})
	a, err := l.Claim(f.ctx, "worker-a", time.Minute, 1)
	require.NoError(t, err)
	require.Len(t, a, 1)
	f.clock.Advance(50 * time.Second)
	lease, err := l.Renew(f.ctx, "op", a[0].Lease, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "worker-a", lease.Owner)
	assert.Equal(t, a[0].Lease.Epoch, lease.Epoch, "renewal keeps the epoch")
	assert.True(t, lease.Expires.Equal(Start.Add(110*time.Second)))
	f.clock.Advance(50 * time.Second) // past the first ttl, within the renewed one
	other, err := l.Claim(f.ctx, "worker-b", time.Minute, 1)
	require.NoError(t, err)
	assert.Empty(t, other, "a renewed lease is still held")
	r := a[0]
	r.Lease = lease
	r.Token = "t2"
	_, err = f.s.Put(f.ctx, r)
	require.NoError(t, err, "the holder writes under its renewed lease")
	_, err = l.Renew(f.ctx, "op", persist.Lease{Owner: "worker-b", Epoch: lease.Epoch}, time.Minute)
	require.ErrorIs(t, err, persist.ErrLeaseLost, "another owner cannot renew")
	_, err = l.Renew(f.ctx, "op", persist.Lease{Owner: "worker-a", Epoch: lease.Epoch + 1}, time.Minute)
	require.ErrorIs(t, err, persist.ErrLeaseLost, "another epoch cannot renew")
	_, err = l.Renew(f.ctx, "missing", lease, time.Minute)
	require.ErrorIs(t, err, persist.ErrLeaseLost)
}

// byKey indexes claimed records by key.
func byKey(rs []persist.Record) map[string]persist.Record {
	m := make(map[string]persist.Record, len(rs))
	for _, r := range rs {
		m[r.Key] = r
	}
	return m
}

func testRenewBatch(t *testing.T, f *fixture) {
	l, b := f.leaser(t), f.batchRenewer(t)
	for _, k := range []string{"a1", "a2", "a3", "a4", "b1", "gone", "expiring"} {
		r := persist.Record{Key: k, Token: "t", Status: poller.StatusRunning}
		if k == "expiring" {
			r.ExpiresAt = Start.Add(30 * time.Second)
		}
		f.put(t, r)
	}
	a, err := l.Claim(f.ctx, "worker-a", time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, a, 7)
	mine := byKey(a)
	b1 := mine["b1"]
	require.NoError(t, l.Release(f.ctx, "b1", b1.Lease))
	claimedB, err := l.Claim(f.ctx, "worker-b", time.Minute, 1)
	require.NoError(t, err)
	require.Equal(t, []string{"b1"}, claimed(t, claimedB))
	require.NoError(t, f.s.Delete(f.ctx, "gone", 0))
	require.NoError(t, l.Release(f.ctx, "a4", mine["a4"].Lease))

	f.clock.Advance(40 * time.Second) // "expiring" is gone, the leases still held
	ask := map[string]persist.Lease{}
	for k, r := range mine {
		ask[k] = r.Lease
	}
	ask["a3"] = persist.Lease{Owner: "worker-a", Epoch: mine["a3"].Lease.Epoch + 1, Expires: mine["a3"].Lease.Expires}
	ask["never"] = persist.Lease{Owner: "worker-a", Epoch: 1}
	got, err := b.RenewBatch(f.ctx, ask, time.Minute)
	require.NoError(t, err)
	want := map[string]persist.Lease{}
	for _, k := range []string{"a1", "a2"} {
		want[k] = persist.Lease{Owner: "worker-a", Epoch: mine[k].Lease.Epoch, Expires: Start.Add(100 * time.Second)}
	}
	assert.Equal(t, want, got, "only the held leases are renewed: not another owner's (b1), another epoch (a3), a released one (a4), a deleted (gone), expired (expiring) or missing record")

	for _, k := range []string{"a1", "a2"} {
		rec, err := f.s.Get(f.ctx, k)
		require.NoError(t, err)
		assert.Equal(t, want[k], rec.Lease, "stored lease of %s", k)
		assert.Equal(t, int64(1), rec.Generation, "a renewal does not bump the generation")
	}
	rec, err := f.s.Get(f.ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, claimedB[0].Lease, rec.Lease, "another owner's lease is untouched")
	rec, err = f.s.Get(f.ctx, "a3")
	require.NoError(t, err)
	assert.Equal(t, mine["a3"].Lease, rec.Lease, "a lease asked for under another epoch is untouched")

	f.clock.Advance(50 * time.Second) // past the first ttl, within the renewed one
	other, err := l.Claim(f.ctx, "worker-c", time.Minute, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"a3", "a4", "b1"}, claimed(t, other), "renewed leases are still held; the lapsed (a3, b1) and released (a4) ones are claimable")
	r := mine["a1"]
	r.Lease, r.Token = got["a1"], "t2"
	_, err = f.s.Put(f.ctx, r)
	require.NoError(t, err, "the holder writes under its renewed lease")

	empty, err := b.RenewBatch(f.ctx, nil, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, empty)
}

func testRenewBatchLapsed(t *testing.T, f *fixture) {
	l, b := f.leaser(t), f.batchRenewer(t)
	f.put(t, persist.Record{Key: "op", Token: "v0", Status: poller.StatusRunning})
	a, err := l.Claim(f.ctx, "worker-a", time.Minute, 1)
	require.NoError(t, err)
	require.Len(t, a, 1)

	f.clock.Advance(time.Minute) // a's lease lapses exactly now
	got, err := b.RenewBatch(f.ctx, map[string]persist.Lease{"op": a[0].Lease}, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, got, "a lapsed lease is not renewed, even when nobody claimed since")
	rec, err := f.s.Get(f.ctx, "op")
	require.NoError(t, err)
	assert.Equal(t, a[0].Lease, rec.Lease, "the lapsed lease stays as it was")
	stale := a[0]
	stale.Token = "late"
	_, err = f.s.Put(f.ctx, stale)
	require.ErrorIs(t, err, persist.ErrLeaseLost, "and still fences its holder")

	bb, err := l.Claim(f.ctx, "worker-b", time.Minute, 1)
	require.NoError(t, err)
	require.Len(t, bb, 1, "the lapsed record is claimable")
	got, err = b.RenewBatch(f.ctx, map[string]persist.Lease{"op": a[0].Lease}, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, got, "the old holder cannot renew over the new claim")
	got, err = b.RenewBatch(f.ctx, map[string]persist.Lease{"op": bb[0].Lease}, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, map[string]persist.Lease{"op": {Owner: "worker-b", Epoch: a[0].Lease.Epoch + 1, Expires: f.now().Add(time.Minute)}}, got)
}

func testRenewBatchArgs(t *testing.T, f *fixture) {
	b := f.batchRenewer(t)
	for _, tc := range []struct {
		name   string
		leases map[string]persist.Lease
		ttl    time.Duration
	}{
		{"zero ttl", map[string]persist.Lease{"a": {Owner: "w", Epoch: 1}}, 0},
		{"negative ttl", nil, -time.Second},
		{"invalid key", map[string]persist.Lease{"a/../b": {Owner: "w", Epoch: 1}}, time.Minute},
	} {
		_, err := b.RenewBatch(f.ctx, tc.leases, tc.ttl)
		assert.ErrorIs(t, err, persist.ErrInvalid, tc.name)
	}
}

func testRelease(t *testing.T, f *fixture) {
	l := f.leaser(t)
	f.put(t, persist.Record{Key: "op", Token: "t"})
	a, err := l.Claim(f.ctx, "worker-a", time.Hour, 1)
	require.NoError(t, err)
	require.Len(t, a, 1)
	require.ErrorIs(t, l.Release(f.ctx, "op", persist.Lease{Owner: "worker-b", Epoch: 1}), persist.ErrLeaseLost)
	require.NoError(t, l.Release(f.ctx, "op", a[0].Lease))
	got, err := f.s.Get(f.ctx, "op")
	require.NoError(t, err)
	assert.Equal(t, "", got.Lease.Owner)
	r := a[0]
	_, err = f.s.Put(f.ctx, r)
	require.ErrorIs(t, err, persist.ErrLeaseLost, "a released lease fences its former holder")
	require.ErrorIs(t, l.Release(f.ctx, "op", a[0].Lease), persist.ErrLeaseLost, "release twice")
	b, err := l.Claim(f.ctx, "worker-b", time.Hour, 1)
	require.NoError(t, err)
	require.Len(t, b, 1, "a released record is claimable at once")
	assert.Equal(t, int64(2), b[0].Lease.Epoch)
}

func testPutKeepsLease(t *testing.T, f *fixture) {
	l := f.leaser(t)
	f.put(t, persist.Record{Key: "op", Token: "t"})
	a, err := l.Claim(f.ctx, "worker-a", time.Hour, 1)
	require.NoError(t, err)
	require.Len(t, a, 1)
	r := a[0]
	r.Token = "fenced"
	r = f.put(t, r)
	assert.Equal(t, a[0].Lease, r.Lease)
	r.Token, r.Lease = "unfenced", persist.Lease{}
	out := f.put(t, r)
	assert.Equal(t, a[0].Lease, out.Lease, "an unfenced put keeps the stored lease")
	bogus := out
	bogus.Lease = persist.Lease{Owner: "impostor", Epoch: a[0].Lease.Epoch, Expires: a[0].Lease.Expires}
	_, err = f.s.Put(f.ctx, bogus)
	require.ErrorIs(t, err, persist.ErrLeaseLost, "a lease that is not the stored one is refused")
	_, err = f.s.Put(f.ctx, persist.Record{Key: "new", Token: "t", Lease: a[0].Lease})
	require.ErrorIs(t, err, persist.ErrLeaseLost, "a create under a lease cannot hold it")
}

func testConcurrentClaim(t *testing.T, f *fixture) {
	l := f.leaser(t)
	const records, workers = 60, 6
	for i := range records {
		f.put(t, persist.Record{Key: fmt.Sprintf("op%03d", i), Token: "t", Status: poller.StatusRunning})
	}
	var mu sync.Mutex
	got := map[string]string{}
	var dup []string
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		owner := fmt.Sprint("worker-", w)
		wg.Go(func() {
			for {
				rs, err := l.Claim(f.ctx, owner, time.Hour, 4)
				if err != nil {
					errs <- err
					return
				}
				if len(rs) == 0 {
					return
				}
				mu.Lock()
				for _, r := range rs {
					if _, ok := got[r.Key]; ok {
						dup = append(dup, r.Key)
					}
					got[r.Key] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Empty(t, dup, "no record is claimed twice")
	assert.Len(t, got, records, "every record is claimed")
	owners := map[string]int{}
	for _, o := range got {
		owners[o]++
	}
	t.Logf("claims per worker: %v", owners)
	for _, k := range slices.Sorted(maps.Keys(got)) {
		r, err := f.s.Get(f.ctx, k)
		require.NoError(t, err)
		assert.Equal(t, got[k], r.Lease.Owner, "stored owner of %s", k)
	}
}

func testClaimArgs(t *testing.T, f *fixture) {
	l := f.leaser(t)
	for _, tc := range []struct {
		name  string
		owner string
		ttl   time.Duration
		limit int
	}{
		{"empty owner", "", time.Minute, 1},
		{"owner with NUL", "a\x00", time.Minute, 1},
		{"owner too long", strings.Repeat("o", persist.MaxOwnerLen+1), time.Minute, 1},
		{"zero ttl", "w", 0, 1},
		{"negative ttl", "w", -time.Second, 1},
		{"zero limit", "w", time.Minute, 0},
	} {
		_, err := l.Claim(f.ctx, tc.owner, tc.ttl, tc.limit)
		assert.ErrorIs(t, err, persist.ErrInvalid, tc.name)
	}
	_, err := l.Renew(f.ctx, "a", persist.Lease{Owner: "w", Epoch: 1}, 0)
	assert.ErrorIs(t, err, persist.ErrInvalid)
}

package persist_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/persist/persisttest"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

// benchToken is about the size of a real Azure token.
var benchToken = "lrokit1." + strings.Repeat("x", 900)

func benchPut(b *testing.B, s persist.Store) {
	ctx := context.Background()
	r, err := s.Put(ctx, persist.Record{Key: "bench/put", Token: benchToken, Status: poller.StatusRunning, Labels: map[string]string{"env": "prod"}})
	require.NoError(b, err)
	b.ResetTimer()
	for b.Loop() {
		r, err = s.Put(ctx, r)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchGet(b *testing.B, s persist.Store) {
	ctx := context.Background()
	_, err := s.Put(ctx, persist.Record{Key: "bench/get", Token: benchToken, Status: poller.StatusRunning, Labels: map[string]string{"env": "prod"}})
	require.NoError(b, err)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Get(ctx, "bench/get"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryStore(b *testing.B) {
	b.Run("Put", func(b *testing.B) { benchPut(b, persist.NewMemoryStore(nil)) })
	b.Run("Get", func(b *testing.B) { benchGet(b, persist.NewMemoryStore(nil)) })
}

func BenchmarkFileStore(b *testing.B) {
	open := func(b *testing.B) persist.Store {
		s, err := persist.OpenFileStore(b.TempDir(), nil)
		require.NoError(b, err)
		b.Cleanup(func() { s.Close() })
		return s
	}
	b.Run("Put", func(b *testing.B) { benchPut(b, open(b)) })
	b.Run("Get", func(b *testing.B) { benchGet(b, open(b)) })
}

func BenchmarkPostgresStore(b *testing.B) {
	dsn := persisttest.PostgresDSN(b)
	b.Run("Put", func(b *testing.B) { benchPut(b, openPG(b, withTable(b, dsn, "put"), nil)) })
	b.Run("Get", func(b *testing.B) { benchGet(b, openPG(b, withTable(b, dsn, "get"), nil)) })
}

// BenchmarkPostgresClaim100k claims batches from a table of 100,000
// claimable records. Every iteration moves the virtual clock past the lease
// ttl, so the table stays full of claimable records.
func BenchmarkPostgresClaim100k(b *testing.B) {
	const records = 100_000
	clock := pollertest.NewClock(time.Now())
	s := openPG(b, persisttest.PostgresDSN(b), &persist.Options{Clock: clock})
	seedPG(b, s, records)
	_, err := serverConn(b).Exec(context.Background(), "ANALYZE "+persist.Table(s))
	require.NoError(b, err)
	for _, batch := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			ctx := context.Background()
			claimed := 0
			for b.Loop() {
				clock.Advance(2 * time.Second)
				rs, err := s.Claim(ctx, "bench", time.Second, batch)
				if err != nil {
					b.Fatal(err)
				}
				claimed += len(rs)
			}
			b.ReportMetric(float64(claimed)/b.Elapsed().Seconds(), "records/s")
		})
	}
	// Concurrent claimers (2 per CPU) skip each other's locked rows.
	b.Run("concurrent,batch=10", func(b *testing.B) {
		ctx := context.Background()
		start := time.Now()
		var claimed atomic.Int64
		b.SetParallelism(2)
		b.RunParallel(func(pb *testing.PB) {
			n := 0
			for pb.Next() {
				rs, err := s.Claim(ctx, "bench", time.Hour, 10)
				if err != nil {
					b.Error(err)
					return
				}
				n += len(rs)
				if len(rs) == 0 {
					clock.Advance(2 * time.Hour)
				}
			}
			claimed.Add(int64(n))
		})
		b.ReportMetric(float64(claimed.Load())/time.Since(start).Seconds(), "records/s")
	})
}

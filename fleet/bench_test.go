//go:build unix

package fleet

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/lrokit/lrokit/fleet/internal/fakecloud"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// BenchmarkEngine_TenThousandOperations runs one engine on the real clock
// over 10,000 operations that each want a poll every second (nominal 10,000
// polls/s) against the in-process fake, saving every poll to a memory store,
// and reports what it achieved. Run it with -benchtime=1x.
func BenchmarkEngine_TenThousandOperations(b *testing.B) {
	const n, window = 10_000, 10 * time.Second
	for range b.N {
		ctx := context.Background()
		cloud := fakecloud.New(poller.SystemClock)
		store := persist.NewMemoryStore(nil)
		for i := range n {
			tok, err := cloud.Start(fakecloud.Spec{Host: "api.example.com", Kind: "bench", Duration: 24 * time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Add(ctx, store, fmt.Sprintf("op/%05d", i), tok, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
		resolve := func(ctx context.Context, token string, opts *poller.Options) (Op, error) {
			p, spec, err := cloud.Resume(ctx, token, opts)
			return Op{Poller: p, Host: spec.Host, Kind: spec.Kind}, err
		}
		e, err := New(store, resolve, &Options{
			Workers: 8, ClaimBatch: n, LeaseTTL: time.Minute,
			Limits: HostLimits{Rate: 1e6},
			Policy: poller.Policy{Floor: time.Second, Cap: time.Second},
			Priors: PriorOptions{Disabled: true},
		})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var before, during runtime.MemStats
		runtime.ReadMemStats(&before)
		goroutinesBefore := runtime.NumGoroutine()

		ctx, cancel := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() { _ = e.Run(ctx); close(stopped) }()
		for e.Stats().Held < n {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(2 * time.Second) // settle into the schedule
		runtime.GC()
		runtime.ReadMemStats(&during)
		goroutines := runtime.NumGoroutine() - goroutinesBefore
		s0, cpu0 := e.Stats(), cpuTime()
		b.ResetTimer()
		time.Sleep(window)
		b.StopTimer()
		s1, cpu1 := e.Stats(), cpuTime()
		cancel()
		<-stopped

		polls := s1.Polls - s0.Polls
		b.ReportMetric(float64(polls)/window.Seconds(), "polls/s")
		b.ReportMetric(100*float64(polls)/window.Seconds()/n, "%nominal")
		b.ReportMetric(float64(during.HeapAlloc-before.HeapAlloc)/n, "heap-B/op")
		b.ReportMetric(float64(goroutines), "goroutines")
		b.ReportMetric(float64((cpu1-cpu0).Milliseconds())/float64(polls)*1000, "cpu-ms/1000polls")
		b.ReportMetric(float64(s1.Overdue), "overdue")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

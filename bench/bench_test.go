package bench

import (
	"testing"
	"time"
)

// BenchmarkStrategies simulates every strategy on a small wide workload and
// reports its figures: go test -bench Strategies ./bench/
func BenchmarkStrategies(b *testing.B) {
	sc := Scenario{Name: "bench", Workload: WorkloadSpec{Shape: Wide, N: 1000, Spread: time.Hour, Hosts: 4, Seed: 1}}
	w := Generate(sc.Workload)
	for _, s := range StrategiesFor(sc) {
		b.Run(s.Name(), func(b *testing.B) {
			var m Metrics
			for b.Loop() {
				m = Measure(sc.Name, Simulate(w, sc.Server, s, 1))
			}
			b.ReportMetric(m.ReqMean, "req/op")
			b.ReportMetric(m.LagP99.Seconds(), "p99-lag-s")
			b.ReportMetric(m.RelP99, "p99-rel-lag")
		})
	}
}

// BenchmarkLimit is the dynamic programme on 10,000 durations.
func BenchmarkLimit(b *testing.B) {
	d := Generate(WorkloadSpec{Shape: Wide, N: 10000, Seed: 1}).Durations()
	for b.Loop() {
		Limit(d, 60, false)
	}
}

package bench_test

import (
	"fmt"
	"time"

	"github.com/lrokit/lrokit/bench"
)

// Simulate one strategy on a seeded workload and compare it with the limit
// of any hint-free schedule at the same p99 lag.
func Example() {
	w := bench.Generate(bench.WorkloadSpec{Shape: bench.Wide, N: 1000, Spread: time.Hour, Hosts: 4, Seed: 1})
	m := bench.Measure("example", bench.Simulate(w, bench.ServerSpec{}, bench.Terraform(), 1))
	m.AddLimits(w.Durations())
	fmt.Printf("%s: %.1f requests/op, p99 lag %s, %.1f× the limit\n", m.Strategy, m.ReqMean, m.LagP99.Round(100*time.Millisecond), m.XLimitAbs)
	// Output: Terraform StateChangeConf: 57.7 requests/op, p99 lag 9.9s, 1.6× the limit
}

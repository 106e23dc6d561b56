//go:debug randseednop=0

// Command lrobench runs lrokit's polling benchmark: every strategy on every
// scenario, seeded, in virtual time. It prints the tables and writes
// results.md, results.csv and one SVG plot per scenario to -out.
//
//	go run ./bench/cmd/lrobench -out bench/results
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lrokit/lrokit/bench"
)

func main() {
	out := flag.String("out", "", "directory for results.md, results.csv and the plots (none if empty)")
	n := flag.Int("n", 10000, "operations per scenario")
	seed := flag.Uint64("seed", 1, "seed of the workloads, the servers and every random draw")
	only := flag.String("scenarios", "", "comma-separated scenario names to run (all if empty)")
	push := flag.Bool("push", false, "run only the push-notification table (issue 19): the fleet engine with notifications at several loss rates")
	flag.Parse()
	if *push {
		if err := runPush(*out, *n, *seed); err != nil {
			fmt.Fprintln(os.Stderr, "lrobench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*out, *n, *seed, *only); err != nil {
		fmt.Fprintln(os.Stderr, "lrobench:", err)
		os.Exit(1)
	}
}

func runPush(out string, n int, seed uint64) error {
	began := time.Now()
	r := bench.RunPush(bench.PushScenario(n, seed), func(m bench.PushMetrics) {
		fmt.Fprintf(os.Stderr, " [%s %s]", m.Strategy, m.CPU.Round(10*time.Millisecond))
	})
	fmt.Fprintln(os.Stderr)
	if err := bench.WritePush(os.Stdout, r); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "done in %s\n", time.Since(began).Round(time.Second))
	if out == "" {
		return nil
	}
	f, err := os.Create(filepath.Join(out, "push.txt"))
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "go run ./bench/cmd/lrobench -push -n %d -seed %d\n", n, seed)
	return bench.WritePush(f, r)
}

func run(out string, n int, seed uint64, only string) error {
	want := map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			want[s] = true
		}
	}
	if !bench.GlobalRandSeeded() {
		fmt.Fprintln(os.Stderr, "lrobench: warning: math/rand's global source cannot be seeded; the core's jitter is not reproducible")
	}
	began := time.Now()
	var results []bench.Result
	for _, sc := range bench.Scenarios(n, seed) {
		if len(want) > 0 && !want[sc.Name] {
			continue
		}
		fmt.Fprintf(os.Stderr, "%s:", sc.Name)
		r := bench.RunScenario(sc, bench.StrategiesFor(sc), func(m bench.Metrics) {
			fmt.Fprintf(os.Stderr, " [%s %s]", m.Strategy, m.CPU.Round(10*time.Millisecond))
		})
		fmt.Fprintln(os.Stderr)
		if err := bench.WriteText(os.Stdout, r); err != nil {
			return err
		}
		results = append(results, r)
	}
	goals := bench.CheckGoals(results)
	if err := bench.WriteGoals(os.Stdout, goals); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "done in %s\n", time.Since(began).Round(time.Second))
	if out == "" {
		return nil
	}
	return bench.WriteAll(out, results, goals, bench.RunInfo{N: n, Seed: seed})
}

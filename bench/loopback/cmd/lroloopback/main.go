// Command lroloopback runs the loopback benchmark: N concurrent operations
// per strategy (azcore PollUntilDone, the AWS waiter, longrunning Wait, the
// lrokit fleet engine) against a fake served by a child process, and prints
// a Markdown table.
//
//	go run ./bench/loopback/cmd/lroloopback -n 10000 -window 20s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/lrokit/lrokit/bench/loopback"
)

func main() {
	loopback.ServeChildFake()
	var cfg loopback.Config
	var strategies string
	inProcess := flag.Bool("in-process", false, "serve the fake in this process (figures then include it)")
	flag.IntVar(&cfg.N, "n", 10_000, "concurrent operations per strategy")
	flag.DurationVar(&cfg.Window, "window", 20*time.Second, "measured wall time per strategy")
	flag.DurationVar(&cfg.Warmup, "warmup", 5*time.Second, "time between the last start and the window")
	flag.DurationVar(&cfg.Ramp, "ramp", time.Second, "the peers' operation starts are spread over this")
	flag.IntVar(&cfg.Workers, "workers", 32, "fleet engine workers")
	flag.StringVar(&strategies, "strategies", strings.Join(loopback.Strategies, ","), "strategies to run, in order")
	cpuProfile := flag.String("cpuprofile", "", "write the client's CPU profile to this file")
	memProfile := flag.String("memprofile", "", "write the client's allocation profile to this file at the end")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	cfg.Strategies = strings.Split(strategies, ",")
	cfg.ChildFake = !*inProcess
	cfg.Log = os.Stderr
	results, err := loopback.Run(context.Background(), cfg)
	if *memProfile != "" {
		if f, err := os.Create(*memProfile); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			_ = f.Close()
		}
	}
	if len(results) > 0 {
		_ = loopback.WriteTable(os.Stdout, results)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

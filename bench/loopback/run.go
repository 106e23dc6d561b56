package loopback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// Config sizes a run. Zero fields take the defaults of the full run.
type Config struct {
	// N is the number of concurrent operations per strategy. Default 10,000.
	N int
	// Window is the measured wall time per strategy. Default 20 s.
	Window time.Duration
	// Warmup runs between the last operation's start and the window.
	// Default 5 s.
	Warmup time.Duration
	// Ramp spreads the peers' operation starts evenly. Default 1 s.
	Ramp time.Duration
	// Settle is the pause between strategies. Default 2 s.
	Settle time.Duration
	// Workers is the fleet engine's worker pool. Default 32.
	Workers int
	// Strategies to run, in order; default Strategies.
	Strategies []string
	// ChildFake serves the fake from a child process (this executable,
	// whose main must call ServeChildFake first), so that the figures are
	// the client's alone. Otherwise it runs in this process.
	ChildFake bool
	// Log receives progress lines; nil for none.
	Log io.Writer
}

func (c Config) resolved() Config {
	if c.N <= 0 {
		c.N = 10_000
	}
	if c.Window <= 0 {
		c.Window = 20 * time.Second
	}
	if c.Warmup <= 0 {
		c.Warmup = 5 * time.Second
	}
	if c.Ramp <= 0 {
		c.Ramp = time.Second
	}
	if c.Settle <= 0 {
		c.Settle = 2 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if len(c.Strategies) == 0 {
		c.Strategies = Strategies
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

// Result is one strategy's measurements.
type Result struct {
	Strategy string
	Label    string
	N        int
	// Window is the measured wall time.
	Window time.Duration
	// Nominal is the polls per second the loop aims at (N × its rate per
	// operation); Polls the status requests the fake answered in the window.
	Nominal float64
	Polls   int64
	// Goroutines is the client process's goroutines at steady state, less
	// those before the strategy started.
	Goroutines int
	// HeapPerOp and StackPerOp are the client's live heap (after GC) and
	// goroutine stacks at steady state, less those before the strategy
	// started (its clients included), per operation, in bytes.
	HeapPerOp, StackPerOp float64
	// TokenPerOp is the mean resume token length held per operation (fleet:
	// in the store, counted in HeapPerOp).
	TokenPerOp float64
	// SocketsOpened counts connections the fake accepted during the window;
	// SocketsTotal from the strategy's first request to its end; SocketsPeak
	// is the most open at once.
	SocketsOpened, SocketsTotal, SocketsPeak int64
	// CPUPer1000 is the client process's CPU time (user + system) per 1,000
	// polls in the window; FakeCPUPer1000 the fake's (equal to CPUPer1000
	// and included in it when the fake runs in process).
	CPUPer1000, FakeCPUPer1000 time.Duration
	// AllocsPerPoll is the client process's heap allocations per poll.
	AllocsPerPoll float64
	// MachineBusy is the fraction of the machine's CPU busy during the
	// window, and OthersCPU the CPU cores other processes than the client
	// and the fake used meanwhile (Linux; zero elsewhere).
	MachineBusy, OthersCPU float64
	// PipelineAllocs (fleet only) is the provider client alone: heap
	// allocations per status GET through the same azcore pipeline, measured
	// sequentially after the engine stopped. AllocsPerPoll − PipelineAllocs
	// is lrokit's own cost per poll (adapter, core, engine, store).
	PipelineAllocs float64
	// Completed and Failed count operations that ended after the window;
	// Err is the first failure.
	Completed, Failed int64
	Err               string
	// ChildFake reports whether the fake ran in its own process.
	ChildFake bool
}

// PollsPerSecond is the rate achieved in the window.
func (r Result) PollsPerSecond() float64 { return float64(r.Polls) / r.Window.Seconds() }

// OfNominal is the achieved rate as a fraction of the nominal rate.
func (r Result) OfNominal() float64 { return r.PollsPerSecond() / r.Nominal }

// Run runs every configured strategy in turn against one fake and returns
// their measurements.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	cfg = cfg.resolved()
	RaiseFileLimit()
	var (
		f   fake
		err error
	)
	if cfg.ChildFake {
		f, err = startChildFake()
	} else {
		f, err = StartFake()
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Result
	for _, name := range cfg.Strategies {
		s, ok := strategies[name]
		if !ok {
			return out, fmt.Errorf("loopback: no strategy %q (%s)", name, strings.Join(Strategies, ", "))
		}
		r, err := runOne(ctx, cfg, f, name, s)
		if err != nil {
			return out, fmt.Errorf("loopback: %s: %w", name, err)
		}
		fmt.Fprintf(cfg.Log, "%s: %.0f polls/s (%.1f %% of %.0f), %d goroutines, %.0f B heap/op, %d sockets in window (peak %d), %v CPU/1000 polls, %.1f allocs/poll, %d/%d completed; machine %.0f %% busy, others %.2f cores\n",
			name, r.PollsPerSecond(), 100*r.OfNominal(), r.Nominal, r.Goroutines, r.HeapPerOp, r.SocketsOpened, r.SocketsPeak,
			r.CPUPer1000.Round(time.Microsecond), r.AllocsPerPoll, r.Completed, r.N, 100*r.MachineBusy, r.OthersCPU)
		out = append(out, r)
		time.Sleep(cfg.Settle)
	}
	return out, nil
}

func runOne(ctx context.Context, cfg Config, f fake, name string, s strategy) (Result, error) {
	res := Result{Strategy: name, Label: s.label, N: cfg.N, Nominal: s.nominal * float64(cfg.N), ChildFake: cfg.ChildFake}
	var m0, m1, m2 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	g0 := runtime.NumGoroutine()
	f.ResetPeak()
	st0 := f.Stats()
	open0 := st0.HTTPOpen
	accepted := func(st FakeStats) int64 { return st.HTTPAccepted }
	if s.grpc {
		open0 = st0.GRPCOpen
		accepted = func(st FakeStats) int64 { return st.GRPCAccepted }
	}

	// Operations complete just after the window; preparing is budgeted at
	// 2,000 operations a second (10,000 take about 2 s on 2 cores).
	prepBudget := cfg.Ramp + 300*time.Millisecond + time.Duration(cfg.N)*time.Second/2000
	e := &env{fake: f, n: cfg.N, ramp: cfg.Ramp, workers: cfg.Workers,
		done: time.Now().Add(prepBudget + cfg.Ramp + cfg.Warmup + cfg.Window + cfg.Settle)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := s.new()
	if err := r.prepare(ctx, e); err != nil {
		return res, fmt.Errorf("preparing: %w", err)
	}
	r.start(ctx, e)
	time.Sleep(cfg.Ramp + cfg.Warmup)

	runtime.GC()
	runtime.ReadMemStats(&m1)
	res.Goroutines = runtime.NumGoroutine() - g0
	res.HeapPerOp = float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / float64(cfg.N)
	res.StackPerOp = float64(int64(m1.StackInuse)-int64(m0.StackInuse)) / float64(cfg.N)
	res.TokenPerOp = float64(e.tokenBytes) / float64(cfg.N)
	st1, cpu1, t1 := f.Stats(), processCPU(), time.Now()
	busy1, total1 := machineCPU()
	window := min(cfg.Window, time.Until(e.done))
	if window < cfg.Window/4 {
		return res, errors.New("preparing took longer than budgeted: no time left to measure")
	}
	time.Sleep(window)
	st2, cpu2 := f.Stats(), processCPU()
	res.Window = time.Since(t1)
	if busy2, total2 := machineCPU(); total2 > total1 {
		res.MachineBusy = float64(busy2-busy1) / float64(total2-total1)
		others := busy2 - busy1 - (cpu2 - cpu1)
		if cfg.ChildFake {
			others -= st2.CPU - st1.CPU
		}
		res.OthersCPU = max(0, others.Seconds()/res.Window.Seconds())
	}
	runtime.ReadMemStats(&m2)

	res.Polls = s.pollsOf(st2) - s.pollsOf(st1)
	k := 1000 / float64(max(res.Polls, 1))
	res.CPUPer1000 = time.Duration(float64(cpu2-cpu1) * k)
	res.FakeCPUPer1000 = time.Duration(float64(st2.CPU-st1.CPU) * k)
	res.AllocsPerPoll = float64(m2.Mallocs-m1.Mallocs) / float64(max(res.Polls, 1))
	res.SocketsOpened = accepted(st2) - accepted(st1)

	// Let every operation reach its completion time and be seen done.
	deadline := e.done.Add(30 * time.Second)
	for e.completed.Load()+e.failed.Load() < int64(cfg.N) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	st3 := f.Stats()
	peak := st3.HTTPPeak
	if s.grpc {
		peak = st3.GRPCPeak
	}
	res.SocketsPeak = peak - open0
	res.SocketsTotal = accepted(st3) - accepted(st0)
	cancel()
	r.closeIdle()
	if c, ok := r.(interface {
		pipelineAllocs(context.Context, *env) (float64, error)
	}); ok {
		a, err := c.pipelineAllocs(context.WithoutCancel(ctx), e)
		if err != nil {
			return res, fmt.Errorf("measuring the pipeline alone: %w", err)
		}
		res.PipelineAllocs = a
	}
	res.Completed, res.Failed = e.completed.Load(), e.failed.Load()
	if p := e.firstErr.Load(); p != nil {
		res.Err = (*p).Error()
	}
	return res, nil
}

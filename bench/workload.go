package bench

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Shape is the duration distribution of a workload.
type Shape int

const (
	// Wide is one kind of operation with log-normal durations, median
	// 4 min, σ 1.2, clipped to [8 s, 3 h]: seconds to hours in one fleet.
	Wide Shape = iota
	// Kinds is ten kinds of operation with medians log-spaced from 10 s to
	// 1 h and tight spreads (σ 0.2–0.5), like per-resource-type durations,
	// clipped to [1 s, 3 h].
	Kinds
)

func (s Shape) String() string {
	if s == Kinds {
		return "kinds"
	}
	return "wide"
}

// Wide's parameters.
const (
	wideMedian = 4 * time.Minute
	wideSigma  = 1.2
	wideMin    = 8 * time.Second
	wideMax    = 3 * time.Hour
	kindsMin   = time.Second
)

// kindSigmas are the kinds' log-normal σ, in order of increasing median;
// deliberately not monotone so that spread does not follow the median.
var kindSigmas = [10]float64{0.30, 0.45, 0.20, 0.50, 0.35, 0.25, 0.40, 0.30, 0.50, 0.20}

// Kind is a population of operations with one duration distribution.
type Kind struct {
	Name   string
	Median time.Duration
	Sigma  float64
}

// Op is one simulated long-running operation. Times are virtual, measured
// from the simulation's epoch.
type Op struct {
	ID       int
	Kind     int // index into Workload.Kinds
	Host     int
	Start    time.Duration
	Duration time.Duration
}

// Completion is when the operation finishes on the server.
func (o *Op) Completion() time.Duration { return o.Start + o.Duration }

// WorkloadSpec describes a workload to generate.
type WorkloadSpec struct {
	Shape Shape
	// N is the number of operations (spread evenly over the kinds).
	N int
	// Spread is the window over which start times are drawn uniformly;
	// zero means every operation starts at once.
	Spread time.Duration
	// Hosts is how many endpoints the operations are spread over.
	Hosts int
	Seed  uint64
}

// Workload is a set of operations, sorted by start time.
type Workload struct {
	Spec  WorkloadSpec
	Kinds []Kind
	Ops   []Op
}

// KindsOf returns the kinds of a shape.
func KindsOf(s Shape) []Kind {
	if s == Wide {
		return []Kind{{Name: "wide", Median: wideMedian, Sigma: wideSigma}}
	}
	ks := make([]Kind, len(kindSigmas))
	for i := range ks {
		// 10 s × 360^(i/9): 10 s … 1 h.
		m := time.Duration(10 * math.Pow(360, float64(i)/9) * float64(time.Second)).Round(time.Second)
		ks[i] = Kind{Name: fmt.Sprintf("k%d~%s", i, m), Median: m, Sigma: kindSigmas[i]}
	}
	return ks
}

// Generate draws the workload described by spec. The same spec always gives
// the same operations.
func Generate(spec WorkloadSpec) *Workload {
	if spec.Hosts <= 0 {
		spec.Hosts = 1
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x6c726f6b6974)) // "lrokit"
	w := &Workload{Spec: spec, Kinds: KindsOf(spec.Shape)}
	lo, hi := kindsMin, wideMax
	if spec.Shape == Wide {
		lo = wideMin
	}
	w.Ops = make([]Op, spec.N)
	for i := range w.Ops {
		k := i % len(w.Kinds)
		kind := w.Kinds[k]
		d := time.Duration(float64(kind.Median) * math.Exp(kind.Sigma*rng.NormFloat64()))
		var start time.Duration
		if spec.Spread > 0 {
			start = time.Duration(rng.Int64N(int64(spec.Spread)))
		}
		w.Ops[i] = Op{Kind: k, Host: rng.IntN(spec.Hosts), Start: start, Duration: min(max(d, lo), hi).Round(time.Millisecond)}
	}
	slices.SortStableFunc(w.Ops, func(a, b Op) int { return cmp.Compare(a.Start, b.Start) })
	for i := range w.Ops {
		w.Ops[i].ID = i
	}
	return w
}

// Durations returns the operations' durations, per kind.
func (w *Workload) Durations() [][]time.Duration {
	out := make([][]time.Duration, len(w.Kinds))
	for _, op := range w.Ops {
		out[op.Kind] = append(out[op.Kind], op.Duration)
	}
	return out
}

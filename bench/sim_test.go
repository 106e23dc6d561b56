//go:debug randseednop=0

package bench

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/poller"
)

// oracle polls once, exactly at completion; late polls once, lag later.
func oracle(lag time.Duration) Strategy {
	return PerOp{Label: "oracle", Setup: func(*Env) StartFunc {
		return func(env *Env, op *Op, now time.Duration) (Waiter, time.Duration) {
			return waiterFunc(func(now time.Duration) (time.Duration, bool) {
				if env.Request(op, now).Done {
					env.Detected(op, now)
				} else {
					env.Abandoned(op, now)
				}
				return 0, true
			}), op.Completion() + lag
		}
	}}
}

type waiterFunc func(time.Duration) (time.Duration, bool)

func (f waiterFunc) Step(now time.Duration) (time.Duration, bool) { return f(now) }

func small(shape Shape, spread time.Duration) *Workload {
	return Generate(WorkloadSpec{Shape: shape, N: 400, Spread: spread, Hosts: 4, Seed: 11})
}

func TestGenerateIsSeededAndWithinBounds(t *testing.T) {
	spec := WorkloadSpec{Shape: Wide, N: 5000, Spread: time.Hour, Hosts: 10, Seed: 3}
	w := Generate(spec)
	assert.Equal(t, w.Ops, Generate(spec).Ops, "same seed, same workload")
	var d []time.Duration
	for i, op := range w.Ops {
		require.Equal(t, i, op.ID)
		require.GreaterOrEqual(t, op.Duration, wideMin)
		require.LessOrEqual(t, op.Duration, wideMax)
		require.Less(t, op.Start, time.Hour)
		require.Less(t, op.Host, 10)
		if i > 0 {
			require.GreaterOrEqual(t, op.Start, w.Ops[i-1].Start)
		}
		d = append(d, op.Duration)
	}
	slices.Sort(d)
	assert.InEpsilon(t, wideMedian.Seconds(), quantile(d, 0.5).Seconds(), 0.1)

	k := Generate(WorkloadSpec{Shape: Kinds, N: 5000, Seed: 3})
	require.Len(t, k.Kinds, 10)
	assert.Equal(t, 10*time.Second, k.Kinds[0].Median)
	assert.Equal(t, time.Hour, k.Kinds[9].Median)
	for i, ds := range k.Durations() {
		slices.Sort(ds)
		assert.Len(t, ds, 500)
		assert.InEpsilon(t, k.Kinds[i].Median.Seconds(), quantile(ds, 0.5).Seconds(), 0.1, "kind %d", i)
	}
}

func TestOracleHasNoLagAndOneRequest(t *testing.T) {
	w := small(Wide, time.Hour)
	m := Measure("t", Simulate(w, ServerSpec{}, oracle(0), 1))
	assert.Equal(t, 1.0, m.ReqMean)
	assert.Equal(t, time.Duration(0), m.LagMax)
	assert.Equal(t, 1.0, m.SlowP99)
	assert.Zero(t, m.Abandoned)
}

func TestMeasureComputesLagFigures(t *testing.T) {
	w := small(Wide, 0)
	m := Measure("t", Simulate(w, ServerSpec{}, oracle(10*time.Second), 1))
	assert.Equal(t, 10*time.Second, m.LagP50)
	assert.Equal(t, 10*time.Second, m.LagMax)
	var rel []float64
	for _, op := range w.Ops {
		rel = append(rel, 10/op.Duration.Seconds())
	}
	slices.Sort(rel)
	assert.InDelta(t, quantile(rel, 0.99), m.RelP99, 1e-12)
	assert.InDelta(t, 1+quantile(rel, 0.99), m.SlowP99, 1e-12)
}

func TestQuantileIsNearestRank(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		q    float64
		want float64
	}{{0, 1}, {0.1, 1}, {0.11, 2}, {0.5, 5}, {0.99, 10}, {1, 10}} {
		assert.Equal(t, tc.want, quantile(s, tc.q), "q=%v", tc.q)
	}
	assert.Zero(t, quantile([]float64{}, 0.5))
}

func TestEventQueueOrdersByTimeThenInsertion(t *testing.T) {
	var q eventQueue
	for i, at := range []time.Duration{5, 1, 3, 1, 9, 0, 3} {
		q.push(at, i)
	}
	var got []int
	for len(q.ev) > 0 {
		got = append(got, q.pop().op)
	}
	assert.Equal(t, []int{5, 1, 3, 2, 6, 0, 4}, got)
}

func TestServerAnswers(t *testing.T) {
	w := &Workload{Spec: WorkloadSpec{Hosts: 2}, Kinds: KindsOf(Wide),
		Ops: []Op{{ID: 0, Host: 0, Duration: 100 * time.Second}, {ID: 1, Host: 1, Duration: 100 * time.Second}}}
	tests := []struct {
		name   string
		spec   ServerSpec
		op     int
		now    time.Duration
		want   Response
		wantIn Response
	}{
		{"no hints", ServerSpec{}, 0, 10 * time.Second, Response{Code: 200}, Response{Code: 200}},
		{"accurate rounds the time left up", ServerSpec{Hint: HintAccurate, HintShare: 1}, 0, 10*time.Second + time.Millisecond,
			Response{Code: 200, RetryAfter: 90 * time.Second, Hinted: true}, Response{Code: 200, RetryAfter: 100 * time.Second, Hinted: true}},
		{"guess", ServerSpec{Hint: HintGuess, HintShare: 1, Guess: 7 * time.Second}, 1, time.Second,
			Response{Code: 200, RetryAfter: 7 * time.Second, Hinted: true}, Response{Code: 200, RetryAfter: 7 * time.Second, Hinted: true}},
		{"zero is a hint", ServerSpec{Hint: HintZero, HintShare: 1}, 0, time.Second, Response{Code: 200, Hinted: true}, Response{Code: 200, Hinted: true}},
		{"half the hosts hint", ServerSpec{Hint: HintZero, HintShare: 0.5}, 1, time.Second, Response{Code: 200}, Response{Code: 200}},
		{"done", ServerSpec{Hint: HintAccurate, HintShare: 1}, 0, 100 * time.Second, Response{Code: 200, Done: true},
			Response{Code: 200, RetryAfter: 100 * time.Second, Hinted: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(w, tc.spec, 1)
			assert.Equal(t, tc.want, env.Request(&w.Ops[tc.op], tc.now))
			assert.Equal(t, tc.wantIn, env.Initial(&w.Ops[tc.op]))
		})
	}
}

func TestServerRateLimitAnswers429WithRetryAfter(t *testing.T) {
	w := &Workload{Spec: WorkloadSpec{Hosts: 1}, Kinds: KindsOf(Wide), Ops: make([]Op, 5)}
	for i := range w.Ops {
		w.Ops[i] = Op{ID: i, Duration: time.Hour}
	}
	env := newEnv(w, ServerSpec{RateLimit: 0.5, Burst: 2}, 1)
	var codes []int
	for i := range w.Ops {
		r := env.Request(&w.Ops[i], time.Second)
		codes = append(codes, r.Code)
		if r.Code == 429 {
			assert.Equal(t, 2*time.Second, r.RetryAfter, "one token every 2 s")
		}
	}
	assert.Equal(t, []int{200, 200, 429, 429, 429}, codes)
	assert.Equal(t, 3, env.throttled)
	assert.Equal(t, 200, env.Request(&w.Ops[0], 3*time.Second).Code, "a token is back")
}

func TestServerErrorRateIsDeterministicPerRequest(t *testing.T) {
	w := small(Wide, 0)
	count := func() int {
		env := newEnv(w, ServerSpec{ErrorRate: 0.1}, 42)
		n := 0
		for range 50 {
			for i := range w.Ops {
				if env.Request(&w.Ops[i], 0).Code == 503 {
					n++
				}
			}
		}
		return n
	}
	n := count()
	assert.Equal(t, n, count())
	assert.InDelta(t, 0.1, float64(n)/float64(50*len(w.Ops)), 0.01)
}

func TestSimulateIsDeterministic(t *testing.T) {
	w := small(Wide, time.Hour)
	spec := ServerSpec{ErrorRate: 0.05}
	for _, s := range []Strategy{Lrokit(LabelLrokit, poller.Policy{}), Longrunning(), AWSWaiter(), Azcore()} {
		a, b := Simulate(w, spec, s, 9), Simulate(w, spec, s, 9)
		assert.Equal(t, a.Env.requests, b.Env.requests, s.Name())
		assert.Equal(t, a.Env.ended, b.Env.ended, s.Name())
	}
}

func TestLrokitFollowsTheCorePolicy(t *testing.T) {
	pol := poller.Policy{}
	times, end := pollTimes(t, Lrokit(LabelLrokit, pol), 20*time.Minute, nil)
	assert.Equal(t, detected, end)
	prev := time.Duration(0)
	for i, at := range times {
		base := pol.BaseDelay(prev)
		gap := at - prev
		assert.GreaterOrEqual(t, gap, max(base*9/10, poller.DefaultFloor), "poll %d", i)
		assert.LessOrEqual(t, gap, base*11/10+time.Millisecond, "poll %d", i)
		prev = at
	}
	assert.LessOrEqual(t, times[len(times)-1]-times[len(times)-2], poller.DefaultCap*11/10)
}

func TestLrokitWaitsForTheExpectedDuration(t *testing.T) {
	p := NewPriors()
	for i := range 100 {
		p.Observe(0, time.Duration(300+i)*time.Second)
	}
	require.Equal(t, 300*time.Second, p.Expected(0))
	require.Zero(t, p.Expected(1), "no samples, no prior")
	times, _ := pollTimes(t, LrokitPriors(LabelPriors, poller.Policy{}, func() *Priors { return p }), 400*time.Second, nil)
	assert.GreaterOrEqual(t, times[0], 270*time.Second)
}

func TestLrokitRetriesThrottlingAndGivesUpAfterTheBudget(t *testing.T) {
	times, end := pollTimes(t, Lrokit(LabelLrokit, poller.Policy{}), time.Hour, func(time.Duration, int) Response {
		return Response{Code: 429, RetryAfter: 5 * time.Second, Hinted: true}
	})
	assert.Equal(t, abandoned, end)
	assert.Len(t, times, poller.DefaultRetryBudget+1)
	gs := gaps(times)
	for _, g := range gs {
		assert.GreaterOrEqual(t, g, 5*time.Second, "the 429's Retry-After is a minimum")
	}
	assert.Greater(t, gs[len(gs)-1], 30*time.Second, "the backoff still grows past the hint")
	_, end = pollTimes(t, Lrokit(LabelUnlimited, poller.Policy{RetryBudget: -1}), time.Minute, func(now time.Duration, n int) Response {
		if n < 30 {
			return Response{Code: 503}
		}
		return Response{Code: 200, Done: now >= time.Minute}
	})
	assert.Equal(t, detected, end)
}

func TestRunScenarioAddsLimitAndOracleRows(t *testing.T) {
	sc := Scenario{Name: "t", Workload: WorkloadSpec{Shape: Kinds, N: 300, Spread: time.Hour, Hosts: 3, Seed: 2}}
	r := RunScenario(sc, StrategiesFor(sc), nil)
	require.Len(t, r.Rows, 8+2, "lrokit's four rows (the fleet engine's included), four peers, limit, oracle")
	lim, orc := r.Rows[len(r.Rows)-2], r.Rows[len(r.Rows)-1]
	assert.True(t, lim.Computed)
	assert.Equal(t, 1.0, orc.ReqMean)
	for _, m := range r.Rows[:8] {
		assert.Zero(t, m.Abandoned, m.Strategy)
		assert.GreaterOrEqual(t, m.ReqMean, 1.0, m.Strategy)
		assert.InDelta(t, m.ReqMean/m.LimitAbs, m.XLimitAbs, 1e-9)
		assert.GreaterOrEqual(t, m.XLimitAbs, 1.0, "%s beats the hint-free limit without hints", m.Strategy)
	}
	for i := 1; i < len(r.CurveAbs); i++ {
		assert.LessOrEqual(t, r.CurveAbs[i].Requests, r.CurveAbs[i-1].Requests)
	}

	var md, text, svg, c bytes.Buffer
	require.NoError(t, WriteMarkdown(&md, r))
	require.NoError(t, WriteText(&text, r))
	assert.Contains(t, md.String(), "| azcore PollUntilDone |")
	assert.Contains(t, text.String(), FleetLabel)
	require.NoError(t, WriteCSV(&c, []Result{r}))
	recs, err := csv.NewReader(&c).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 1+len(r.Rows))
	for _, rec := range recs {
		require.Len(t, rec, len(csvHeader))
	}
	require.NoError(t, WriteSVG(&svg, r))
	dec := xml.NewDecoder(&svg)
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the SVG is well-formed XML")
	}
}

func TestCheckGoals(t *testing.T) {
	row := func(sc, s string, req, rel float64, lag time.Duration, ab int) Metrics {
		return Metrics{Scenario: sc, Strategy: s, ReqMean: req, RelP99: rel, LagP99: lag, Abandoned: ab}
	}
	az := Azcore().Name()
	res := []Result{
		{Scenario: Scenario{Name: "kinds-spread"}, Rows: []Metrics{
			row("kinds-spread", LabelPriors, 10, 0.3, time.Minute, 0), row("kinds-spread", LabelPriorsWarm, 12, 0.3, time.Minute, 0),
			row("kinds-spread", az, 28, 3, 30*time.Second, 0)}},
		{Scenario: Scenario{Name: "wide-spread"}, Rows: []Metrics{row("wide-spread", LabelLrokit, 20, 0.33, time.Minute, 0), row("wide-spread", az, 18, 1, 30*time.Second, 0)}},
		{Scenario: Scenario{Name: "wide-spread-hint-zero"}, Rows: []Metrics{row("wide-spread-hint-zero", LabelLrokit, 20.1, 0.33, time.Minute, 0)}},
		{Scenario: Scenario{Name: "wide-spread-ratelimit"}, Rows: []Metrics{row("wide-spread-ratelimit", LabelLrokit, 20, 0.33, time.Minute, 3)}},
	}
	verdicts := map[string]string{}
	for _, g := range CheckGoals(res) {
		verdicts[g.Scenario+"/"+g.Strategy] = g.verdict()
	}
	assert.Equal(t, map[string]string{
		"kinds-spread/" + LabelPriors:          "met",
		"kinds-spread/" + LabelPriorsWarm:      "MISSED",
		"wide-spread/" + LabelLrokit:           "met",
		"wide-spread-hint-zero/" + LabelLrokit: "MISSED",
		"wide-spread-ratelimit/" + LabelLrokit: "MISSED",
		"wide-spread-ratelimit/" + FleetLabel:  "NOT MEASURED",
	}, verdicts)
}

func TestReportFormats(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{0, "0"}, {1234 * time.Millisecond, "1.23s"}, {45100 * time.Millisecond, "45.1s"}, {726 * time.Second, "12m6s"}} {
		assert.Equal(t, tc.want, dur(tc.d))
	}
	assert.Equal(t, "∞", f2(math.Inf(1)))
	assert.True(t, strings.HasPrefix(Scenarios(10, 1)[8].Describe(), "wide, 10 ops"))
}

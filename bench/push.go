package bench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/poller"
)

// PushSpec is how notifications reach the fleet engine in a push row
// (issue 19): a share of the operations have a notification sent at
// completion, which arrives after a delay uniform in [MinDelay, MaxDelay]
// unless lost.
type PushSpec struct {
	Share              float64
	Loss               float64
	MinDelay, MaxDelay time.Duration
	// Quiet, when set, is the engine's SignalOptions.Quiet (a sensitivity
	// row); zero keeps the default, twice the policy's Cap.
	Quiet time.Duration
	// StopAt, when positive, is when the source falls silent: every
	// notification of an operation completing later is lost.
	StopAt time.Duration
}

// Push row defaults: the notification of every operation, 1-30 s late.
const (
	DefaultPushMinDelay = time.Second
	DefaultPushMaxDelay = 30 * time.Second
)

// PushLosses are the loss rates of the push table's main rows.
var PushLosses = []float64{0, 0.1, 0.5, 1}

// PushStopAt is when the source of the push table's "falls silent" row
// stops delivering: halfway through the starts.
const PushStopAt = 30 * time.Minute

// PushLabel names the push row of spec.
func PushLabel(s PushSpec) string {
	q := ""
	if s.Quiet != 0 {
		q += ", quiet " + s.Quiet.String()
	}
	if s.StopAt > 0 {
		q += ", silent from " + s.StopAt.String()
	}
	return fmt.Sprintf("fleet + push (%s sent, %s lost%s)", pct(s.Share), pct(s.Loss), q)
}

func pct(x float64) string { return strconv.FormatFloat(100*x, 'f', -1, 64) + "%" }

// PushStrategy is the fleet engine with notifications per spec, delivered
// with fleet.Engine.Signal by the resource URL a webhook would name. The
// engine's SignalOptions.Grace is the source's longest delay, MaxDelay, as
// its documentation asks; everything else is the default.
func PushStrategy(spec PushSpec) Strategy { return pushStrategy{spec} }

type pushStrategy struct{ spec PushSpec }

func (s pushStrategy) Name() string { return PushLabel(s.spec) }

func (s pushStrategy) NewDriver(env *Env) Driver {
	d := &pushDriver{fleetDriver: newFleetDriverWith(env, poller.Policy{}, fleet.SignalOptions{Quiet: s.spec.Quiet, Grace: s.spec.MaxDelay}), arrival: make([]time.Duration, len(env.W.Ops)), stopAt: s.spec.StopAt}
	rng := rand.New(rand.NewPCG(env.seed, 0x70757368))
	for i := range env.W.Ops {
		op := &env.W.Ops[i]
		d.arrival[i] = -1
		sent, lost := rng.Float64() < s.spec.Share, rng.Float64() < s.spec.Loss
		delay := s.spec.MinDelay + time.Duration(rng.Float64()*float64(s.spec.MaxDelay-s.spec.MinDelay))
		if s.spec.StopAt > 0 && op.Completion() >= s.spec.StopAt {
			lost = true
		}
		if sent && !lost {
			d.arrival[i] = op.Completion() + delay
			d.events = append(d.events, pushEvent{at: d.arrival[i], op: op.ID})
		}
	}
	slices.SortStableFunc(d.events, func(a, b pushEvent) int { return int(a.at - b.at) })
	env.push = d
	return d
}

type pushEvent struct {
	at time.Duration
	op int
}

// pushDriver is the fleet driver plus notifications, delivered at their
// arrival times between the engine's own wake-ups.
type pushDriver struct {
	*fleetDriver
	events  []pushEvent
	next    int
	arrival []time.Duration // per op; -1 when none arrives
	stopAt  time.Duration
}

func (d *pushDriver) Next() (time.Duration, bool) {
	t, ok := d.fleetDriver.Next()
	if ok && d.next < len(d.events) && d.events[d.next].at < t {
		return d.events[d.next].at, true
	}
	return t, ok
}

func (d *pushDriver) Step(now time.Duration) {
	d.fleetDriver.Step(now)
	for d.next < len(d.events) && d.events[d.next].at <= now {
		ev := d.events[d.next]
		d.next++
		mark := d.clock.Made()
		if d.engine.Signal(fleet.Signal{Source: "bench", Refs: []string{simURL(ev.op)}}) > 0 {
			d.waitSleep(mark)
		}
	}
}

// simURL is the resource URL a notification names a simulated operation by.
func simURL(id int) string { return fmt.Sprintf("https://sim.example/ops/%d", id) }

// PushMetrics are a push row's figures beside the poll-only fleet row's.
type PushMetrics struct {
	Metrics
	// EventP50 and EventP99 are the detection lag after the notification
	// arrived, over operations whose notification arrived (0 when a poll
	// saw the completion first).
	EventP50, EventP99 time.Duration
	Arrived            int
	// SilentP99 and SilentMax are the detection lag of the operations that
	// completed after the source fell silent (PushSpec.StopAt), in their
	// first SilentWindow (those the engine had to notice it with).
	SilentP99, SilentMax time.Duration
	Silent               int
}

// SilentWindow is how long after a source falls silent its operations
// count for PushMetrics.SilentP99.
const SilentWindow = 10 * time.Minute

// MeasurePush adds the lag after each notification to Measure's figures.
func MeasurePush(scenario string, r *Run) PushMetrics {
	m := PushMetrics{Metrics: Measure(scenario, r)}
	d := r.Env.push
	if d == nil {
		return m
	}
	var lags []time.Duration
	for i, a := range d.arrival {
		if a < 0 || r.Env.endState[i] != detected {
			continue
		}
		lags = append(lags, max(r.Env.ended[i]-a, 0))
	}
	slices.Sort(lags)
	m.Arrived = len(lags)
	m.EventP50, m.EventP99 = quantile(lags, 0.5), quantile(lags, 0.99)
	if d.stopAt > 0 {
		var silent []time.Duration
		for i := range r.Env.W.Ops {
			c := r.Env.W.Ops[i].Completion()
			if c >= d.stopAt && c < d.stopAt+SilentWindow && r.Env.endState[i] == detected {
				silent = append(silent, r.Env.ended[i]-c)
			}
		}
		slices.Sort(silent)
		m.Silent = len(silent)
		m.SilentP99 = quantile(silent, 0.99)
		if len(silent) > 0 {
			m.SilentMax = silent[len(silent)-1]
		}
	}
	return m
}

// PushResult is the push table of one workload.
type PushResult struct {
	Scenario Scenario
	PollOnly PushMetrics
	Rows     []PushMetrics
	Specs    []PushSpec
}

// PushScenario is the workload of the push table: wide-spread, no server
// hints, no throttling.
func PushScenario(n int, seed uint64) Scenario {
	return Scenario{Name: "wide-spread-push", Workload: WorkloadSpec{Shape: Wide, N: n, Spread: DefaultSpread, Hosts: DefaultHosts, Seed: seed}}
}

// RunPush simulates the poll-only fleet row and one push row per loss rate
// on sc. progress, if set, is told when each row is done.
func RunPush(sc Scenario, progress func(PushMetrics)) PushResult {
	w := Generate(sc.Workload)
	res := PushResult{Scenario: sc}
	one := func(s Strategy) PushMetrics {
		m := MeasurePush(sc.Name, Simulate(w, sc.Server, s, sc.Workload.Seed))
		if progress != nil {
			progress(m)
		}
		return m
	}
	res.PollOnly = one(fleetStrategy{})
	for _, loss := range PushLosses {
		spec := PushSpec{Share: 1, Loss: loss, MinDelay: DefaultPushMinDelay, MaxDelay: DefaultPushMaxDelay}
		res.Specs = append(res.Specs, spec)
		res.Rows = append(res.Rows, one(PushStrategy(spec)))
	}
	// What the settled state risks: a source that loses a little (near
	// the streak's bound), and one that falls silent halfway.
	for _, spec := range []PushSpec{
		{Share: 1, Loss: 0.01, MinDelay: DefaultPushMinDelay, MaxDelay: DefaultPushMaxDelay},
		{Share: 1, MinDelay: DefaultPushMinDelay, MaxDelay: DefaultPushMaxDelay, StopAt: PushStopAt},
	} {
		res.Specs = append(res.Specs, spec)
		res.Rows = append(res.Rows, one(PushStrategy(spec)))
	}
	return res
}

// PushGoals are issue 19's goals, checked on a push table.
type PushGoals struct {
	// At 0 % loss: at least 80 % fewer polls than poll-only, nothing
	// abandoned, and p50 lag after the notification ≤ 2 s.
	FewerPolls, EventLag, Correct bool
	// At 100 % loss: requests and p50/p99 lag within 5 % of poll-only.
	SilentCost, SilentLag bool
	// A source that falls silent costs the operations it stops notifying
	// at most twice the poll-only p99 lag (their p99).
	FallsSilent bool
}

// CheckPush evaluates PushGoals.
func CheckPush(r PushResult) PushGoals {
	var g PushGoals
	p := r.PollOnly
	g.Correct = p.Abandoned == 0
	for i, s := range r.Specs {
		m := r.Rows[i]
		g.Correct = g.Correct && m.Abandoned == 0
		if s.StopAt > 0 {
			g.FallsSilent = m.Silent > 0 && m.SilentP99 <= 2*p.LagP99
		}
		if s.Quiet != 0 || s.StopAt > 0 || (s.Loss != 0 && s.Loss != 1) {
			continue // not the rows the other goals name
		}
		switch s.Loss {
		case 0:
			g.FewerPolls = m.ReqMean <= 0.2*p.ReqMean
			g.EventLag = m.EventP50 <= 2*time.Second
		case 1:
			g.SilentCost = within(m.ReqMean, p.ReqMean, 0.05)
			g.SilentLag = within(m.LagP50.Seconds(), p.LagP50.Seconds(), 0.05) && within(m.LagP99.Seconds(), p.LagP99.Seconds(), 0.05)
		}
	}
	return g
}

func within(x, ref, tol float64) bool { return x <= ref*(1+tol) && x >= ref*(1-tol) }

// WritePush prints the push table and its goals.
func WritePush(out io.Writer, r PushResult) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\n%s: %s; notifications 1-30 s after completion\n", r.Scenario.Name, r.Scenario.Describe())
	fmt.Fprintln(tw, "strategy\treq/op\tvs poll-only\tlag p50\tlag p99\tlag max\tafter event p50\tafter event p99\tarrived\tabandoned\tsilent p99\tsilent max\t")
	row := func(m PushMetrics) {
		silentP99, silentMax := "", ""
		if m.Silent > 0 {
			silentP99, silentMax = dur(m.SilentP99), dur(m.SilentMax)
		}
		fmt.Fprintf(tw, "%s\t%s\t%+.0f%%\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t\n", m.Strategy, f2(m.ReqMean), 100*(m.ReqMean/r.PollOnly.ReqMean-1),
			dur(m.LagP50), dur(m.LagP99), dur(m.LagMax), dur(m.EventP50), dur(m.EventP99), m.Arrived, m.Abandoned, silentP99, silentMax)
	}
	row(r.PollOnly)
	for _, m := range r.Rows {
		row(m)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	g := CheckPush(r)
	_, err := fmt.Fprintf(out, "\ngoals: 0%% loss ≥80%% fewer polls: %s; 0%% loss p50 lag after event ≤2s: %s; nothing abandoned: %s; 100%% loss cost within 5%%: %s; 100%% loss lag within 5%%: %s; falls silent: p99 lag ≤2× poll-only: %s\n",
		met(g.FewerPolls), met(g.EventLag), met(g.Correct), met(g.SilentCost), met(g.SilentLag), met(g.FallsSilent))
	return err
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

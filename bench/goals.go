package bench

import (
	"fmt"
	"io"
	"time"
)

// Goal is one of issue 9's targets, checked against the figures.
type Goal struct {
	Goal     string
	Scenario string
	Strategy string
	Figures  string
	Met      bool
	// Measured is false when the figures needed do not exist yet.
	Measured bool
}

func find(results []Result, scenario, strategy string) (Metrics, bool) {
	for _, r := range results {
		if r.Scenario.Name != scenario {
			continue
		}
		for _, m := range r.Rows {
			if m.Strategy == strategy {
				return m, true
			}
		}
	}
	return Metrics{}, false
}

// CheckGoals evaluates issue 9's goals on the scenarios present in results.
func CheckGoals(results []Result) []Goal {
	var goals []Goal
	azcore := Azcore().Name()
	for _, sc := range []string{"kinds-spread", "kinds-together"} {
		az, ok := find(results, sc, azcore)
		if !ok {
			continue
		}
		for _, s := range []string{LabelPriors, LabelPriorsWarm} {
			m, _ := find(results, sc, s)
			x := m.ReqMean / az.ReqMean
			goals = append(goals, Goal{
				Goal:     "kinds, no hints: priors ≤ 0.4× azcore's requests, p99 rel lag ≤ 0.35, p99 lag ≤ 65 s",
				Scenario: sc, Strategy: s, Measured: true,
				Figures: fmt.Sprintf("%.2f× azcore (%.2f vs %.2f req/op), p99 rel %.2f, p99 lag %s",
					x, m.ReqMean, az.ReqMean, m.RelP99, dur(m.LagP99)),
				Met: x <= 0.4 && m.RelP99 <= 0.35 && m.LagP99 <= 65*time.Second,
			})
		}
	}
	for _, sc := range []string{"wide-together", "wide-spread"} {
		az, ok := find(results, sc, azcore)
		if !ok {
			continue
		}
		m, _ := find(results, sc, LabelLrokit)
		x := m.ReqMean / az.ReqMean
		goals = append(goals, Goal{
			Goal:     "wide, no hints: default ≤ 1.2× azcore's requests with p99 rel lag ≤ 0.35",
			Scenario: sc, Strategy: LabelLrokit, Measured: true,
			Figures: fmt.Sprintf("%.2f× azcore (%.2f vs %.2f req/op), p99 rel %.2f (azcore %.2f)",
				x, m.ReqMean, az.ReqMean, m.RelP99, az.RelP99),
			Met: x <= 1.2 && m.RelP99 <= 0.35,
		})
	}
	if m, ok := find(results, "wide-spread-hint-accurate", LabelLrokit); ok {
		goals = append(goals, Goal{
			Goal:     "accurate hints: p99 lag ≤ 1.5 s",
			Scenario: "wide-spread-hint-accurate", Strategy: LabelLrokit, Measured: true,
			Figures: fmt.Sprintf("p99 lag %s, max %s, %.2f req/op", dur(m.LagP99), dur(m.LagMax), m.ReqMean),
			Met:     m.LagP99 <= 1500*time.Millisecond,
		})
	}
	zero, ok1 := find(results, "wide-spread-hint-zero", LabelLrokit)
	none, ok2 := find(results, "wide-spread", LabelLrokit)
	if ok1 && ok2 {
		goals = append(goals, Goal{
			Goal:     "Retry-After: 0 everywhere: no more requests than no hint",
			Scenario: "wide-spread-hint-zero", Strategy: LabelLrokit, Measured: true,
			Figures: fmt.Sprintf("%.3f req/op vs %.3f without hints (%+.2f%%)", zero.ReqMean, none.ReqMean,
				100*(zero.ReqMean/none.ReqMean-1)),
			Met: zero.ReqMean <= none.ReqMean,
		})
	}
	for _, sc := range []string{"wide-together-ratelimit", "wide-spread-ratelimit"} {
		m, ok := find(results, sc, LabelLrokit)
		if !ok {
			continue
		}
		goals = append(goals, Goal{
			Goal:     "per-host limit: 0 operations abandoned",
			Scenario: sc, Strategy: LabelLrokit, Measured: true,
			Figures: fmt.Sprintf("%d abandoned, %d 429s", m.Abandoned, m.Throttled),
			Met:     m.Abandoned == 0,
		})
		f, ok := find(results, sc, FleetLabel)
		g := Goal{Goal: "per-host limit: 0 abandoned, 0 429s once adapted", Scenario: sc, Strategy: FleetLabel,
			Figures: "fleet engine not built yet (issue 8)"}
		if ok {
			g.Measured = true
			g.Figures = fmt.Sprintf("%d abandoned, %d 429s once adapted (later than %s after the host's first), %d in all",
				f.Abandoned, f.ThrottledAdapted, AdaptWindow, f.Throttled)
			g.Met = f.Abandoned == 0 && f.ThrottledAdapted == 0
		}
		goals = append(goals, g)
	}
	return append(goals, checkIssue17(results)...)
}

// Issue 17's bounds: requests per operation relative to azcore's, at p99
// relative lag ≤ 0.35 and p99 lag ≤ 65 s.
const (
	GoalRelLag = 0.35
	GoalLag    = 65 * time.Second
)

// checkIssue17 evaluates issue 17's goals (poll less from the first hour).
func checkIssue17(results []Result) []Goal {
	var goals []Goal
	azcore := Azcore().Name()
	ratio := func(goal, sc, strategy string, most float64) {
		az, ok1 := find(results, sc, azcore)
		m, ok2 := find(results, sc, strategy)
		if !ok1 || !ok2 {
			return
		}
		x := m.ReqMean / az.ReqMean
		goals = append(goals, Goal{
			Goal: goal, Scenario: sc, Strategy: strategy, Measured: true,
			Figures: fmt.Sprintf("%.3f× azcore (%.2f vs %.2f req/op), p99 rel %.2f, p99 lag %s",
				x, m.ReqMean, az.ReqMean, m.RelP99, dur(m.LagP99)),
			Met: x <= most && m.RelP99 <= GoalRelLag && m.LagP99 <= GoalLag,
		})
	}
	ratio("issue 17: kinds, priors learned in the same run: ≤ 0.45× azcore", "kinds-spread", FleetLabel, 0.45)
	ratio("issue 17: kinds, together, nothing learned yet: ≤ 0.65× azcore", "kinds-together", FleetLabel, 0.65)
	ratio("issue 17: wide, together: ≤ 1.0× azcore", "wide-together", FleetLabel, 1.0)
	ratio("issue 17: kinds, warm store: ≤ 0.30× azcore", "kinds-spread", LabelPriorsWarm, 0.30)
	zero, ok1 := find(results, "wide-spread-hint-zero", FleetLabel)
	none, ok2 := find(results, "wide-spread", FleetLabel)
	if ok1 && ok2 {
		goals = append(goals, Goal{
			Goal:     "issue 17: Retry-After: 0 hosts, fleet: ≤ +2 % requests vs no hint",
			Scenario: "wide-spread-hint-zero", Strategy: FleetLabel, Measured: true,
			Figures: fmt.Sprintf("%.3f req/op vs %.3f without hints (%+.2f%%)", zero.ReqMean, none.ReqMean,
				100*(zero.ReqMean/none.ReqMean-1)),
			Met: zero.ReqMean <= 1.02*none.ReqMean,
		})
	}
	return goals
}

func (g Goal) verdict() string {
	switch {
	case !g.Measured:
		return "NOT MEASURED"
	case g.Met:
		return "met"
	}
	return "MISSED"
}

// WriteGoals writes the goals as a Markdown table.
func WriteGoals(w io.Writer, goals []Goal) error {
	fmt.Fprintln(w, "\n## Goals (issues 9 and 17)\n\n| goal | scenario | strategy | figures | verdict |\n|---|---|---|---|---|")
	for _, g := range goals {
		if _, err := fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", g.Goal, g.Scenario, g.Strategy, g.Figures, g.verdict()); err != nil {
			return err
		}
	}
	return nil
}

package bench

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// columns of the table, in order; bench/README.md defines each.
var columns = []string{"strategy", "req/op", "req p99", "lag p50", "lag p99", "lag max", "rel p50", "rel p99",
	"slow mean", "slow p99", "429s", "429s adapted", "503s", "abandoned", "× limit", "× limit rel", "× oracle", "CPU", "heap"}

func (m Metrics) cells() []string {
	if m.Computed {
		c := []string{m.Strategy, f2(m.ReqMean), "", "", "", "", "", "", "", "", "", "", "", "", "", "", f2(m.XOracle), "", ""}
		if m.LagP99 > 0 {
			c[4] = dur(m.LagP99)
			c[14] = "1.00"
		}
		if m.SlowMean == 1 {
			c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9] = "1", "0", "0", "0", "0", "0", "1.00", "1.00"
		}
		return c
	}
	return []string{m.Strategy, f2(m.ReqMean), f0(m.ReqP99), dur(m.LagP50), dur(m.LagP99), dur(m.LagMax),
		f2(m.RelP50), f2(m.RelP99), f2(m.SlowMean), f2(m.SlowP99), strconv.Itoa(m.Throttled), strconv.Itoa(m.ThrottledAdapted), strconv.Itoa(m.Errors5xx),
		strconv.Itoa(m.Abandoned), f2(m.XLimitAbs), f2(m.XLimitRel), f2(m.XOracle),
		m.CPU.Round(time.Millisecond).String(), fmt.Sprintf("%.1f MiB", float64(m.HeapPeak)/(1<<20))}
}

func f2(x float64) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return "∞"
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

func f0(x float64) string { return strconv.FormatFloat(x, 'f', 0, 64) }

// dur prints a lag compactly: 1.234s, 45.1s, 12m3s.
func dur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	case d < 100*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return d.Round(time.Second).String()
}

// WriteText writes a scenario's table for a terminal.
func WriteText(w io.Writer, r Result) error {
	fmt.Fprintf(w, "\n## %s — %s\n", r.Scenario.Name, r.Scenario.Describe())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(columns, "\t")+"\t")
	for _, m := range r.Rows {
		fmt.Fprintln(tw, strings.Join(m.cells(), "\t")+"\t")
	}
	if NewFleet == nil {
		fmt.Fprintln(tw, FleetLabel+"\tnot built yet (issue 8)\t")
	}
	return tw.Flush()
}

// WriteMarkdown writes a scenario's table as Markdown.
func WriteMarkdown(w io.Writer, r Result) error {
	fmt.Fprintf(w, "\n### %s\n\n%s.\n\n", r.Scenario.Name, r.Scenario.Describe())
	fmt.Fprintln(w, "| "+strings.Join(columns, " | ")+" |")
	fmt.Fprintln(w, "|"+strings.Repeat("---:|", len(columns)))
	for _, m := range r.Rows {
		fmt.Fprintln(w, "| "+strings.Join(m.cells(), " | ")+" |")
	}
	if NewFleet == nil {
		fmt.Fprintf(w, "| %s | not built yet (issue 8) |%s\n", FleetLabel, strings.Repeat(" |", len(columns)-2))
	}
	_, err := fmt.Fprintf(w, "\n![%s](plot-%s.svg)\n", r.Scenario.Name, r.Scenario.Name)
	return err
}

// csvHeader is the CSV's first line; the values are raw (seconds, bytes).
var csvHeader = []string{"scenario", "strategy", "computed", "ops", "req_mean", "req_p99",
	"lag_p50_s", "lag_p99_s", "lag_max_s", "rel_p50", "rel_p99", "slow_mean", "slow_p99",
	"throttled_429", "throttled_429_adapted", "errors_503", "abandoned", "limit_abs_req", "limit_rel_req",
	"x_limit_abs", "x_limit_rel", "x_oracle", "cpu_s", "heap_peak_bytes"}

// WriteCSV writes every row of every result.
func WriteCSV(w io.Writer, results []Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	for _, r := range results {
		for _, m := range r.Rows {
			rec := []string{m.Scenario, m.Strategy, strconv.FormatBool(m.Computed), strconv.Itoa(m.Ops),
				g(m.ReqMean), g(m.ReqP99), g(m.LagP50.Seconds()), g(m.LagP99.Seconds()), g(m.LagMax.Seconds()),
				g(m.RelP50), g(m.RelP99), g(m.SlowMean), g(m.SlowP99), strconv.Itoa(m.Throttled),
				strconv.Itoa(m.ThrottledAdapted), strconv.Itoa(m.Errors5xx), strconv.Itoa(m.Abandoned), g(m.LimitAbs), g(m.LimitRel),
				g(m.XLimitAbs), g(m.XLimitRel), g(m.XOracle), g(m.CPU.Seconds()), strconv.FormatUint(m.HeapPeak, 10)}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/resume"
)

func stderrIsTerminal() bool { return term.IsTerminal(int(os.Stderr.Fd())) }

// progress reports a wait on stderr: a live bar on a terminal, timestamped
// lines otherwise, or JSON lines for log processors.
type progress struct {
	mode  string
	w     io.Writer
	p     *resume.Poller
	start time.Time
	bar   *progressbar.ProgressBar
	now   func() time.Time
}

func (a *app) newProgress(mode string, p *resume.Poller) *progress {
	if mode == "auto" {
		mode = "plain"
		if a.isTerminal != nil && a.isTerminal() {
			mode = "bar"
		}
	}
	return &progress{mode: mode, w: a.stderr, p: p, start: time.Now(), now: time.Now}
}

// newBar starts the live line: a bar when the provider reports a percentage,
// a spinner otherwise.
func (pr *progress) newBar(percent bool) {
	max := -1
	if percent {
		max = 100
	}
	pr.bar = progressbar.NewOptions(max,
		progressbar.OptionSetWriter(pr.w),
		progressbar.OptionSetWidth(20),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionClearOnFinish(),
	)
}

func (pr *progress) describe(obs poller.Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", pr.p.Provider, obs.Status)
	if obs.Phase != "" && !strings.EqualFold(obs.Phase, string(obs.Status)) {
		fmt.Fprintf(&b, " (%s)", obs.Phase)
	}
	if obs.Percent >= 0 {
		fmt.Fprintf(&b, " %.0f%%", obs.Percent)
	}
	if obs.Message != "" && !strings.Contains(obs.Phase, obs.Message) {
		fmt.Fprintf(&b, " · %s", oneLine(obs.Message))
	}
	fmt.Fprintf(&b, " · %d polls · running %s", obs.Polls, pr.now().Sub(pr.p.Created()).Round(time.Second))
	if !obs.Status.Terminal() {
		fmt.Fprintf(&b, " · next poll in %s", time.Until(pr.p.NextPollAt()).Round(time.Second))
	}
	return b.String()
}

// update reports one poll's provider-neutral progress.
func (pr *progress) update(obs poller.Progress) {
	switch pr.mode {
	case "bar":
		if pr.bar == nil || (obs.Percent >= 0 && pr.bar.GetMax() < 0) {
			if pr.bar != nil {
				_ = pr.bar.Clear()
			}
			pr.newBar(obs.Percent >= 0)
		}
		pr.bar.Describe(pr.describe(obs))
		if obs.Percent >= 0 {
			_ = pr.bar.Set(int(obs.Percent))
		} else {
			_ = pr.bar.Add(1) // turn the spinner
		}
	case "json":
		line := struct {
			Time time.Time `json:"time"`
			statusJSON
			Message string `json:"message,omitempty"`
		}{pr.now().UTC(), statusLine(pr.p, poller.Observation{Status: obs.Status, Detail: obs.Phase, Progress: obs.Percent}), obs.Message}
		_ = writeJSON(pr.w, line)
	default:
		fmt.Fprintf(pr.w, "%s %s\n", pr.now().UTC().Format(time.RFC3339), pr.describe(obs))
	}
}

// note reports an event that is not a poll (a stall).
func (pr *progress) note(msg string) {
	switch pr.mode {
	case "json":
		_ = writeJSON(pr.w, map[string]string{"time": pr.now().UTC().Format(time.RFC3339), "note": msg})
	case "bar":
		if pr.bar == nil {
			pr.newBar(false)
		}
		pr.bar.Describe(msg)
	default:
		fmt.Fprintf(pr.w, "%s %s\n", pr.now().UTC().Format(time.RFC3339), msg)
	}
}

func (pr *progress) close() {
	if pr.bar != nil {
		_ = pr.bar.Finish()
		pr.bar = nil
		pr.mode = "plain"
	}
}

// retry reports a transient failure the wait will retry: the attempt, the
// budget left (budget < 0: unlimited) and when the next try is due.
func (pr *progress) retry(pe *poller.PollError, at time.Time, budget int) {
	in := max(at.Sub(pr.now()), 0).Round(time.Millisecond)
	left := "retries unlimited"
	if budget >= 0 {
		left = fmt.Sprintf("%d of %d retries left", max(budget-pe.Attempts, 0), budget)
	}
	msg := oneLine(pe.Err.Error())
	switch pr.mode {
	case "json":
		line := struct {
			Time        time.Time `json:"time"`
			Event       string    `json:"event"`
			Attempt     int       `json:"attempt"`
			RetriesLeft *int      `json:"retries_left"`
			RetryIn     float64   `json:"retry_in_seconds"`
			Error       string    `json:"error"`
		}{Time: pr.now().UTC(), Event: "retry", Attempt: pe.Attempts, RetryIn: in.Seconds(), Error: msg}
		if budget >= 0 {
			n := max(budget-pe.Attempts, 0)
			line.RetriesLeft = &n
		}
		_ = writeJSON(pr.w, line)
	case "bar":
		if pr.bar == nil {
			pr.newBar(false)
		}
		pr.bar.Describe(fmt.Sprintf("%s: retrying in %s (attempt %d, %s) after: %s", pr.p.Provider, in, pe.Attempts, left, msg))
	default:
		fmt.Fprintf(pr.w, "%s transient failure (attempt %d, %s), retrying in %s: %s\n",
			pr.now().UTC().Format(time.RFC3339), pe.Attempts, left, in, msg)
	}
}

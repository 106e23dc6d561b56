package loopback

import (
	"fmt"
	"io"
	"time"
)

// WriteTable writes results as a Markdown table.
func WriteTable(w io.Writer, results []Result) error {
	if _, err := fmt.Fprint(w, "| strategy | goroutines | heap / op | stack / op | sockets opened in window (peak open) | polls/s (of nominal) | CPU / 1,000 polls (fake's) | allocs / poll | completed | machine busy (other processes) |\n"+
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"); err != nil {
		return err
	}
	for _, r := range results {
		allocs := fmt.Sprintf("%.1f", r.AllocsPerPoll)
		if r.PipelineAllocs > 0 {
			allocs += fmt.Sprintf(" (pipeline alone %.1f)", r.PipelineAllocs)
		}
		fake := "in process"
		if r.ChildFake {
			fake = ms(r.FakeCPUPer1000)
		}
		heap := kib(r.HeapPerOp)
		if r.TokenPerOp > 0 {
			heap += fmt.Sprintf(" (token %s)", kib(r.TokenPerOp))
		}
		done := fmt.Sprintf("%d / %d", r.Completed, r.N)
		if r.Failed > 0 {
			done += fmt.Sprintf(", %d failed", r.Failed)
		}
		if _, err := fmt.Fprintf(w, "| %s | %d | %s | %s | %d (%d) | %.0f of %.0f (%.1f %%) | %s (%s) | %s | %s | %.0f %% (%.2f cores) |\n",
			r.Label, r.Goroutines, heap, kib(r.StackPerOp), r.SocketsOpened, r.SocketsPeak,
			r.PollsPerSecond(), r.Nominal, 100*r.OfNominal(), ms(r.CPUPer1000), fake, allocs, done, 100*r.MachineBusy, r.OthersCPU); err != nil {
			return err
		}
	}
	return nil
}

func kib(b float64) string { return fmt.Sprintf("%.2f KiB", b/1024) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

package loopback

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// machineCPU returns the whole machine's busy and total CPU time from
// /proc/stat (Linux; zeros elsewhere), to show how much of it other
// processes used during a window.
func machineCPU() (busy, total time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	for i, f := range fields[1:] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || i >= 8 { // guest times are already in user
			continue
		}
		total += time.Duration(n) * tick
		if i != 3 && i != 4 { // idle, iowait
			busy += time.Duration(n) * tick
		}
	}
	return busy, total
}

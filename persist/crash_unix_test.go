//go:build unix

package persist_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/persist"
)

func TestFileStoreWriterKilledMidWriteLeavesOldOrNewRecord(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const rounds = 8
	var gens []int64
	leftovers := 0
	for round := range rounds {
		h := startHelper(t, "crashwriter", dir, 0)
		h.expect(t, "ready")
		// Kill it 0-12 ms after it began its second or third write; a
		// write with its two fsyncs takes about as long here, so some kills
		// land mid-write (the log counts them).
		var writing int64
		for range 2 + round%2 {
			line := h.expect(t, "writing ")
			writing, _ = strconv.ParseInt(strings.TrimPrefix(line, "writing "), 10, 64)
		}
		time.Sleep(time.Duration(round*5%13) * time.Millisecond)
		require.NoError(t, h.cmd.Process.Signal(syscall.SIGKILL))
		h.cmd.Wait()

		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".tmp-") {
				leftovers++
			}
		}
		s, err := persist.OpenFileStore(dir, nil)
		require.NoError(t, err)
		r, err := s.Get(context.Background(), "victim")
		require.NoError(t, err, "round %d: the record survives the kill", round)
		require.NoError(t, checkCrashToken(r), "round %d: generation %d", round, r.Generation)
		assert.GreaterOrEqual(t, r.Generation, writing-1, "round %d: the record written before generation %d survives", round, writing)
		gens = append(gens, r.Generation)
		require.NoError(t, s.Close())

		ents, err = os.ReadDir(dir)
		require.NoError(t, err)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		assert.ElementsMatch(t, []string{".lock", "victim.json"}, names, "reopening removed the dead writer's temporary file")
	}
	for i := 1; i < len(gens); i++ {
		assert.Greater(t, gens[i], gens[i-1], "every writer made progress from the last one's record")
	}
	t.Logf("generations after each kill: %v; %d kills landed mid-write (left a temporary file)", gens, leftovers)
}

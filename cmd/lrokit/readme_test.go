package main

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	return string(b)
}

// section returns the README's lines from heading to the next heading of
// the same or a higher level, outside code blocks.
func section(t *testing.T, s, heading string) string {
	t.Helper()
	level := strings.Count(strings.Fields(heading)[0], "#")
	var out []string
	in, fence := false, false
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		if !fence && strings.HasPrefix(line, "#") {
			hashes := len(line) - len(strings.TrimLeft(line, "#"))
			if in && hashes <= level {
				break
			}
			if line == heading {
				in = true
			}
		}
		if in {
			out = append(out, line)
		}
	}
	require.NotEmpty(t, out, "the README has %q", heading)
	return strings.Join(out, "\n")
}

// TestREADMECommandTableMatchesTheCommands checks every command the README's
// command-line table names exists, with every flag the row shows.
func TestREADMECommandTableMatchesTheCommands(t *testing.T) {
	s := section(t, readme(t), "## The command line")
	table := s[strings.Index(s, "| command | what it does |"):]
	table = table[:strings.Index(table, "\n\n")]
	root := (&app{stdout: os.Stdout, stderr: os.Stderr}).rootCmd()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	root.InitDefaultVersionFlag()
	checked := 0
	for _, code := range regexp.MustCompile("`(lrokit [^`]+)`").FindAllStringSubmatch(table, -1) {
		line := strings.ReplaceAll(code[1], `\|`, "|")
		words := strings.Fields(line)[1:]
		var path [][]string
		for _, w := range words {
			if strings.IndexAny(w, "-[(…") == 0 || placeholder.MatchString(w) {
				break
			}
			path = append(path, strings.Split(w, "|"))
		}
		flags := regexp.MustCompile(`--[a-z][a-z-]*`).FindAllString(line, -1)
		for _, p := range expand(path) {
			cmd, rest, err := root.Find(p)
			require.NoError(t, err, "%q", line)
			require.Empty(t, rest, "the README names the command %q", strings.Join(p, " "))
			cmd.InitDefaultHelpFlag()
			for _, f := range flags {
				name := strings.TrimPrefix(f, "--")
				assert.True(t, cmd.Flags().Lookup(name) != nil || cmd.InheritedFlags().Lookup(name) != nil,
					"%s has %s, as the README says", cmd.CommandPath(), f)
			}
			checked++
		}
	}
	assert.GreaterOrEqual(t, checked, 15, "rows checked")
}

// placeholder is an argument the reader fills in, e.g. TOKEN-SOURCE.
var placeholder = regexp.MustCompile(`^[A-Z][A-Z0-9_-]*,?$`)

func expand(path [][]string) [][]string {
	out := [][]string{nil}
	for _, alts := range path {
		var next [][]string
		for _, p := range out {
			for _, a := range alts {
				next = append(next, append(append([]string(nil), p...), a))
			}
		}
		out = next
	}
	return out
}

// TestREADMEExitCodesMatchTheHelp checks the README's exit-code table, the
// help text and the constants name the same codes.
func TestREADMEExitCodesMatchTheHelp(t *testing.T) {
	s := section(t, readme(t), "### Exit codes")
	var readmeCodes, helpCodes []string
	for _, m := range regexp.MustCompile(`(?m)^\| (\d) \|`).FindAllStringSubmatch(s, -1) {
		readmeCodes = append(readmeCodes, m[1])
	}
	for _, m := range regexp.MustCompile(`(?m)^  (\d)  `).FindAllStringSubmatch(exitCodesHelp, -1) {
		helpCodes = append(helpCodes, m[1])
	}
	sort.Strings(readmeCodes)
	want := []string{"0", "1", "2", "3", "4", "5", "6", "7"}
	assert.Equal(t, want, readmeCodes)
	assert.Equal(t, want, helpCodes)
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7}, []int{exitOK, exitFailed, exitUsage, exitCanceled, exitInterrupted, exitPollError, exitStore, exitMayExist})
	assert.Contains(t, s, "result_unavailable", "exit 5 names the succeeded-without-result case")
}

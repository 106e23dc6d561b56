package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// usageArgs makes a positional-argument check's error a usage error (exit 2)
// that points at --help.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageErr("%v (see %s --help)", err, cmd.CommandPath())
		}
		return nil
	}
}

// tokenSourceArgs accepts at most one positional TOKEN-SOURCE.
var tokenSourceArgs = usageArgs(func(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("one TOKEN-SOURCE at most (a path, or - for stdin), got %d arguments", len(args))
	}
	return nil
})

// noArgs refuses positional arguments without echoing them: one may be a
// token.
var noArgs = usageArgs(func(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments, got %d", cmd.CommandPath(), len(args))
	}
	return nil
})

// fromArgs takes a positional TOKEN-SOURCE: a path (read, and written back
// like --token-file), "-" for stdin, or — when no such file exists — a
// token itself.
func (s *tokenSource) fromArgs(args []string) error {
	if len(args) == 0 {
		return nil
	}
	if s.token != "" || s.file != "" || s.store != "" {
		return usageErr("give the token source once: a TOKEN-SOURCE argument or --token, --token-file, --store")
	}
	arg := args[0]
	if _, err := os.Stat(arg); err != nil && arg != "-" && strings.HasPrefix(arg, "lrokit1.") {
		s.token = arg
		return nil
	}
	s.file = arg
	return nil
}

// groupRun makes a command that only holds subcommands answer an unknown
// subcommand with a usage error (exit 2), and show its help when called
// alone.
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	if strings.HasPrefix(args[0], "lrokit1.") || len(args[0]) > 64 {
		// Never echo what may be a token.
		return usageErr("%s takes a command, not a token (wait on one with: lrokit wait --token-file FILE, or --token)", cmd.CommandPath())
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return usageErr("%s (see %s --help)", msg, cmd.CommandPath())
}

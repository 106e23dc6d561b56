package main

import (
	"encoding/json"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// version is the command's version, set at build time with
// -ldflags "-X main.version=...".
var version = "dev"

func (a *app) tokenCmd() *cobra.Command {
	var src tokenSource
	var out outputFormat
	inspect := &cobra.Command{
		Use:   "inspect TOKEN-SOURCE",
		Short: "Print the decoded token as indented JSON URLs' query values redacted",
		Args:  tokenSourceArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := src.fromArgs(args); err != nil {
				return err
			}
			if err := src.check(true); err != nil {
				return err
			}
			if err := out.check(); err != nil {
				return err
			}
			token, err := src.load(cmd.Context(), a.stdin)
			if err != nil {
				return err
			}
			var v any
			if persist.IsIntent(token) {
				// A begin that never recorded its token: show its intent.
				in, err := persist.DecodeIntent(token)
				if err != nil {
					return withCode(exitUsage, err)
				}
				v = struct {
					Intent persist.Intent `json:"intent"`
				}{in}
			} else {
				tok, err := poller.DecodeToken(token, sealKey(), olderSealKeys()...)
				if err != nil {
					return err
				}
				// Capability URLs (SAS, function keys) are never printed.
				tok.State = redactJSON(tok.State)
				v = tok
			}
			return out.write(a.stdout, v, false, nil)
		},
	}
	src.register(inspect.Flags())
	out.register(inspect.Flags(), "json", "json is indented")
	return group("token", "Work with resume tokens", inspect)
}

// redactJSON returns obj with every string that holds a URL redacted
// (trust.RedactURL); what does not decode is returned as is.
func redactJSON(obj json.RawMessage) json.RawMessage {
	if len(obj) == 0 {
		return obj
	}
	var v any
	if json.Unmarshal(obj, &v) != nil {
		return obj
	}
	b, err := json.Marshal(redactValue(v))
	if err != nil {
		return obj
	}
	return b
}

func redactValue(v any) any {
	switch t := v.(type) {
	case string:
		if strings.Contains(t, "://") {
			return redactText(t)
		}
	case map[string]any:
		for k, x := range t {
			t[k] = redactValue(x)
		}
	case []any:
		for i, x := range t {
			t[i] = redactValue(x)
		}
	}
	return v
}

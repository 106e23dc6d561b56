package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// registerExcept registers the auth flags a command's provider uses: skip
// names those that do not apply (no --scope on AWS, no --insecure on
// REST), so help lists only what the command honours and a flag that does
// nothing is a usage error rather than silently ignored.
func (a *auth) registerExcept(fs *pflag.FlagSet, skip ...string) {
	all := pflag.NewFlagSet("auth", pflag.ContinueOnError)
	a.register(all)
	all.VisitAll(func(f *pflag.Flag) {
		for _, s := range skip {
			if f.Name == s {
				return
			}
		}
		fs.AddFlag(f)
	})
}

// Auth flags by provider: those a provider never reads.
var (
	azureSkips   = []string{"insecure", "endpoint-url", "gcp-endpoint"}
	restSkips    = []string{"insecure", "scope", "cloud", "endpoint-url", "gcp-endpoint"}
	googleSkips  = []string{"scope", "allow-host", "cloud", "endpoint-url"}
	computeSkips = []string{"scope", "allow-host", "insecure", "cloud", "endpoint-url"}
	awsSkips     = []string{"scope", "allow-host", "insecure", "cloud", "gcp-endpoint"}
)

// tokenAuthHelp says, on commands that read a token of any provider,
// which auth flag serves which provider.
const tokenAuthHelp = `
Credentials: each provider's standard chain (Azure DefaultAzureCredential,
Google Application Default Credentials, the AWS default config chain); REST
sends none. --no-auth sends none at all; --insecure (Google gRPC endpoints on
loopback only) means no TLS and no credentials; --scope and --cloud apply to
Azure tokens, --allow-host to Azure and REST tokens, --gcp-endpoint to Google
tokens and --endpoint-url to AWS tokens.`

// hideNoAuth keeps --no-auth accepted but unlisted where it changes
// nothing (REST sends no credential), so scripts may pass it to every
// command.
func hideNoAuth(cmd *cobra.Command) {
	_ = cmd.Flags().MarkHidden("no-auth")
}

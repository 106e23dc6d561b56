// Package tamper holds the tamper suite of issue #13: every adapter's
// resume path, through the real provider clients with real credentials,
// against tokens an attacker with write access to the token store has
// edited. Each case must end in a refusal wrapping poller.ErrInvalidToken
// that names the host and the option to change, and zero credential-bearing
// requests at the foreign server (lrotest/foreign).
//
// The rule under test (DESIGN.md, "Tokens"): trust comes from the caller,
// never from the token.
package tamper

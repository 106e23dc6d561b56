// Command lrokit starts, adopts and waits for long-running cloud operations
// from CI pipelines, passing resume tokens between jobs. Run "lrokit demo"
// to see the whole story on built-in fakes, and "lrokit --help" for the
// commands and exit codes.
package main

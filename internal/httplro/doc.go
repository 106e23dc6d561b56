// Package httplro holds the HTTP long-running-operation mechanics that the
// azure and rest adapters share: choosing the protocol from the initial
// response, reading status bodies, validating polling URLs and their hosts,
// the resume-token state (and the import of azcore tokens), and the
// final-GET table. The front-ends only supply a Doer (an azcore pipeline or
// an *http.Client) and their provider name.
//
// Every Poll is one round trip; when and how often to poll is package
// poller's business.
package httplro

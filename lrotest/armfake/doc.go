// Package armfake is a loopback HTTP server for tests of code that waits on
// Azure Resource Manager and REST-guidelines long-running operations: real
// clients (an azcore runtime.Pipeline, an *http.Client) talk to it over
// 127.0.0.1.
//
// Each route (method and path) serves a script of Responses, one per
// request, the last repeating forever. A Response sets the status, headers
// and body ("{base}" expands to the server's URL, "{date+N}" to an
// HTTP-date N seconds ahead, for Retry-After's date form) or injects a
// Fault: a dropped connection or a truncated body. LRO builds the usual
// ARM shapes (Azure-AsyncOperation, Operation-Location, Location,
// provisioningState) from a method, a path and the status URL's script.
//
// The server records every request (method, path, query, host, headers),
// so tests can assert that the initial request was not repeated, that each
// poll made one request, or that no Authorization header reached a host.
package armfake

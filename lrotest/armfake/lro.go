package armfake

import (
	"net/http"
	"strings"
)

// Protocol is how an ARM-style operation tells the client where to poll.
type Protocol string

// The protocols of Azure Resource Manager and the REST guidelines.
const (
	// AsyncOperation: Azure-AsyncOperation header to a status URL.
	AsyncOperation Protocol = "Azure-AsyncOperation"
	// OperationLocation: Operation-Location header to a status URL.
	OperationLocation Protocol = "Operation-Location"
	// Location: Location header to a URL that answers 202 until done.
	Location Protocol = "Location"
	// ProvisioningState: no header; the resource's provisioningState.
	ProvisioningState Protocol = "provisioningState"
)

// Paths the LRO scenarios use besides the resource's own.
const (
	// StatusPath is the status URL's path (Azure-AsyncOperation,
	// Operation-Location, or Location).
	StatusPath = "/providers/Microsoft.Test/locations/westus/operations/op1"
	// ResultPath is the path of the Location a POST's result is read from
	// when another header drives polling.
	ResultPath = "/providers/Microsoft.Test/locations/westus/operationResults/op1"
	// APIVersion is the query every scenario URL carries, as ARM's do.
	APIVersion = "api-version=2024-01-01"
)

// LRO describes an ARM-style long-running operation, from which Scenario
// builds the routes.
type LRO struct {
	// Method is PUT, PATCH, POST or DELETE.
	Method string
	// Path is the resource's path (the initial request's).
	Path     string
	Protocol Protocol
	// Initial is the initial response. Its zero value is the protocol's
	// usual answer: 201 (PUT/PATCH) or 202 with the polling header, and
	// for POST with another header, a Location to ResultPath too; for
	// ProvisioningState, 201 with provisioningState "Creating".
	Initial Response
	// Polls is the status URL's script (for ProvisioningState, the
	// resource's, before Final).
	Polls []Response
	// Final is the script of the final GET: the resource (PUT, PATCH) or
	// ResultPath (POST).
	Final []Response
}

// StatusURL returns the scenario's status URL with its query, as a
// template ("{base}..."); see Response.
func StatusURL() string { return "{base}" + StatusPath + "?" + APIVersion }

// ResultURL returns the POST result URL template.
func ResultURL() string { return "{base}" + ResultPath + "?" + APIVersion }

// Scenario returns the routes of l.
func (l LRO) Scenario() Scenario {
	method := strings.ToUpper(l.Method)
	initial := l.Initial
	if initial.Status == 0 && initial.Fault == NoFault {
		initial = l.defaultInitial(method)
	}
	sc := Scenario{Name: method + " " + string(l.Protocol), Routes: []Route{{Method: method, Path: l.Path, Script: []Response{initial}}}}
	switch l.Protocol {
	case ProvisioningState:
		sc.Routes = append(sc.Routes, Route{Method: http.MethodGet, Path: l.Path, Script: append(append([]Response(nil), l.Polls...), l.Final...)})
		return sc
	default:
		sc.Routes = append(sc.Routes, Route{Method: http.MethodGet, Path: StatusPath, Script: l.Polls})
	}
	if len(l.Final) > 0 {
		path := l.Path
		if method == http.MethodPost {
			path = ResultPath
		}
		sc.Routes = append(sc.Routes, Route{Method: http.MethodGet, Path: path, Script: l.Final})
	}
	return sc
}

func (l LRO) defaultInitial(method string) Response {
	code := http.StatusAccepted
	if method == http.MethodPut || method == http.MethodPatch {
		code = http.StatusCreated
	}
	switch l.Protocol {
	case ProvisioningState:
		return Resource("", "Creating").WithStatus(http.StatusCreated)
	case Location:
		return Response{Status: http.StatusAccepted}.WithHeader("Location", StatusURL())
	}
	r := Response{Status: code}.WithHeader(string(l.Protocol), StatusURL())
	if method == http.MethodPost {
		r = r.WithHeader("Location", ResultURL())
	}
	return r
}

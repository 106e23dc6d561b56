package gcpfake

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/option"
)

// ComputeStep is one scripted answer to a Compute operations get: the
// operation's state, or an HTTP error.
type ComputeStep struct {
	// Op is the operation's state (Status, Progress, Error,
	// HttpErrorStatusCode, ...); the fake fills Kind, Name, Zone or
	// Region, and SelfLink.
	Op *compute.Operation
	// HTTPStatus, when set and not 200, answers this error status with a
	// Google JSON error body (Message, Reason) instead of the operation.
	HTTPStatus int
	Message    string
	Reason     string
	// RetryAfter is sent as the Retry-After header, when set.
	RetryAfter string
	// Delay holds the answer back this long (real time), or until the
	// caller gives up; negative waits for the caller to give up.
	Delay time.Duration
}

// ComputePending is a step of a PENDING operation.
func ComputePending() ComputeStep {
	return ComputeStep{Op: &compute.Operation{Status: "PENDING"}}
}

// ComputeRunning is a step of a RUNNING operation at progress percent.
func ComputeRunning(progress int64) ComputeStep {
	return ComputeStep{Op: &compute.Operation{Status: "RUNNING", Progress: progress}}
}

// ComputeDone is a step of an operation DONE without error.
func ComputeDone() ComputeStep {
	return ComputeStep{Op: &compute.Operation{Status: "DONE", Progress: 100,
		EndTime: "2026-01-02T03:04:05Z"}}
}

// ComputeFailed is a step of an operation DONE with errors; httpStatus 0
// leaves httpErrorStatusCode out, as some operations do.
func ComputeFailed(httpStatus int64, errs ...*compute.OperationErrorErrors) ComputeStep {
	op := &compute.Operation{Status: "DONE", Progress: 100, HttpErrorStatusCode: httpStatus}
	if len(errs) > 0 {
		op.Error = &compute.OperationError{Errors: errs}
	}
	if httpStatus != 0 {
		op.HttpErrorMessage = http.StatusText(int(httpStatus))
	}
	return ComputeStep{Op: op}
}

// ComputeFault is a step whose get fails with httpStatus, and a
// Retry-After header when retryAfter is set.
func ComputeFault(httpStatus int, retryAfter string) ComputeStep {
	return ComputeStep{HTTPStatus: httpStatus, Message: http.StatusText(httpStatus), RetryAfter: retryAfter}
}

// ComputeExpired is a step whose get fails with 404, as for an operation
// the service has purged.
func ComputeExpired() ComputeStep {
	return ComputeStep{HTTPStatus: http.StatusNotFound, Message: "The resource was not found", Reason: "notFound"}
}

// Compute is a fake of Compute Engine's zoneOperations, regionOperations
// and globalOperations get, on a loopback HTTP server that the real
// google.golang.org/api/compute/v1 client calls. Each operation follows a
// script: every get answers the next step and the last step repeats. It is
// safe for concurrent use.
type Compute struct {
	srv *httptest.Server

	mu  sync.Mutex
	ops map[string]*computeScript
}

type computeScript struct {
	steps []ComputeStep
	pos   int
	gets  int
}

// StartCompute starts the fake on 127.0.0.1 on a free port.
func StartCompute() *Compute {
	c := &Compute{ops: map[string]*computeScript{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /compute/v1/projects/{project}/zones/{zone}/operations/{operation}", func(w http.ResponseWriter, r *http.Request) {
		c.serve(w, r, r.PathValue("project"), "zones/"+r.PathValue("zone"), r.PathValue("operation"))
	})
	mux.HandleFunc("GET /compute/v1/projects/{project}/regions/{region}/operations/{operation}", func(w http.ResponseWriter, r *http.Request) {
		c.serve(w, r, r.PathValue("project"), "regions/"+r.PathValue("region"), r.PathValue("operation"))
	})
	mux.HandleFunc("GET /compute/v1/projects/{project}/global/operations/{operation}", func(w http.ResponseWriter, r *http.Request) {
		c.serve(w, r, r.PathValue("project"), "global", r.PathValue("operation"))
	})
	c.srv = httptest.NewServer(mux)
	return c
}

// URL is the fake's base URL (http://127.0.0.1:port).
func (c *Compute) URL() string { return c.srv.URL }

// BasePath is the compute/v1 base path on the fake, as option.WithEndpoint
// takes it.
func (c *Compute) BasePath() string { return c.srv.URL + "/compute/v1/" }

// ClientOptions point a compute.Service at the fake, without auth.
func (c *Compute) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(c.BasePath()),
		option.WithoutAuthentication(),
		option.WithHTTPClient(c.srv.Client()),
	}
}

// NewService returns a real compute.Service that calls the fake.
func (c *Compute) NewService(ctx context.Context) (*compute.Service, error) {
	return compute.NewService(ctx, c.ClientOptions()...)
}

// Close stops the fake.
func (c *Compute) Close() { c.srv.Close() }

// Add scripts the operation name in project and scope ("zones/ZONE",
// "regions/REGION" or "global"), replacing any script it had. It needs at
// least one step.
func (c *Compute) Add(project, scope, name string, steps ...ComputeStep) {
	if len(steps) == 0 {
		panic("gcpfake: Add needs at least one step")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops[computeKey(project, scope, name)] = &computeScript{steps: append([]ComputeStep(nil), steps...)}
}

// Initial returns the operation as the call that started it would have:
// the first step's state, without consuming a step.
func (c *Compute) Initial(project, scope, name string) *compute.Operation {
	c.mu.Lock()
	defer c.mu.Unlock()
	op := &compute.Operation{Status: "PENDING"}
	if sc, ok := c.ops[computeKey(project, scope, name)]; ok && sc.steps[0].Op != nil {
		op = sc.steps[0].Op
	}
	return c.fill(op, project, scope, name)
}

// Gets returns how many gets named the operation.
func (c *Compute) Gets(project, scope, name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sc, ok := c.ops[computeKey(project, scope, name)]; ok {
		return sc.gets
	}
	return 0
}

func computeKey(project, scope, name string) string {
	return "projects/" + project + "/" + strings.Trim(scope, "/") + "/operations/" + name
}

func (c *Compute) serve(w http.ResponseWriter, r *http.Request, project, scope, name string) {
	c.mu.Lock()
	sc, ok := c.ops[computeKey(project, scope, name)]
	if !ok {
		c.mu.Unlock()
		writeError(w, ComputeExpired())
		return
	}
	sc.gets++
	st := sc.steps[min(sc.pos, len(sc.steps)-1)]
	sc.pos++
	c.mu.Unlock()
	if delay(r.Context(), st.Delay) != nil {
		return
	}
	if st.HTTPStatus != 0 && st.HTTPStatus != http.StatusOK {
		writeError(w, st)
		return
	}
	op := &compute.Operation{Status: "RUNNING"}
	if st.Op != nil {
		op = st.Op
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if st.RetryAfter != "" {
		w.Header().Set("Retry-After", st.RetryAfter)
	}
	_ = json.NewEncoder(w).Encode(c.fill(op, project, scope, name))
}

// fill returns a copy of op with the fields the service always sets.
func (c *Compute) fill(op *compute.Operation, project, scope, name string) *compute.Operation {
	cp := *op
	base := "https://www.googleapis.com/compute/v1/projects/" + project
	scope = strings.Trim(scope, "/")
	switch {
	case strings.HasPrefix(scope, "zones/"):
		cp.Zone = base + "/" + scope
	case strings.HasPrefix(scope, "regions/"):
		cp.Region = base + "/" + scope
	}
	cp.Kind = "compute#operation"
	cp.Name = name
	cp.SelfLink = base + "/" + scope + "/operations/" + name
	if cp.InsertTime == "" {
		cp.InsertTime = "2026-01-02T03:00:00Z"
	}
	return &cp
}

func writeError(w http.ResponseWriter, st ComputeStep) {
	if st.RetryAfter != "" {
		w.Header().Set("Retry-After", st.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(st.HTTPStatus)
	reason := st.Reason
	if reason == "" {
		reason = strings.ReplaceAll(strings.ToLower(http.StatusText(st.HTTPStatus)), " ", "")
	}
	body := map[string]any{"error": map[string]any{
		"code":    st.HTTPStatus,
		"message": st.Message,
		"errors":  []map[string]string{{"reason": reason, "message": st.Message, "domain": "global"}},
	}}
	_ = json.NewEncoder(w).Encode(body)
}

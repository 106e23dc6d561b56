package awsfake

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
)

// Kind names a kind of resource the fake describes.
type Kind string

// The kinds of resource, with the API that describes them and the form of
// their id.
const (
	Stack          Kind = "cloudformation:stack"     // DescribeStacks; id: stack name
	ChangeSet      Kind = "cloudformation:changeset" // DescribeChangeSet; id: change set name
	Cluster        Kind = "eks:cluster"              // DescribeCluster; id: cluster name
	Nodegroup      Kind = "eks:nodegroup"            // DescribeNodegroup; id: "cluster/nodegroup"
	Addon          Kind = "eks:addon"                // DescribeAddon; id: "cluster/addon"
	Instance       Kind = "ec2:instance"             // DescribeInstances; id: instance id
	InstanceStatus Kind = "ec2:instance-status"      // DescribeInstanceStatus; id: instance id
	Volume         Kind = "ec2:volume"               // DescribeVolumes; id: volume id
	Image          Kind = "ec2:image"                // DescribeImages; id: image id
	NatGateway     Kind = "ec2:natgateway"           // DescribeNatGateways; id: NAT gateway id
	DBInstance     Kind = "rds:db-instance"          // DescribeDBInstances; id: DB instance identifier
	Service        Kind = "ecs:service"              // DescribeServices; id: "cluster/service" ("default/…" without a cluster)
	Function       Kind = "lambda:function"          // GetFunction, GetFunctionConfiguration; id: function name
	Table          Kind = "dynamodb:table"           // DescribeTable; id: table name
)

// Fault makes a step answer with an error instead of the resource.
type Fault int

// The faults a step can script. Each answers as the real service would,
// in the service's own protocol.
const (
	// None answers with the resource.
	None Fault = iota
	// Gone answers as if the resource does not exist: CloudFormation
	// ValidationError "does not exist", EKS/Lambda/DynamoDB
	// ResourceNotFoundException, EC2 InvalidInstanceID.NotFound (and the
	// like), RDS DBInstanceNotFound, ECS a MISSING failure.
	Gone
	// Throttle answers with the service's throttling error (Throttling,
	// RequestLimitExceeded, ThrottlingException, TooManyRequestsException).
	Throttle
	// Unavailable answers HTTP 503 ServiceUnavailable.
	Unavailable
	// Drop closes the connection without an answer.
	Drop
	// Denied answers HTTP 403 AccessDenied (UnauthorizedOperation on EC2).
	Denied
	// Invalid answers the service's validation error (ValidationError,
	// InvalidParameterValue, InvalidParameterException...).
	Invalid
)

// Step is one scripted answer to a describe call of one resource.
type Step struct {
	// Status is the resource's status word (StackStatus, cluster status,
	// instance state name, TableStatus...). For Lambda it is State.
	Status string
	// Reason is the status reason, where the API has one.
	Reason string
	// Attrs are kind-specific fields: ECS "runningCount", "desiredCount",
	// "deployments" (counts, default 1, 1, 1); Lambda "LastUpdateStatus",
	// "LastUpdateStatusReason"; EC2 instance status "SystemStatus"
	// (default Status); CloudFormation change set "ExecutionStatus".
	Attrs map[string]string
	// Fault, when set, answers with an error instead.
	Fault Fault
	// RetryAfter, when positive, adds a Retry-After header (whole seconds,
	// rounded up) to the answer.
	RetryAfter time.Duration
}

// Status returns a step that answers with status.
func Status(status string) Step { return Step{Status: status} }

// Statuses returns one step per status.
func Statuses(statuses ...string) []Step {
	steps := make([]Step, len(statuses))
	for i, s := range statuses {
		steps[i] = Status(s)
	}
	return steps
}

// Failing returns a step that answers with fault.
func Failing(fault Fault) Step { return Step{Fault: fault} }

type key struct {
	kind Kind
	id   string
}

type resource struct {
	steps    []Step
	pos      int
	calls    int
	onCancel []Step
	cancels  int
	current  string
}

// next returns the resource's next step; the last one repeats.
func (r *resource) next() Step {
	r.calls++
	if len(r.steps) == 0 {
		return Step{Fault: Gone}
	}
	s := r.steps[min(r.pos, len(r.steps)-1)]
	r.pos++
	if s.Fault == None {
		r.current = s.Status
	}
	return s
}

// Server is a loopback fake of the AWS describe APIs, reached by the real
// aws-sdk-go-v2 clients through BaseEndpoint: CloudFormation and RDS
// (awsquery XML), EC2 (ec2query XML), EKS and Lambda (REST-JSON), ECS and
// DynamoDB (JSON 1.1 and 1.0). Each resource answers from its script; an
// unscripted one is Gone. The service is told from the SigV4 credential
// scope of the request. It is safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu        sync.Mutex
	resources map[key]*resource
	requests  int
}

// New starts a fake on a loopback port. Close it when done.
func New() *Server {
	s := &Server{resources: map[key]*resource{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	// One request per connection: net/http retries an idempotent request
	// whose reused connection was dropped, which would swallow a Drop step.
	s.srv.Config.SetKeepAlivesEnabled(false)
	s.srv.Start()
	return s
}

// Close shuts the fake down.
func (s *Server) Close() { s.srv.Close() }

// URL returns the fake's base URL, for aws.Config.BaseEndpoint.
func (s *Server) URL() string { return s.srv.URL }

// Region is the region of Config.
const Region = "us-east-1"

// Config returns an aws.Config that reaches the fake: region Region,
// static credentials, BaseEndpoint set, and a retryer that never retries
// (so faults reach the caller at once and nothing sleeps in real time).
func (s *Server) Config() awssdk.Config {
	return awssdk.Config{
		Region:       Region,
		Credentials:  awssdk.NewCredentialsCache(staticCredentials{}),
		BaseEndpoint: awssdk.String(s.srv.URL),
		Retryer:      func() awssdk.Retryer { return awssdk.NopRetryer{} },
		HTTPClient:   s.srv.Client(),
	}
}

type staticCredentials struct{}

func (staticCredentials) Retrieve(context.Context) (awssdk.Credentials, error) {
	return awssdk.Credentials{AccessKeyID: "AKIDLROKITFAKE", SecretAccessKey: "fake-secret", Source: "awsfake"}, nil
}

// Script sets a resource's answers: each describe call of it takes the
// next step, and the last step repeats. It resets the resource's counters.
func (s *Server) Script(kind Kind, id string, steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resources[key{kind, id}] = &resource{steps: append([]Step(nil), steps...)}
}

// OnCancel sets the steps a CloudFormation stack answers with after a
// successful CancelUpdateStack (typically UPDATE_ROLLBACK_IN_PROGRESS then
// UPDATE_ROLLBACK_COMPLETE). CancelUpdateStack succeeds only while the
// stack's last answered status is UPDATE_IN_PROGRESS.
func (s *Server) OnCancel(stack string, steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.resource(Stack, stack)
	r.onCancel = append([]Step(nil), steps...)
}

// Calls returns how many describe calls the resource has answered,
// faults included.
func (s *Server) Calls(kind Kind, id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.resources[key{kind, id}]; ok {
		return r.calls
	}
	return 0
}

// Cancels returns how many CancelUpdateStack calls on the stack succeeded.
func (s *Server) Cancels(stack string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.resources[key{Stack, stack}]; ok {
		return r.cancels
	}
	return 0
}

// Requests returns how many requests the fake has received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *Server) resource(kind Kind, id string) *resource {
	r, ok := s.resources[key{kind, id}]
	if !ok {
		r = &resource{}
		s.resources[key{kind, id}] = r
	}
	return r
}

// ids returns the scripted ids of a kind, sorted, for describe calls that
// name none.
func (s *Server) ids(kind Kind) []string {
	var ids []string
	for k, r := range s.resources {
		if k.kind == kind && len(r.steps) > 0 {
			ids = append(ids, k.id)
		}
	}
	sort.Strings(ids)
	return ids
}

// answer is the next step of each named resource, or the first fault.
type answer struct {
	ids   []string
	steps []Step
	fault Step
	// faultID is the id whose step faulted.
	faultID string
}

func (s *Server) next(kind Kind, ids []string) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(ids) == 0 {
		ids = s.ids(kind)
	}
	a := answer{ids: ids}
	for _, id := range ids {
		st := s.resource(kind, id).next()
		if st.Fault != None && a.fault.Fault == None {
			a.fault, a.faultID = st, id
		}
		a.steps = append(a.steps, st)
	}
	return a
}

// cancel applies CancelUpdateStack; it reports false when the stack is not
// in UPDATE_IN_PROGRESS.
func (s *Server) cancel(stack string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.resources[key{Stack, stack}]
	if !ok || r.current != "UPDATE_IN_PROGRESS" {
		return false
	}
	r.cancels++
	if len(r.onCancel) > 0 {
		r.steps, r.pos = append([]Step(nil), r.onCancel...), 0
	}
	return true
}

var credentialScope = regexp.MustCompile(`Credential=[^/,]+/[0-9]{8}/[^/,]+/([a-z0-9-]+)/aws4_request`)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		http.Error(w, "missing SigV4 authorization", http.StatusForbidden)
		return
	}
	switch m[1] {
	case "cloudformation":
		s.cloudFormation(w, r)
	case "rds":
		s.rds(w, r)
	case "ec2":
		s.ec2(w, r)
	case "eks":
		s.eks(w, r)
	case "lambda":
		s.lambda(w, r)
	case "ecs":
		s.ecs(w, r)
	case "dynamodb":
		s.dynamoDB(w, r)
	default:
		http.Error(w, "service not faked", http.StatusNotImplemented)
	}
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	if d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	}
}

func attrInt(st Step, name string, def int) int {
	if v, ok := st.Attrs[name]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func attr(st Step, name, def string) string {
	if v, ok := st.Attrs[name]; ok {
		return v
	}
	return def
}

func requestID() string { return fmt.Sprintf("req-%d", time.Now().UnixNano()) }

package loopback

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Operation names carry their completion time (Unix milliseconds), so the
// fake keeps no per-operation state: "w17-1760000000000".
func opName(prefix string, i int, done time.Time) string {
	return prefix + strconv.Itoa(i) + "-" + strconv.FormatInt(done.UnixMilli(), 10)
}

// doneAt parses the completion time out of an operation name; false for a
// name the fake did not make.
func doneAt(name string) (time.Time, bool) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(name[i+1:], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// FakeStats are the fake's counters, cumulative since it started.
type FakeStats struct {
	// HTTPAccepted and GRPCAccepted count connections accepted on each
	// listener; HTTPOpen and GRPCOpen are those open now, HTTPPeak and
	// GRPCPeak the most open at once since the last ResetPeak.
	HTTPAccepted, HTTPOpen, HTTPPeak int64
	GRPCAccepted, GRPCOpen, GRPCPeak int64
	// AzurePolls, AWSPolls and GCPPolls count status requests answered;
	// AzureStarts the PUTs that created operations.
	AzurePolls, AzureStarts, AWSPolls, GCPPolls int64
	// CPU is the fake process's CPU time (user + system).
	CPU time.Duration
}

// counting wraps a listener to count accepted and open connections.
type counting struct {
	net.Listener
	accepted, open, peak atomic.Int64
}

func (l *counting) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.accepted.Add(1)
	n := l.open.Add(1)
	for {
		p := l.peak.Load()
		if n <= p || l.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *counting
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// Fake serves ARM-style Azure-AsyncOperation status, CloudFormation
// DescribeStacks (AWS query protocol) and google.longrunning GetOperation
// (gRPC) for any number of operations, from their names alone. Every
// running answer is in progress until the operation's completion time;
// Azure's carry Retry-After: 1.
type Fake struct {
	httpLis, grpcLis *counting
	httpSrv          *http.Server
	grpcSrv          *grpc.Server

	azurePolls, azureStarts, awsPolls, gcpPolls atomic.Int64
}

// StartFake listens on two loopback ports and serves until Close.
func StartFake() (*Fake, error) {
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		hl.Close()
		return nil, err
	}
	f := &Fake{httpLis: &counting{Listener: hl}, grpcLis: &counting{Listener: gl}}
	f.httpSrv = &http.Server{Handler: http.HandlerFunc(f.serveHTTP), ReadHeaderTimeout: time.Minute}
	f.grpcSrv = grpc.NewServer()
	longrunningpb.RegisterOperationsServer(f.grpcSrv, &operations{f: f})
	go func() { _ = f.httpSrv.Serve(f.httpLis) }()
	go func() { _ = f.grpcSrv.Serve(f.grpcLis) }()
	return f, nil
}

// HTTPAddr and GRPCAddr are the listeners' host:port.
func (f *Fake) HTTPAddr() string { return f.httpLis.Addr().String() }

// GRPCAddr is the gRPC listener's host:port.
func (f *Fake) GRPCAddr() string { return f.grpcLis.Addr().String() }

// Stats returns the counters so far.
func (f *Fake) Stats() FakeStats {
	return FakeStats{
		HTTPAccepted: f.httpLis.accepted.Load(), HTTPOpen: f.httpLis.open.Load(), HTTPPeak: f.httpLis.peak.Load(),
		GRPCAccepted: f.grpcLis.accepted.Load(), GRPCOpen: f.grpcLis.open.Load(), GRPCPeak: f.grpcLis.peak.Load(),
		AzurePolls: f.azurePolls.Load(), AzureStarts: f.azureStarts.Load(),
		AWSPolls: f.awsPolls.Load(), GCPPolls: f.gcpPolls.Load(),
		CPU: processCPU(),
	}
}

// ResetPeak starts a new peak of open connections from those open now.
func (f *Fake) ResetPeak() {
	f.httpLis.peak.Store(f.httpLis.open.Load())
	f.grpcLis.peak.Store(f.grpcLis.open.Load())
}

// Close stops serving and closes every connection.
func (f *Fake) Close() {
	_ = f.httpSrv.Close()
	f.grpcSrv.Stop()
}

const (
	widgetsPath = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Test/widgets/"
	statusPath  = "/operations/"
)

var (
	inProgress = []byte(`{"status":"InProgress"}`)
	succeeded  = []byte(`{"status":"Succeeded"}`)
)

func (f *Fake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, statusPath):
		done, ok := doneAt(r.URL.Path[len(statusPath):])
		if !ok {
			http.NotFound(w, r)
			return
		}
		f.azurePolls.Add(1)
		h["Content-Type"] = []string{"application/json"}
		if time.Now().Before(done) {
			h["Retry-After"] = []string{"1"}
			_, _ = w.Write(inProgress)
			return
		}
		_, _ = w.Write(succeeded)
	case strings.HasPrefix(r.URL.Path, widgetsPath):
		name := r.URL.Path[len(widgetsPath):]
		if _, ok := doneAt(name); !ok {
			http.NotFound(w, r)
			return
		}
		h["Content-Type"] = []string{"application/json"}
		switch r.Method {
		case http.MethodPut:
			f.azureStarts.Add(1)
			h["Azure-AsyncOperation"] = []string{"http://" + r.Host + statusPath + name + "?api-version=2024-01-01"}
			h["Retry-After"] = []string{"1"}
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"name":%q,"properties":{"provisioningState":"Creating"}}`, name)
		case http.MethodGet:
			fmt.Fprintf(w, `{"name":%q,"properties":{"provisioningState":"Succeeded"}}`, name)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	case r.Method == http.MethodPost && r.URL.Path == "/":
		f.serveAWS(w, r)
	case r.URL.Path == "/_stats":
		h["Content-Type"] = []string{"application/json"}
		_ = json.NewEncoder(w).Encode(f.Stats())
	default:
		http.NotFound(w, r)
	}
}

// serveAWS answers CloudFormation DescribeStacks (AWS query protocol).
func (f *Fake) serveAWS(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("Action") != "DescribeStacks" {
		http.Error(w, "unsupported", http.StatusBadRequest)
		return
	}
	name := r.PostForm.Get("StackName")
	done, ok := doneAt(name)
	if !ok {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>`)
		return
	}
	f.awsPolls.Add(1)
	st := "CREATE_IN_PROGRESS"
	if !time.Now().Before(done) {
		st = "CREATE_COMPLETE"
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>%s</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/%s/1</StackId><CreationTime>2025-01-01T00:00:00Z</CreationTime><StackStatus>%s</StackStatus></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>`, name, name, st)
}

// operations is a google.longrunning.Operations server over named
// operations.
type operations struct {
	longrunningpb.UnimplementedOperationsServer
	f *Fake
}

var emptyAny, _ = anypb.New(&emptypb.Empty{})

func (s *operations) GetOperation(_ context.Context, req *longrunningpb.GetOperationRequest) (*longrunningpb.Operation, error) {
	done, ok := doneAt(req.GetName())
	if !ok {
		return nil, status.Error(codes.NotFound, "operation not found")
	}
	s.f.gcpPolls.Add(1)
	op := &longrunningpb.Operation{Name: req.GetName()}
	if !time.Now().Before(done) {
		op.Done = true
		op.Result = &longrunningpb.Operation_Response{Response: emptyAny}
	}
	return op, nil
}

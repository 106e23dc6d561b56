package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/api/googleapi"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/lrokit/lrokit/lrotest/gcpfake"
	"github.com/lrokit/lrokit/poller"
)

func encode(t *testing.T, tok poller.Token) string {
	t.Helper()
	s, err := tok.Encode()
	require.NoError(t, err)
	return s
}

func TestResumeRefusesForeignAndMalformedTokens(t *testing.T) {
	e := newEnv(t)
	ce := newComputeEnv(t)
	state := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return b
	}
	secret := "projects/p/operations/SECRET-NAME-123"
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"garbage", "not a token " + secret, "neither"},
		{"another provider", encode(t, poller.Token{Provider: "azure", Kind: KindLongrunning, State: state(lroState{Name: secret})}), `provider "azure"`},
		{"another kind", encode(t, poller.Token{Provider: Provider, Kind: KindCompute, State: state(computeState{Project: "p", Name: "n"})}), `kind "compute"`},
		{"no state", encode(t, poller.Token{Provider: Provider, Kind: KindLongrunning}), "no state"},
		{"state of the wrong shape", encode(t, poller.Token{Provider: Provider, Kind: KindLongrunning, State: json.RawMessage(`{"name":7}`)}), "does not decode"},
		{"empty name", encode(t, poller.Token{Provider: Provider, Kind: KindLongrunning, State: state(lroState{})}), "name is empty"},
		{"name with a newline", encode(t, poller.Token{Provider: Provider, Kind: KindLongrunning, State: state(lroState{Name: "a\nb"})}), "control"},
		{"endpoint with a query", encode(t, poller.Token{Provider: Provider, Kind: KindLongrunning, State: state(lroState{Name: secret, Endpoint: "https://evil.example/?x=" + secret})}), "query"},
		{"endpoint with user info", encode(t, poller.Token{Provider: Provider, Kind: KindLongrunning, State: state(lroState{Name: secret, Endpoint: "evil@host"})}), "neither"},
		{"endpoint of another scheme", encode(t, poller.Token{Provider: Provider, Kind: KindLongrunning, State: state(lroState{Name: secret, Endpoint: "ftp://host/"})}), "scheme"},
		{"a sealed token without a key", "lrokit1s.e30.AAAA", "no key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resume[*emptypb.Empty](tt.token, e.client(), nil)
			require.ErrorIs(t, err, poller.ErrInvalidToken)
			assert.ErrorContains(t, err, tt.want)
			assert.NotContains(t, err.Error(), "SECRET-NAME", "errors never echo the token")
		})
	}
	computeTests := []struct {
		name  string
		state computeState
		want  string
	}{
		{"both zone and region", computeState{Project: "p", Zone: "z", Region: "r", Name: "n"}, "both"},
		{"a project with a slash", computeState{Project: "p/../q", Name: "n"}, "character"},
		{"no name", computeState{Project: "p"}, "name is empty"},
		{"a bad zone", computeState{Project: "p", Zone: "z?", Name: "n"}, "zone"},
		{"a bad region", computeState{Project: "p", Region: strings.Repeat("r", 300), Name: "n"}, "region"},
		{"a bad endpoint", computeState{Project: "p", Name: "n", Endpoint: "http://h/#frag"}, "fragment"},
	}
	for _, tt := range computeTests {
		t.Run("compute/"+tt.name, func(t *testing.T) {
			tok := encode(t, poller.Token{Provider: Provider, Kind: KindCompute, State: state(tt.state)})
			_, err := ResumeCompute(tok, ce.service(), nil)
			require.ErrorIs(t, err, poller.ErrInvalidToken)
			assert.ErrorContains(t, err, tt.want)
		})
	}
	t.Run("compute/a longrunning token", func(t *testing.T) {
		tok := encode(t, poller.Token{Provider: Provider, Kind: KindLongrunning, State: state(lroState{Name: "n"})})
		_, err := ResumeCompute(tok, ce.service(), nil)
		require.ErrorIs(t, err, poller.ErrInvalidToken)
	})
	t.Run("a nil client", func(t *testing.T) {
		tok := encode(t, poller.Token{Provider: Provider, Kind: KindLongrunning, State: state(lroState{Name: "n"})})
		_, err := Resume[*emptypb.Empty](tok, nil, nil)
		assert.ErrorContains(t, err, "nil OperationsClient")
	})
}

func TestTokenKeepsTheEndpoint(t *testing.T) {
	e := newEnv(t)
	e.fake.Add("operations/ep", gcpfake.Running(nil))
	const ep = "us-central1-aiplatform.googleapis.com:443"
	p, err := FromName[*emptypb.Empty]("operations/ep", e.client(), e.opts(func(o *Options) { o.Endpoint = ep }))
	require.NoError(t, err)
	tok, err := p.ResumeToken()
	require.NoError(t, err)

	got, err := TokenEndpoint(tok, nil)
	require.NoError(t, err)
	assert.Equal(t, ep, got)
	assert.True(t, IsGoogleEndpoint(got))

	t.Run("an empty Endpoint takes the token's and keeps it", func(t *testing.T) {
		r, err := Resume[*emptypb.Empty](tok, e.client(), e.opts())
		require.NoError(t, err)
		again, err := r.ResumeToken()
		require.NoError(t, err)
		got, err := TokenEndpoint(again, nil)
		require.NoError(t, err)
		assert.Equal(t, ep, got)
	})
	t.Run("the same endpoint spelled otherwise is accepted", func(t *testing.T) {
		_, err := Resume[*emptypb.Empty](tok, e.client(), e.opts(func(o *Options) { o.Endpoint = "https://US-central1-aiplatform.googleapis.com/" }))
		require.NoError(t, err)
	})
	t.Run("another endpoint is refused", func(t *testing.T) {
		_, err := Resume[*emptypb.Empty](tok, e.client(), e.opts(func(o *Options) { o.Endpoint = "europe-west4-aiplatform.googleapis.com" }))
		require.ErrorIs(t, err, poller.ErrInvalidToken)
		assert.ErrorContains(t, err, "lives on https://us-central1-aiplatform.googleapis.com, not on the configured endpoint")
	})
	t.Run("an invalid endpoint in options is refused", func(t *testing.T) {
		_, err := Resume[*emptypb.Empty](tok, e.client(), e.opts(func(o *Options) { o.Endpoint = "a b" }))
		assert.ErrorContains(t, err, "options")
	})
	t.Run("no endpoint records none", func(t *testing.T) {
		p, err := FromName[*emptypb.Empty]("operations/ep", e.client(), e.opts())
		require.NoError(t, err)
		tok, err := p.ResumeToken()
		require.NoError(t, err)
		got, err := TokenEndpoint(tok, nil)
		require.NoError(t, err)
		assert.Empty(t, got)
		assert.NotContains(t, decodeState(t, tok), "endpoint")
	})
	t.Run("compute", func(t *testing.T) {
		ce := newComputeEnv(t)
		p, err := AdoptCompute("p", "global", "op", ce.service(), ce.opts(func(o *Options) { o.Endpoint = ce.fake.BasePath() }))
		require.NoError(t, err)
		tok, err := p.ResumeToken()
		require.NoError(t, err)
		got, err := TokenEndpoint(tok, nil)
		require.NoError(t, err)
		assert.Equal(t, ce.fake.BasePath(), got)
		assert.False(t, IsGoogleEndpoint(got), "loopback over http is not Google's")
		_, err = ResumeCompute(tok, ce.service(), ce.opts(func(o *Options) { o.Endpoint = "https://compute.googleapis.com/compute/v1/" }))
		assert.ErrorContains(t, err, "lives on "+ce.fake.BasePath()[:len("http://127.0.0.1")])
		_, err = ResumeCompute(tok, ce.service(), ce.opts())
		require.ErrorIs(t, err, poller.ErrInvalidToken, "a loopback endpoint is trusted only when the caller names it")
		assert.ErrorContains(t, err, "gcp.Options.Endpoint")
		_, err = ResumeCompute(tok, ce.service(), ce.opts(func(o *Options) { o.Endpoint = ce.fake.BasePath() }))
		require.NoError(t, err)
		assert.JSONEq(t, fmt.Sprintf(`{"project":"p","name":"op","endpoint":%q}`, ce.fake.BasePath()), decodeState(t, tok))
	})
	t.Run("TokenEndpoint refuses what Resume refuses", func(t *testing.T) {
		_, err := TokenEndpoint("garbage", nil)
		require.ErrorIs(t, err, poller.ErrInvalidToken)
		_, err = TokenEndpoint(encode(t, poller.Token{Provider: "aws", Kind: "x"}), nil)
		require.ErrorIs(t, err, poller.ErrInvalidToken)
		_, err = TokenEndpoint(encode(t, poller.Token{Provider: Provider, Kind: "other"}), nil)
		require.ErrorIs(t, err, poller.ErrInvalidToken)
		_, err = TokenEndpoint(encode(t, poller.Token{Provider: Provider, Kind: KindLongrunning}), nil)
		require.ErrorIs(t, err, poller.ErrInvalidToken)
		_, err = TokenEndpoint(encode(t, poller.Token{Provider: Provider, Kind: KindCompute}), nil)
		require.ErrorIs(t, err, poller.ErrInvalidToken)
	})
}

func decodeState(t *testing.T, token string) string {
	t.Helper()
	tok, err := poller.DecodeToken(token, nil)
	require.NoError(t, err)
	return string(tok.State)
}

func TestSealedTokensNeedTheKey(t *testing.T) {
	e := newEnv(t)
	e.fake.Add("operations/sealed", gcpfake.Running(nil), gcpfake.Succeeded(durationpb.New(time.Second)))
	key := []byte("0123456789abcdef0123456789abcdef")
	p, err := FromName[*durationpb.Duration]("operations/sealed", e.client(), e.opts(func(o *Options) { o.SealKey = key }))
	require.NoError(t, err)
	_, err = p.Poll(context.Background())
	require.NoError(t, err)
	tok, err := p.ResumeToken()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(tok, "lrokit1k."))

	_, err = Resume[*durationpb.Duration](tok, e.client(), e.opts())
	require.ErrorIs(t, err, poller.ErrInvalidToken)
	_, err = Resume[*durationpb.Duration](tok, e.client(), e.opts(func(o *Options) { o.SealKey = []byte("another key 1234 another key 1234") }))
	require.ErrorIs(t, err, poller.ErrInvalidToken)
	r, err := Resume[*durationpb.Duration](tok, e.client(), e.opts(func(o *Options) { o.SealKey = key }))
	require.NoError(t, err)
	res, err := r.Wait(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, time.Second, res.AsDuration())
}

func TestTokenIsReadableAndHoldsNoSchedulePrivateState(t *testing.T) {
	e := newEnv(t)
	e.fake.Add("projects/p/operations/op-9", gcpfake.Running(mustStruct(t, map[string]any{"state": "RUNNING", "progressPercent": 42})))
	p, err := FromName[*emptypb.Empty]("projects/p/operations/op-9", e.client(), e.opts())
	require.NoError(t, err)
	_, err = p.Poll(context.Background())
	require.NoError(t, err)
	tok, err := p.Token()
	require.NoError(t, err)
	assert.Equal(t, Provider, tok.Provider)
	assert.Equal(t, KindLongrunning, tok.Kind)
	assert.JSONEq(t, `{"name":"projects/p/operations/op-9"}`, string(tok.State))
	require.NotNil(t, tok.Last)
	assert.Equal(t, poller.TokenObservation{Status: poller.StatusRunning, Detail: "RUNNING", Progress: 42}, *tok.Last)
	assert.True(t, tok.Next.After(tok.Polled), "the next poll time is kept")
}

func TestClassify(t *testing.T) {
	withRetryInfo := func(code codes.Code, d time.Duration) error {
		st, err := status.New(code, "x").WithDetails(protoadapt.MessageV1Of(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)}))
		require.NoError(t, err)
		return st.Err()
	}
	wrapped := func(err error) error {
		ae, ok := apierror.FromError(err)
		require.True(t, ok)
		return ae
	}
	httpErr := func(code int, header http.Header, reasons ...string) error {
		e := &googleapi.Error{Code: code, Message: "m", Header: header}
		for _, r := range reasons {
			e.Errors = append(e.Errors, googleapi.ErrorItem{Reason: r})
		}
		return e
	}
	tests := []struct {
		name      string
		err       error
		notFound  bool
		transient bool
		throttled bool
		hint      time.Duration
	}{
		{"NotFound", status.Error(codes.NotFound, "gone"), true, false, false, 0},
		{"UNAVAILABLE", status.Error(codes.Unavailable, "x"), false, true, false, 0},
		{"UNAVAILABLE through apierror with RetryInfo", wrapped(withRetryInfo(codes.Unavailable, 3*time.Second)), false, true, false, 3 * time.Second},
		{"DEADLINE_EXCEEDED", status.Error(codes.DeadlineExceeded, "x"), false, true, false, 0},
		{"ABORTED", status.Error(codes.Aborted, "x"), false, true, false, 0},
		{"INTERNAL", status.Error(codes.Internal, "x"), false, true, false, 0},
		{"RESOURCE_EXHAUSTED with RetryInfo", withRetryInfo(codes.ResourceExhausted, time.Minute), false, true, true, time.Minute},
		{"a negative RetryInfo is no hint", withRetryInfo(codes.Unavailable, -time.Second), false, true, false, 0},
		{"PERMISSION_DENIED", status.Error(codes.PermissionDenied, "x"), false, false, false, 0},
		{"CANCELLED", status.Error(codes.Canceled, "x"), false, false, false, 0},
		{"context.Canceled", context.Canceled, false, false, false, 0},
		{"a network cut", io.ErrUnexpectedEOF, false, true, false, 0},
		{"another error", errors.New("boom"), false, false, false, 0},
		{"HTTP 404", httpErr(404, nil), true, false, false, 0},
		{"HTTP 429 with Retry-After", httpErr(429, http.Header{"Retry-After": {"30"}}), false, true, true, 30 * time.Second},
		{"HTTP 429 with an HTTP-date Retry-After", httpErr(429, http.Header{"Retry-After": {epoch.Add(time.Minute).Format(http.TimeFormat)}}), false, true, true, time.Minute},
		{"HTTP 403 rateLimitExceeded", httpErr(403, nil, "rateLimitExceeded"), false, true, true, 0},
		{"HTTP 403 userRateLimitExceeded", httpErr(403, nil, "userRateLimitExceeded"), false, true, true, 0},
		{"HTTP 403 forbidden", httpErr(403, nil, "forbidden"), false, false, false, 0},
		{"HTTP 503", httpErr(503, http.Header{"Retry-After": {"5"}}), false, true, false, 5 * time.Second},
		{"HTTP 408", httpErr(408, nil), false, true, false, 0},
		{"HTTP 501", httpErr(501, nil), false, false, false, 0},
		{"HTTP 400", httpErr(400, nil), false, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.err, epoch)
			assert.ErrorIs(t, got, tt.err, "the original error stays in the chain")
			assert.Equal(t, tt.notFound, errors.Is(got, poller.ErrOperationNotFound))
			assert.Equal(t, tt.transient, poller.IsTransient(got))
			assert.Equal(t, tt.throttled, poller.IsThrottled(got))
			assert.Equal(t, tt.hint, poller.RetryAfterOf(got))
		})
	}
	assert.NoError(t, classify(nil, epoch))
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		ep     string
		valid  bool
		google bool
	}{
		{"", true, false},
		{"longrunning.googleapis.com:443", true, true},
		{"us-central1-aiplatform.googleapis.com", true, true},
		{"https://compute.googleapis.com/compute/v1/", true, true},
		{"https://googleapis.com", true, false},
		{"https://compute.googleapis.com:8443/", true, false},
		{"COMPUTE.googleapis.com:443", true, true},
		{"http://compute.googleapis.com/compute/v1/", true, false},
		{"compute.googleapis.com.evil.example", true, false},
		{"evilgoogleapis.com", true, false},
		{"127.0.0.1:8080", true, false},
		{"[::1]:443", true, false},
		{"https://user:pw@compute.googleapis.com/", false, false},
		{"compute.googleapis.com/path", false, false},
		{"https://compute.googleapis.com/?q=1", false, false},
		{"https://compute.googleapis.com/#f", false, false},
		{"gopher://host", false, false},
		{"https://", false, false},
		{"host\n", false, false},
		{"hóst", false, false},
		{strings.Repeat("a", maxEndpointLen+1), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.ep, func(t *testing.T) {
			assert.Equal(t, tt.valid, validEndpoint(tt.ep) == nil)
			assert.Equal(t, tt.google, IsGoogleEndpoint(tt.ep))
		})
	}
	assert.True(t, sameEndpoint("A.googleapis.com:443", "https://a.googleapis.com/"))
	assert.True(t, sameEndpoint("https://compute.googleapis.com/compute/v1/", "compute.googleapis.com:443/compute/v1"))
	assert.False(t, sameEndpoint("a.googleapis.com:8443", "a.googleapis.com"))
}

func TestDescribeMetadataIgnoresWhatItCannotRead(t *testing.T) {
	tests := []struct {
		name string
		md   map[string]any
		want metadataView
	}{
		{"no fields", map[string]any{}, metadataView{Progress: poller.ProgressUnknown}},
		{"a non-numeric percent", map[string]any{"progressPercent": "soon"}, metadataView{Progress: poller.ProgressUnknown}},
		{"a percent above 100", map[string]any{"percentComplete": 250}, metadataView{Progress: 100}},
		{"a negative percent", map[string]any{"progress_percentage": -3}, metadataView{Progress: 0}},
		{"a status object is no state", map[string]any{"status": map[string]any{"code": 3}}, metadataView{Progress: poller.ProgressUnknown}},
		{"a string status is a state", map[string]any{"status": " Running "}, metadataView{State: "Running", Progress: poller.ProgressUnknown}},
		{"a long state is cut", map[string]any{"state": strings.Repeat("S", 100)}, metadataView{State: strings.Repeat("S", 64), Progress: poller.ProgressUnknown}},
		{"a start time", map[string]any{"startTime": "2026-03-01T11:00:00Z"}, metadataView{Progress: poller.ProgressUnknown, Started: epoch.Add(-time.Hour)}},
		{"a bad start time", map[string]any{"create_time": "yesterday"}, metadataView{Progress: poller.ProgressUnknown}},
		{"nested progress", map[string]any{"operationProgress": map[string]any{"progressPercent": 12}}, metadataView{Progress: 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describeMetadata(mustAnyT(t, mustStruct(t, tt.md)))
			assert.Equal(t, tt.want, got)
		})
	}
	assert.Equal(t, metadataView{Progress: poller.ProgressUnknown}, describeMetadata(nil))
	unknown := mustAnyT(t, &emptypb.Empty{})
	unknown.TypeUrl = "type.googleapis.com/not.linked.Here"
	assert.Equal(t, metadataView{Progress: poller.ProgressUnknown}, describeMetadata(unknown))
	assert.Equal(t, metadataView{Progress: poller.ProgressUnknown}, describeMetadata(mustAnyT(t, durationpb.New(time.Second))), "a JSON scalar says nothing")
}

func TestUnpackErrors(t *testing.T) {
	unknown := mustAnyT(t, &emptypb.Empty{})
	unknown.TypeUrl = "type.googleapis.com/not.linked.Here"
	_, err := unpack[*emptypb.Empty](unknown, "response")
	require.ErrorIs(t, err, ErrTypeMismatch)
	assert.ErrorContains(t, err, "not.linked.Here")

	_, err = unpack[*emptypb.Empty](&anypb.Any{}, "response")
	require.ErrorIs(t, err, ErrTypeMismatch)
	assert.ErrorContains(t, err, "an Any without a type")

	_, err = unpack[proto.Message](unknown, "response")
	assert.ErrorContains(t, err, "not.linked.Here")

	corrupt := &anypb.Any{TypeUrl: "type.googleapis.com/google.protobuf.Duration", Value: []byte{0xff}}
	_, err = unpack[*durationpb.Duration](corrupt, "response")
	assert.ErrorContains(t, err, "unpacking")

	_, err = unpack[*dynamicpb.Message](unknown, "response")
	assert.ErrorContains(t, err, "neither a generated message type")

	got, err := unpack[*anypb.Any](nil, "response")
	require.NoError(t, err)
	assert.NotNil(t, got)
	none, err := unpack[proto.Message](nil, "response")
	require.NoError(t, err)
	assert.Nil(t, none)
}

func TestResultTarget(t *testing.T) {
	o := &operation[*emptypb.Empty]{name: "operations/x"}
	var wrong string
	assert.ErrorContains(t, o.Result(context.Background(), &wrong), "result target")
	var out *emptypb.Empty
	assert.ErrorIs(t, o.Result(context.Background(), &out), poller.ErrNotDone)
}

func TestPrintable(t *testing.T) {
	assert.Equal(t, "a?b", printable("a\x00b"))
	assert.Equal(t, strings.Repeat("x", 32)+"…", printable(strings.Repeat("x", 40)))
}

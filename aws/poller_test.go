package aws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/aws"
	"github.com/lrokit/lrokit/lrotest/awsfake"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func autoOpts() *aws.Options {
	return &aws.Options{Options: poller.Options{Clock: pollertest.NewAutoClock(epoch)}}
}

var stackIn = &cloudformation.DescribeStacksInput{StackName: awssdk.String("web")}

func TestWaitReportsTheResourceStatusAsDetailAndReturnsTheLastOutput(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Stack, "web", awsfake.Statuses("CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE")...)

	p, err := aws.NewPoller[*cloudformation.DescribeStacksOutput](srv.Config(), "cloudformation.StackCreateComplete", stackIn, autoOpts())
	require.NoError(t, err)
	var details []string
	out, err := p.Wait(context.Background(), &poller.WaitOptions{OnPoll: func(o poller.Observation) { details = append(details, o.Detail) }})
	require.NoError(t, err)
	assert.Equal(t, []string{"CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"}, details)
	require.Len(t, out.Stacks, 1)
	assert.Equal(t, "CREATE_COMPLETE", string(out.Stacks[0].StackStatus))
	assert.Equal(t, poller.StatusSucceeded, p.Last().Status)
	assert.Equal(t, float64(poller.ProgressUnknown), p.Last().Progress)
	assert.Equal(t, 3, srv.Calls(awsfake.Stack, "web"))
}

func TestModeledFailureNamesStatusAndReasonAndKeepsTheOutput(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Stack, "web",
		awsfake.Status("CREATE_IN_PROGRESS"),
		awsfake.Step{Status: "ROLLBACK_COMPLETE", Reason: "The following resource(s) failed to create: [Bucket]."})

	p, err := aws.NewPoller[*cloudformation.DescribeStacksOutput](srv.Config(), "cloudformation.StackCreateComplete", stackIn, autoOpts())
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)

	var oe *poller.OperationError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, poller.StatusFailed, oe.Status)
	assert.Equal(t, "aws", oe.Provider)
	assert.Contains(t, err.Error(), "ROLLBACK_COMPLETE")
	assert.Contains(t, err.Error(), "failed to create: [Bucket]")
	assert.Equal(t, "ROLLBACK_COMPLETE", oe.Last.Detail)

	out, ok := aws.LastOutput[*cloudformation.DescribeStacksOutput](err)
	require.True(t, ok)
	assert.Equal(t, "ROLLBACK_COMPLETE", string(out.Stacks[0].StackStatus))
	var fe *aws.FailureError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "ROLLBACK_COMPLETE", fe.Status)
	assert.Equal(t, "cloudformation.StackCreateComplete", fe.Waiter)
	_, ok = aws.LastOutput[*eks.DescribeClusterOutput](err)
	assert.False(t, ok, "an output of another type is not reported")

	_, rerr := p.Result(context.Background())
	_, ok = aws.LastOutput[*cloudformation.DescribeStacksOutput](rerr)
	assert.True(t, ok, "Result returns the same failure with its output")
}

func TestErrorsTheWaiterMatchesAreStates(t *testing.T) {
	cases := []struct {
		name       string
		waiter     string
		kind       awsfake.Kind
		id         string
		input      any
		script     []awsfake.Step
		wantStatus poller.Status
		wantDetail string
	}{
		{"a stack that does not exist fails its creation", "cloudformation.StackCreateComplete", awsfake.Stack, "web", stackIn,
			[]awsfake.Step{awsfake.Failing(awsfake.Gone)}, poller.StatusFailed, "ValidationError"},
		{"a stack that does not exist is deleted", "cloudformation.StackDeleteComplete", awsfake.Stack, "web", stackIn,
			[]awsfake.Step{awsfake.Status("DELETE_IN_PROGRESS"), awsfake.Failing(awsfake.Gone)}, poller.StatusSucceeded, "ValidationError"},
		{"a cluster that is not found is deleted", "eks.ClusterDeleted", awsfake.Cluster, "prod", &eks.DescribeClusterInput{Name: awssdk.String("prod")},
			[]awsfake.Step{awsfake.Status("DELETING"), awsfake.Failing(awsfake.Gone)}, poller.StatusSucceeded, "ResourceNotFoundException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := awsfake.New()
			defer srv.Close()
			srv.Script(c.kind, c.id, c.script...)
			p, err := aws.NewPoller[any](srv.Config(), c.waiter, c.input, autoOpts())
			require.NoError(t, err)
			out, err := p.Wait(context.Background(), nil)
			assert.Equal(t, c.wantStatus, p.Last().Status)
			assert.Equal(t, c.wantDetail, p.Last().Detail)
			if c.wantStatus == poller.StatusSucceeded {
				require.NoError(t, err)
				assert.Nil(t, reflectNil(out), "no output when an error matched")
				return
			}
			var oe *poller.OperationError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, "ValidationError", oe.Code)
			assert.Contains(t, oe.Message, "does not exist")
		})
	}
}

// reflectNil turns a typed nil pointer in an interface into a plain nil.
func reflectNil(v any) any {
	if v == nil {
		return nil
	}
	if b, err := json.Marshal(v); err == nil && string(b) == "null" {
		return nil
	}
	return v
}

func TestPendingByErrorKeepsWaiting(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Instance, "i-1", awsfake.Failing(awsfake.Gone), awsfake.Status("pending"), awsfake.Status("running"))
	_, err := aws.NewPoller[any](srv.Config(), "ec2.InstanceRunning", struct{}{}, autoOpts())
	require.Error(t, err, "a struct of another type is refused")
	p, err := aws.NewPoller[any](srv.Config(), "ec2.InstanceRunning", ec2Instances("i-1"), autoOpts())
	require.NoError(t, err)
	var details []string
	_, err = p.Wait(context.Background(), &poller.WaitOptions{OnPoll: func(o poller.Observation) { details = append(details, o.Detail) }})
	require.NoError(t, err)
	assert.Equal(t, []string{"InvalidInstanceID.NotFound", "pending", "running"}, details)
}

func TestCallErrorsAreClassifiedBySDKRules(t *testing.T) {
	cases := []struct {
		name       string
		step       awsfake.Step
		transient  bool
		throttled  bool
		retryAfter time.Duration
		notFound   bool
	}{
		{"throttling with Retry-After", awsfake.Step{Fault: awsfake.Throttle, RetryAfter: 45 * time.Second}, true, true, 45 * time.Second, false},
		{"throttling", awsfake.Failing(awsfake.Throttle), true, true, 0, false},
		{"service unavailable", awsfake.Failing(awsfake.Unavailable), true, false, 0, false},
		{"dropped connection", awsfake.Failing(awsfake.Drop), true, false, 0, false},
		{"access denied", awsfake.Failing(awsfake.Denied), false, false, 0, false},
		{"validation", awsfake.Failing(awsfake.Invalid), false, false, 0, false},
		{"not found", awsfake.Failing(awsfake.Gone), false, false, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := awsfake.New()
			defer srv.Close()
			srv.Script(awsfake.Cluster, "prod", c.step)
			clock := pollertest.NewClock(epoch)
			p, err := aws.NewPoller[*eks.DescribeClusterOutput](srv.Config(), "eks.ClusterActive",
				eks.DescribeClusterInput{Name: awssdk.String("prod")}, &aws.Options{Options: poller.Options{Clock: clock}})
			require.NoError(t, err)
			_, err = p.Poll(context.Background())
			var pe *poller.PollError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, c.transient, pe.Transient, "transient: %v", err)
			assert.Equal(t, !c.transient, pe.Final)
			assert.Equal(t, c.throttled, poller.IsThrottled(err))
			assert.Equal(t, c.retryAfter, poller.RetryAfterOf(err))
			assert.Equal(t, c.notFound, errors.Is(err, poller.ErrOperationNotFound))
			if c.retryAfter > 0 {
				assert.Equal(t, epoch.Add(c.retryAfter), p.NextPollAt(), "the next poll waits the server's Retry-After")
			}
		})
	}
}

func TestThrottlingStormOutlastingTheSDKRetriesKeepsTheWaitAlive(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	cfg := srv.Config()
	// The client retries three times, at once (no real sleeps).
	cfg.Retryer = func() awssdk.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			o.RateLimiter = noRateLimit{}
		})
	}
	script := []awsfake.Step{awsfake.Status("UPDATE_IN_PROGRESS")}
	for range 8 {
		script = append(script, awsfake.Failing(awsfake.Throttle))
	}
	script = append(script, awsfake.Status("UPDATE_COMPLETE"))

	srv.Script(awsfake.Stack, "web", script...)
	sdkErr := cloudformation.NewStackUpdateCompleteWaiter(cloudformation.NewFromConfig(cfg), func(o *cloudformation.StackUpdateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 2*time.Millisecond
	}).Wait(context.Background(), stackIn, time.Minute)
	var ae smithy.APIError
	require.ErrorAs(t, sdkErr, &ae, "the SDK's waiter gives up on the storm")
	assert.Equal(t, "Throttling", ae.ErrorCode())

	srv.Script(awsfake.Stack, "web", script...)
	p, err := aws.NewPoller[*cloudformation.DescribeStacksOutput](cfg, "cloudformation.StackUpdateComplete", stackIn, autoOpts())
	require.NoError(t, err)
	out, err := p.Wait(context.Background(), nil)
	require.NoError(t, err, "lrokit keeps waiting through the storm")
	assert.Equal(t, "UPDATE_COMPLETE", string(out.Stacks[0].StackStatus))
	assert.Equal(t, len(script), srv.Calls(awsfake.Stack, "web"))
}

// noRateLimit lets the standard retryer retry without a token bucket.
type noRateLimit struct{}

func (noRateLimit) GetToken(context.Context, uint) (func() error, error) {
	return func() error { return nil }, nil
}
func (noRateLimit) AddTokens(uint) error { return nil }

func pollGaps(t *testing.T, opts *aws.Options, polls int) []time.Duration {
	t.Helper()
	srv := awsfake.New()
	defer srv.Close()
	script := make([]awsfake.Step, 0, polls)
	for range polls - 1 {
		script = append(script, awsfake.Status("CREATE_IN_PROGRESS"))
	}
	srv.Script(awsfake.Stack, "web", append(script, awsfake.Status("CREATE_COMPLETE"))...)
	clock := pollertest.NewAutoClock(epoch)
	opts.Clock = clock
	p, err := aws.NewPoller[any](srv.Config(), "cloudformation.StackCreateComplete", stackIn, opts)
	require.NoError(t, err)
	var times []time.Time
	_, err = p.Wait(context.Background(), &poller.WaitOptions{OnPoll: func(poller.Observation) { times = append(times, clock.Now()) }})
	require.NoError(t, err)
	require.Len(t, times, polls)
	gaps := make([]time.Duration, 0, polls-1)
	for i := 1; i < len(times); i++ {
		gaps = append(gaps, times[i].Sub(times[i-1]))
	}
	return gaps
}

func TestDelaysTakeTheWaiterModelAsFloorAndCap(t *testing.T) {
	cases := []struct {
		name     string
		opts     *aws.Options
		min, max time.Duration
	}{
		{"model delays (CloudFormation 30s..120s)", &aws.Options{}, 30 * time.Second, 132 * time.Second},
		{"per-call override", &aws.Options{MinDelay: 5 * time.Second, MaxDelay: 10 * time.Second}, 5 * time.Second, 11 * time.Second},
		{"policy wins over the model", &aws.Options{Options: poller.Options{Policy: poller.Policy{Floor: time.Second, Cap: 3 * time.Second}}}, time.Second, 3300 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gaps := pollGaps(t, c.opts, 25)
			for _, g := range gaps {
				assert.GreaterOrEqual(t, g, c.min)
				assert.LessOrEqual(t, g, c.max)
			}
			assert.Greater(t, gaps[len(gaps)-1], gaps[0], "the schedule backs off between floor and cap")
		})
	}
}

func TestMaxWaitIsAnAbsoluteDeadlineKeptInTheToken(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Cluster, "prod", awsfake.Status("CREATING"))
	in := &eks.DescribeClusterInput{Name: awssdk.String("prod")}
	p, err := aws.NewPoller[any](srv.Config(), "eks.ClusterActive", in,
		&aws.Options{MaxWait: 10 * time.Minute, Options: poller.Options{Clock: pollertest.NewAutoClock(epoch)}})
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	var we *poller.WaitError
	require.ErrorAs(t, err, &we)
	require.ErrorIs(t, err, poller.ErrDeadline)
	tok, err := poller.DecodeToken(we.Token, nil)
	require.NoError(t, err)
	assert.Equal(t, epoch.Add(10*time.Minute), tok.Deadline.UTC())
	calls := srv.Calls(awsfake.Cluster, "prod")

	later := pollertest.NewAutoClock(epoch.Add(time.Hour))
	p2, err := aws.Resume[any](we.Token, srv.Config(), &aws.Options{Options: poller.Options{Clock: later}})
	require.NoError(t, err)
	_, err = p2.Wait(context.Background(), nil)
	require.ErrorIs(t, err, poller.ErrDeadline, "a resumed wait keeps the absolute deadline")
	assert.Equal(t, calls, srv.Calls(awsfake.Cluster, "prod"), "no poll after the deadline")
}

func TestResumeMidWayContinuesEveryBuiltInWaiter(t *testing.T) {
	for _, c := range waiterCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := awsfake.New()
			defer srv.Close()
			for _, id := range c.ids {
				srv.Script(c.kind, id, c.pending, c.pending, c.pending, c.success)
			}
			clock := pollertest.NewClock(epoch)
			p, err := aws.NewPoller[any](srv.Config(), c.name, c.input, &aws.Options{Options: poller.Options{Clock: clock}})
			require.NoError(t, err)
			for range 2 {
				obs, err := p.Poll(context.Background())
				require.NoError(t, err)
				require.Equal(t, poller.StatusRunning, obs.Status, "pending step %+v", c.pending)
			}
			token, err := p.ResumeToken()
			require.NoError(t, err)
			assert.NotContains(t, token, "fake-secret")
			next := p.NextPollAt()

			// Another process: a new config, clock and poller.
			cfg := srv.Config()
			cfg.Credentials = awssdk.NewCredentialsCache(awssdk.CredentialsProviderFunc(func(context.Context) (awssdk.Credentials, error) {
				return awssdk.Credentials{AccessKeyID: "AKIDOTHER", SecretAccessKey: "other"}, nil
			}))
			later := pollertest.NewAutoClock(epoch.Add(time.Second))
			p2, err := aws.Resume[any](token, cfg, &aws.Options{Options: poller.Options{Clock: later}})
			require.NoError(t, err)
			assert.Equal(t, next, p2.NextPollAt(), "the schedule continues from the token")
			assert.Equal(t, epoch, p2.Created())
			out, err := p2.Wait(context.Background(), nil)
			require.NoError(t, err)
			assert.Equal(t, poller.StatusSucceeded, p2.Last().Status)
			assert.Equal(t, 4, p2.Polls())
			for _, id := range c.ids {
				assert.Equal(t, 4, srv.Calls(c.kind, id), "the resumed wait did not start over")
			}
			if c.success.Fault == awsfake.None {
				assert.NotNil(t, reflectNil(out))
				assert.NotEmpty(t, p2.Last().Detail)
			}
		})
	}
}

func TestResumeTrustsATokenEndpointOnlyWhenConfirmed(t *testing.T) {
	const custom = "https://vpce-0abc.example.internal:8443"
	cfg := awssdk.Config{Region: "eu-west-1"}
	p, err := aws.NewPoller[any](cfg, "eks.ClusterActive", &eks.DescribeClusterInput{Name: awssdk.String("prod")}, &aws.Options{BaseEndpoint: custom})
	require.NoError(t, err)
	token, err := p.ResumeToken()
	require.NoError(t, err)

	_, err = aws.Resume[any](token, awssdk.Config{}, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, poller.ErrInvalidToken)
	assert.ErrorIs(t, err, aws.ErrEndpointNotTrusted)
	assert.Contains(t, err.Error(), "vpce-0abc.example.internal:8443", "the refusal names the host")
	assert.Contains(t, err.Error(), "BaseEndpoint", "the refusal names the option")

	_, err = aws.Resume[any](token, awssdk.Config{}, &aws.Options{BaseEndpoint: custom})
	require.NoError(t, err, "the caller confirms the endpoint")
	_, err = aws.Resume[any](token, awssdk.Config{BaseEndpoint: awssdk.String(custom + "/")}, nil)
	require.NoError(t, err, "the caller's config names the same endpoint")

	key := bytes.Repeat([]byte("k"), poller.MinSealKeySize)
	ps, err := aws.NewPoller[any](cfg, "eks.ClusterActive", &eks.DescribeClusterInput{Name: awssdk.String("prod")},
		&aws.Options{BaseEndpoint: custom, Options: poller.Options{SealKey: key}})
	require.NoError(t, err)
	sealed, err := ps.ResumeToken()
	require.NoError(t, err)
	_, err = aws.Resume[any](sealed, awssdk.Config{}, &aws.Options{Options: poller.Options{SealKey: key}})
	assert.ErrorIs(t, err, poller.ErrInvalidToken, "a seal proves who wrote the token, not where it may point")
	p2, err := aws.Resume[any](sealed, awssdk.Config{BaseEndpoint: awssdk.String(custom)}, &aws.Options{Options: poller.Options{SealKey: key}})
	require.NoError(t, err)
	tok, err := p2.Token()
	require.NoError(t, err)
	var st struct{ Region, Endpoint string }
	require.NoError(t, json.Unmarshal(tok.State, &st))
	assert.Equal(t, "eu-west-1", st.Region, "the token's region is kept")
	assert.Equal(t, custom, st.Endpoint)

	for _, ep := range []string{"https://eks.eu-west-1.amazonaws.com", "https://EKS.eu-west-1.amazonaws.com:443/"} {
		_, err := aws.Resume[any](withEndpoint(t, token, ep), awssdk.Config{}, nil)
		assert.NoError(t, err, "the service's own endpoint for the region: %s", ep)
	}
	for _, ep := range []string{
		"http://127.0.0.1:4566", "http://localhost:4566", // loopback is the caller's to name
		"https://abc123.execute-api.eu-west-1.amazonaws.com", // anyone can own an API Gateway
		"http://eks.eu-west-1.amazonaws.com",                 // downgrade
		"https://eks.eu-west-1.amazonaws.com:8443",           // other port
		"https://eks.us-east-1.amazonaws.com",                // another region than the token's
		"https://cloudformation.eu-west-1.amazonaws.com",     // another service
		"https://bucket.s3.eu-west-1.amazonaws.com",          // anyone can own a bucket
		"https://eks.eu-west-1.amazonaws.com/stage",          // a path
		"https://user@eks.eu-west-1.amazonaws.com",           // user info
		"https://eks.eu-west-1.amazonaws.com.evil.example",   // suffix trick
	} {
		_, err := aws.Resume[any](withEndpoint(t, token, ep), awssdk.Config{}, nil)
		assert.ErrorIs(t, err, poller.ErrInvalidToken, ep)
	}
}

// withEndpoint rewrites a token's endpoint, as an attacker with write
// access to the store would.
func withEndpoint(t *testing.T, token, endpoint string) string {
	t.Helper()
	tok, err := poller.DecodeToken(token, nil)
	require.NoError(t, err)
	var st map[string]any
	require.NoError(t, json.Unmarshal(tok.State, &st))
	st["endpoint"] = endpoint
	tok.State, err = json.Marshal(st)
	require.NoError(t, err)
	out, err := tok.Encode()
	require.NoError(t, err)
	return out
}

func TestResumeRefusesWrongProviderAndUnknownWaiterAsInvalidTokens(t *testing.T) {
	for _, raw := range []string{
		`{"lrokit":1,"provider":"gcp","kind":"longrunning","state":{"name":"operations/x"}}`,
		`{"lrokit":1,"provider":"aws","kind":"nosuch.Waiter","state":{"region":"us-east-1","input":{}}}`,
		`{"lrokit":1,"provider":"aws","kind":"cloudformation.StackCreateComplete","state":{"region":"x.execute-api.us-east-1","input":{"StackName":"a"}}}`,
	} {
		_, err := aws.Resume[any](raw, awssdk.Config{Region: "us-east-1"}, nil)
		assert.ErrorIs(t, err, poller.ErrInvalidToken, raw)
	}
}

func TestNewPollerRefusesMisuseWithClearErrors(t *testing.T) {
	cfg := awssdk.Config{Region: "us-east-1"}
	cases := []struct {
		name  string
		make  func() error
		wants []string
	}{
		{"unknown waiter", func() error {
			_, err := aws.NewPoller[any](cfg, "cloudformation.Nope", stackIn, nil)
			return err
		}, []string{`unknown waiter "cloudformation.Nope"`}},
		{"output type mismatch", func() error {
			_, err := aws.NewPoller[*eks.DescribeClusterOutput](cfg, "cloudformation.StackCreateComplete", stackIn, nil)
			return err
		}, []string{"*cloudformation.DescribeStacksOutput", "*eks.DescribeClusterOutput"}},
		{"input type mismatch", func() error {
			_, err := aws.NewPoller[any](cfg, "cloudformation.StackCreateComplete", &eks.DescribeClusterInput{}, nil)
			return err
		}, []string{"*cloudformation.DescribeStacksInput", "*eks.DescribeClusterInput"}},
		{"nil input", func() error {
			_, err := aws.NewPoller[any](cfg, "cloudformation.StackCreateComplete", nil, nil)
			return err
		}, []string{"not nil"}},
		{"nil pointer input", func() error {
			_, err := aws.NewPoller[any](cfg, "cloudformation.StackCreateComplete", (*cloudformation.DescribeStacksInput)(nil), nil)
			return err
		}, []string{"nil pointer"}},
		{"no region", func() error {
			_, err := aws.NewPoller[any](awssdk.Config{}, "cloudformation.StackCreateComplete", stackIn, nil)
			return err
		}, []string{"no region"}},
		{"endpoint with user info", func() error {
			_, err := aws.NewPoller[any](cfg, "cloudformation.StackCreateComplete", stackIn, &aws.Options{BaseEndpoint: "https://user:pw@example.com"})
			return err
		}, []string{"user info"}},
		{"endpoint of another scheme", func() error {
			_, err := aws.NewPoller[any](cfg, "cloudformation.StackCreateComplete", stackIn, &aws.Options{BaseEndpoint: "ftp://example.com"})
			return err
		}, []string{"not an http"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.make()
			require.Error(t, err)
			for _, w := range c.wants {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "pw@")
		})
	}
}

func TestResumeRejectsForeignAndMalformedTokens(t *testing.T) {
	good := func(state string) string {
		tok := poller.Token{Provider: "aws", Kind: "cloudformation.StackCreateComplete", State: json.RawMessage(state), Created: epoch}
		s, err := tok.Encode()
		require.NoError(t, err)
		return s
	}
	other, err := poller.Token{Provider: "azure", Kind: "async", State: json.RawMessage(`{}`)}.Encode()
	require.NoError(t, err)
	unknown, err := poller.Token{Provider: "aws", Kind: "s3.BucketExists", State: json.RawMessage(`{}`)}.Encode()
	require.NoError(t, err)
	cases := map[string]struct {
		token string
		want  string
	}{
		"garbage":            {"not a token", "invalid resume token"},
		"another provider":   {other, `provider "azure", not "aws"`},
		"unknown waiter":     {unknown, `"s3.BucketExists" is not registered`},
		"no state":           {good(``), "no state"},
		"null state":         {good(`null`), "no input"},
		"no input":           {good(`{"region":"us-east-1"}`), "no input"},
		"input of bad shape": {good(`{"region":"us-east-1","input":{"StackName":5}}`), "does not fit"},
		"bad endpoint":       {good(`{"region":"us-east-1","input":{},"endpoint":"ftp://x"}`), "not an http"},
		"bad delay":          {good(`{"region":"us-east-1","input":{},"min_delay":"soon"}`), "min_delay"},
		"bad region":         {good(`{"region":"us-east-1/../x","input":{}}`), "region"},
		"no region anywhere": {good(`{"input":{}}`), "has a region"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := aws.Resume[any](c.token, awssdk.Config{}, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err = aws.Resume[*eks.DescribeClusterOutput](good(`{"region":"us-east-1","input":{}}`), awssdk.Config{}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "*cloudformation.DescribeStacksOutput")
	assert.Contains(t, err.Error(), "*eks.DescribeClusterOutput")
}

func TestCancelRollsBackAStackUpdateAndReportsCanceled(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Stack, "web", awsfake.Statuses("UPDATE_IN_PROGRESS")...)
	srv.OnCancel("web", awsfake.Statuses("UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE")...)
	p, err := aws.NewPoller[*cloudformation.DescribeStacksOutput](srv.Config(), "cloudformation.StackUpdateComplete", stackIn, autoOpts())
	require.NoError(t, err)
	_, err = p.Poll(context.Background())
	require.NoError(t, err)
	require.NoError(t, p.Cancel(context.Background()))
	assert.Equal(t, 1, srv.Cancels("web"))
	token, err := p.ResumeToken()
	require.NoError(t, err)

	p2, err := aws.Resume[*cloudformation.DescribeStacksOutput](token, srv.Config(), autoOpts())
	require.NoError(t, err)
	_, err = p2.Wait(context.Background(), nil)
	var oe *poller.OperationError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, poller.StatusCanceled, oe.Status, "the cancel request survives in the token")
	assert.Equal(t, "UPDATE_ROLLBACK_COMPLETE", p2.Last().Detail)
	assert.Contains(t, err.Error(), "was canceled")
}

func TestCancelOutsideAnUpdateReportsTheServiceError(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Stack, "web", awsfake.Statuses("UPDATE_COMPLETE")...)
	p, err := aws.NewPoller[any](srv.Config(), "cloudformation.StackUpdateComplete", stackIn, autoOpts())
	require.NoError(t, err)
	_, err = p.Poll(context.Background())
	require.NoError(t, err)
	err = p.Cancel(context.Background())
	var ae smithy.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "ValidationError", ae.ErrorCode())

	p, err = aws.NewPoller[any](srv.Config(), "cloudformation.StackUpdateComplete", &cloudformation.DescribeStacksInput{}, autoOpts())
	require.NoError(t, err)
	assert.ErrorContains(t, p.Cancel(context.Background()), "names no stack")
}

func TestCancelIsNotSupportedByOtherWaiters(t *testing.T) {
	for _, name := range aws.Waiters() {
		w, ok := aws.Lookup(name)
		require.True(t, ok)
		if name == "cloudformation.StackUpdateComplete" {
			assert.True(t, w.Cancelable())
			continue
		}
		assert.False(t, w.Cancelable(), name)
	}
	p, err := aws.NewPoller[any](awssdk.Config{Region: "us-east-1"}, "eks.ClusterActive", &eks.DescribeClusterInput{Name: awssdk.String("prod")}, nil)
	require.NoError(t, err)
	err = p.Cancel(context.Background())
	require.ErrorIs(t, err, poller.ErrCancelNotSupported)
	assert.Contains(t, err.Error(), "eks.ClusterActive")
}

func TestBuiltInWaitersAreRegistered(t *testing.T) {
	names := aws.Waiters()
	assert.IsIncreasing(t, names)
	for _, want := range []string{
		"cloudformation.StackCreateComplete", "cloudformation.StackUpdateComplete", "cloudformation.StackDeleteComplete",
		"cloudformation.StackImportComplete", "cloudformation.StackRollbackComplete", "cloudformation.ChangeSetCreateComplete",
		"eks.ClusterActive", "eks.ClusterDeleted", "eks.NodegroupActive", "eks.NodegroupDeleted", "eks.AddonActive", "eks.AddonDeleted",
		"ec2.InstanceRunning", "ec2.InstanceStopped", "ec2.InstanceTerminated", "ec2.InstanceStatusOk", "ec2.VolumeAvailable",
		"ec2.ImageAvailable", "ec2.NatGatewayAvailable", "rds.DBInstanceAvailable", "rds.DBInstanceDeleted", "ecs.ServicesStable",
		"lambda.FunctionActiveV2", "lambda.FunctionUpdatedV2", "dynamodb.TableExists", "dynamodb.TableNotExists",
	} {
		assert.Contains(t, names, want)
	}
	w, _ := aws.Lookup("cloudformation.StackCreateComplete")
	lo, hi := w.Delays()
	assert.Equal(t, 30*time.Second, lo, "the model's MinDelay")
	assert.Equal(t, 120*time.Second, hi, "the model's MaxDelay")
	assert.Equal(t, "*cloudformation.DescribeStacksInput", w.InputType().String())
	assert.Equal(t, "*cloudformation.DescribeStacksOutput", w.OutputType().String())
	assert.Equal(t, "cloudformation.StackCreateComplete", w.Name())
	for _, c := range waiterCases() {
		assert.Contains(t, names, c.name, "every built-in has a differential case")
	}
	assert.Len(t, waiterCases(), len(names)-countCustom(names))
}

func countCustom(names []string) int {
	n := 0
	for _, name := range names {
		if strings.HasPrefix(name, "test.") || name == "dynamodb.TableUpdating" {
			n++
		}
	}
	return n
}

func TestFailureMessageKeepsAStatusThatEqualsFailed(t *testing.T) {
	srv := awsfake.New()
	defer srv.Close()
	srv.Script(awsfake.Cluster, "prod", awsfake.Status("CREATING"), awsfake.Step{Status: "FAILED", Reason: "subnets are gone"})
	p, err := aws.NewPoller[any](srv.Config(), "eks.ClusterActive", &eks.DescribeClusterInput{Name: awssdk.String("prod")}, autoOpts())
	require.NoError(t, err)
	_, err = p.Wait(context.Background(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "FAILED: InternalFailure: subnets are gone")
}

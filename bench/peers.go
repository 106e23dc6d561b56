package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/googleapis/gax-go/v2"
)

// The peers' wait loops, reproduced from their source (versions pinned in
// go.mod) as per-operation state machines: each Step is one HTTP request,
// retries inside the SDK clients included, since a server counts those too.

// Azcore reproduces azcore's runtime.(*Poller[T]).PollUntilDone with its
// default pipeline retry policy:
//
//   - sdk/azcore@v1.24.0/runtime/poller.go, PollUntilDone: Frequency 0 means
//     30 s; a Retry-After on the initial response delays the first poll,
//     otherwise the first poll is immediate; after each non-terminal poll it
//     sleeps shared.RetryAfter(resp) when that is > 0, else Frequency. No
//     floor (beyond the 1 s minimum Frequency), no cap, no jitter. A Poll
//     error ends PollUntilDone.
//   - sdk/azcore@v1.24.0/internal/shared/shared.go, RetryAfter: "0" is not a
//     hint (only values > 0 count).
//   - sdk/azcore@v1.24.0/runtime/policy_retry.go, retryPolicy.Do and
//     setDefaults/calcDelay: 408/429/500/502/503/504 are retried, MaxRetries
//     3 (4 tries); the delay is Retry-After when > 0 (a Retry-After above
//     MaxRetryDelay 60 s is not retried at all), else
//     (2^try−1)·800 ms·U[0.8,1.3) capped at 60 s. After the last try the
//     error response reaches the poller (internal/pollers/*: a non-2xx poll
//     is an error), so the wait ends.
func Azcore() Strategy {
	return PerOp{Label: "azcore PollUntilDone", Setup: func(env *Env) StartFunc {
		rng := rand.New(rand.NewPCG(env.seed, 1))
		return func(env *Env, op *Op, now time.Duration) (Waiter, time.Duration) {
			w := &azcoreWaiter{env: env, op: op, rng: rng, try: 1}
			if ra := env.Initial(op).RetryAfter; ra > 0 {
				return w, now + ra
			}
			return w, now
		}
	}}
}

// azcore defaults: runtime.PollUntilDoneOptions.Frequency and policy.RetryOptions.
const (
	azFrequency     = 30 * time.Second
	azMaxRetries    = 3
	azRetryDelay    = 800 * time.Millisecond
	azMaxRetryDelay = 60 * time.Second
)

type azcoreWaiter struct {
	env *Env
	op  *Op
	rng *rand.Rand
	try int
}

func (w *azcoreWaiter) Step(now time.Duration) (time.Duration, bool) {
	r := w.env.Request(w.op, now)
	if r.Code != 200 {
		if w.try == azMaxRetries+1 {
			w.env.Abandoned(w.op, now)
			return 0, true
		}
		d := r.RetryAfter
		if d <= 0 {
			d = azcoreRetryDelay(w.try, w.rng.Float64())
		} else if d > azMaxRetryDelay {
			w.env.Abandoned(w.op, now)
			return 0, true
		}
		w.try++
		return now + d, false
	}
	w.try = 1
	if r.Done {
		w.env.Detected(w.op, now)
		return 0, true
	}
	if r.RetryAfter > 0 {
		return now + r.RetryAfter, false
	}
	return now + azFrequency, false
}

// azcoreRetryDelay is runtime/policy_retry.go calcDelay for the default
// options, with u the draw of its rand.Float64.
func azcoreRetryDelay(try int, u float64) time.Duration {
	d := time.Duration(float64(time.Duration(1<<try-1)*azRetryDelay) * (u/2 + 0.8))
	return min(d, azMaxRetryDelay)
}

// AWSWaiter reproduces a generated aws-sdk-go-v2 waiter on top of the SDK
// client's standard retryer, for CloudFormation StackCreateComplete:
//
//   - service/cloudformation@v1.82.5/api_op_DescribeStacks.go,
//     NewStackCreateCompleteWaiter: MinDelay 30 s, MaxDelay 120 s;
//     (*StackCreateCompleteWaiter).WaitForOutput: the first DescribeStacks
//     is immediate; after each non-matching answer remainingTime shrinks by
//     the call's time, the loop stops when remainingTime < MinDelay, and the
//     delay is smithywaiter.ComputeDelay(attempt, 30 s, 120 s, remaining).
//     An error the acceptors do not match (stackCreateCompleteStateRetryable
//     returns it) ends the wait.
//   - smithy-go@v1.28.8/waiter/waiter.go, ComputeDelay: attempt 1 waits
//     MinDelay; then MinDelay·2^(attempt−1) up to MaxDelay, drawn uniformly
//     in [MinDelay, that). Reproduced by computeDelay, checked against the
//     real function in a test.
//   - aws-sdk-go-v2@v1.47.7/aws/retry/standard.go and jitter_backoff.go
//     (legacy mode, AWS_NEW_RETRIES_2026 unset): MaxAttempts 3; 5xx and
//     throttling codes retried after U[0,1)·2^attempt s; a retry costs 5
//     tokens from a 500-token quota per client (one client per host here),
//     refunded on success, +1 per first-try success; an empty quota fails the
//     call. The SDK ignores Retry-After.
//
// The waiter's maxWaitDur is 4 h, longer than any operation.
func AWSWaiter() Strategy {
	return PerOp{Label: "AWS SDK waiter", Setup: func(env *Env) StartFunc {
		rng := rand.New(rand.NewPCG(env.seed, 2))
		quota := make([]int, max(env.W.Spec.Hosts, 1))
		for i := range quota {
			quota[i] = awsQuota
		}
		return func(env *Env, op *Op, now time.Duration) (Waiter, time.Duration) {
			return &awsWaiter{env: env, op: op, rng: rng, quota: quota, attempt: 1, try: 1,
				callStart: now, remaining: awsMaxWait}, now
		}
	}}
}

const (
	awsMinDelay    = 30 * time.Second
	awsMaxDelay    = 120 * time.Second
	awsMaxWait     = 4 * time.Hour
	awsMaxAttempts = 3
	awsQuota       = 500
	awsRetryCost   = 5
)

type awsWaiter struct {
	env       *Env
	op        *Op
	rng       *rand.Rand
	quota     []int
	attempt   int64
	try       int
	held      int
	callStart time.Duration
	remaining time.Duration
}

func (w *awsWaiter) Step(now time.Duration) (time.Duration, bool) {
	r := w.env.Request(w.op, now)
	q := &w.quota[w.op.Host]
	if r.Code != 200 {
		if w.try >= awsMaxAttempts || *q < awsRetryCost {
			w.env.Abandoned(w.op, now)
			return 0, true
		}
		*q -= awsRetryCost
		w.held += awsRetryCost
		// backoffDelayLegacy: [0.0, 1.0) * 2^attempt seconds.
		d := time.Duration(w.rng.Float64() * float64(int64(1)<<w.try) * float64(time.Second))
		w.try++
		return now + max(d, 1), false
	}
	if w.held > 0 {
		*q += w.held
	} else {
		*q++
	}
	*q = min(*q, awsQuota)
	w.held, w.try = 0, 1
	if r.Done {
		w.env.Detected(w.op, now)
		return 0, true
	}
	w.remaining -= now - w.callStart
	if w.remaining < awsMinDelay || w.remaining <= 0 {
		w.env.Abandoned(w.op, now)
		return 0, true
	}
	d, err := computeDelay(w.attempt, awsMinDelay, awsMaxDelay, w.remaining, w.rng.Int64N)
	if err != nil {
		panic(err)
	}
	w.remaining -= d
	w.attempt++
	w.callStart = now + d
	return now + max(d, 1), false
}

// computeDelay is smithy-go waiter.ComputeDelay with its random draw
// (rand.CryptoRandInt63n) supplied by int63n.
func computeDelay(attempt int64, minDelay, maxDelay, remainingTime time.Duration, int63n func(int64) int64) (time.Duration, error) {
	if attempt <= 0 || remainingTime <= 0 {
		return 0, nil
	}
	if minDelay == 0 || maxDelay == 0 {
		return 0, fmt.Errorf("minDelay and maxDelay must be greater than zero")
	}
	attemptCeiling := (math.Log(float64(maxDelay/minDelay)) / math.Log(2)) + 1
	var delay time.Duration
	if attempt > int64(attemptCeiling) {
		delay = maxDelay
	} else {
		delay = minDelay * time.Duration(int64(1)<<uint64(attempt-1))
	}
	if delay != minDelay {
		delay = time.Duration(int63n(int64(delay-minDelay))) + minDelay
	}
	if remainingTime-delay <= minDelay {
		delay = remainingTime - minDelay
	}
	return delay, nil
}

// Longrunning reproduces cloud.google.com/go/longrunning's Operation.Wait
// with the OperationsClient's default call options:
//
//   - longrunning@v1.5.0/longrunning.go, Wait → WaitWithInterval(60 s) →
//     waitWithInterval/wait: gax.Backoff{Initial: 1 s, Max: 60 s} (Multiplier
//     0 means 2), poll first, then sleep bo.Pause(); any Poll error ends the
//     wait.
//   - gax-go/v2@v2.27.0/call_option.go, (*Backoff).Pause: full jitter,
//     uniform in (0, cur], then cur doubles up to Max. The real gax.Backoff
//     is used here.
//   - longrunning@v1.5.0/autogen/operations_client.go,
//     defaultOperationsCallOptions: GetOperation has a 10 s timeout and
//     retries only codes.Unavailable (our 503) with Backoff{500 ms, 10 s, 2};
//     gax-go invoke.go: a retry whose sleep would pass the deadline fails.
//     RESOURCE_EXHAUSTED (our 429) is not retried, so throttling ends the wait.
func Longrunning() Strategy {
	return PerOp{Label: "longrunning Wait", Setup: func(env *Env) StartFunc {
		seedGlobalRand(env.seed ^ 3)
		return func(env *Env, op *Op, now time.Duration) (Waiter, time.Duration) {
			return &gcpWaiter{env: env, op: op, bo: gax.Backoff{Initial: time.Second, Max: gcpWaitInterval}, callStart: now}, now
		}
	}}
}

const (
	gcpWaitInterval = 60 * time.Second // longrunning.DefaultWaitInterval
	gcpCallTimeout  = 10 * time.Second
)

type gcpWaiter struct {
	env       *Env
	op        *Op
	bo        gax.Backoff
	retry     *gax.Backoff
	callStart time.Duration
}

func (w *gcpWaiter) Step(now time.Duration) (time.Duration, bool) {
	r := w.env.Request(w.op, now)
	switch r.Code {
	case 200:
	case 503:
		if w.retry == nil {
			w.retry = &gax.Backoff{Initial: 500 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2}
		}
		d := w.retry.Pause()
		if now+d > w.callStart+gcpCallTimeout {
			w.env.Abandoned(w.op, now)
			return 0, true
		}
		return now + d, false
	default:
		w.env.Abandoned(w.op, now)
		return 0, true
	}
	w.retry = nil
	if r.Done {
		w.env.Detected(w.op, now)
		return 0, true
	}
	d := w.bo.Pause()
	w.callStart = now + d
	return now + d, false
}

// Terraform reproduces terraform-plugin-sdk/v2's
// helper/retry/state.go (*StateChangeConf).WaitForStateContext (formerly
// helper/resource/state.go), with Delay, MinTimeout and PollInterval unset:
// the first Refresh is immediate, then the wait starts at 100 ms and doubles
// before use (200 ms, 400 ms, …) up to 10 s, without jitter; a Refresh error
// ends the wait at once. Terraform is not in the module cache: this follows
// the upstream source as read from a public mirror. The providers' own SDK
// clients retry underneath Refresh; that is not modelled, so under 5xx and
// 429 this row shows StateChangeConf alone. Timeout is 4 h.
func Terraform() Strategy {
	return PerOp{Label: "Terraform StateChangeConf", Setup: func(*Env) StartFunc {
		return func(env *Env, op *Op, now time.Duration) (Waiter, time.Duration) {
			return &tfWaiter{env: env, op: op}, now
		}
	}}
}

const (
	tfMaxWait = 10 * time.Second
	tfTimeout = 4 * time.Hour
)

type tfWaiter struct {
	env  *Env
	op   *Op
	wait time.Duration
}

func (w *tfWaiter) Step(now time.Duration) (time.Duration, bool) {
	r := w.env.Request(w.op, now)
	if r.Code != 200 || (!r.Done && now-w.op.Start > tfTimeout) {
		w.env.Abandoned(w.op, now)
		return 0, true
	}
	if r.Done {
		w.env.Detected(w.op, now)
		return 0, true
	}
	w.wait = terraformNextWait(w.wait)
	return now + w.wait, false
}

// terraformNextWait is the wait after a pending Refresh, given the previous
// one (0 before the first Refresh).
func terraformNextWait(prev time.Duration) time.Duration {
	if prev == 0 {
		prev = 100 * time.Millisecond
	}
	return min(prev*2, tfMaxWait)
}

package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
)

func init() { NewFleet = newFleetDriver }

// FleetRate is the nominal per-host rate of the fleet row's engine, in
// requests per second: above every scenario's server-side limit (25 and
// 5 req/s), so that the engine has to learn the limit from 429s.
const FleetRate = 50

// fleetOptions are the engine's options in the simulation. Everything not
// set here is the engine's default (adaptive limits, learned priors, claim
// interval, priors flush). Workers is 1 because in lockstep virtual time a
// poll takes no time, so the pool size changes only the order of the polls
// due at one instant, and one worker keeps that order (and so the run)
// reproducible. The lease ttl is longer than any run: with one engine
// leases decide nothing, and renewing 10,000 of them every 10 s of virtual
// time would only cost CPU.
func fleetOptions(clock poller.Clock, policy poller.Policy, onEvent func(fleet.Event)) *fleet.Options {
	return &fleet.Options{
		Owner:    "bench",
		Workers:  1,
		LeaseTTL: 24 * time.Hour,
		Limits:   fleet.HostLimits{Rate: rate.Limit(FleetRate)},
		Policy:   policy,
		OnEvent:  onEvent,
		Clock:    clock,
		Lockstep: true,
	}
}

// fleetDriver runs the real fleet engine (fleet.Engine over a
// persist.MemoryStore) as a Driver. The engine runs on its own goroutines in
// lockstep mode on a virtual clock that moves only when the simulator steps
// it: an engine that sleeps on a timer is idle, so the next event is that
// timer. Operations are started as a user would start them (poller.New with
// the start response, then its resume token handed to Engine.Add); the
// resolver resumes them with a poller on the simulated server.
type fleetDriver struct {
	env    *Env
	policy poller.Policy
	clock  *pollertest.Clock // the run's Env.Clock, which the simulated servers read too
	store  *persist.MemoryStore
	engine *fleet.Engine
	stop   context.CancelFunc
	done   chan error

	pending []*Op
	ended   int
	stopped bool

	mu sync.Mutex // serializes the engine's goroutines' use of env
}

func newFleetDriver(env *Env, policy poller.Policy) Driver {
	return newFleetDriverWith(env, policy, fleet.SignalOptions{})
}

// newFleetDriverWith is newFleetDriver with the engine's signal options.
func newFleetDriverWith(env *Env, policy poller.Policy, signals fleet.SignalOptions) *fleetDriver {
	seedGlobalRand(env.seed)
	clock := env.Clock
	d := &fleetDriver{env: env, policy: policy, clock: clock, done: make(chan error, 1)}
	d.store = persist.NewMemoryStore(&persist.Options{Clock: clock})
	o := fleetOptions(clock, policy, d.event)
	o.Signals = signals
	eng, err := fleet.New(d.store, d.resolve, o)
	if err != nil {
		panic(err)
	}
	d.engine = eng
	ctx, cancel := context.WithCancel(context.Background())
	d.stop = cancel
	mark := clock.Made()
	go func() { d.done <- eng.Run(ctx) }()
	d.waitSleep(mark)
	return d
}

func (d *fleetDriver) Start(op *Op, now time.Duration) {
	if len(d.pending) > 0 && d.pending[0].Start != now {
		panic("bench: fleet operations started at different times without a step between")
	}
	d.pending = append(d.pending, op)
}

func (d *fleetDriver) Next() (time.Duration, bool) {
	if len(d.pending) > 0 {
		return d.pending[0].Start, true
	}
	if d.ended == len(d.env.W.Ops) {
		d.shutdown()
		return 0, false
	}
	at, ok := d.clock.Next()
	if !ok {
		panic("bench: the fleet engine sleeps without a timer")
	}
	return at.Sub(Epoch), true
}

func (d *fleetDriver) Step(now time.Duration) {
	t := d.env.Time(now)
	// Let the engine do everything due up to now, one wake at a time.
	for {
		at, ok := d.clock.Next()
		if !ok || at.After(t) {
			break
		}
		mark := d.clock.Made()
		d.clock.Set(at)
		d.waitSleep(mark)
	}
	d.clock.Set(t)
	if len(d.pending) == 0 || d.pending[0].Start != now {
		return
	}
	ctx := context.Background()
	for i, op := range d.pending {
		tok := d.token(op)
		key := opKey(op.ID)
		if i < len(d.pending)-1 {
			// Store only; the last Add wakes the engine, which claims them all.
			if _, err := fleet.Add(ctx, d.store, key, tok, nil, nil); err != nil {
				panic(err)
			}
			continue
		}
		mark := d.clock.Made()
		if _, err := d.engine.Add(ctx, key, tok, nil); err != nil {
			panic(err)
		}
		// The engine sleeps on a timer it made before the Add; the Add's
		// wake-up stops it, and the next timer it makes means idle again.
		d.waitSleep(mark)
	}
	d.pending = d.pending[:0]
}

// token is the resume token of op right after its start, as the caller of
// an adapter would take it before handing the operation to the engine.
func (d *fleetDriver) token(op *Op) string {
	init := running(d.env.Initial(op))
	p, err := poller.New[struct{}](d.operation(op), &poller.Options{Policy: d.policy, Clock: d.clock, Initial: &init})
	if err != nil {
		panic(err)
	}
	tok, err := p.ResumeToken()
	if err != nil {
		panic(err)
	}
	return tok
}

// resolve is the engine's Resolver: the token names the simulated
// operation, its host and its kind.
func (d *fleetDriver) resolve(_ context.Context, token string, opts *poller.Options) (fleet.Op, error) {
	tok, err := poller.DecodeToken(token, nil)
	if err != nil {
		return fleet.Op{}, err
	}
	var st fleetState
	if tok.Provider != "sim" || json.Unmarshal(tok.State, &st) != nil || st.Op < 0 || st.Op >= len(d.env.W.Ops) {
		return fleet.Op{}, fmt.Errorf("not a simulated operation: %w", poller.ErrInvalidToken)
	}
	op := &d.env.W.Ops[st.Op]
	p, err := poller.Resume[struct{}](d.operation(op), tok, opts)
	if err != nil {
		return fleet.Op{}, err
	}
	return fleet.Op{Poller: p, Host: "host-" + strconv.Itoa(op.Host), Kind: d.env.W.Kinds[op.Kind].Name, Match: []string{simURL(op.ID)}}, nil
}

func (d *fleetDriver) operation(op *Op) poller.Operation {
	return &fleetOperation{Operation: d.env.Operation(op), id: op.ID, mu: &d.mu}
}

// event takes the engine's reports of ends into the accounting.
func (d *fleetDriver) event(ev fleet.Event) {
	if ev.Kind != fleet.EventDone && ev.Kind != fleet.EventReleased {
		return
	}
	id, err := strconv.Atoi(strings.TrimPrefix(ev.Key, "op/"))
	if err != nil {
		panic(err)
	}
	op := &d.env.W.Ops[id]
	now := ev.At.Sub(Epoch)
	if ev.Kind == fleet.EventDone {
		d.forget(ev.Key)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if ev.Kind == fleet.EventDone && ev.Err == nil && ev.Obs.Status == poller.StatusSucceeded {
		d.env.Detected(op, now)
	} else {
		d.env.Abandoned(op, now)
	}
	d.ended++
}

// forget deletes a finished operation's record, as a deployment's retention
// would. The engine never claims a terminal record, so this changes nothing
// it does; it keeps the memory store's Claim, which scans every record, from
// making the run quadratic in the number of operations.
func (d *fleetDriver) forget(key string) {
	ctx := context.Background()
	r, err := d.store.Get(ctx, key)
	if err == nil {
		err = d.store.Delete(ctx, key, r.Generation)
	}
	if err != nil {
		panic(fmt.Sprintf("bench: forget %s: %v", key, err))
	}
}

func (d *fleetDriver) shutdown() {
	if d.stopped {
		return
	}
	d.stopped = true
	d.stop()
	if err := <-d.done; err != nil {
		panic(err)
	}
}

func opKey(id int) string { return "op/" + strconv.Itoa(id) }

type fleetState struct {
	Op int `json:"op"`
}

// fleetOperation is the simulated operation with its identity in the
// token's state, polled under the driver's lock.
type fleetOperation struct {
	poller.Operation
	id int
	mu *sync.Mutex
}

func (o *fleetOperation) Poll(ctx context.Context) (poller.Observation, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.Operation.Poll(ctx)
}

func (o *fleetOperation) Token() (poller.Token, error) {
	t, err := o.Operation.Token()
	if err != nil {
		return t, err
	}
	t.State, err = json.Marshal(fleetState{Op: o.id})
	return t, err
}

// sleepTimeout bounds, in real time, how long the engine may take to go
// idle; beyond it the simulation is stuck and panics.
const sleepTimeout = time.Minute

// waitSleep blocks until the engine sleeps on a timer made after mark: in
// lockstep mode it makes a timer only when nothing is in flight, so it has
// done its work and is idle until that timer fires or it is woken.
func (d *fleetDriver) waitSleep(mark uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), sleepTimeout)
	defer cancel()
	if d.clock.WaitForTimerAfter(ctx, mark) != nil {
		panic("bench: the fleet engine did not go idle within " + sleepTimeout.String())
	}
}

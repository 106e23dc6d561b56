package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
)

// PriorOptions configure learned durations ("priors"): the engine records
// how long the operations of each kind took and holds back the first poll of
// a new operation of that kind until an early quantile of those durations,
// where completion becomes plausible. The zero value enables them.
//
// Durations are kept in the store, under ReservedPrefix+"priors/" and the
// escaped kind, as records with status Succeeded (never claimed) whose token
// is a small JSON document; engines merge their samples into it by
// compare-and-swap.
//
// Samples come only from operations that were not held back (all of them
// until a kind has enough samples, then a fraction Explore of them, chosen
// by key): a held operation cannot reveal that it finished earlier than the
// hold, so its duration would bias the quantile upward.
type PriorOptions struct {
	// Disabled turns priors off.
	Disabled bool
	// Quantile is the quantile of observed durations the first poll waits
	// for. Default 0.01: an early quantile keeps the lag of the fastest
	// operations small relative to their duration (the benchmark measured
	// p99 relative lag 2.26 at 0.1 on a wide workload, 0.34 at 0.01).
	Quantile float64
	// MinSamples is how many samples a kind needs before its prior is
	// used. Default 20.
	MinSamples int
	// Keep is how many recent samples per kind are kept. Default 256.
	Keep int
	// Explore is the fraction of operations not held back, which keep the
	// samples unbiased. Default 0.1.
	Explore float64
	// FlushInterval is how often new samples are merged into the store.
	// Default 1 min (and at shutdown).
	FlushInterval time.Duration
}

func (o PriorOptions) resolved() PriorOptions {
	if o.Quantile <= 0 || o.Quantile >= 1 {
		o.Quantile = 0.01
	}
	if o.MinSamples <= 0 {
		o.MinSamples = 20
	}
	if o.Keep <= 0 {
		o.Keep = 256
	}
	if o.Keep < o.MinSamples {
		o.Keep = o.MinSamples
	}
	if o.Explore <= 0 || o.Explore > 1 {
		o.Explore = 0.1
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Minute
	}
	return o
}

// priorsPrefix starts the keys of prior records.
const priorsPrefix = ReservedPrefix + "priors/"

// priorsVersion is the format version of a prior record's document.
const priorsVersion = 1

// maxPriorDoc bounds a prior document read from the store.
const maxPriorDoc = 64 << 10

// priorDoc is the document a prior record keeps in its token field.
type priorDoc struct {
	Version int       `json:"lrokit_priors"`
	Kind    string    `json:"kind"`
	Samples []float64 `json:"samples"` // seconds, oldest first
}

// priorKey is the record key of kind's prior; false when kind cannot name
// one.
func priorKey(kind string) (string, bool) {
	if kind == "" {
		return "", false
	}
	k := priorsPrefix + url.PathEscape(kind)
	return k, persist.ValidateKey(k) == nil
}

// decodePriorDoc parses a prior record's document, untrusted: it never
// panics, keeps at most keep samples (the newest), and drops samples that
// are not finite non-negative durations.
func decodePriorDoc(s string, keep int) (priorDoc, error) {
	if len(s) > maxPriorDoc {
		return priorDoc{}, fmt.Errorf("prior document is %d bytes, more than the %d allowed", len(s), maxPriorDoc)
	}
	var d priorDoc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return priorDoc{}, errors.New("prior document is not valid JSON")
	}
	switch {
	case d.Version < 1:
		return priorDoc{}, errors.New("prior document has no version")
	case d.Version > priorsVersion:
		return priorDoc{}, fmt.Errorf("prior document is version %d, newer than this lrokit reads (%d): upgrade lrokit", d.Version, priorsVersion)
	}
	ok := d.Samples[:0]
	for _, v := range d.Samples {
		if !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 && v < 1e9 {
			ok = append(ok, v)
		}
	}
	if len(ok) > keep {
		ok = ok[len(ok)-keep:]
	}
	d.Samples = ok
	return d, nil
}

// priors is the engine's view of learned durations: per kind, the samples
// last read from the store plus those observed since. The scheduler owns it.
type priors struct {
	opts  PriorOptions
	kinds map[string]*kindPrior
}

type kindPrior struct {
	stored   []float64 // as last read from or written to the store
	fresh    []float64 // observed here since
	expected time.Duration
	// progress is the share of the kind's operations that have finished
	// by the age its samples were last seen at (Kaplan–Meier): 0 while
	// every sample runs; it ranks the kind's due polls (see urgency).
	progress float64
	// watched are this engine's running samples, born their creation
	// times, sorted: censored durations (still running at the last poll)
	// and the evidence for open holds.
	watched []*entry
	born    []time.Time
}

func newPriors(o PriorOptions) *priors { return &priors{opts: o, kinds: map[string]*kindPrior{}} }

// sampled reports whether an operation of kind under key is a sample: it is
// never held, so its duration is unbiased. The first MinSamples operations
// of a kind are, and then a stable fraction Explore of the keys.
func (p *priors) sampled(kind, key string) bool {
	if p.opts.Disabled || kind == "" {
		return false
	}
	k := p.kinds[kind]
	if k == nil || len(k.stored)+len(k.fresh)+len(k.watched) < p.opts.MinSamples {
		return true
	}
	return explore(key, p.opts.Explore)
}

// hold is what kind's evidence says about an operation aged age at now: the
// learned quantile once known, else an open hold while at least MinSamples
// running samples of the kind are older than three quarters of age (the
// default schedule polls them every third of their age, so they were seen
// running at about this age or will be before this operation's next step).
func (p *priors) hold(kind string, age time.Duration, now time.Time) hold {
	if p.opts.Disabled || kind == "" {
		return hold{}
	}
	k := p.kinds[kind]
	if k == nil {
		return hold{}
	}
	if k.expected > 0 {
		return hold{Until: k.expected}
	}
	bornBy := now.Add(-age * 3 / 4)
	n, _ := slices.BinarySearchFunc(k.born, bornBy, func(t, by time.Time) int {
		if t.After(by) {
			return 1
		}
		return -1
	})
	return hold{Open: n >= p.opts.MinSamples}
}

// watch follows a running sample of its kind.
func (p *priors) watch(en *entry) {
	if !en.sample || en.op.Kind == "" || p.opts.Disabled {
		return
	}
	k := p.kind(en.op.Kind)
	c := en.op.Poller.Created()
	i, _ := slices.BinarySearchFunc(k.born, c, func(t, c time.Time) int { return t.Compare(c) })
	k.born = slices.Insert(k.born, i, c)
	k.watched = append(k.watched, en)
	en.watched = true
}

// unwatch stops following en.
func (p *priors) unwatch(en *entry) {
	if !en.watched {
		return
	}
	en.watched = false
	k := p.kinds[en.op.Kind]
	if i := slices.Index(k.watched, en); i >= 0 {
		k.watched[i] = k.watched[len(k.watched)-1]
		k.watched = k.watched[:len(k.watched)-1]
	}
	c := en.op.Poller.Created()
	if i, ok := slices.BinarySearchFunc(k.born, c, func(t, c time.Time) int { return t.Compare(c) }); ok {
		k.born = slices.Delete(k.born, i, i+1)
	}
}

// explore picks a stable fraction of keys.
func explore(key string, fraction float64) bool {
	h := fnv.New64a()
	h.Write([]byte(key))
	return float64(h.Sum64()%10_000) < fraction*10_000
}

// observe records a sampled duration of kind. It reports whether the kind
// learned its first quantile, which ends its open holds.
func (p *priors) observe(kind string, d time.Duration) bool {
	if p.opts.Disabled || kind == "" || d < 0 {
		return false
	}
	k := p.kind(kind)
	before := k.expected
	k.fresh = append(k.fresh, d.Seconds())
	if len(k.fresh) > p.opts.Keep {
		k.fresh = k.fresh[len(k.fresh)-p.opts.Keep:]
	}
	p.recompute(k)
	return before == 0 && k.expected > 0
}

func (p *priors) kind(kind string) *kindPrior {
	k := p.kinds[kind]
	if k == nil {
		k = &kindPrior{}
		p.kinds[kind] = k
	}
	return k
}

func (p *priors) recompute(k *kindPrior) {
	all := make([]float64, 0, len(k.stored)+len(k.fresh))
	all = append(all, k.stored...)
	all = append(all, k.fresh...)
	if len(all) > p.opts.Keep {
		all = all[len(all)-p.opts.Keep:]
	}
	var censored []float64
	for _, en := range k.watched {
		if c := en.op.Poller.Created(); en.prevPoll.After(c) {
			censored = append(censored, en.prevPoll.Sub(c).Seconds())
		}
	}
	k.expected = kmQuantile(all, censored, p.opts.Quantile, p.opts.MinSamples)
	k.progress = 1 - kmSurvival(all, censored)
}

// ranking is the kind state an operation's poll is ranked by: nil without
// priors or a kind.
func (p *priors) ranking(kind string) *kindPrior {
	if p.opts.Disabled || kind == "" {
		return nil
	}
	return p.kind(kind)
}

// kmQuantile is the q-quantile of durations by the Kaplan–Meier estimator:
// done are complete durations, running are operations still running at
// that age (right-censored), all in seconds. It is 0 with fewer than
// minSamples in all, or while the survival has not fallen to 1-q. Without
// censored samples it equals the nearest-rank quantile. Censored samples
// let an engine learn from its first minute: a thousand operations still
// running at 30 min say more about a one-hour kind than the two that have
// finished.
func kmQuantile(done, running []float64, q float64, minSamples int) time.Duration {
	if len(done)+len(running) < max(minSamples, 1) || len(done) == 0 {
		return 0
	}
	at := 0.0
	kaplanMeier(done, running, func(t, s float64) bool {
		if s <= 1-q+1e-12 {
			at = t
			return false
		}
		return true
	})
	return time.Duration(at * float64(time.Second))
}

// kaplanMeier walks the Kaplan–Meier estimate over done (complete
// durations) with running right-censored at their ages: step is called
// with each completion time, in order, and the survival just after it,
// until it returns false. It returns the last survival.
func kaplanMeier(done, running []float64, step func(t, s float64) bool) float64 {
	d := slices.Clone(done)
	slices.Sort(d)
	r := slices.Clone(running)
	slices.Sort(r)
	s, ri := 1.0, 0
	for i, t := range d {
		for ri < len(r) && r[ri] < t {
			ri++
		}
		s *= 1 - 1/float64(len(d)-i+len(r)-ri)
		if step != nil && !step(t, s) {
			break
		}
	}
	return s
}

// kmSurvival is the Kaplan–Meier survival after the last of done (complete
// durations), with running right-censored at their ages: the share of
// operations still running then. 1 when nothing is done.
func kmSurvival(done, running []float64) float64 {
	return kaplanMeier(done, running, nil)
}

// quantile is the q-quantile of samples (seconds) by nearest rank, or 0 with
// fewer than minSamples.
func quantile(samples []float64, q float64, minSamples int) time.Duration {
	if len(samples) < minSamples || len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	i = min(max(i, 0), len(s)-1)
	return time.Duration(s[i] * float64(time.Second))
}

// pending returns the kinds with fresh samples and those samples.
func (p *priors) pending() map[string][]float64 {
	out := map[string][]float64{}
	for name, k := range p.kinds {
		if len(k.fresh) > 0 {
			out[name] = slices.Clone(k.fresh)
		}
	}
	return out
}

// synced takes the documents a flush or load stored or read: each kind's
// stored samples are replaced and the flushed fresh ones dropped.
func (p *priors) synced(docs map[string][]float64, flushed map[string][]float64) {
	for name, samples := range docs {
		k := p.kind(name)
		k.stored = samples
		if n := len(flushed[name]); n > 0 {
			k.fresh = k.fresh[min(n, len(k.fresh)):]
		}
		p.recompute(k)
	}
}

// loadPriors reads every prior record in s.
func loadPriors(ctx context.Context, s persist.Store, keep int) (map[string][]float64, error) {
	recs, err := s.List(ctx, persist.Filter{Prefix: priorsPrefix})
	out := map[string][]float64{}
	for _, r := range recs {
		d, derr := decodePriorDoc(r.Token, keep)
		if derr != nil || d.Kind == "" {
			continue // a foreign or damaged record; it is rewritten at the next flush
		}
		if k, ok := priorKey(d.Kind); ok && k == r.Key {
			out[d.Kind] = d.Samples
		}
	}
	return out, err
}

// flushPriors merges fresh samples into the store, by compare-and-swap, and
// returns each kind's stored samples.
func flushPriors(ctx context.Context, s persist.Store, fresh map[string][]float64, keep int) (map[string][]float64, error) {
	out := map[string][]float64{}
	var errs []error
	for kind, samples := range fresh {
		key, ok := priorKey(kind)
		if !ok {
			continue
		}
		merged, err := mergePrior(ctx, s, key, kind, samples, keep)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[kind] = merged
	}
	return out, errors.Join(errs...)
}

func mergePrior(ctx context.Context, s persist.Store, key, kind string, samples []float64, keep int) ([]float64, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.Get(ctx, key)
		var doc priorDoc
		switch {
		case err == nil:
			doc, err = decodePriorDoc(cur.Token, keep)
			if err != nil && strings.Contains(err.Error(), "newer") {
				return nil, fmt.Errorf("fleet: priors of %q: %w", kind, err)
			}
		case errors.Is(err, persist.ErrNotFound):
			cur = persist.Record{Key: key}
		default:
			return nil, fmt.Errorf("fleet: priors of %q: %w", kind, err)
		}
		all := append(doc.Samples, samples...)
		if len(all) > keep {
			all = all[len(all)-keep:]
		}
		b, _ := json.Marshal(priorDoc{Version: priorsVersion, Kind: kind, Samples: all})
		rec := persist.Record{
			Key: key, Token: string(b), Provider: "lrokit", Status: poller.StatusSucceeded,
			Detail: fmt.Sprintf("learned durations of %d operations", len(all)), Generation: cur.Generation,
		}
		if _, err := s.Put(ctx, rec); err == nil {
			return all, nil
		} else if !errors.Is(err, persist.ErrConflict) || attempt >= 4 {
			return nil, fmt.Errorf("fleet: priors of %q: %w", kind, err)
		}
	}
}

// Prior is the learned duration of one kind of operation.
type Prior struct {
	Kind string
	// Samples is the number of durations kept.
	Samples int
	// Expected is the hold given to new operations of this kind (the
	// configured quantile), zero while there are too few samples.
	Expected time.Duration
	// Median is the median duration, zero while there are too few samples.
	Median time.Duration
	// P95 is the 95th percentile, zero while there are too few samples.
	P95 time.Duration
}

// Priors returns the learned durations stored in s, sorted by kind, as the
// default PriorOptions read them.
func Priors(ctx context.Context, s persist.Store) ([]Prior, error) {
	o := PriorOptions{}.resolved()
	docs, err := loadPriors(ctx, s, o.Keep)
	var out []Prior
	for kind, samples := range docs {
		out = append(out, Prior{
			Kind: kind, Samples: len(samples),
			Expected: quantile(samples, o.Quantile, o.MinSamples),
			Median:   quantile(samples, 0.5, o.MinSamples),
			P95:      quantile(samples, 0.95, o.MinSamples),
		})
	}
	slices.SortFunc(out, func(a, b Prior) int { return strings.Compare(a.Kind, b.Kind) })
	return out, err
}

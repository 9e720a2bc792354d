package redisstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/approval"
	"github.com/g-oc/goc/internal/store/sqlwhere"
)

// Ledger is the revision ledger and the publication workflow in Redis, for the
// InfluxDB store when several replicas write one bucket: the latest revision of every
// series (what new revisions are numbered against), each submission's state and audit
// trail, and per series the newest approved revision with the set of every revision
// ever approved. With it, two replicas taking revisions of one series hand out
// distinct numbers, and a reviewer may approve on any replica what another took.
//
// It keeps the rules of the SQL workflow (package approval) and of the spool's
// numbering; the InfluxDB store's conformance suite runs against it to hold it to them.
//
// Every change is one optimistic Redis transaction (WATCH the keys it decides on,
// then MULTI/EXEC): if another replica changes one of them in between, EXEC fails and
// the change is decided again on what is there now, so two replicas never both give
// out revision 3 of a series, nor both approve one step. Redis must keep what it
// acknowledged: run it with appendonly yes and appendfsync always (see the README).
type Ledger struct {
	rdb  *redis.Client
	auto bool
	now  func() time.Time
}

// Ledger returns the ledger kept in this Redis. autoApprove publishes every revision
// as it is stored (submissions.auto_approve).
func (s *State) Ledger(autoApprove bool) *Ledger {
	return &Ledger{rdb: s.ledger, auto: autoApprove, now: s.now}
}

// The ledger's keys. A group is one agency's series for one period: the unit of
// review, so its latest revisions, published revisions, state and trail sit under
// keys named for it ("kind|year|index|agency"), and a change to one submission
// watches only its own keys.
const (
	ledgerOf        = "goc:ledger:of"          // the bucket the ledger describes; absent until loaded
	ledgerLoading   = "goc:ledger:loading"     // held by the replica loading the ledger from InfluxDB
	ledgerGroups    = "goc:ledger:groups"      // every group with a revision, scored by period start
	ledgerSubs      = "goc:ledger:submissions" // every group with a submission, scored by period start
	ledgerSeq       = "goc:ledger:seq"         // counter of trail steps, across submissions
	latestPrefix    = "goc:ledger:latest:"     // hash indicator -> newest revision
	publishedPrefix = "goc:ledger:published:"  // hash indicator -> newest approved revision
	approvedPrefix  = "goc:ledger:approved:"   // set "revision|indicator" of every approved revision
	subPrefix       = "goc:ledger:submission:" // the submission's state (JSON)
	trailPrefix     = "goc:ledger:trail:"      // list of its steps (JSON), oldest first
	ledgerEpoch     = "goc:ledger:epoch"       // random, set each time the ledger is loaded
	figuresCounter  = "goc:ledger:figures"     // moved by every change a figure read can see
	probesCounter   = "goc:ledger:probes"      // moved by every probe result any replica sent to InfluxDB
)

// MaxRevision is the most revisions a series may have: the InfluxDB store places a
// revision at its period start plus that many nanoseconds, under one second.
const MaxRevision = 999_999_999

// maxAttempts bounds the retries of one change when other replicas keep changing the
// same keys; each retry is decided on fresh reads, so this is reached only under a
// storm of writes to one submission.
const maxAttempts = 200

// ErrNotLoaded is returned by a change while Redis holds no ledger for the bucket:
// it was never loaded, or Redis lost its data. Numbering against an empty ledger would
// hand out revision numbers InfluxDB already has, overwriting them, so nothing is
// stored until a replica loads the ledger again from InfluxDB (a restart does).
var ErrNotLoaded = errors.New("the Redis server holds no revision ledger (goc:ledger:of is missing): it was emptied or lost its data; restart a G-OC replica to load it again from InfluxDB")

type group struct {
	agency string
	p      period.Period
}

func (g group) id() string {
	return fmt.Sprintf("%d|%d|%d|%s", int(g.p.Kind), g.p.Year, g.p.Index, g.agency)
}

func parseGroup(id string) (group, error) {
	parts := strings.SplitN(id, "|", 4)
	if len(parts) != 4 {
		return group{}, fmt.Errorf("damaged group %q in Redis", id)
	}
	var n [3]int
	for i := range n {
		v, err := strconv.Atoi(parts[i])
		if err != nil {
			return group{}, fmt.Errorf("damaged group %q in Redis", id)
		}
		n[i] = v
	}
	return group{agency: parts[3], p: period.Period{Kind: period.Kind(n[0]), Year: n[1], Index: n[2]}}, nil
}

func groupOf(o *indicators.Observation) group { return group{o.Agency, o.Period} }

// unavailable marks a Redis failure, or a ledger Redis lost, as store.ErrUnavailable,
// so that the API answers 503 (try again) rather than acknowledging or blaming the
// client.
func unavailable(op string, err error) error {
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNoSubmission) {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	return fmt.Errorf("redis: %s: %w: %w", op, store.ErrUnavailable, err)
}

// record is an observation as the ledger keeps it.
type record struct {
	I   string   `json:"i"`
	A   string   `json:"a"`
	K   int      `json:"k"`
	Y   int      `json:"y"`
	X   int      `json:"x"`
	R   int      `json:"r"`
	V   float64  `json:"v"`
	N   *float64 `json:"n,omitempty"`
	D   *float64 `json:"d,omitempty"`
	Src string   `json:"src"`
	By  string   `json:"by"`
	At  int64    `json:"at"`
	B   string   `json:"b"`
}

func encodeObs(o *indicators.Observation) string {
	b, _ := json.Marshal(record{I: o.Indicator, A: o.Agency, K: int(o.Period.Kind), Y: o.Period.Year, X: o.Period.Index,
		R: o.Revision, V: o.Value, N: o.Numerator, D: o.Denominator, Src: string(o.Source), By: o.Submitter,
		At: o.ReceivedAt.UnixNano(), B: o.Batch})
	return string(b)
}

func decodeObs(s string) (indicators.Observation, error) {
	var r record
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return indicators.Observation{}, fmt.Errorf("damaged revision in Redis: %w", err)
	}
	return indicators.Observation{
		SeriesKey: indicators.SeriesKey{Indicator: r.I, Agency: r.A, Period: period.Period{Kind: period.Kind(r.K), Year: r.Y, Index: r.X}},
		Value:     r.V, Numerator: r.N, Denominator: r.D, Source: indicators.Source(r.Src), Submitter: r.By,
		ReceivedAt: time.Unix(0, r.At).UTC(), Revision: r.R, Batch: r.B,
	}, nil
}

// change runs fn in an optimistic transaction over keys (and the ledger's mark),
// again while another replica changes one of them first.
func (l *Ledger) change(ctx context.Context, op string, keys []string, fn func(tx *redis.Tx) error) error {
	keys = append(keys, ledgerOf)
	for attempt := 0; ; attempt++ {
		err := l.rdb.Watch(ctx, func(tx *redis.Tx) error {
			of, err := tx.Exists(ctx, ledgerOf).Result()
			if err != nil {
				return err
			}
			if of == 0 {
				return ErrNotLoaded
			}
			return fn(tx)
		}, keys...)
		if !errors.Is(err, redis.TxFailedErr) {
			if err != nil {
				return unavailable(op, err)
			}
			return nil
		}
		if attempt == maxAttempts {
			return unavailable(op, fmt.Errorf("still contended after %d attempts: %w", maxAttempts, err))
		}
		select {
		case <-ctx.Done():
			return unavailable(op, ctx.Err())
		case <-time.After(time.Duration(1+attempt%10) * time.Millisecond):
		}
	}
}

// Take numbers obs against the latest revisions in Redis and records the new ones,
// with what they mean for the workflow, in one transaction. It applies the rules
// store.Store documents: in order, a repeat of a series' latest content collapses into
// it (fresh false), and new revisions share now and batch unless the caller set their
// own. The revisions themselves go to InfluxDB through the caller's spool.
func (l *Ledger) Take(ctx context.Context, obs []indicators.Observation, now time.Time, batch string) ([]indicators.Observation, []bool, error) {
	var groups []group
	seen := map[group]bool{}
	for i := range obs {
		if g := groupOf(&obs[i]); !seen[g] {
			seen[g] = true
			groups = append(groups, g)
		}
	}
	keys := make([]string, 0, 2*len(groups))
	for _, g := range groups {
		keys = append(keys, latestPrefix+g.id(), subPrefix+g.id())
	}
	var out []indicators.Observation
	var fresh []bool
	err := l.change(ctx, "store revisions", keys, func(tx *redis.Tx) error {
		latest, err := readLatest(ctx, tx, obs)
		if err != nil {
			return err
		}
		subs, err := readSubmissions(ctx, tx, groups)
		if err != nil {
			return err
		}
		out, fresh = make([]indicators.Observation, len(obs)), make([]bool, len(obs))
		w := &writes{}
		for i, o := range obs {
			cur, ok := latest[o.SeriesKey]
			switch {
			case !ok:
				o.Revision = 1
			case cur.SameContent(&o):
				out[i] = cur
				continue
			default:
				o.Revision = cur.Revision + 1
			}
			if o.Revision > MaxRevision {
				return fmt.Errorf("%s/%s/%s: more than %d revisions", o.Indicator, o.Agency, o.Period, MaxRevision)
			}
			if o.ReceivedAt.IsZero() {
				o.ReceivedAt = now
			}
			o.ReceivedAt = time.Unix(0, o.ReceivedAt.UnixNano()).UTC()
			if o.Batch == "" {
				o.Batch = batch
			}
			o.Numerator, o.Denominator = clonePtr(o.Numerator), clonePtr(o.Denominator)
			latest[o.SeriesKey] = o
			w.latest = append(w.latest, o)
			out[i], fresh[i] = o, true
		}
		if err := l.written(obs, out, fresh, subs, now, w); err != nil {
			return err
		}
		return w.commit(ctx, tx)
	})
	if err != nil {
		return nil, nil, err
	}
	return out, fresh, nil
}

// readLatest reads the latest revision of every series obs names, keyed as obs write
// them (the period as given).
func readLatest(ctx context.Context, tx *redis.Tx, obs []indicators.Observation) (map[indicators.SeriesKey]indicators.Observation, error) {
	fields := map[group][]string{}
	var order []group
	for i := range obs {
		g := groupOf(&obs[i])
		if _, ok := fields[g]; !ok {
			order = append(order, g)
		}
		if !slices.Contains(fields[g], obs[i].Indicator) {
			fields[g] = append(fields[g], obs[i].Indicator)
		}
	}
	cmds := make([]*redis.SliceCmd, len(order))
	if _, err := tx.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, g := range order {
			cmds[i] = p.HMGet(ctx, latestPrefix+g.id(), fields[g]...)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	out := map[indicators.SeriesKey]indicators.Observation{}
	for i, g := range order {
		for j, v := range cmds[i].Val() {
			s, ok := v.(string)
			if !ok {
				continue
			}
			o, err := decodeObs(s)
			if err != nil {
				return nil, err
			}
			o.SeriesKey = indicators.SeriesKey{Indicator: fields[g][j], Agency: g.agency, Period: g.p}
			out[o.SeriesKey] = o
		}
	}
	return out, nil
}

func readSubmissions(ctx context.Context, tx *redis.Tx, groups []group) (map[group]store.Submission, error) {
	out := map[group]store.Submission{}
	if len(groups) == 0 {
		return out, nil
	}
	keys := make([]string, len(groups))
	for i, g := range groups {
		keys[i] = subPrefix + g.id()
	}
	vals, err := tx.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var sub store.Submission
		if err := json.Unmarshal([]byte(s), &sub); err != nil {
			return nil, fmt.Errorf("damaged submission %s in Redis: %w", keys[i], err)
		}
		out[groups[i]] = sub
	}
	return out, nil
}

// writes is what one change stores, applied in one MULTI/EXEC.
type writes struct {
	latest    []indicators.Observation
	published []indicators.Observation
	subs      []store.Submission
	steps     []store.Transition
}

func (w *writes) commit(ctx context.Context, tx *redis.Tx) error {
	if len(w.steps) > 0 {
		// Step numbers are taken outside the transaction: a retry takes new ones, so
		// numbers stay unique and grow within a submission, with gaps.
		last, err := tx.IncrBy(ctx, ledgerSeq, int64(len(w.steps))).Result()
		if err != nil {
			return err
		}
		first := last - int64(len(w.steps)) + 1
		at := map[group]int64{}
		for i := range w.steps {
			w.steps[i].Seq = first + int64(i)
			at[group{w.steps[i].Agency, w.steps[i].Period}] = w.steps[i].Seq
		}
		for i := range w.subs {
			w.subs[i].Seq = at[group{w.subs[i].Agency, w.subs[i].Period}]
		}
	}
	_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if len(w.latest)+len(w.published)+len(w.steps)+len(w.subs) > 0 {
			// In the same transaction as the change: a replica that reads the counter
			// before it reads the figures never keeps new figures under an old version.
			p.Incr(ctx, figuresCounter)
		}
		groups := map[string]bool{}
		for i := range w.latest {
			o := &w.latest[i]
			id := groupOf(o).id()
			p.HSet(ctx, latestPrefix+id, o.Indicator, encodeObs(o))
			if !groups[id] {
				groups[id] = true
				p.ZAdd(ctx, ledgerGroups, member(id))
			}
		}
		for i := range w.published {
			o := &w.published[i]
			id := groupOf(o).id()
			p.HSet(ctx, publishedPrefix+id, o.Indicator, encodeObs(o))
			p.SAdd(ctx, approvedPrefix+id, strconv.Itoa(o.Revision)+"|"+o.Indicator)
		}
		for i := range w.steps {
			t := &w.steps[i]
			b, _ := json.Marshal(t)
			p.RPush(ctx, trailPrefix+group{t.Agency, t.Period}.id(), b)
		}
		for i := range w.subs {
			s := &w.subs[i]
			b, _ := json.Marshal(s)
			id := group{s.Agency, s.Period}.id()
			p.Set(ctx, subPrefix+id, b, 0)
			p.ZAdd(ctx, ledgerSubs, member(id))
		}
		return nil
	})
	return err
}

// transition records next (moved from state from) as a step of the trail.
func (w *writes) transition(from store.State, next store.Submission) {
	w.steps = append(w.steps, store.Transition{Agency: next.Agency, Period: next.Period, At: next.ChangedAt,
		Who: next.ChangedBy, From: from, To: next.State, Comment: next.Comment})
	// A later step of the same submission in this change replaces its state.
	for i := range w.subs {
		if w.subs[i].Agency == next.Agency && w.subs[i].Period == next.Period {
			w.subs[i] = next
			return
		}
	}
	w.subs = append(w.subs, next)
}

// written is approval.Written over Redis: new revisions of unreviewed sources (and
// all, with automatic approval) are published at once, and each submission moves.
func (l *Ledger) written(in, stored []indicators.Observation, fresh []bool, subs map[group]store.Submission, now time.Time, w *writes) error {
	at := map[group]int{}
	var groups []approval.Group
	for i := range stored {
		o := &stored[i]
		if fresh[i] && (l.auto || !store.Reviewed(o.Source)) {
			w.published = append(w.published, *o)
		}
		if !store.Reviewed(o.Source) {
			continue
		}
		k := groupOf(o)
		j, ok := at[k]
		if !ok {
			j = len(groups)
			at[k] = j
			groups = append(groups, approval.Group{Agency: o.Agency, Period: o.Period, By: in[i].Submitter, At: now})
		}
		if g := &groups[j]; fresh[i] && (!g.Fresh || !o.ReceivedAt.Before(g.At)) {
			g.Fresh, g.By, g.At = true, o.Submitter, o.ReceivedAt
		}
	}
	for _, g := range groups {
		cur, found := subs[group{g.Agency, g.Period}]
		to, who, comment := store.Submitted, g.By, ""
		switch {
		case !g.Fresh && (!found || cur.State != store.Returned):
			continue // a repeat changes nothing, except for a returned submission
		case !g.Fresh:
			comment = "gửi lại không đổi / resubmitted unchanged"
		case l.auto:
			to, who, comment = store.Approved, store.AutoApprover, "duyệt tự động / approved automatically"
		}
		next := store.Submission{Agency: g.Agency, Period: g.Period, State: to, ChangedAt: now, ChangedBy: who, Comment: comment}
		if found {
			next.SubmittedAt, next.SubmittedBy = cur.SubmittedAt, cur.SubmittedBy
		}
		if g.Fresh {
			next.SubmittedAt, next.SubmittedBy = g.At, g.By
		}
		w.transition(cur.State, next)
	}
	return nil
}

// Review applies reviewers' decisions all or none, as store.Approvals says; approving
// publishes the latest revision of every reviewed series of the submission.
func (l *Ledger) Review(ctx context.Context, rs []store.Review) ([]store.Submission, error) {
	var groups []group
	seen := map[group]bool{}
	for i := range rs {
		r := &rs[i]
		if err := approval.Check(r); err != nil {
			return nil, fmt.Errorf("redis: review %d (%s/%s): %w", i, r.Agency, r.Period, err)
		}
		if g := (group{r.Agency, r.Period}); !seen[g] {
			seen[g] = true
			groups = append(groups, g)
		}
	}
	keys := make([]string, 0, 2*len(groups))
	for _, g := range groups {
		keys = append(keys, subPrefix+g.id(), latestPrefix+g.id())
	}
	now := time.Unix(0, l.now().UnixNano()).UTC()
	var out []store.Submission
	err := l.change(ctx, "review", keys, func(tx *redis.Tx) error {
		subs, err := readSubmissions(ctx, tx, groups)
		if err != nil {
			return err
		}
		w := &writes{}
		out = make([]store.Submission, 0, len(rs))
		for i := range rs {
			r := &rs[i]
			g := group{r.Agency, r.Period}
			cur, ok := subs[g]
			switch {
			case !ok:
				return fmt.Errorf("%s/%s: %w", r.Agency, r.Period, store.ErrNoSubmission)
			case cur.State != store.Submitted:
				return fmt.Errorf("%s/%s is %s, not submitted: %w", r.Agency, r.Period, cur.State, store.ErrConflict)
			case r.Seen != 0 && r.Seen != cur.Seq:
				return fmt.Errorf("%s/%s changed since it was reviewed (step %d, now %d): %w", r.Agency, r.Period, r.Seen, cur.Seq, store.ErrConflict)
			}
			next := cur
			next.State, next.ChangedAt, next.ChangedBy, next.Comment = r.To, now, r.Who, strings.TrimSpace(r.Comment)
			w.transition(cur.State, next)
			// Seq is set at commit; a later review of the same submission in this
			// batch finds it no longer submitted, so the stale Seq is never compared.
			subs[g] = next
			if r.To == store.Approved {
				all, err := tx.HGetAll(ctx, latestPrefix+g.id()).Result()
				if err != nil {
					return err
				}
				for _, v := range all {
					o, err := decodeObs(v)
					if err != nil {
						return err
					}
					if store.Reviewed(o.Source) {
						w.published = append(w.published, o)
					}
				}
			}
			out = append(out, next)
		}
		if err := w.commit(ctx, tx); err != nil {
			return err
		}
		for i := range out {
			for _, s := range w.subs {
				if s.Agency == out[i].Agency && s.Period == out[i].Period {
					out[i].Seq = s.Seq
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// selected lists the groups q may select, by agency, kind and period start.
func selected(ids []string, agencies []string, kinds []period.Kind, from, to time.Time) ([]group, error) {
	var lo, hi int64
	if !from.IsZero() {
		lo = sqlwhere.CeilUnix(from)
	}
	if !to.IsZero() {
		hi = sqlwhere.CeilUnix(to)
	}
	var out []group
	for _, id := range ids {
		g, err := parseGroup(id)
		if err != nil {
			return nil, err
		}
		if len(agencies) > 0 && !slices.Contains(agencies, g.agency) || len(kinds) > 0 && !slices.Contains(kinds, g.p.Kind) {
			continue
		}
		start := g.p.Start(nil).Unix()
		if !from.IsZero() && start < lo || !to.IsZero() && start >= hi {
			continue
		}
		out = append(out, g)
	}
	return out, nil
}

// member is a group's entry in an index, scored by its period start so that reads
// bounded in time list only the groups they may select.
func member(id string) redis.Z {
	g, _ := parseGroup(id)
	return redis.Z{Score: float64(g.p.Start(nil).Unix()), Member: id}
}

// groupIDs lists the groups of index whose period starts in [from, to) (unbounded
// where zero); selected filters them exactly.
func (l *Ledger) groupIDs(ctx context.Context, index string, from, to time.Time) ([]string, error) {
	lo, hi := "-inf", "+inf"
	if !from.IsZero() {
		lo = strconv.FormatInt(sqlwhere.CeilUnix(from), 10)
	}
	if !to.IsZero() {
		hi = "(" + strconv.FormatInt(sqlwhere.CeilUnix(to), 10)
	}
	return l.rdb.ZRangeByScore(ctx, index, &redis.ZRangeBy{Min: lo, Max: hi}).Result()
}

// readChunk is how many groups one pipelined read asks for.
const readChunk = 500

// queryGroups lists the groups (agency × period) q may select: one index read bounded by
// q's periods, then filtered by its agencies and kinds.
func (l *Ledger) queryGroups(ctx context.Context, q store.Query, what string) ([]group, error) {
	ids, err := l.groupIDs(ctx, ledgerGroups, q.From, q.To)
	if err != nil {
		return nil, unavailable(what, err)
	}
	groups, err := selected(ids, q.Agencies, q.Kinds, q.From, q.To)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	return groups, nil
}

// Latest calls each with the latest revision (published false) or the newest approved
// revision (published true) of every series q selects, sources and q.After included,
// in no order; History and Limit are the caller's (it pages what it is given).
func (l *Ledger) Latest(ctx context.Context, q store.Query, published bool, each func(indicators.Observation)) error {
	prefix := latestPrefix
	if published {
		prefix = publishedPrefix
	}
	groups, err := l.queryGroups(ctx, q, "read latest revisions")
	if err != nil {
		return err
	}
	for len(groups) > 0 {
		n := min(len(groups), readChunk)
		part := groups[:n]
		groups = groups[n:]
		// With indicators named, only their fields are read.
		all := make([]*redis.MapStringStringCmd, len(part))
		some := make([]*redis.SliceCmd, len(part))
		if _, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, g := range part {
				if len(q.Indicators) > 0 {
					some[i] = p.HMGet(ctx, prefix+g.id(), q.Indicators...)
				} else {
					all[i] = p.HGetAll(ctx, prefix+g.id())
				}
			}
			return nil
		}); err != nil {
			return unavailable("read latest revisions", err)
		}
		var vals []string
		for i := range part {
			vals = vals[:0]
			if all[i] != nil {
				for _, v := range all[i].Val() {
					vals = append(vals, v)
				}
			} else {
				for _, v := range some[i].Val() {
					if s, ok := v.(string); ok {
						vals = append(vals, s)
					}
				}
			}
			for _, v := range vals {
				o, err := decodeObs(v)
				if err != nil {
					return fmt.Errorf("redis: %w", err)
				}
				if (len(q.Sources) == 0 || slices.Contains(q.Sources, o.Source)) && q.Follows(o) {
					each(o)
				}
			}
		}
	}
	return nil
}

// PublishedRevisions calls each with every revision ever approved among the series q
// selects (by indicator, agency, kind and period).
func (l *Ledger) PublishedRevisions(ctx context.Context, q store.Query, each func(indicators.SeriesKey, int)) error {
	groups, err := l.queryGroups(ctx, q, "read approved revisions")
	if err != nil {
		return err
	}
	for len(groups) > 0 {
		n := min(len(groups), readChunk)
		part := groups[:n]
		groups = groups[n:]
		cmds := make([]*redis.StringSliceCmd, len(part))
		if _, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, g := range part {
				cmds[i] = p.SMembers(ctx, approvedPrefix+g.id())
			}
			return nil
		}); err != nil {
			return unavailable("read approved revisions", err)
		}
		for i, c := range cmds {
			for _, m := range c.Val() {
				rev, ind, ok := strings.Cut(m, "|")
				n, err := strconv.Atoi(rev)
				if !ok || err != nil {
					return fmt.Errorf("redis: damaged approved revision %q", m)
				}
				if len(q.Indicators) > 0 && !slices.Contains(q.Indicators, ind) {
					continue
				}
				each(indicators.SeriesKey{Indicator: ind, Agency: part[i].agency, Period: part[i].p}, n)
			}
		}
	}
	return nil
}

// Submissions answers q, ordered by period start, kind and agency.
func (l *Ledger) Submissions(ctx context.Context, q store.SubmissionQuery) ([]store.Submission, error) {
	ids, err := l.groupIDs(ctx, ledgerSubs, q.From, q.To)
	if err != nil {
		return nil, unavailable("list submissions", err)
	}
	groups, err := selected(ids, q.Agencies, q.Kinds, q.From, q.To)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	out := []store.Submission{}
	for len(groups) > 0 {
		n := min(len(groups), readChunk)
		keys := make([]string, n)
		for i, g := range groups[:n] {
			keys[i] = subPrefix + g.id()
		}
		groups = groups[n:]
		vals, err := l.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, unavailable("list submissions", err)
		}
		for i, v := range vals {
			s, ok := v.(string)
			if !ok {
				continue
			}
			var sub store.Submission
			if err := json.Unmarshal([]byte(s), &sub); err != nil {
				return nil, fmt.Errorf("redis: damaged submission %s: %w", keys[i], err)
			}
			if len(q.States) == 0 || slices.Contains(q.States, sub.State) {
				out = append(out, sub)
			}
		}
	}
	slices.SortFunc(out, func(a, b store.Submission) int {
		if c := a.Period.Start(nil).Compare(b.Period.Start(nil)); c != 0 {
			return c
		}
		if a.Period.Kind != b.Period.Kind {
			return int(a.Period.Kind) - int(b.Period.Kind)
		}
		return strings.Compare(a.Agency, b.Agency)
	})
	return out, nil
}

// Trail returns the steps of one submission, oldest first.
func (l *Ledger) Trail(ctx context.Context, agency string, p period.Period) ([]store.Transition, error) {
	vals, err := l.rdb.LRange(ctx, trailPrefix+(group{agency, p}).id(), 0, -1).Result()
	if err != nil {
		return nil, unavailable("read trail", err)
	}
	out := make([]store.Transition, 0, len(vals))
	for _, v := range vals {
		var t store.Transition
		if err := json.Unmarshal([]byte(v), &t); err != nil {
			return nil, fmt.Errorf("redis: damaged trail of %s/%s: %w", agency, p, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// Ping checks that Redis answers.
func (l *Ledger) Ping(ctx context.Context) error {
	if err := l.rdb.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Load makes sure Redis holds the ledger of the bucket named of. The first replica to
// find it missing takes the loading claim and fills it with what load puts: its
// spool's ledger and workflow, so that a single G-OC that becomes several replicas
// carries its numbering, its reviews and its trails over (a new spool holds InfluxDB's
// latest revisions, each published). The others wait for it. A ledger describing
// another bucket is refused.
func (l *Ledger) Load(ctx context.Context, of string, load func(put func(store.Snapshot) error) error) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	token := make([]byte, 8)
	rand.Read(token)
	for {
		have, err := l.rdb.Get(ctx, ledgerOf).Result()
		switch {
		case err == nil && have == of:
			return nil
		case err == nil:
			return fmt.Errorf("redis: the revision ledger in Redis describes %q, not %q: give this bucket its own Redis database (redis.db)", have, of)
		case !errors.Is(err, redis.Nil):
			return unavailable("read the ledger's mark", err)
		}
		got, err := l.rdb.SetNX(ctx, ledgerLoading, hex.EncodeToString(token), 10*time.Minute).Result()
		if err != nil {
			return unavailable("claim loading the ledger", err)
		}
		if got {
			// What a replica that died while loading left is replaced, not added to.
			err := l.clear(ctx)
			if err == nil {
				err = load(func(sn store.Snapshot) error { return l.put(ctx, sn) })
			}
			if err == nil {
				// A new epoch: the counters start again from nothing, and versions
				// given before this load must not come back.
				err = l.rdb.Set(ctx, ledgerEpoch, newEpoch(), 0).Err()
			}
			if err == nil {
				err = l.rdb.Set(ctx, ledgerOf, of, 0).Err()
			}
			l.rdb.Del(context.WithoutCancel(ctx), ledgerLoading)
			if err != nil {
				return unavailable("load the ledger", err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redis: wait for another replica to load the ledger: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Version is the version of what every replica reads through the ledger: of the
// figures (latest and approved revisions, submissions, and the history replicas have
// sent to InfluxDB, see Sent), or with probes true of the probe results replicas have
// sent. It is the ledger's epoch, new each time the ledger is loaded, and a counter
// moved by each such change, so the same version means the same shared data for as
// long as Redis keeps what it acknowledged (appendfsync always).
func (l *Ledger) Version(ctx context.Context, probes bool) (string, error) {
	counter := figuresCounter
	if probes {
		counter = probesCounter
	}
	for range 2 {
		vals, err := l.rdb.MGet(ctx, ledgerOf, ledgerEpoch, counter).Result()
		if err != nil {
			return "", unavailable("read the ledger's version", err)
		}
		if vals[0] == nil {
			return "", unavailable("read the ledger's version", ErrNotLoaded)
		}
		epoch, _ := vals[1].(string)
		if epoch == "" {
			// Loaded by a G-OC that kept no epoch: the first replica to ask gives it one.
			if err := l.rdb.SetNX(ctx, ledgerEpoch, newEpoch(), 0).Err(); err != nil {
				return "", unavailable("give the ledger an epoch", err)
			}
			continue
		}
		n, _ := vals[2].(string)
		if n == "" {
			n = "0"
		}
		return epoch + "." + n, nil
	}
	return "", unavailable("read the ledger's version", errors.New("its epoch disappears as it is written"))
}

// Sent records that a replica's chunk of observations (or, with probes, of probe
// results) is now in InfluxDB, where every replica's history and probe reads see it:
// it moves the version the chunk changes. The caller calls it after InfluxDB took the
// chunk and before deleting it from its spool, so that a crash in between sends the
// chunk, and moves the version, again.
func (l *Ledger) Sent(ctx context.Context, probes bool) error {
	counter := figuresCounter
	if probes {
		counter = probesCounter
	}
	if err := l.rdb.Incr(ctx, counter).Err(); err != nil {
		return unavailable("record a chunk sent to InfluxDB", err)
	}
	return nil
}

func newEpoch() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// clear deletes every key of the ledger but its loading claim.
func (l *Ledger) clear(ctx context.Context) error {
	iter := l.rdb.Scan(ctx, 0, "goc:ledger:*", 1000).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := l.rdb.Del(ctx, batch...).Err()
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		if k := iter.Val(); k != ledgerLoading {
			batch = append(batch, k)
		}
		if len(batch) == 1000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return flush()
}

// put stores one part of a snapshot.
func (l *Ledger) put(ctx context.Context, sn store.Snapshot) error {
	var maxSeq int64
	_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		groups := map[string]bool{}
		for i := range sn.Latest {
			o := &sn.Latest[i]
			id := groupOf(o).id()
			p.HSet(ctx, latestPrefix+id, o.Indicator, encodeObs(o))
			groups[id] = true
		}
		for id := range groups {
			p.ZAdd(ctx, ledgerGroups, member(id))
		}
		for i := range sn.Published {
			o := &sn.Published[i]
			p.HSet(ctx, publishedPrefix+groupOf(o).id(), o.Indicator, encodeObs(o))
		}
		for _, k := range sn.Approved {
			p.SAdd(ctx, approvedPrefix+(group{k.Agency, k.Period}).id(), strconv.Itoa(k.Revision)+"|"+k.Indicator)
		}
		for i := range sn.Submissions {
			s := &sn.Submissions[i]
			b, _ := json.Marshal(s)
			id := group{s.Agency, s.Period}.id()
			p.Set(ctx, subPrefix+id, b, 0)
			p.ZAdd(ctx, ledgerSubs, member(id))
			maxSeq = max(maxSeq, s.Seq)
		}
		for i := range sn.Trail {
			t := &sn.Trail[i]
			b, _ := json.Marshal(t)
			p.RPush(ctx, trailPrefix+group{t.Agency, t.Period}.id(), b)
			maxSeq = max(maxSeq, t.Seq)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if maxSeq > 0 {
		// Steps go on numbering after the spool's.
		return raiseSeq.Run(ctx, l.rdb, []string{ledgerSeq}, maxSeq).Err()
	}
	return nil
}

// raiseSeq sets the step counter to at least ARGV[1].
var raiseSeq = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`)

func clonePtr(f *float64) *float64 {
	if f == nil {
		return nil
	}
	return new(*f)
}

package influx

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/query"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlwhere"
)

// The widest range a query covers: every time G-OC accepts (see store.CheckObservation
// and store.CheckProbeResult).
var (
	rangeStart = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	rangeStop  = time.Date(2201, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Observations answers q from InfluxDB and merges what is still spooled, so a write is
// visible as soon as it is acknowledged.
//
// For latest values the spool is read first and InfluxDB second, and of each series
// the higher revision wins: a batch the flusher sends in between is then seen in one
// or the other. The source filter is applied after that choice, so that it keeps a
// series only when its latest revision has a listed source, as store.Store requires.
// While InfluxDB is away, latest values come from the ledger; history fails.
func (s *Store) Observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	if err := s.enter("query observations"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	out, err := s.observations(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("influx: query observations: %w", err)
	}
	return out, nil
}

func (s *Store) observations(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	if !q.From.IsZero() && !q.To.IsZero() && sqlwhere.CeilUnix(q.From) >= sqlwhere.CeilUnix(q.To) {
		return []indicators.Observation{}, nil
	}
	if s.opt.Ledger != nil && !q.History {
		return s.sharedLatest(ctx, q)
	}
	if q.Published && !q.History {
		// The spool keeps a full copy of every newest approved revision.
		pub, err := s.sp.publishedObservations(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("read the spool's published revisions: %w", err)
		}
		return sortObservations(pub), nil
	}
	if q.Published {
		return s.publishedHistory(ctx, q)
	}
	if s.opt.LatestFromLedger && !q.History {
		ledger, err := s.sp.ledgerObservations(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("read the spool's ledger: %w", err)
		}
		return sortObservations(ledger), nil
	}
	pending, err := s.sp.pendingObservations(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read spool: %w", err)
	}
	pg := newPage(q)
	var add func(indicators.Observation) error
	var rest func()
	if q.History {
		add, rest = historyMerge(q, pending, pg)
	} else {
		add, rest = latestMerge(q, pending, pg)
	}
	if err := s.fluxObservations(ctx, q, add); err != nil {
		if q.History || ctx.Err() != nil {
			return nil, err
		}
		// InfluxDB is away: the ledger has the latest revision of every series. It is
		// what InfluxDB and the spool hold together while this process is the only
		// writer, but not always (a batch InfluxDB refused, another writer): figures
		// made from it are not kept (see FiguresVersion).
		ledger, lerr := s.sp.ledgerObservations(ctx, q)
		if lerr != nil {
			return nil, fmt.Errorf("%w; and reading the spool's ledger: %v", err, lerr)
		}
		s.figuresDegraded.Add(1)
		return sortObservations(ledger), nil
	}
	rest()
	return pg.sorted(), nil
}

// publishedHistory answers a published history query: the history InfluxDB and the
// spool hold, keeping the revisions the spool records as approved. With a limit it
// reads page after page of Limit until it has Limit approved ones or the history ends,
// so memory stays bounded by the limit.
func (s *Store) publishedHistory(ctx context.Context, q store.Query) ([]indicators.Observation, error) {
	var approved map[publishedRevision]bool
	var err error
	if s.opt.Ledger != nil {
		approved = map[publishedRevision]bool{}
		err = s.opt.Ledger.PublishedRevisions(ctx, q, func(k indicators.SeriesKey, rev int) { approved[publishedRevision{k, rev}] = true })
	} else {
		approved, err = s.sp.publishedRevisions(ctx, q)
	}
	if err != nil {
		return nil, fmt.Errorf("read the published revisions: %w", err)
	}
	all := q
	all.Published = false
	out := []indicators.Observation{}
	for {
		obs, err := s.observations(ctx, all)
		if err != nil {
			return nil, err
		}
		for _, o := range obs {
			if !approved[publishedRevision{o.SeriesKey, o.Revision}] {
				continue
			}
			out = append(out, o)
			if q.Limit > 0 && len(out) == q.Limit {
				return out, nil
			}
		}
		if q.Limit <= 0 || len(obs) < q.Limit {
			return out, nil
		}
		last := store.KeyOf(obs[len(obs)-1])
		all.After = &last
	}
}

// historyMerge is the union of revisions read from InfluxDB (fed to add) and the spool
// (added by rest). The spool's copy wins: it is whole even while InfluxDB is writing
// its copy.
func historyMerge(q store.Query, pending []indicators.Observation, pg *page) (add func(indicators.Observation) error, rest func()) {
	type rev struct {
		indicators.SeriesKey
		n int
	}
	seen := make(map[rev]bool, len(pending))
	for _, o := range pending {
		seen[rev{o.SeriesKey, o.Revision}] = true
	}
	add = func(o indicators.Observation) error {
		if q.Follows(o) && !seen[rev{o.SeriesKey, o.Revision}] {
			pg.add(o)
		}
		return nil
	}
	rest = func() {
		// With a shared ledger a repeat is spooled again (see writeShared): one
		// revision may be queued twice.
		for _, o := range pending {
			if k := (rev{o.SeriesKey, o.Revision}); seen[k] {
				pg.add(o)
				delete(seen, k)
			}
		}
	}
	return add, rest
}

// latestMerge keeps the highest revision of each series, from the spool when both have
// it, then the listed sources: the source filter applies to the series' latest
// revision, as store.Store requires.
func latestMerge(q store.Query, pending []indicators.Observation, pg *page) (add func(indicators.Observation) error, rest func()) {
	newest := make(map[indicators.SeriesKey]indicators.Observation, len(pending))
	for _, o := range pending {
		if cur, ok := newest[o.SeriesKey]; !ok || o.Revision >= cur.Revision {
			newest[o.SeriesKey] = o
		}
	}
	keep := func(o indicators.Observation) {
		if q.Follows(o) && (len(q.Sources) == 0 || slices.Contains(q.Sources, o.Source)) {
			pg.add(o)
		}
	}
	add = func(o indicators.Observation) error {
		if p, ok := newest[o.SeriesKey]; ok {
			if p.Revision >= o.Revision {
				o = p
			}
			delete(newest, o.SeriesKey)
		}
		keep(o)
		return nil
	}
	rest = func() {
		for _, o := range newest {
			keep(o)
		}
	}
	return add, rest
}

// page collects the answer to a query: everything when it has no limit, otherwise the
// Limit first observations in order, in a max-heap of that size, so a page read from
// InfluxDB (which cannot answer in G-OC's order by itself) holds at most Limit
// observations however many the query scans.
type page struct {
	limit   int
	history bool
	obs     []indicators.Observation
}

func newPage(q store.Query) *page { return &page{limit: q.Limit, history: q.History} }

func (p *page) less(i, j int) bool {
	return store.KeyOf(p.obs[i]).Compare(store.KeyOf(p.obs[j]), p.history) > 0 // max-heap
}

func (p *page) add(o indicators.Observation) {
	if p.limit <= 0 {
		p.obs = append(p.obs, o)
		return
	}
	if len(p.obs) < p.limit {
		p.obs = append(p.obs, o)
		p.up(len(p.obs) - 1)
		return
	}
	if store.KeyOf(o).Compare(store.KeyOf(p.obs[0]), p.history) >= 0 {
		return
	}
	p.obs[0] = o
	p.down(0)
}

func (p *page) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !p.less(i, parent) {
			return
		}
		p.obs[i], p.obs[parent] = p.obs[parent], p.obs[i]
		i = parent
	}
}

func (p *page) down(i int) {
	for {
		l, big := 2*i+1, i
		if l < len(p.obs) && p.less(l, big) {
			big = l
		}
		if r := l + 1; r < len(p.obs) && p.less(r, big) {
			big = r
		}
		if big == i {
			return
		}
		p.obs[i], p.obs[big] = p.obs[big], p.obs[i]
		i = big
	}
}

func (p *page) sorted() []indicators.Observation { return sortObservations(p.obs) }

// sortObservations orders as store.Store promises: indicator, agency, period start,
// period kind (longer first), revision.
func sortObservations(obs []indicators.Observation) []indicators.Observation {
	slices.SortFunc(obs, func(a, b indicators.Observation) int {
		return cmp.Or(
			strings.Compare(a.Indicator, b.Indicator),
			strings.Compare(a.Agency, b.Agency),
			cmp.Compare(startMonth(a.Period), startMonth(b.Period)),
			cmp.Compare(a.Period.Kind, b.Period.Kind),
			cmp.Compare(a.Revision, b.Revision),
		)
	})
	if obs == nil {
		obs = []indicators.Observation{}
	}
	return obs
}

// startMonth orders periods by their start without building a time: months since
// year 0.
func startMonth(p period.Period) int {
	return p.Year*12 + (p.Index-1)*12/p.Kind.PerYear()
}

// fluxObservations streams the observations q selects from InfluxDB: every revision
// from measObservation for history, the latest from measObservationLatest otherwise.
// Sources are filtered here only for history (see Observations).
func (s *Store) fluxObservations(ctx context.Context, q store.Query, each func(indicators.Observation) error) error {
	start, stop := rangeStart, rangeStop
	if !q.From.IsZero() {
		start = time.Unix(sqlwhere.CeilUnix(q.From), 0)
	}
	if !q.To.IsZero() {
		stop = time.Unix(sqlwhere.CeilUnix(q.To), 0)
	}
	meas := measObservationLatest
	if q.History {
		meas = measObservation
	}
	pred := []string{`r._measurement == ` + fluxString(meas), `r._field == ` + fluxString(recordField)}
	pred = appendAny(pred, "indicator", q.Indicators)
	var asked map[string]bool
	if len(q.Agencies) > maxAgenciesInFlux {
		// Most of the bucket's agencies: read the rest of the selection and keep theirs.
		asked = make(map[string]bool, len(q.Agencies))
		for _, a := range q.Agencies {
			asked[a] = true
		}
	} else {
		pred = appendAny(pred, "agency", q.Agencies)
	}
	if q.After != nil {
		// Only the first column of the key can be pushed down as a range on a tag;
		// the rest of the key is compared as rows arrive (store.Query.Follows).
		pred = append(pred, `r.indicator >= `+fluxString(q.After.Indicator))
	}
	kinds := make([]string, len(q.Kinds))
	for i, k := range q.Kinds {
		kinds[i] = k.String()
	}
	pred = appendAny(pred, "periodicity", kinds)
	if q.History {
		sources := make([]string, len(q.Sources))
		for i, src := range q.Sources {
			sources[i] = string(src)
		}
		pred = appendAny(pred, "source", sources)
	}
	// No observation is stored in the last nanosecond before a whole second (a
	// revision's offset from its period start is under a second, see measObservation):
	// stopping the range there gives [start, stop) on InfluxDB 1.8, whose stop is
	// inclusive, and on 2.x alike, without filtering every row on its time.
	return s.fluxRange(ctx, s.opt.Bucket, start, stop.Add(-time.Nanosecond), false, pred, func(record string) error {
		o, err := decodeObservation(record)
		if err != nil {
			return err
		}
		if asked != nil && !asked[o.Agency] {
			return nil
		}
		return each(o)
	})
}

// maxAgenciesInFlux is the most agencies a read names to InfluxDB; a read naming more
// (the figures read every agency of the registry at once, see FewerLargerReads) is
// filtered here instead: as one expression, naming every agency costs influxd what
// reading them all does, and a list of 100 costs next to nothing.
const maxAgenciesInFlux = 100

// FewerLargerReads tells the query layer that one read of every agency costs less
// here than several reads of some: each Flux query is planned and run by influxd,
// tens of milliseconds before its first row.
func (s *Store) FewerLargerReads() bool { return true }

// fluxRecords streams the record field of the points in [start, stop) that match
// every predicate.
func (s *Store) fluxRecords(ctx context.Context, bucket string, start, stop time.Time, pred []string, each func(record string) error) error {
	// range's stop is exclusive on InfluxDB 2 but inclusive on 1.8, whose storage
	// reads closed intervals: the bound is stated again so that both agree. Not at
	// rangeStop, where no point can be (and where the filter, evaluated row by row,
	// took about a third of a whole-history read on 1.8).
	return s.fluxRange(ctx, bucket, start, stop, !stop.Equal(rangeStop), pred, each)
}

// fluxRange streams the record field of the points between start and stop that match
// every predicate: [start, stop) when stopAgain, else up to stop, inclusive on
// InfluxDB 1.8 and exclusive on 2.x.
func (s *Store) fluxRange(ctx context.Context, bucket string, start, stop time.Time, stopAgain bool, pred []string, each func(record string) error) error {
	again := ""
	if stopAgain {
		again = "\n\t|> filter(fn: (r) => r._time < " + fluxTime(stop) + ")"
	}
	flux := fmt.Sprintf(`from(bucket: %s)
	|> range(start: %s, stop: %s)
	|> filter(fn: (r) => %s)%s
	|> keep(columns: ["_value"])
	|> group()`, fluxString(bucket), fluxTime(start), fluxTime(stop), strings.Join(pred, " and "), again)
	return s.fluxRows(ctx, flux, func(rec *query.FluxRecord) error { return each(asString(rec.Value())) })
}

// fluxRows runs a Flux query and hands each row to each.
func (s *Store) fluxRows(ctx context.Context, flux string, each func(*query.FluxRecord) error) error {
	res, err := s.query.Query(ctx, flux)
	if err != nil {
		return fmt.Errorf("InfluxDB at %s: %w", s.opt.URL, err)
	}
	defer res.Close()
	for res.Next() {
		if err := each(res.Record()); err != nil {
			return err
		}
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("InfluxDB at %s: %w", s.opt.URL, err)
	}
	return nil
}

// LatestProbes returns each target's newest result from measProbeLatest, merged with
// the spool; from the ledger while InfluxDB is away.
func (s *Store) LatestProbes(ctx context.Context) ([]indicators.ProbeResult, error) {
	if err := s.enter("latest probes"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	return s.latestProbes(ctx)
}

func (s *Store) latestProbes(ctx context.Context) ([]indicators.ProbeResult, error) {
	if s.opt.LatestFromLedger {
		ledger, err := s.sp.ledgerProbes(ctx)
		if err != nil {
			return nil, fmt.Errorf("influx: latest probes: read the spool's ledger: %w", err)
		}
		return ledger, nil
	}
	pending, err := s.sp.pendingProbes(ctx, "", 0, 0)
	if err != nil {
		return nil, fmt.Errorf("influx: latest probes: read spool: %w", err)
	}
	var got []indicators.ProbeResult
	err = s.fluxLatestProbes(ctx, func(r indicators.ProbeResult) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("influx: latest probes: %w", err)
		}
		ledger, lerr := s.sp.ledgerProbes(ctx)
		if lerr != nil {
			return nil, fmt.Errorf("influx: latest probes: %w; and reading the spool's ledger: %v", err, lerr)
		}
		s.probesDegraded.Add(1) // not kept: see ProbesVersion
		return ledger, nil
	}
	at := make(map[string]int, len(got))
	for i, r := range got {
		at[r.Target] = i
	}
	for _, r := range pending {
		i, ok := at[r.Target]
		switch {
		case !ok:
			at[r.Target] = len(got)
			got = append(got, r)
		case !r.Time.Before(got[i].Time):
			got[i] = r
		}
	}
	slices.SortFunc(got, func(a, b indicators.ProbeResult) int { return strings.Compare(a.Target, b.Target) })
	return got, nil
}

func (s *Store) fluxLatestProbes(ctx context.Context, each func(indicators.ProbeResult) error) error {
	pred := []string{`r._measurement == ` + fluxString(measProbeLatest), `r._field == ` + fluxString(recordField)}
	return s.fluxRecords(ctx, s.opt.Bucket, time.Unix(0, 0), time.Unix(1, 0), pred, func(record string) error {
		r, err := decodeProbe(record)
		if err != nil {
			return err
		}
		return each(r)
	})
}

// ProbeResults returns one target's results in [from, to) from measProbe, merged with
// the spool, oldest first.
func (s *Store) ProbeResults(ctx context.Context, target string, from, to time.Time) ([]indicators.ProbeResult, error) {
	if err := s.enter("probe results"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	start, stop := rangeStart, rangeStop
	if !from.IsZero() {
		start = from
	}
	if !to.IsZero() {
		stop = to
	}
	if !start.Before(stop) {
		return []indicators.ProbeResult{}, nil
	}
	pending, err := s.sp.pendingProbes(ctx, target, start.UnixNano(), stop.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("influx: probe results of %s: read spool: %w", target, err)
	}
	// The spool's copy of a result wins: it is whole even if InfluxDB's is still
	// being written.
	got := pending
	seen := make(map[int64]bool, len(pending))
	for _, r := range pending {
		seen[r.Time.UnixNano()] = true
	}
	pred := []string{`r._measurement == ` + fluxString(measProbe), `r._field == ` + fluxString(recordField),
		`r.target == ` + fluxString(target)}
	err = s.fluxRecords(ctx, s.opt.ProbeBucket, start, stop, pred, func(record string) error {
		r, err := decodeProbe(record)
		if err != nil {
			return err
		}
		if !seen[r.Time.UnixNano()] {
			got = append(got, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("influx: probe results of %s: %w", target, err)
	}
	slices.SortStableFunc(got, func(a, b indicators.ProbeResult) int { return a.Time.Compare(b.Time) })
	if got == nil {
		got = []indicators.ProbeResult{}
	}
	return got, nil
}

// syncLedger loads the ledger from InfluxDB the first time a spool file is used with
// a bucket. It refuses a spool that still holds points for another bucket.
func (s *Store) syncLedger(ctx context.Context) error {
	key := s.ledgerKey()
	have, err := s.sp.meta(ctx, "ledger_of")
	if err != nil {
		return fmt.Errorf("read spool %s: %w", s.opt.Spool, err)
	}
	if have == key {
		return nil
	}
	if have != "" {
		points, _, err := s.sp.backlog(ctx)
		if err != nil {
			return err
		}
		if points > 0 {
			return fmt.Errorf("spool %s still holds %d points for org|bucket|probe bucket %q, not %q: point store.influx.spool at another file, or restore the old settings until it is sent",
				s.opt.Spool, points, have, key)
		}
	}
	if err := s.sp.resetLedger(ctx); err != nil {
		return fmt.Errorf("reset ledger in %s: %w", s.opt.Spool, err)
	}
	const batch = 5000
	var obs []indicators.Observation
	err = s.fluxObservations(ctx, store.Query{}, func(o indicators.Observation) error {
		obs = append(obs, o)
		if len(obs) == batch {
			err := s.sp.loadLedger(ctx, obs, nil)
			obs = obs[:0]
			return err
		}
		return nil
	})
	if err == nil {
		err = s.sp.loadLedger(ctx, obs, nil)
	}
	var probes []indicators.ProbeResult
	if err == nil {
		err = s.fluxLatestProbes(ctx, func(r indicators.ProbeResult) error {
			probes = append(probes, r)
			return nil
		})
	}
	if err == nil {
		err = s.sp.loadLedger(ctx, nil, probes)
	}
	if err == nil {
		err = s.sp.publishLedger(ctx)
	}
	if err != nil {
		return fmt.Errorf("load the latest revision of every series into the new spool %s (InfluxDB must answer the first time a spool file is used): %w", s.opt.Spool, err)
	}
	return s.sp.setMeta(ctx, "ledger_of", key)
}

// appendAny adds a predicate keeping rows whose tag col is one of vals, when vals is
// not empty: r.col == v for one value, else one anchored regular expression,
// r.col =~ /^(?:v1|v2|...)$/.
//
// Not "r.col == v1 or r.col == v2 ...": InfluxDB 1.8 pushes both down to its storage
// but answers a long disjunction of equalities many times slower: 500 agencies' latest
// values of one indicator over 8 months took 1.2-4.3 s that way and 65-80 ms as one
// expression, and a reviewer's figures of one indicator at a quarter of national
// scale, read 500 agencies at a time, took 71-92 s (BENCHMARKS.md, "InfluxDB 1.8.10
// at full size").
func appendAny(pred []string, col string, vals []string) []string {
	switch len(vals) {
	case 0:
		return pred
	case 1:
		return append(pred, "r."+col+" == "+fluxString(vals[0]))
	}
	var b strings.Builder
	b.WriteString("r." + col + " =~ /^(?:")
	for i, v := range vals {
		if i > 0 {
			b.WriteByte('|')
		}
		fluxRegexpLiteral(&b, v)
	}
	b.WriteString(")$/")
	return append(pred, b.String())
}

// fluxRegexpLiteral writes a regular expression matching s exactly, for a Flux
// regular expression literal: letters, digits and '_' as they are, every other rune as
// \x{hex}, so that no value can end the literal ('/'), break its line, or mean
// anything to the expression (see TestFiltersMatchValuesExactly).
func fluxRegexpLiteral(b *strings.Builder, s string) {
	for _, r := range s {
		if r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
			continue
		}
		fmt.Fprintf(b, `\x{%X}`, r)
	}
}

// fluxString quotes s as a Flux string literal.
func fluxString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '$':
			// "${" would start an interpolation. Not `\$`: InfluxDB 1.8's Flux knows
			// only the escape `\${`, and refuses `\$` before anything else.
			b.WriteString(`\x24`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func fluxTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

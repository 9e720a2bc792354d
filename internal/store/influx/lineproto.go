package influx

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/g-oc/goc/indicators"
)

// The measurements G-OC writes. README.md ("InfluxDB") documents them for people who
// query the bucket from Grafana or the influx CLI.
//
// Every point carries its whole content as JSON in one string field, record, which is
// all G-OC reads back. InfluxDB 1.8 keeps each field as a series of its own and its
// Flux engine pays per series: reading one field instead of a dozen and pivoting them
// made reading 3,400 agencies' latest values over ten times faster. One field is also
// written atomically, so a read that overlaps a write never sees half a point. The
// numeric fields beside it are for people querying InfluxDB directly.
const (
	// measObservation holds every revision of every observation. A revision's time is
	// its period's start plus (revision - 1) nanoseconds: revisions of one period are
	// distinct points of one series, in order, and truncating the time to the second
	// gives the period start back.
	measObservation = "goc_observation"
	// measObservationLatest holds the latest revision of each series at the period's
	// start exactly; a new revision overwrites the point in place (same series, same
	// time).
	measObservationLatest = "goc_observation_latest"
	// measProbe holds every probe result, at the time of the probe.
	measProbe = "goc_probe"
	// measProbeLatest holds each target's newest result at a fixed time (the unix
	// epoch), overwritten in place.
	measProbeLatest = "goc_probe_latest"
)

// recordField is the field holding a point's JSON.
const recordField = "record"

// maxRevision keeps a revision's offset from its period start under one second.
const maxRevision = 999_999_999

// obsLines appends the line protocol for observation o: its history point and, when
// latest, its point in measObservationLatest.
func obsLines(b *strings.Builder, o *indicators.Observation, latest bool) error {
	record, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("encode %s/%s/%s: %w", o.Indicator, o.Agency, o.Period, err)
	}
	start := o.Period.Start(nil).UnixNano()
	// History: source is a tag (filtering history by source is common, and a series
	// rarely changes source). In the latest measurement it must be a field, or a new
	// revision from another source would not overwrite the old one.
	b.WriteString(measObservation)
	obsTags(b, o)
	tag(b, "source", string(o.Source))
	f := fields{b: b}
	if o.Denominator != nil {
		f.float("denominator", *o.Denominator)
	}
	if o.Numerator != nil {
		f.float("numerator", *o.Numerator)
	}
	f.str(recordField, string(record))
	f.integer("revision", int64(o.Revision))
	f.float("value", o.Value)
	timestamp(b, start+int64(o.Revision-1))
	if !latest {
		return nil
	}
	// Numerator and denominator are left out here: an overwrite keeps fields the new
	// point does not write, so a revision without them would show stale ones.
	b.WriteString(measObservationLatest)
	obsTags(b, o)
	f = fields{b: b}
	f.str(recordField, string(record))
	f.integer("revision", int64(o.Revision))
	f.str("source", string(o.Source))
	f.float("value", o.Value)
	timestamp(b, start)
	return nil
}

func obsTags(b *strings.Builder, o *indicators.Observation) {
	tag(b, "agency", o.Agency)
	tag(b, "indicator", o.Indicator)
	tag(b, "periodicity", o.Period.Kind.String())
}

func timestamp(b *strings.Builder, ns int64) {
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(ns, 10))
	b.WriteByte('\n')
}

// probeLines appends the line protocol for r, whose JSON is record: its history
// point to history and, when latest, its point in measProbeLatest to latestB.
func probeLines(history, latestB *strings.Builder, r *indicators.ProbeResult, record string, latest bool) {
	b := history
	b.WriteString(measProbe)
	if r.Agency != "" {
		tag(b, "agency", r.Agency)
	}
	tag(b, "target", r.Target)
	f := fields{b: b}
	f.integer("http_status", int64(r.HTTPStatus))
	for _, name := range slices.Sorted(maps.Keys(r.Phases)) {
		f.float(phasePrefix+name, r.Phases[name])
	}
	f.str(recordField, record)
	f.boolean("success", r.Success)
	timestamp(b, r.Time.UnixNano())
	if !latest {
		return
	}
	b = latestB
	b.WriteString(measProbeLatest)
	tag(b, "target", r.Target)
	f = fields{b: b}
	f.str("agency", r.Agency)
	f.integer("http_status", int64(r.HTTPStatus))
	f.str(recordField, record)
	f.boolean("success", r.Success)
	f.integer("time", r.Time.UnixNano())
	timestamp(b, 0)
}

// phasePrefix names probe phase fields: phase_resolve, phase_total, ...
const phasePrefix = "phase_"

// tag writes ",key=value" with line-protocol escapes. Empty values are left out by
// callers: InfluxDB has no empty tag.
func tag(b *strings.Builder, key, value string) {
	b.WriteByte(',')
	b.WriteString(key)
	b.WriteByte('=')
	escapeKey(b, value)
}

// escapeKey escapes a tag value or field key: comma, equals sign and space.
func escapeKey(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ',', '=', ' ':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
}

// fields writes a field set: the first field after a space, the others after commas.
type fields struct {
	b *strings.Builder
	n int
}

func (f *fields) key(k string) {
	if f.n == 0 {
		f.b.WriteByte(' ')
	} else {
		f.b.WriteByte(',')
	}
	f.n++
	escapeKey(f.b, k)
	f.b.WriteByte('=')
}

func (f *fields) float(k string, v float64) {
	f.key(k)
	f.b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
}

func (f *fields) integer(k string, v int64) {
	f.key(k)
	f.b.WriteString(strconv.FormatInt(v, 10))
	f.b.WriteByte('i')
}

func (f *fields) boolean(k string, v bool) {
	f.key(k)
	if v {
		f.b.WriteByte('t')
	} else {
		f.b.WriteByte('f')
	}
}

func (f *fields) str(k, v string) {
	f.key(k)
	f.b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '"' || c == '\\' {
			f.b.WriteByte('\\')
		}
		f.b.WriteByte(v[i])
	}
	f.b.WriteByte('"')
}

// decodeObservation reads an observation's record.
func decodeObservation(record string) (indicators.Observation, error) {
	var o indicators.Observation
	if err := json.Unmarshal([]byte(record), &o); err != nil {
		return o, fmt.Errorf("decode observation record: %w", err)
	}
	o.ReceivedAt = o.ReceivedAt.UTC()
	if o.Revision < 1 || o.Period.IsZero() {
		return o, fmt.Errorf("observation record without revision or period: %s", record)
	}
	return o, nil
}

// encodeProbe is the JSON kept for a probe result in the spool and in
// measProbeLatest: indicators.ProbeResult's own JSON, times in UTC.
func encodeProbe(r *indicators.ProbeResult) (string, error) {
	c := *r
	c.Time = c.Time.UTC()
	if len(c.Phases) == 0 {
		c.Phases = nil // nil and empty are the same result
	}
	if !c.CertExpiry.IsZero() {
		c.CertExpiry = c.CertExpiry.UTC()
	}
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("encode probe result of %s: %w", r.Target, err)
	}
	return string(b), nil
}

func decodeProbe(s string) (indicators.ProbeResult, error) {
	var r indicators.ProbeResult
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return r, fmt.Errorf("decode probe result: %w", err)
	}
	r.Time = r.Time.UTC()
	if !r.CertExpiry.IsZero() {
		r.CertExpiry = r.CertExpiry.UTC()
	}
	// Results written before every surface took blackbox_exporter's phase names read
	// back under the new names, so that a bucket's history speaks one vocabulary.
	for old, name := range map[string]string{"dns": indicators.PhaseResolve, "first_byte": indicators.PhaseProcessing} {
		if v, ok := r.Phases[old]; ok {
			delete(r.Phases, old)
			r.Phases[name] = v
		}
	}
	return r, nil
}

func asString(v any) string { s, _ := v.(string); return s }

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

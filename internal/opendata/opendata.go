// Package opendata publishes G-OC's approved figures as a Frictionless data package
// (https://specs.frictionlessdata.io/data-package/): the catalogue, its targets, the
// agency registry with the 2025 merger lineage, and every approved observation, each
// as CSV (UTF-8, comma, ISO dates) with a Table Schema and as JSON, under a licence.
//
// A release is a directory releases/VERSION/ that never changes once written; the
// package's datapackage.json at the top names the newest. A new release is made only
// when the data changed: its version carries the SHA-256 of the data files, and a run
// whose data hash equals the newest release's writes nothing.
//
// Observations are read from the query layer's public view one page at a time and
// written straight to disk, so memory stays at one page whatever the store holds.
package opendata

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/query"
)

// Licence is the data's licence, shown in datapackage.json, in every JSON file and on
// every page and file served (a Link rel="license" header).
type Licence struct {
	// Name is an Open Definition / SPDX identifier: CC-BY-4.0 by default.
	Name  string `json:"name"`
	Title string `json:"title"`
	Path  string `json:"path"`
}

// DefaultLicence is Creative Commons Attribution 4.0, the licence the open-data seeds
// ask for: reuse for any purpose, naming the source.
func DefaultLicence() Licence {
	return Licence{Name: "CC-BY-4.0", Title: "Creative Commons Attribution 4.0", Path: "https://creativecommons.org/licenses/by/4.0/"}
}

// Options configure a package.
type Options struct {
	Licence Licence
	// Now dates a new release.
	Now time.Time
	// From and To bound the periods published; 2019 and the current year when zero.
	From, To period.Period
	// PageSize is how many observations are read at a time (2000 when zero).
	PageSize int
}

// Release says what Write did.
type Release struct {
	Version      string `json:"version"`
	Hash         string `json:"hash"`
	Changed      bool   `json:"changed"`
	Observations int    `json:"observations"`
	Indicators   int    `json:"indicators"`
}

// Reader is what a package is made from: the query layer's public view.
type Reader interface {
	Catalogue() *indicators.Catalogue
	Registry() *indicators.Registry
	ExportPlan(req query.ExportRequest) ([]query.ExportChunk, error)
	ExportPages(plan []query.ExportChunk, size int) *query.ExportPages
	IsPublicView() bool
}

// Write builds the package from q into dir: a new release when the data changed since
// the newest release in dir, nothing otherwise.
func Write(ctx context.Context, q Reader, dir string, o Options) (Release, error) {
	if !q.IsPublicView() {
		return Release{}, errors.New("open data: the query layer must be the public view, which reads approved figures only")
	}
	if o.Licence.Name == "" {
		o.Licence = DefaultLicence()
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.PageSize <= 0 {
		o.PageSize = 2000
	}
	if o.From.IsZero() {
		o.From = period.Period{Kind: period.Year, Year: 2019, Index: 1}
	}
	if o.To.IsZero() {
		o.To = period.Period{Kind: period.Year, Year: o.Now.Year(), Index: 1}
	}
	if err := os.MkdirAll(filepath.Join(dir, "releases"), 0o755); err != nil {
		return Release{}, fmt.Errorf("open data: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return Release{}, fmt.Errorf("open data: %w", err)
	}
	defer os.RemoveAll(tmp) // gone after the rename; left behind only by a failure
	b := &builder{q: q, dir: tmp, o: o, sum: sha256.New()}
	if err := b.build(ctx); err != nil {
		return Release{}, err
	}
	rel := Release{Hash: "sha256:" + hex.EncodeToString(b.sum.Sum(nil)), Observations: b.observations, Indicators: len(b.perIndicator)}
	if prev, err := readPackage(filepath.Join(dir, "datapackage.json")); err == nil && prev.Hash == rel.Hash {
		rel.Version = prev.Version
		return rel, nil
	}
	rel.Version = o.Now.UTC().Format("2006.01.02") + "-" + hex.EncodeToString(b.sum.Sum(nil))[:12]
	rel.Changed = true
	final := filepath.Join(dir, "releases", rel.Version)
	if err := os.RemoveAll(final); err != nil { // a same-day release of other data cannot share the name: its hash differs
		return Release{}, fmt.Errorf("open data: %w", err)
	}
	if err := writeJSONFile(filepath.Join(tmp, "datapackage.json"), b.descriptor(rel, "")); err != nil {
		return Release{}, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return Release{}, fmt.Errorf("open data: publish release %s: %w", rel.Version, err)
	}
	// The top-level descriptor names the newest release's files; written last and by
	// rename, so a reader never sees a half-written package.
	top := filepath.Join(dir, "datapackage.json")
	if err := writeJSONFile(top+".tmp", b.descriptor(rel, "releases/"+rel.Version+"/")); err != nil {
		return Release{}, err
	}
	if err := os.Rename(top+".tmp", top); err != nil {
		return Release{}, fmt.Errorf("open data: %w", err)
	}
	return rel, nil
}

// Package is the part of a datapackage.json that Write reads back.
type Package struct {
	Version string `json:"version"`
	Hash    string `json:"hash"`
}

func readPackage(path string) (Package, error) {
	var p Package
	b, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(b, &p)
}

type builder struct {
	q            Reader
	dir          string
	o            Options
	sum          hash.Hash
	observations int
	perIndicator []string // indicator codes with a file of their own, in order
}

// table is one CSV file with its JSON twin, both hashed as they are written.
type table struct {
	b        *builder
	name     string
	csvFile  *os.File
	jsonFile *os.File
	csv      *csv.Writer
	json     *bufio.Writer
	header   []string
	rows     int
}

func (b *builder) open(name string, header []string) (*table, error) {
	if err := os.MkdirAll(filepath.Dir(filepath.Join(b.dir, name)), 0o755); err != nil {
		return nil, fmt.Errorf("open data: %w", err)
	}
	cf, err := os.Create(filepath.Join(b.dir, name+".csv"))
	if err != nil {
		return nil, fmt.Errorf("open data: %w", err)
	}
	jf, err := os.Create(filepath.Join(b.dir, name+".json"))
	if err != nil {
		cf.Close()
		return nil, fmt.Errorf("open data: %w", err)
	}
	t := &table{b: b, name: name, csvFile: cf, jsonFile: jf, csv: csv.NewWriter(cf), json: bufio.NewWriterSize(jf, 64<<10), header: header}
	if err := t.csv.Write(header); err != nil {
		return nil, err
	}
	// JSON files carry the licence beside the rows, as the pages and datapackage.json do.
	lic, _ := json.Marshal(b.o.Licence)
	fmt.Fprintf(t.json, "{\"licenses\":[%s],\n\"data\":[", lic)
	return t, nil
}

// row writes one record: CSV cells as given ("" for an empty cell, which the schema
// reads as null) and the JSON object with typed values.
func (t *table) row(cells []string, values []any) error {
	if err := t.csv.Write(cells); err != nil {
		return fmt.Errorf("open data: write %s.csv: %w", t.name, err)
	}
	if t.rows > 0 {
		t.json.WriteString(",")
	}
	t.json.WriteString("\n{")
	for i, h := range t.header {
		if i > 0 {
			t.json.WriteString(",")
		}
		k, _ := json.Marshal(h)
		v, err := json.Marshal(values[i])
		if err != nil {
			return fmt.Errorf("open data: %s.%s: %w", t.name, h, err)
		}
		t.json.Write(k)
		t.json.WriteString(":")
		t.json.Write(v)
	}
	t.json.WriteString("}")
	t.rows++
	return nil
}

func (t *table) close() error {
	t.csv.Flush()
	t.json.WriteString("\n]}\n")
	errs := []error{t.csv.Error(), t.json.Flush(), t.csvFile.Close(), t.jsonFile.Close()}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("open data: close %s: %w", t.name, err)
	}
	// The hash covers the data in a fixed order: each file's name, then its bytes.
	for _, ext := range []string{".csv", ".json"} {
		f, err := os.Open(filepath.Join(t.b.dir, t.name+ext))
		if err != nil {
			return err
		}
		fmt.Fprintf(t.b.sum, "%s%s\n", t.name, ext)
		_, err = io.Copy(t.b.sum, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("open data: hash %s%s: %w", t.name, ext, err)
		}
	}
	return nil
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func optNum(v *float64) (string, any) {
	if v == nil {
		return "", nil
	}
	return num(*v), *v
}

func optStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (b *builder) build(ctx context.Context) error {
	cat, reg := b.q.Catalogue(), b.q.Registry()
	inds, err := b.open("indicators", indicatorFields())
	if err != nil {
		return err
	}
	tgts, err := b.open("targets", targetFields())
	if err != nil {
		return err
	}
	for _, ind := range cat.All() {
		minS, minV := optNum(ind.Bounds.Min)
		maxS, maxV := optNum(ind.Bounds.Max)
		dec, decV := "", any(nil)
		if ind.Decimals != nil {
			dec, decV = strconv.Itoa(*ind.Decimals), *ind.Decimals
		}
		if err := inds.row(
			[]string{ind.Code, ind.NameVI, ind.NameEN, string(ind.Unit), string(ind.Direction), ind.Periodicity.String(), string(ind.Aggregation), minS, maxS, dec, ind.Pillar},
			[]any{ind.Code, ind.NameVI, ind.NameEN, ind.Unit, ind.Direction, ind.Periodicity.String(), ind.Aggregation, minV, maxV, decV, optStr(ind.Pillar)}); err != nil {
			return err
		}
		for _, t := range ind.Targets {
			if err := tgts.row([]string{ind.Code, strconv.Itoa(t.Year), string(t.Level), num(t.Value), t.Clause},
				[]any{ind.Code, t.Year, t.Level, t.Value, t.Clause}); err != nil {
				return err
			}
		}
	}
	if err := errors.Join(inds.close(), tgts.close()); err != nil {
		return err
	}
	ags, err := b.open("agencies", agencyFields())
	if err != nil {
		return err
	}
	mergers, err := b.open("mergers", mergerFields())
	if err != nil {
		return err
	}
	for _, a := range reg.All() {
		if err := ags.row([]string{a.Code, a.NameVI, a.NameEN, string(a.Kind), a.Parent, a.ValidFrom.String(), a.ValidTo.String(), a.GSOCode, a.Portal},
			[]any{a.Code, a.NameVI, a.NameEN, a.Kind, optStr(a.Parent), optStr(a.ValidFrom.String()), optStr(a.ValidTo.String()), optStr(a.GSOCode), optStr(a.Portal)}); err != nil {
			return err
		}
		for _, s := range a.Successors {
			if err := mergers.row([]string{a.Code, s, a.ValidTo.String()}, []any{a.Code, s, optStr(a.ValidTo.String())}); err != nil {
				return err
			}
		}
	}
	if err := errors.Join(ags.close(), mergers.close()); err != nil {
		return err
	}
	return b.observationsOf(ctx, cat)
}

// observationsOf streams every approved observation into observations.csv/json and
// into indicators/CODE.csv/json: the export plan reads one indicator at a time, so one
// indicator's file is open at once.
func (b *builder) observationsOf(ctx context.Context, cat *indicators.Catalogue) error {
	plan, err := b.q.ExportPlan(query.ExportRequest{From: b.o.From, To: b.o.To})
	if err != nil {
		return fmt.Errorf("open data: plan: %w", err)
	}
	for i := range plan {
		plan[i].Query.Published = true // approved figures only, whatever the plan says
	}
	all, err := b.open("observations", observationFields())
	if err != nil {
		return err
	}
	var one *table
	pages := b.q.ExportPages(plan, b.o.PageSize)
	for {
		obs, done, err := pages.Next(ctx)
		if err != nil {
			return fmt.Errorf("open data: read observations: %w", err)
		}
		if done {
			break
		}
		for _, o := range obs {
			ind, ok := cat.Get(o.Indicator)
			if !ok {
				continue
			}
			if one == nil || one.name != "indicators/"+o.Indicator {
				if one != nil {
					if err := one.close(); err != nil {
						return err
					}
				}
				if one, err = b.open("indicators/"+o.Indicator, observationFields()); err != nil {
					return err
				}
				b.perIndicator = append(b.perIndicator, o.Indicator)
			}
			cells, values := observationRow(ind, o)
			if err := all.row(cells, values); err != nil {
				return err
			}
			if err := one.row(cells, values); err != nil {
				return err
			}
			b.observations++
		}
	}
	if one != nil {
		if err := one.close(); err != nil {
			return err
		}
	}
	return all.close()
}

func observationRow(ind *indicators.Indicator, o indicators.Observation) ([]string, []any) {
	v := indicators.RoundFor(ind, o.Value)
	start := o.Period.Start(time.UTC)
	end := o.Period.End(time.UTC).AddDate(0, 0, -1)
	nS, nV := optNum(o.Numerator)
	dS, dV := optNum(o.Denominator)
	at := o.ReceivedAt.UTC().Format(time.RFC3339)
	return []string{o.Indicator, o.Agency, o.Period.String(), start.Format(time.DateOnly), end.Format(time.DateOnly),
			num(v), string(ind.Unit), nS, dS, string(o.Source), strconv.Itoa(o.Revision), at},
		[]any{o.Indicator, o.Agency, o.Period.String(), start.Format(time.DateOnly), end.Format(time.DateOnly),
			v, ind.Unit, nV, dV, o.Source, o.Revision, at}
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("open data: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("open data: %w", err)
	}
	return nil
}

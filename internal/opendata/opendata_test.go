package opendata_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/opendata"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/sqlite"
)

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

type descriptor struct {
	Version   string             `json:"version"`
	Hash      string             `json:"hash"`
	Licenses  []opendata.Licence `json:"licenses"`
	Resources []struct {
		Name   string `json:"name"`
		Path   string `json:"path"`
		Schema *struct {
			Fields []struct {
				Name string `json:"name"`
			} `json:"fields"`
			PrimaryKey []string `json:"primaryKey"`
		} `json:"schema"`
	} `json:"resources"`
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// The package holds every approved figure and none waiting for review; its rows read
// back with the columns its schema names, its foreign keys resolve, and a second run
// on unchanged data makes no new release.
func TestPackagePublishesApprovedFiguresOnlyAndReleasesOnlyOnChange(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "goc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	hist := demo.History(cat, reg, testNow)
	if _, err := st.WriteObservations(ctx, hist); err != nil {
		t.Fatal(err)
	}
	// Approve what the demo wrote, then add one figure nobody approved.
	subs, err := st.Submissions(ctx, store.SubmissionQuery{States: []store.State{store.Submitted}})
	if err != nil {
		t.Fatal(err)
	}
	var reviews []store.Review
	for _, s := range subs {
		reviews = append(reviews, store.Review{Agency: s.Agency, Period: s.Period, To: store.Approved, Who: "reviewer", Seen: s.Seq})
	}
	if len(reviews) > 0 {
		if _, err := st.Review(ctx, reviews); err != nil {
			t.Fatal(err)
		}
	}
	pending := indicators.Observation{SeriesKey: indicators.SeriesKey{Indicator: "dossiers_fully_online", Agency: "P20", Period: period.Period{Kind: period.Year, Year: 2026, Index: 1}},
		Value: 12.5, Source: indicators.FromSubmission, Submitter: "officer", ReceivedAt: testNow}
	if _, err := st.WriteObservations(ctx, []indicators.Observation{pending}); err != nil {
		t.Fatal(err)
	}
	q := query.New(st, cat, reg, func() time.Time { return testNow }).PublicView()
	// scripts/contracts.sh keeps the package (GOC_OPENDATA_KEEP) to validate it with a
	// Frictionless validator.
	dir := os.Getenv("GOC_OPENDATA_KEEP")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	rel, err := opendata.Write(ctx, q, dir, opendata.Options{Now: testNow, PageSize: 97})
	if err != nil {
		t.Fatal(err)
	}
	if !rel.Changed || rel.Observations == 0 {
		t.Fatalf("first run: %+v", rel)
	}
	var d descriptor
	b, err := os.ReadFile(filepath.Join(dir, "datapackage.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Licenses) != 1 || d.Licenses[0].Name != "CC-BY-4.0" || d.Version != rel.Version {
		t.Errorf("descriptor: licence %+v, version %q want %q", d.Licenses, d.Version, rel.Version)
	}
	tables := map[string][][]string{}
	for _, r := range d.Resources {
		if r.Schema == nil {
			if _, err := os.Stat(filepath.Join(dir, r.Path)); err != nil {
				t.Errorf("resource %s: %v", r.Name, err)
			}
			continue
		}
		rows := readCSV(t, filepath.Join(dir, r.Path))
		var want []string
		for _, f := range r.Schema.Fields {
			want = append(want, f.Name)
		}
		if !slices.Equal(rows[0], want) {
			t.Errorf("%s: header %v, schema %v", r.Name, rows[0], want)
		}
		tables[r.Name] = rows[1:]
	}
	obs := tables["observations"]
	if len(obs) != rel.Observations {
		t.Errorf("observations.csv has %d rows, the release says %d", len(obs), rel.Observations)
	}
	codes := map[string]bool{}
	for _, a := range tables["agencies"] {
		codes[a[0]] = true
	}
	inds := map[string]bool{}
	for _, i := range tables["indicators"] {
		inds[i[0]] = true
	}
	keys := map[[3]string]bool{}
	for _, o := range obs {
		if !codes[o[1]] || !inds[o[0]] {
			t.Fatalf("observation %v names an agency or indicator the package lacks", o)
		}
		k := [3]string{o[0], o[1], o[2]}
		if keys[k] {
			t.Fatalf("observation %v repeats a primary key", k)
		}
		keys[k] = true
		if o[0] == "dossiers_fully_online" && o[1] == "P20" && o[2] == "2026" {
			t.Errorf("the unapproved figure was published: %v", o)
		}
	}
	merged := 0
	for _, m := range tables["mergers"] {
		if !codes[m[0]] || !codes[m[1]] {
			t.Errorf("merger %v names an unknown agency", m)
		}
		merged++
	}
	if merged < 30 {
		t.Errorf("only %d merger rows: the 2025 merger lineage is missing", merged)
	}
	per := tables["observations-dossiers_fully_online"]
	if len(per) == 0 || per[0][0] != "dossiers_fully_online" {
		t.Errorf("the indicator's own file is empty or holds another indicator: %v", per[:min(1, len(per))])
	}

	again, err := opendata.Write(ctx, q, dir, opendata.Options{Now: testNow.Add(24 * time.Hour), PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed || again.Version != rel.Version {
		t.Errorf("unchanged data made a new release: %+v after %+v", again, rel)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "releases"))
	if len(entries) != 1 {
		t.Errorf("%d releases after an unchanged second run, want 1", len(entries))
	}
}

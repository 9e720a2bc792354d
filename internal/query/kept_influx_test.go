package query_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/demo"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store/influx"
	"github.com/g-oc/goc/internal/store/influx/influxtest"
)

// The same property on a real InfluxDB 1.8 through G-OC's InfluxDB store, whose
// figures version comes from its spool (and the process's epoch): the demo history
// published as loaded and sent to InfluxDB, later submissions spooled and sent as the
// flusher goes. With latest values read through Flux (the reviewer's figures come
// from InfluxDB and the spool together) progress is compared; with latest values from
// the ledger every read compareReads compares, rankings and cards too.
func TestKeptFiguresOnInfluxDBEqualHistoryAfterRandomWritesApprovalsAndMergers(t *testing.T) {
	ctx := context.Background()
	srv := influxtest.Start(t)
	cat, reg := indicators.DefaultCatalogue(), indicators.DefaultRegistry()
	history := demo.History(cat, reg, testNow)
	for _, c := range []struct {
		name       string
		fromLedger bool
	}{{"latest through Flux", false}, {"latest from the ledger", true}} {
		t.Run(c.name, func(t *testing.T) {
			bucket := srv.NewDatabase(t)
			spool := filepath.Join(t.TempDir(), "spool.db")
			loaded, err := influx.Open(ctx, influx.Options{URL: srv.URL, Bucket: bucket, Spool: spool, AutoApprove: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := loaded.WriteObservations(ctx, history); err != nil {
				t.Fatal(err)
			}
			if err := loaded.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := loaded.Close(); err != nil {
				t.Fatal(err)
			}
			st, err := influx.Open(ctx, influx.Options{URL: srv.URL, Bucket: bucket, Spool: spool, LatestFromLedger: c.fromLedger})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			clock := func() time.Time { return testNow }
			kept := query.New(st, cat, reg, clock)
			fresh := query.New(historyOnly{st}, cat, reg, clock)
			if c.fromLedger {
				codes := []string{"dossiers_fully_online", "work_records_online"}
				keptFiguresEqualHistory(t, st, codes, func(when string) { t.Helper(); compareReads(t, ctx, when, kept, fresh, codes) })
				return
			}
			// Rolled up from the history through Flux on every request, rankings and
			// cards take minutes on InfluxDB 1.8: progress of one indicator is compared.
			const code = "work_records_online"
			keptFiguresEqualHistory(t, st, []string{code}, func(when string) {
				t.Helper()
				for _, v := range []struct {
					name        string
					kept, fresh *query.Service
				}{
					{"public", kept.PublicView(), fresh.PublicView()},
					{"reviewer", kept.For(query.Audience{All: true}), fresh.For(query.Audience{All: true})},
				} {
					got, err := v.kept.ProgressOfAll(ctx, code, 2025, testNow)
					if err != nil {
						t.Fatal(err)
					}
					want, err := v.fresh.ProgressOfAll(ctx, code, 2025, testNow)
					if err != nil {
						t.Fatal(err)
					}
					sameJSON(t, when+", "+v.name+": every agency on "+code, got, want)
					gotVN, err := v.kept.Progress(ctx, code, "VN", 2025, indicators.Commune)
					if err != nil {
						t.Fatal(err)
					}
					wantVN, err := v.fresh.Progress(ctx, code, "VN", 2025, indicators.Commune)
					if err != nil {
						t.Fatal(err)
					}
					sameJSON(t, when+", "+v.name+": national commune figure of "+code, gotVN, wantVN)
				}
			})
		})
	}
}

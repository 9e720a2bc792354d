package intake

import (
	"time"

	"bytes"
	"context"
	"fmt"
	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"strings"
	"testing"
)

// benchRows writes every province's quarterly ratio figures from 2019 (the 63
// provinces before the 2025 merger, the 34 after), as a bulk import of history carries
// them: every row is good and checked in full. The JSON holds one quarter, as a
// submission does.
func benchRows() (csvBody, jsonBody []byte, rows int) {
	_, reg := domain()
	codes := []string{"dossiers_fully_online", "work_records_online", "ops_prefilled", "ops_level4_share"}
	var c, j strings.Builder
	c.WriteString(header)
	j.WriteString(`{"agency":"VN","period":"2026-Q1","values":[`)
	first := true
	for p := period.MustParse("2019-Q1"); p.Compare(period.MustParse("2026-Q3")) <= 0; p = p.Add(1) {
		for _, a := range reg.All() {
			if a.Kind != indicators.KindProvince || !a.ActiveDuring(p.Start(time.UTC), p.End(time.UTC)) {
				continue
			}
			for _, code := range codes {
				fmt.Fprintf(&c, "%s,%s,%s,,%d,1000\n", a.Code, p, code, 100+rows%800)
				rows++
				if p.String() == "2026-Q1" {
					if !first {
						j.WriteByte(',')
					}
					first = false
					fmt.Fprintf(&j, `{"indicator":%q,"agency":%q,"numerator":%d,"denominator":1000}`, code, a.Code, 100+rows%800)
				}
			}
		}
	}
	j.WriteString("]}")
	return []byte(c.String()), []byte(j.String()), rows
}

// BenchmarkCheck reads and checks every commune's rows through the one entry point:
// what a bulk import of a CSV costs per row, and a large JSON submission.
func BenchmarkCheck(b *testing.B) {
	csvBody, jsonBody, rows := benchRows()
	b.Logf("%d CSV rows", rows)
	for _, bc := range []struct {
		name   string
		format Format
		body   []byte
	}{{"CSV", CSV, csvBody}, {"JSON", JSON, jsonBody}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				v := NewValidator(rules(""))
				if err := Read(context.Background(), bc.format, bytes.NewReader(bc.body), int64(len(bc.body)), Options{}, v); err != nil {
					b.Fatal(err)
				}
				if res := v.Finish(); !res.OK() {
					b.Fatalf("problems: %v", res.Problems[:min(3, len(res.Problems))])
				}
			}
		})
	}
}

package intake_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/internal/intake"
)

// Workbooks come from anyone with a token. The fuzzers check that Read never panics or
// hangs, that a file it cannot read is a FileError, and that every problem has a place.

var fuzzDomain = sync.OnceValues(func() (*indicators.Catalogue, *indicators.Registry) {
	return indicators.DefaultCatalogue(), indicators.DefaultRegistry()
})

func fuzzRead(t *testing.T, b []byte) {
	cat, reg := fuzzDomain()
	v := intake.NewValidator(intake.Rules{Catalogue: cat, Registry: reg, Location: time.UTC, Now: now, Scope: "VN", Token: "fuzz"})
	err := intake.ReadXLSX(bytes.NewReader(b), int64(len(b)), intake.XLSXOptions{Catalogue: cat, Registry: reg, MaxUnzipped: 8 << 20, MaxPart: 1 << 20, MaxRows: 2000}, v)
	var fe *intake.FileError
	var fb *intake.ForbiddenError
	if err != nil && !errors.As(err, &fe) && !errors.As(err, &fb) {
		t.Fatalf("error of type %T: %v", err, err)
	}
	for _, p := range v.Finish().Problems {
		if p.Rule == "" || !strings.Contains(p.Reason, " / ") {
			t.Fatalf("problem without a rule or a bilingual reason: %+v", p)
		}
	}
}

// FuzzXLSX feeds whole files: bit flips in the container, truncations, renamed files.
func FuzzXLSX(f *testing.F) {
	tmpl, _ := makeTemplate(f, "P20", "2026-Q3")
	f.Add(tmpl)
	f.Add(tmpl[:len(tmpl)/3])
	f.Add(rawXLSX(f, rawSheet{"Sheet1", func(w io.Writer) {
		io.WriteString(w, tableHeader+`<row r="2"><c r="A2" t="inlineStr"><is><t>VN</t></is></c><c r="B2" t="inlineStr"><is><t>2025</t></is></c><c r="C2" t="inlineStr"><is><t>egdi_rank</t></is></c><c r="D2"><v>80</v></c></row>`)
	}}))
	f.Add([]byte("%PDF-1.7"))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzRead(t, b) })
}

// FuzzXLSXSheet feeds worksheet XML inside a well-formed package, so mutations reach
// excelize's row reader and G-OC's formula scan instead of stopping at the zip's CRC.
func FuzzXLSXSheet(f *testing.F) {
	for _, s := range []string{
		tableHeader + `<row r="2"><c r="A2" t="inlineStr"><is><t>P20</t></is></c><c r="B2" t="inlineStr"><is><t>2026-Q3</t></is></c><c r="C2" t="inlineStr"><is><t>dossiers_fully_online</t></is></c><c r="D2"><v>40.5</v></c></row>`,
		tableHeader + `<row r="2"><c r="A2"><f>"P"&amp;20</f><v>P20</v></c><x:c r="B2"><x:f/></x:c></row>`,
		tableHeader + `<row><c><v>1</v></c><c t="s"><v>99</v></c></row><row r="1048577"/>`,
		`<row r="1"><c r="A1" t="inlineStr"><is><t>agency</t></is></c></row><!-- <f> --><![CDATA[<f>]]>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, sheet []byte) {
		fuzzRead(t, rawXLSX(t, rawSheet{"Sheet1", func(w io.Writer) { w.Write(sheet) }}))
	})
}

package intake

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/g-oc/goc/indicators"
)

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

type outcome struct {
	obs []indicators.Observation
	res Result
	err error
}

// domain is parsed once: the built-in registry takes a while to read, and fuzzers call
// rules thousands of times a second.
var domain = sync.OnceValues(func() (*indicators.Catalogue, *indicators.Registry) {
	return indicators.DefaultCatalogue(), indicators.DefaultRegistry()
})

func rules(scope string) Rules {
	cat, reg := domain()
	return Rules{
		Catalogue: cat, Registry: reg,
		Location: time.UTC, Now: testNow, Scope: scope, Token: "test-" + scope,
	}
}

func checkCSV(t *testing.T, scope, body string) outcome {
	t.Helper()
	var o outcome
	r := rules(scope)
	r.Emit = func(ob indicators.Observation, _ Place) { o.obs = append(o.obs, ob) }
	v := NewValidator(r)
	o.err = ReadCSV(strings.NewReader(body), CSVOptions{MaxRows: 1000}, v)
	o.res = v.Finish()
	return o
}

func checkJSON(t *testing.T, scope, body string) outcome {
	t.Helper()
	var o outcome
	r := rules(scope)
	r.Emit = func(ob indicators.Observation, _ Place) { o.obs = append(o.obs, ob) }
	v := NewValidator(r)
	o.err = ReadJSON([]byte(body), nil, v)
	o.res = v.Finish()
	return o
}

const header = "agency,period,indicator,value,numerator,denominator\n"

func TestEachMistakeInACSVRowIsNamedWithItsLineAndColumn(t *testing.T) {
	cases := []struct {
		name, row, rule, place string
	}{
		{"percent above 100", "P20,2026,egdi_rank,250,,", "bounds", "dòng/line 2, cột/column 4 (value)"},
		{"numerator above denominator", "P20,2026-Q3,dossiers_fully_online,,120,100", "numerator_above_denominator", "dòng/line 2, cột/column 5 (numerator)"},
		{"text where a number belongs", "P20,2026-Q3,dossiers_fully_online,,ninety,100", "not_number", "dòng/line 2, cột/column 5 (numerator)"},
		{"comma as thousands separator", "P20,2026-Q3,dossiers_fully_online,,\"1,200\",2000", "not_number", "dòng/line 2, cột/column 5 (numerator)"},
		{"missing denominator", "P20,2026-Q3,dossiers_fully_online,,12,", "required", "dòng/line 2, cột/column 6 (denominator)"},
		{"fraction of a count", "P20,2026-Q3,dossiers_fully_online,,12.5,100", "not_whole", "dòng/line 2, cột/column 5 (numerator)"},
		{"negative numerator", "P20,2026-Q3,dossiers_fully_online,,-1,100", "negative", "dòng/line 2, cột/column 5 (numerator)"},
		{"zero denominator", "P20,2026-Q3,dossiers_fully_online,,0,0", "zero_denominator", "dòng/line 2, cột/column 6 (denominator)"},
		{"value disagrees with its ratio", "P20,2026-Q3,dossiers_fully_online,80,50,100", "value_mismatch", "dòng/line 2, cột/column 4 (value)"},
		{"unknown indicator", "P20,2026-Q3,no_such_thing,5,,", "unknown_indicator", "dòng/line 2, cột/column 3 (indicator)"},
		{"unknown agency", "P99,2026-Q3,dossiers_fully_online,,1,2", "unknown_agency", "dòng/line 2, cột/column 1 (agency)"},
		{"future period", "P20,2027-Q1,dossiers_fully_online,,1,2", "period_future", "dòng/line 2, cột/column 2 (period)"},
		{"malformed period", "P20,2026-Q7,dossiers_fully_online,,1,2", "period_invalid", "dòng/line 2, cột/column 2 (period)"},
		{"yearly indicator in a quarter", "P20,2026-Q3,sat_digital_services,,1,2", "periodicity", "dòng/line 2, cột/column 3 (indicator)"},
		{"national indicator from a province", "P20,2025,egdi_rank,80,,", "level", "dòng/line 2, cột/column 3 (indicator)"},
		{"numerator on a rank", "VN,2025,egdi_rank,80,3,", "not_ratio", "dòng/line 2, cột/column 5 (numerator)"},
		{"merged province before it existed", "N79,2024-Q1,dossiers_fully_online,,1,2", "agency_inactive", "dòng/line 2, cột/column 1 (agency)"},
		{"percent sign", "VN,2025,admin_procedures_reduced,12%,,", "not_number", "dòng/line 2, cột/column 4 (value)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := checkCSV(t, "VN", header+tc.row+"\n")
			if o.err != nil {
				t.Fatal(o.err)
			}
			found := false
			for _, p := range o.res.Problems {
				if p.Rule == tc.rule && p.Place.String() == tc.place {
					found = true
				}
				if !strings.Contains(p.Reason, " / ") {
					t.Errorf("reason %q is not Vietnamese / English", p.Reason)
				}
			}
			if !found {
				t.Errorf("no %s problem at %s; got %v", tc.rule, tc.place, o.res.Problems)
			}
			if len(o.obs) != 0 && o.res.Good != 0 {
				t.Errorf("a bad row was accepted: %+v", o.obs)
			}
		})
	}
}

func TestEveryProblemOfAFileIsReportedNotJustTheFirst(t *testing.T) {
	o := checkCSV(t, "P20", header+
		"P20,2026-Q3,dossiers_fully_online,,40,100\n"+
		"P20,2026-Q3,work_records_online,,120,100\n"+
		"P20,2026-Q3,ops_prefilled,,1,\n"+
		"P20,2026-Q3,dossiers_fully_online,,41,100\n")
	want := []string{
		"numerator_above_denominator@dòng/line 3, cột/column 5 (numerator)",
		"required@dòng/line 4, cột/column 6 (denominator)",
		"duplicate@dòng/line 5",
	}
	var got []string
	for _, p := range o.res.Problems {
		got = append(got, p.Rule+"@"+p.Place.String())
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("problems in file order:\n got  %v\n want %v", got, want)
	}
	if !strings.Contains(o.res.Problems[2].Reason, "dòng/line 2") {
		t.Errorf("the duplicate does not name the first row: %s", o.res.Problems[2].Reason)
	}
}

func TestATokenMayNotSubmitForAnotherAgency(t *testing.T) {
	o := checkCSV(t, "N79", header+"P20,2026-Q3,dossiers_fully_online,,40,100\n")
	var fb *ForbiddenError
	if !errors.As(o.err, &fb) || fb.Agency != "P20" || fb.Place.Line != 2 {
		t.Fatalf("err = %v, want forbidden for P20 at line 2", o.err)
	}
}

func TestCSVFromAVietnameseExcelUsesSemicolonsAndDecimalCommas(t *testing.T) {
	o := checkCSV(t, "VN", "\ufeffagency;period;indicator;value;numerator;denominator\r\n"+
		"VN;2025;admin_procedures_reduced;12,5;;\r\n"+
		"P20;2026-Q3;dossiers_fully_online;;40;100\r\n")
	if o.err != nil || !o.res.OK() || len(o.obs) != 2 {
		t.Fatalf("err %v, problems %v, obs %v", o.err, o.res.Problems, o.obs)
	}
	if o.obs[0].Value != 12.5 || o.obs[1].Value != 40 {
		t.Errorf("values = %v, %v; want 12.5 and 40", o.obs[0].Value, o.obs[1].Value)
	}
}

func TestCSVFileProblems(t *testing.T) {
	cases := []struct {
		name, body string
		rule       string
		place      string
		fileErr    FileErrorKind
	}{
		{"UTF-16", "\xff\xfea\x00", "", "", NotSupported},
		{"a PDF", "%PDF-1.4 ...", "", "", NotSupported},
		{"empty file", "", "empty", "dòng/line 1", ""},
		{"header only", header, "empty", "dòng/line 2", ""},
		{"unknown column", "agency,period,indicator,value,colour\n", "column", "dòng/line 1, cột/column 5 (colour)", ""},
		{"missing column", "agency,indicator,value\n", "column", "dòng/line 1", ""},
		{"broken quote", header + "P20,2026-Q3,\"dossiers_fully_online,,1,2\n", "syntax", "dòng/line 2, cột/column 41", ""},
		{"short line", header + "P20,2026-Q3,dossiers_fully_online\n", "column", "dòng/line 2", ""},
		{"not UTF-8", header + "P20,2026-Q3,dossiers_\xe9,,1,2\n", "encoding", "dòng/line 2, cột/column 3 (indicator)", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := checkCSV(t, "VN", tc.body)
			if tc.fileErr != "" {
				var fe *FileError
				if !errors.As(o.err, &fe) || fe.Kind != tc.fileErr {
					t.Fatalf("err = %v, want a %s file error", o.err, tc.fileErr)
				}
				return
			}
			for _, p := range o.res.Problems {
				if p.Rule == tc.rule && p.Place.String() == tc.place {
					return
				}
			}
			t.Errorf("no %s problem at %q: %v", tc.rule, tc.place, o.res.Problems)
		})
	}
	o := checkCSV(t, "VN", header+strings.Repeat("P20,2026-Q3,dossiers_fully_online,,1,2\n", 1001))
	var fe *FileError
	if !errors.As(o.err, &fe) || fe.Kind != TooManyRows {
		t.Errorf("1001 rows with a limit of 1000: err = %v", o.err)
	}
}

func TestExcelBlankRowsAndSpacesAreIgnored(t *testing.T) {
	o := checkCSV(t, "P20", header+",,,,,\n P20 , 2026-Q3 ,dossiers_fully_online,, 40 ,100\u00a0\n\n,,,,,\n")
	if !o.res.OK() || len(o.obs) != 1 || o.obs[0].Value != 40 {
		t.Errorf("problems %v, obs %v", o.res.Problems, o.obs)
	}
}

func TestJSONProblemsAreNamedByTheirPath(t *testing.T) {
	o := checkJSON(t, "P20", `{"agency":"P20","period":"2026-Q3","colour":"red","values":[
		{"indicator":"dossiers_fully_online","numerator":40,"denominator":100},
		{"indicator":"work_records_online","value":"ninety"},
		{"indicator":"dossiers_fully_online","numerator":1,"denominator":2,"note":"x"},
		7]}`)
	want := map[string]string{
		"colour":              "unknown_field",
		"values[1].value":     "not_number",
		"values[1].numerator": "required",
		"values[2].note":      "unknown_field",
		"values[2]":           "duplicate",
		"values[3]":           "not_object",
	}
	got := map[string]string{}
	for _, p := range o.res.Problems {
		got[p.Place.String()] = p.Rule
	}
	for place, rule := range want {
		if got[place] != rule {
			t.Errorf("%s: rule %q, want %q (all: %v)", place, got[place], rule, o.res.Problems)
		}
	}
	o = checkJSON(t, "P20", "{\"agency\":\"P20\",\n \"period\": }")
	if len(o.res.Problems) != 1 || o.res.Problems[0].Place.Path != "$" || !strings.Contains(o.res.Problems[0].Reason, "dòng 2") {
		t.Errorf("syntax error: %v", o.res.Problems)
	}
}

func TestDecimalNumbersAreReadStrictly(t *testing.T) {
	for s, want := range map[string]bool{
		"1": true, "-1.5": true, "+2": true, ".5": true, "5.": true, "1e3": true, "1.5E-2": true,
		"": false, "1,5": false, "0x10": false, "Inf": false, "NaN": false, "1_000": false, "1e": false, "--1": false, "1.2.3": false,
	} {
		if _, e := parseDecimal(s, false); (e == numberOK) != want {
			t.Errorf("parseDecimal(%q) ok = %v, want %v", s, e == numberOK, want)
		}
	}
	if v, e := parseDecimal("12,5", true); e != numberOK || v != 12.5 {
		t.Errorf("decimal comma: %v %v", v, e)
	}
}

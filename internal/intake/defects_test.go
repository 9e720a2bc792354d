package intake

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// Tests of the input defects issue 14 lists: each failed on the readers and validator
// as they were before intake, and passes now.

func findProblem(res Result, rule, place string) (Problem, bool) {
	for _, p := range res.Problems {
		if p.Rule == rule && p.Place.String() == place {
			return p, true
		}
	}
	return Problem{}, false
}

func TestAJSONKeyGivenTwiceIsRefusedWithItsPath(t *testing.T) {
	cases := []struct {
		name, body, place string
	}{
		{"value twice in a row", `{"agency":"VN","period":"2025","values":[{"indicator":"egdi_rank","value":80,"value":60}]}`, "values[0].value"},
		{"values twice", `{"agency":"VN","period":"2025","values":[{"indicator":"egdi_rank","value":80}],"values":[{"indicator":"egdi_rank","value":60}]}`, "values"},
		{"agency twice", `{"agency":"VN","agency":"P20","period":"2025","values":[{"indicator":"egdi_rank","value":80}]}`, "agency"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := checkJSON(t, "VN", tc.body)
			if o.err != nil {
				t.Fatal(o.err)
			}
			p, ok := findProblem(o.res, "duplicate_key", tc.place)
			if !ok || o.res.OK() {
				t.Fatalf("problems %v, want duplicate_key at %s", o.res.Problems, tc.place)
			}
			if !strings.Contains(p.Reason, "appears twice") || !strings.Contains(p.Reason, "hai lần") {
				t.Errorf("reason %q", p.Reason)
			}
		})
	}
}

func TestADecimalCommaFileReadsDotsAsThousandsOnlyInGroupsOfThree(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		err  numberError
	}{
		{"1.000", 1000, numberOK},
		{"2.000", 2000, numberOK},
		{"1.234.567,5", 1234567.5, numberOK},
		{"-1.000,25", -1000.25, numberOK},
		{"95,5", 95.5, numberOK},
		{"1000", 1000, numberOK},
		{"1.5", 0, errAmbiguous},
		{"12.34", 0, errAmbiguous},
		{"1.0000", 0, errAmbiguous},
		{"1234.567", 0, errAmbiguous},
		{"1,5.0", 0, errAmbiguous},
		{"1,2,3", 0, errSeparator},
	} {
		got, e := parseDecimal(tc.in, true)
		if e != tc.err || got != tc.want {
			t.Errorf("parseDecimal(%q, comma) = %v, %v; want %v, %v", tc.in, got, e, tc.want, tc.err)
		}
	}

	o := checkCSV(t, "VN", "agency;period;indicator;value;numerator;denominator\n"+
		"P20;2026-Q3;dossiers_fully_online;;1.000;2.000\n")
	if !o.res.OK() || len(o.obs) != 1 || *o.obs[0].Numerator != 1000 || *o.obs[0].Denominator != 2000 {
		t.Fatalf("problems %v, observations %+v: want 1000/2000", o.res.Problems, o.obs)
	}
	o = checkCSV(t, "VN", "agency;period;indicator;value;numerator;denominator\n"+
		"P20;2026-Q3;dossiers_fully_online;;1.5;2.000\n")
	p, ok := findProblem(o.res, "ambiguous_number", "dòng/line 2, cột/column 5 (numerator)")
	if !ok || len(o.obs) != 0 && o.res.OK() {
		t.Fatalf("problems %v: want 1.5 refused as ambiguous at its cell", o.res.Problems)
	}
	if !strings.Contains(p.Reason, `"1.5" is ambiguous`) {
		t.Errorf("reason %q", p.Reason)
	}
}

func TestDecomposedTextAndInvisibleSpacesAreNormalisedOrRefusedWithTheirPlace(t *testing.T) {
	nfd := norm.NFD.String(StatusNoData)
	if nfd == StatusNoData {
		t.Fatal("the test needs a status that changes under NFD")
	}
	t.Run("NFD status and edge spaces are read as the officer sees them", func(t *testing.T) {
		o := checkCSV(t, "VN", "agency,period,indicator,value,numerator,denominator,status\n"+
			"\u200bP20\u00a0,2026-Q3,dossiers_fully_online\u200b,,40,100,\n"+
			"P20,2026-Q3,work_records_online,,,,"+nfd+"\n"+
			"P20,2026-Q3,ops_prefilled,,,,Không\u00a0có số\u200b liệu\n")
		if !o.res.OK() || len(o.obs) != 1 || o.res.NoData != 2 || o.obs[0].Agency != "P20" || o.obs[0].Indicator != "dossiers_fully_online" {
			t.Fatalf("problems %v, observations %+v, no data %d", o.res.Problems, o.obs, o.res.NoData)
		}
	})
	t.Run("JSON codes with edge spaces are trimmed", func(t *testing.T) {
		o := checkJSON(t, "VN", `{"agency":"P20\u200b","period":"\u00a02026-Q3","values":[{"indicator":"dossiers_fully_online\ufeff","numerator":40,"denominator":100}]}`)
		if !o.res.OK() || len(o.obs) != 1 {
			t.Fatalf("problems %v", o.res.Problems)
		}
	})
	for _, tc := range []struct {
		name, body, place string
	}{
		{"zero-width space inside an indicator code", "P20,2026-Q3,dossiers\u200b_fully_online,,40,100\n", "dòng/line 2, cột/column 3 (indicator)"},
		{"no-break space inside an agency code", "P\u00a020,2026-Q3,dossiers_fully_online,,40,100\n", "dòng/line 2, cột/column 1 (agency)"},
		{"word joiner inside a period", "P20,2026\u2060-Q3,dossiers_fully_online,,40,100\n", "dòng/line 2, cột/column 2 (period)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := checkCSV(t, "VN", header+tc.body)
			p, ok := findProblem(o.res, "invisible_character", tc.place)
			if !ok || o.res.Total != 1 || len(o.obs) != 0 {
				t.Fatalf("problems %v: want one invisible_character at %s", o.res.Problems, tc.place)
			}
			if !strings.Contains(p.Reason, "U+") {
				t.Errorf("reason %q does not name the character", p.Reason)
			}
		})
	}
}

func TestARatioRowStoresTheValueComputedFromItsParts(t *testing.T) {
	o := checkCSV(t, "VN", header+"P20,2026-Q3,dossiers_fully_online,40.3,40,100\n")
	if !o.res.OK() || len(o.obs) != 1 {
		t.Fatalf("problems %v", o.res.Problems)
	}
	if o.obs[0].Value != 40 {
		t.Errorf("stored %v, want 40: numerator/denominator, the typed 40.3 only checked", o.obs[0].Value)
	}
	o = checkJSON(t, "VN", `{"agency":"P20","period":"2026-Q3","values":[{"indicator":"dossiers_fully_online","value":41,"numerator":40,"denominator":100}]}`)
	if _, ok := findProblem(o.res, "value_mismatch", "values[0].value"); !ok {
		t.Errorf("a value 1 point off its parts was not refused: %v", o.res.Problems)
	}
}

func TestAnErrorReplyQuotesOnlyAShortExcerptOfTheInput(t *testing.T) {
	huge := strings.Repeat("X", 5<<20)
	for _, tc := range []struct{ name, format, body string }{
		{"agency code", "json", `{"agency":"` + huge + `","period":"2026-Q3","values":[{"indicator":"` + huge + `","value":1}]}`},
		{"JSON key", "json", `{"agency":"P20","period":"2026-Q3","` + huge + `":1,"values":[{"indicator":"egdi_rank","value":1}]}`},
		{"CSV column", "csv", "agency,period,indicator,value," + huge + "\n"},
		{"CSV codes", "csv", header + huge + ",2026-Q3," + huge + "," + huge + ",,\n"},
		{"status", "csv", "agency,period,indicator,value,status\nP20,2026-Q3,egdi_rank,1," + huge + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o outcome
			if tc.format == "json" {
				o = checkJSON(t, "VN", tc.body)
			} else {
				o = checkCSV(t, "VN", tc.body)
			}
			if o.res.OK() {
				t.Fatal("accepted")
			}
			reply, err := json.Marshal(o.res.Problems)
			if err != nil {
				t.Fatal(err)
			}
			if len(reply) > 4<<10 {
				t.Errorf("the problems take %d bytes for %d problems: the input is quoted whole", len(reply), len(o.res.Problems))
			}
		})
	}
}

func TestInvalidUTF8InJSONIsAnEncodingProblemAtItsPlace(t *testing.T) {
	o := checkJSON(t, "VN", "{\"agency\":\"P20\",\"period\":\"2026-Q3\",\"values\":[\n{\"indicator\":\"dossiers_fully_online\",\"agency\":\"X\xff20\",\"numerator\":40,\"denominator\":100}]}")
	p, ok := findProblem(o.res, "encoding", "values[0].agency")
	if !ok || o.res.Total != 1 {
		t.Fatalf("problems %v, want one encoding problem at values[0].agency", o.res.Problems)
	}
	if !strings.Contains(p.Reason, "not UTF-8") || !strings.Contains(p.Reason, "line 2") {
		t.Errorf("reason %q", p.Reason)
	}
}

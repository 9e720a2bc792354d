package indicators

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d.Time
}

func defaultRegistry(t *testing.T) *Registry {
	t.Helper()
	r, err := ParseRegistry("agencies.yaml", DefaultRegistryYAML())
	if err != nil {
		t.Fatalf("embedded registry does not parse:\n%v", err)
	}
	return r
}

func codes(list []*Agency) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.Code
	}
	return out
}

func TestEmbeddedRegistryParses(t *testing.T) {
	r := defaultRegistry(t)
	if r.Root() != "VN" {
		t.Errorf("root = %q, want VN", r.Root())
	}
	if got := len(DefaultRegistry().All()); got != len(r.All()) {
		t.Errorf("DefaultRegistry has %d agencies, the parsed file %d", got, len(r.All()))
	}
	// The bytes handed out are a copy: a caller that scribbles on them cannot break the
	// next DefaultRegistry.
	b := DefaultRegistryYAML()
	clear(b)
	if len(DefaultRegistry().All()) != len(r.All()) {
		t.Error("changing DefaultRegistryYAML's bytes changed the embedded registry")
	}
}

func TestProvinceCountFollowsThe2025Merger(t *testing.T) {
	r := defaultRegistry(t)
	for _, tc := range []struct {
		day  string
		want int
	}{
		{"2020-01-01", 63},
		{"2025-06-30", 63},
		{"2025-07-01", 34},
		{"2030-12-31", 34},
	} {
		if got := len(r.OfKind(day(t, tc.day), KindProvince)); got != tc.want {
			t.Errorf("provinces on %s = %d, want %d", tc.day, got, tc.want)
		}
	}
}

func TestCentralBodiesFollowThe2025Restructuring(t *testing.T) {
	r := defaultRegistry(t)
	for _, tc := range []struct {
		day  string
		kind AgencyKind
		want int
	}{
		{"2025-02-28", KindMinistry, 18},
		{"2025-03-01", KindMinistry, 14},
		{"2025-02-28", KindMinisterialAgency, 4},
		{"2025-03-01", KindMinisterialAgency, 3},
		{"2025-02-28", KindGovernmentAgency, 7},
		{"2025-03-01", KindGovernmentAgency, 5},
	} {
		if got := len(r.OfKind(day(t, tc.day), tc.kind)); got != tc.want {
			t.Errorf("%s on %s = %d, want %d", tc.kind, tc.day, got, tc.want)
		}
	}
}

func TestMergedCentralBodiesHandOverToTheirSuccessor(t *testing.T) {
	r := defaultRegistry(t)
	for _, tc := range []struct {
		code string
		want []string // predecessors
	}{
		{"BTC", []string{"BKHDT", "BHXH", "UBQLV"}},
		{"BKHCN", []string{"BTTTT"}},
		{"BXD", []string{"BGTVT"}},
		{"BNV", []string{"BLDTBXH"}},
		{"BNNMT", []string{"BTNMT", "BNNPTNT"}},
		{"BDTTG", []string{"UBDT"}},
		{"BYT", nil},
	} {
		a, ok := r.Get(tc.code)
		if !ok {
			t.Fatalf("%s is not in the registry", tc.code)
		}
		if !slices.Equal(a.Predecessors, tc.want) {
			t.Errorf("%s predecessors = %v, want %v", tc.code, a.Predecessors, tc.want)
		}
		for _, p := range tc.want {
			pa, _ := r.Get(p)
			if pa.ValidTo.String() != "2025-02-28" {
				t.Errorf("%s ends on %q, want 2025-02-28", p, pa.ValidTo)
			}
		}
	}
}

func TestEveryEndedProvinceNamesItsSuccessor(t *testing.T) {
	r := defaultRegistry(t)
	ended := 0
	for _, a := range r.OfKind(time.Time{}, KindProvince) {
		if a.ValidTo.IsZero() {
			continue
		}
		ended++
		if a.ValidTo.String() != "2025-06-30" {
			t.Errorf("%s ends on %s, want 2025-06-30", a.Code, a.ValidTo)
		}
		if len(a.Successors) == 0 {
			t.Errorf("%s ended but names no successor", a.Code)
		}
		for _, s := range a.Successors {
			if succ, _ := r.Get(s); succ == nil || succ.Kind != KindProvince || !succ.ActiveOn(day(t, "2025-07-01")) {
				t.Errorf("%s: successor %s is not a province on 2025-07-01", a.Code, s)
			}
		}
	}
	if ended != 52 {
		t.Errorf("%d provinces ended, want 52", ended)
	}
}

func TestEveryNewProvinceHasPredecessorsEndingTheDayBefore(t *testing.T) {
	r := defaultRegistry(t)
	for _, a := range r.OfKind(time.Time{}, KindProvince) {
		if a.ValidFrom.IsZero() {
			continue
		}
		if a.ValidFrom.String() != "2025-07-01" {
			t.Errorf("%s starts on %s, want 2025-07-01", a.Code, a.ValidFrom)
		}
		if len(a.Predecessors) < 2 {
			t.Errorf("%s has %d predecessors %v, want at least 2", a.Code, len(a.Predecessors), a.Predecessors)
		}
		for _, p := range a.Predecessors {
			pa, _ := r.Get(p)
			if pa.ValidTo.String() != "2025-06-30" {
				t.Errorf("%s: predecessor %s ends on %q, want 2025-06-30", a.Code, p, pa.ValidTo)
			}
		}
	}
}

// The mergers as Resolution 202/2025/QH15 lists them.
func TestNewProvincesAreTheMergersOfResolution202(t *testing.T) {
	r := defaultRegistry(t)
	merged := map[string][]string{
		"N08": {"P02", "P08"}, "N15": {"P10", "P15"}, "N19": {"P06", "P19"},
		"N24": {"P24", "P27"}, "N25": {"P17", "P25", "P26"}, "N31": {"P30", "P31"},
		"N33": {"P33", "P34"}, "N37": {"P35", "P36", "P37"}, "N44": {"P44", "P45"},
		"N48": {"P48", "P49"}, "N51": {"P51", "P62"}, "N52": {"P52", "P64"},
		"N56": {"P56", "P58"}, "N66": {"P54", "P66"}, "N68": {"P60", "P67", "P68"},
		"N75": {"P70", "P75"}, "N79": {"P74", "P77", "P79"}, "N80": {"P72", "P80"},
		"N82": {"P82", "P87"}, "N86": {"P83", "P84", "P86"}, "N91": {"P89", "P91"},
		"N92": {"P92", "P93", "P94"}, "N96": {"P95", "P96"},
	}
	for code, want := range merged {
		a, ok := r.Get(code)
		if !ok {
			t.Errorf("%s is not in the registry", code)
			continue
		}
		got := slices.Sorted(slices.Values(a.Predecessors))
		if !slices.Equal(got, want) {
			t.Errorf("%s (%s) formed from %v, want %v", code, a.NameVI, got, want)
		}
		if a.GSOCode != code[1:] {
			t.Errorf("%s gso_code = %q, want %q", code, a.GSOCode, code[1:])
		}
	}
	var news []string
	for _, a := range r.OfKind(day(t, "2025-07-01"), KindProvince) {
		if !a.ValidFrom.IsZero() {
			news = append(news, a.Code)
		}
	}
	if len(news) != len(merged) {
		t.Errorf("new provinces %v, want the %d of the Resolution", news, len(merged))
	}
}

func TestUnmergedProvincesKeepTheirCode(t *testing.T) {
	r := defaultRegistry(t)
	for _, code := range []string{"P01", "P04", "P11", "P12", "P14", "P20", "P22", "P38", "P40", "P42", "P46"} {
		a, ok := r.Get(code)
		if !ok {
			t.Errorf("%s is not in the registry", code)
			continue
		}
		if !a.ValidTo.IsZero() || len(a.Successors) > 0 || !a.ActiveOn(day(t, "2025-07-01")) || !a.ActiveOn(day(t, "2019-01-01")) {
			t.Errorf("%s (%s) should run on through 2025: valid %s..%s, successors %v", code, a.NameVI, a.ValidFrom, a.ValidTo, a.Successors)
		}
		if a.Portal == "" {
			t.Errorf("%s has no portal to probe", code)
		}
	}
}

func TestVietnameseNamesKeepTheirDiacritics(t *testing.T) {
	r := defaultRegistry(t)
	for _, tc := range []struct{ code, vi, en string }{
		{"VN", "Việt Nam", "Viet Nam"},
		{"BTC", "Bộ Tài chính", "Ministry of Finance"},
		{"BVHTTDL", "Bộ Văn hóa, Thể thao và Du lịch", "Ministry of Culture, Sports and Tourism"},
		{"P02", "Tỉnh Hà Giang", "Ha Giang Province"},
		{"P46", "Thành phố Huế", "Hue City"},
		{"P66", "Tỉnh Đắk Lắk", "Dak Lak Province"},
		{"N79", "Thành phố Hồ Chí Minh", "Ho Chi Minh City"},
		{"P20-C02", "Phường Kỳ Lừa", "Ky Lua Ward"},
	} {
		a, ok := r.Get(tc.code)
		if !ok {
			t.Errorf("%s is not in the registry", tc.code)
			continue
		}
		if a.NameVI != tc.vi || a.NameEN != tc.en {
			t.Errorf("%s names = %q / %q, want %q / %q", tc.code, a.NameVI, a.NameEN, tc.vi, tc.en)
		}
	}
	// Precomposed letters only: a name typed with combining accents would look the same
	// but never match a search or a submitted name.
	for _, a := range r.All() {
		if strings.ContainsFunc(a.NameVI+a.NameEN, func(c rune) bool { return unicode.Is(unicode.Mn, c) }) {
			t.Errorf("%s name %q has combining accents", a.Code, a.NameVI)
		}
	}
	// The names survive the API's JSON as written, not as \u escapes.
	b, err := json.Marshal(r.All())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"name_vi":"Bộ Nông nghiệp và Môi trường"`) {
		t.Error("JSON does not carry the Vietnamese name as written")
	}
	var back []*Agency
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for i, a := range r.All() {
		if back[i].NameVI != a.NameVI {
			t.Errorf("JSON round trip of %s: %q, want %q", a.Code, back[i].NameVI, a.NameVI)
		}
	}
}

// Marshalling agencies with every field set and parsing them back must give the same
// agencies: the loader reads each field the Agency type has.
func TestRegistryFileRoundTripsEveryField(t *testing.T) {
	list := []*Agency{
		{Code: "VN", NameVI: "Việt Nam", NameEN: "Viet Nam", Kind: KindNational, Portal: "https://chinhphu.vn"},
		{Code: "P02", NameVI: "Tỉnh Hà Giang", NameEN: "Ha Giang Province", Kind: KindProvince, Parent: "VN",
			ValidFrom: Date{day(t, "1991-08-12")}, ValidTo: Date{day(t, "2025-06-30")}, Successors: []string{"N08"},
			Portal: "https://hagiang.gov.vn", GSOCode: "02"},
		{Code: "N08", NameVI: "Tỉnh Tuyên Quang", NameEN: "Tuyen Quang Province", Kind: KindProvince, Parent: "VN",
			ValidFrom: Date{day(t, "2025-07-01")}, GSOCode: "08"},
	}
	b, err := yaml.Marshal(map[string]any{"agencies": list})
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRegistry("roundtrip.yaml", b)
	if err != nil {
		t.Fatalf("parse of marshalled agencies:\n%s\n%v", b, err)
	}
	for _, want := range list {
		got, _ := r.Get(want.Code)
		g, w := *got, *want
		g.Predecessors, w.Predecessors = nil, nil
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			t.Errorf("round trip of %s:\n got %s\nwant %s", want.Code, gj, wj)
		}
	}
	if n08, _ := r.Get("N08"); !slices.Equal(n08.Predecessors, []string{"P02"}) {
		t.Errorf("N08 predecessors = %v, want [P02]", n08.Predecessors)
	}
}

func TestWithinScopesAgenciesToTheirSubtree(t *testing.T) {
	r := defaultRegistry(t)
	for _, tc := range []struct {
		code, scope string
		want        bool
	}{
		{"P20-C01", "P20", true},          // a new commune, directly under its province
		{"P20-C01", "VN", true},           // and within the country
		{"P20-D02-C02", "P20-D02", true},  // a former commune within its district
		{"P20-D02-C02", "P20", true},      // and its province
		{"P20-D02-C02", "P20-D01", false}, // not a neighbouring district
		{"P20-C01", "P22", false},         // not another province
		{"P20-C01", "N08", false},         // nor a new one
		{"P20", "P20-C01", false},         // scope runs downwards only
		{"BTC", "VN", true},               // a ministry within the country
		{"BTC", "BKHDT", false},           // a successor is not within its predecessor
		{"P20-C01", "P20-C01", true},      // an agency is within itself
		{"NOT-A-CODE", "VN", false},       // unknown codes are within nothing
		{"P20-D01-C01", "NOT-A-CODE", false},
	} {
		if got := r.Within(tc.code, tc.scope); got != tc.want {
			t.Errorf("Within(%s, %s) = %v, want %v", tc.code, tc.scope, got, tc.want)
		}
	}
}

// Lạng Sơn's sample shows a commune formed from communes of two abolished districts.
func TestLangSonCommunesMergeAcrossAbolishedDistricts(t *testing.T) {
	r := defaultRegistry(t)
	kyLua, _ := r.Get("P20-C02")
	if want := []string{"P20-D01-C02", "P20-D02-C01"}; kyLua == nil || !slices.Equal(kyLua.Predecessors, want) {
		t.Fatalf("Phường Kỳ Lừa predecessors = %v, want %v", kyLua, want)
	}
	if got := codes(r.OfKind(day(t, "2025-06-30"), KindDistrict)); !slices.Equal(got, []string{"P20-D01", "P20-D02", "P20-D03"}) {
		t.Errorf("districts on 2025-06-30 = %v", got)
	}
	if got := r.OfKind(day(t, "2025-07-01"), KindDistrict); len(got) != 0 {
		t.Errorf("districts on 2025-07-01 = %v, want none", codes(got))
	}
	var before, after []string
	for _, a := range r.Subtree("P20") {
		if a.Kind != KindCommune {
			continue
		}
		if a.ActiveOn(day(t, "2025-06-30")) {
			before = append(before, a.Code)
		}
		if a.ActiveOn(day(t, "2025-07-01")) {
			after = append(after, a.Code)
			if a.Parent != "P20" {
				t.Errorf("%s sits under %s after the reform, want P20", a.Code, a.Parent)
			}
		}
	}
	if len(before) != 6 || len(after) != 4 {
		t.Errorf("Lạng Sơn communes: %v before, %v after; want 6 and 4", before, after)
	}
}

func TestInvalidRegistryFilesNameTheLine(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string // each must appear in the error
	}{
		{"invalid-unknown-parent.yaml", []string{`invalid-unknown-parent.yaml:9: agencies[1] (P20): parent "VNN" is not in the registry`}},
		{"invalid-duplicate-code.yaml", []string{`invalid-duplicate-code.yaml:10: agencies[2] (BTC): code "BTC" is used twice (first by agencies[1])`}},
		{"invalid-unknown-kind.yaml", []string{`invalid-unknown-kind.yaml:12: agencies[2] (P20-C01): kind "ward" is not known`}},
		{"invalid-unknown-successor.yaml", []string{`invalid-unknown-successor.yaml:19: agencies[2] (P02): successor "N99" is not in the registry`}},
		{"invalid-successor-without-valid-to.yaml", []string{`invalid-successor-without-valid-to.yaml:10: agencies[1] (P02): has successors but no valid_to`}},
		{"invalid-bad-date.yaml", []string{`invalid-bad-date.yaml:10: agencies[1] (N08): valid_from "1/7/2025" is not a date: want YYYY-MM-DD`}},
		{"invalid-unknown-field.yaml", []string{`invalid-unknown-field.yaml:10: agencies[1] (P02): unknown field "valid_until"`}},
		{"invalid-two-national-roots.yaml", []string{`invalid-two-national-roots.yaml:8: agencies[1] (VN2): a second national agency; VN is already the root`}},
		{"invalid-cycle.yaml", []string{`invalid-cycle.yaml:9: agencies[1] (P20-D01): parent links form a cycle: P20-D01 → P20-D02 → P20-D01`}},
		{"invalid-successor-gap.yaml", []string{`invalid-successor-gap.yaml:11: agencies[1] (P02): successor "N08" does not exist on 2025-07-01`}},
		{"invalid-commune-outlives-district.yaml", []string{`invalid-commune-outlives-district.yaml:15: agencies[3] (P20-C01): outlives its parent P20-D01, which ended on 2025-06-30`}},
		{"invalid-commune-under-ministry.yaml", []string{`invalid-commune-under-ministry.yaml:13: agencies[2] (P20-C01): a commune sits under a province or district, not under BTC (a ministry)`}},
		{"invalid-gso-code-clash.yaml", []string{`invalid-gso-code-clash.yaml:15: agencies[2] (P04): gso_code "02" is also held by P02 over the same time`}},
		{"invalid-syntax.yaml", []string{`invalid-syntax.yaml:8: not valid YAML:`}},
		{"invalid-many-problems.yaml", []string{
			`invalid-many-problems.yaml:8: agencies[1] (P02): kind "provinse" is not known`,
			`invalid-many-problems.yaml:10: agencies[1] (P02): valid_to "2025-06-31" is not a date`,
			`invalid-many-problems.yaml:15: agencies[2] (N08): parent "VM" is not in the registry`,
			`invalid-many-problems.yaml:17: agencies[2] (N08): portal "tuyenquang.gov.vn": want an address starting with https://`,
			`invalid-many-problems.yaml:18: agencies[3] (N08): code "N08" is used twice`,
			`invalid-many-problems.yaml:22: agencies[4] (P 04): code "P 04": use letters, digits`,
			`invalid-many-problems.yaml:27: agencies[4] (P 04): field "gso_code" is given twice (first on line 26)`,
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "testdata", "registry", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			r, err := ParseRegistry(tc.file, data)
			if err == nil {
				t.Fatalf("parsed into %d agencies, want an error", len(r.All()))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain\n  %s\ngot\n  %s", w, strings.ReplaceAll(err.Error(), "\n", "\n  "))
				}
			}
			var re *RegistryError
			if !errors.As(err, &re) {
				t.Fatalf("error is a %T, want *RegistryError", err)
			}
			// Every problem is its own line, and no problem is reported twice.
			if lines := strings.Split(err.Error(), "\n"); len(lines) != len(re.Problems) || len(slices.Compact(slices.Clone(lines))) != len(lines) {
				t.Errorf("%d problems printed as %d lines:\n%s", len(re.Problems), len(lines), err)
			}
			if tc.file == "invalid-many-problems.yaml" && len(re.Problems) != len(tc.want) {
				t.Errorf("%d problems, want exactly %d (a bad value must not also be reported as a missing one):\n%s", len(re.Problems), len(tc.want), err)
			}
		})
	}
}

func TestEveryInvalidFixtureIsInTheTable(t *testing.T) {
	// A fixture nobody checks is a test that cannot fail.
	files, err := filepath.Glob(filepath.Join("..", "testdata", "registry", "invalid-*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 15 {
		t.Errorf("%d invalid-*.yaml fixtures, TestInvalidRegistryFilesNameTheLine checks 15: add the new one to its table", len(files))
	}
}

func TestRegistryFileShapeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"empty file", "", `x.yaml: the file is empty`},
		{"list at the top", "- code: VN\n", `x.yaml:1: want a mapping with the key "agencies:"`},
		{"no agencies key", "agency:\n  - code: VN\n", `x.yaml:1: unknown field "agency" at the top`},
		{"agencies not a list", "agencies:\n  code: VN\n", `x.yaml:2: "agencies:" must be a list`},
		{"entry not a mapping", "agencies:\n  - VN\n", `x.yaml:2: agencies[0]: want a mapping of fields`},
		{"two documents", "agencies: []\n---\nagencies: []\n", `x.yaml:2: a second YAML document`},
		{"empty list", "agencies: []\n", `x.yaml:1: no agency of kind national`},
		{"successors not a list", "agencies:\n  - code: VN\n    name_vi: Việt Nam\n    kind: national\n    successors: N08\n",
			`x.yaml:5: agencies[0] (VN): successors: want a list of codes, like [N08], not a value`},
		{"predecessors given by hand", "agencies:\n  - code: VN\n    name_vi: Việt Nam\n    kind: national\n    predecessors: [X]\n",
			`x.yaml:5: agencies[0] (VN): unknown field "predecessors": they are worked out from the successors`},
		{"misspelt field", "agencies:\n  - code: VN\n    name_vi: Việt Nam\n    kind: national\n    portall: https://chinhphu.vn\n",
			`x.yaml:5: agencies[0] (VN): unknown field "portall" (did you mean portal?)`},
		{"decomposed accents", "agencies:\n  - code: VN\n    name_vi: Vie\u0323\u0302t Nam\n    kind: national\n",
			"x.yaml:3: agencies[0] (VN): name_vi \"Vie\u0323\u0302t Nam\" has combining accents"},
		{"successor of another level", "agencies:\n  - code: VN\n    name_vi: Việt Nam\n    kind: national\n  - code: BTC\n    name_vi: Bộ Tài chính\n    kind: ministry\n    parent: VN\n  - code: P02\n    name_vi: Tỉnh Hà Giang\n    kind: province\n    parent: VN\n    valid_to: 2025-06-30\n    successors: [BTC]\n",
			`x.yaml:14: agencies[2] (P02): successor "BTC" is at the ministry level, this agency at the province level`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRegistry("x.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v\nwant it to contain %s", err, tc.want)
			}
		})
	}
}

func TestRegistryFileAcceptsOpenEndsAndAliases(t *testing.T) {
	src := `agencies:
  - code: VN
    name_vi: Việt Nam
    kind: national
  - code: P02
    name_vi: Tỉnh Hà Giang
    kind: province
    parent: VN
    gso_code: 02
    valid_from: null
    valid_to: &merger 2025-06-30
    successors: [N08]
  - code: P08
    name_vi: Tỉnh Tuyên Quang
    kind: province
    parent: VN
    valid_to: *merger
    successors: [N08]
  - code: N08
    name_vi: Tỉnh Tuyên Quang
    kind: province
    parent: VN
    valid_from: 2025-07-01
    successors: []
`
	r, err := ParseRegistry("ok.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p02, _ := r.Get("P02")
	p08, _ := r.Get("P08")
	if p02.GSOCode != "02" || !p02.ValidFrom.IsZero() || p08.ValidTo.String() != "2025-06-30" {
		t.Errorf("P02 gso %q from %q; P08 to %q", p02.GSOCode, p02.ValidFrom, p08.ValidTo)
	}
}

func TestNewRegistryReportsEveryProblemWithoutAFile(t *testing.T) {
	_, err := NewRegistry([]*Agency{
		{Code: "VN", NameVI: "Việt Nam", Kind: KindNational},
		{Code: "P20", NameVI: "Tỉnh Lạng Sơn", Kind: KindProvince, Parent: "VNN"},
		{Code: "P02", NameVI: "Tỉnh Hà Giang", Kind: KindProvince, Parent: "VN", Successors: []string{"N99"}},
	})
	var re *RegistryError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is a %T, want *RegistryError", err, err)
	}
	want := "agency registry: agencies[1] (P20): parent \"VNN\" is not in the registry\n" +
		"agency registry: agencies[2] (P02): has successors but no valid_to: give the last day it existed\n" +
		"agency registry: agencies[2] (P02): successor \"N99\" is not in the registry"
	if err.Error() != want {
		t.Errorf("error =\n%s\nwant\n%s", err, want)
	}
}

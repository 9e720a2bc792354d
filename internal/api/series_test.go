package api_test

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"
)

type seriesBody struct {
	Indicator string `json:"indicator"`
	Agency    string `json:"agency"`
	Level     string `json:"level"`
	Values    []struct {
		Period   string   `json:"period"`
		Level    string   `json:"level"`
		Value    float64  `json:"value"`
		Computed bool     `json:"computed"`
		From     []string `json:"from"`
	} `json:"values"`
}

func TestSeriesOfTheCountryIsTheRollUpProgressIsJudgedOn(t *testing.T) {
	f := newFixture(t, true)
	var s seriesBody
	if code := f.get(t, "/api/v1/series?indicator=dossiers_fully_online", &s); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if s.Agency != "VN" || len(s.Values) == 0 {
		t.Fatalf("series = %+v, want the country's rolled-up values", s)
	}
	var prog struct {
		Latest struct {
			Period string  `json:"period"`
			Value  float64 `json:"value"`
		} `json:"latest"`
	}
	f.get(t, "/api/v1/progress?indicator=dossiers_fully_online&year=2025", &prog)
	found := false
	for _, v := range s.Values {
		if !v.Computed || len(v.From) == 0 {
			t.Errorf("%s: national value should be a roll-up naming its sources: %+v", v.Period, v)
		}
		if v.Period == prog.Latest.Period {
			found = true
			if math.Abs(v.Value-prog.Latest.Value) > 1e-9 {
				t.Errorf("%s: series says %v, progress says %v", v.Period, v.Value, prog.Latest.Value)
			}
		}
	}
	if !found {
		t.Errorf("progress's latest period %s is not in the series", prog.Latest.Period)
	}
}

func TestSeriesAtCommuneLevelIsJudgedAgainstTheCommuneTarget(t *testing.T) {
	f := newFixture(t, true)
	var all, commune seriesBody
	f.get(t, "/api/v1/series?indicator=work_records_online&agency=P20", &all)
	f.get(t, "/api/v1/series?indicator=work_records_online&agency=P20&level=commune", &commune)
	if len(commune.Values) == 0 || commune.Level != "commune" {
		t.Fatalf("commune series of Lạng Sơn = %+v", commune)
	}
	for _, v := range commune.Values {
		if v.Level != "commune" {
			t.Errorf("%s: level %q in a commune-level series", v.Period, v.Level)
		}
	}
	if len(all.Values) == 0 || all.Values[len(all.Values)-1].Value == commune.Values[len(commune.Values)-1].Value {
		t.Errorf("province figure and commune figure should differ: %+v vs %+v", all.Values, commune.Values)
	}
}

func TestSeriesNamesTheUnknownOrMissingInput(t *testing.T) {
	f := newFixture(t, false)
	for _, tc := range []struct {
		path  string
		code  int
		field string
	}{
		{"/api/v1/series", http.StatusBadRequest, "indicator"},
		{"/api/v1/series?indicator=nope", http.StatusNotFound, "indicator"},
		{"/api/v1/series?indicator=egdi_rank&agency=XX", http.StatusNotFound, "agency"},
		{"/api/v1/series?indicator=egdi_rank&level=planet", http.StatusBadRequest, "level"},
	} {
		var body struct {
			Problems []struct{ Field string } `json:"problems"`
		}
		if code := f.get(t, tc.path, &body); code != tc.code {
			t.Errorf("%s: status %d, want %d", tc.path, code, tc.code)
		}
		if len(body.Problems) != 1 || body.Problems[0].Field != tc.field {
			t.Errorf("%s: problems %+v, want one naming %s", tc.path, body.Problems, tc.field)
		}
	}
}

func TestWhoamiNamesTheTokenAndItsAgencyOrAnswers401(t *testing.T) {
	f := newFixture(t, false)
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/api/v1/whoami", nil)
	var who map[string]string
	req.Header.Set("Authorization", "Bearer "+f.tokens["P20"])
	if code := getWith(t, req, &who); code != http.StatusOK || who["name"] != "test-P20" || who["agency"] != "P20" || who["agency_name_vi"] != "Tỉnh Lạng Sơn" {
		t.Errorf("whoami = %d %v", code, who)
	}
	for _, h := range []string{"", "Bearer goc_notatoken", "Basic dXNlcjpwYXNz"} {
		req.Header.Set("Authorization", h)
		var body map[string]string
		if code := getWith(t, req, &body); code != http.StatusUnauthorized || body["error"] == "" {
			t.Errorf("Authorization %q: %d %v, want 401 with a reason", h, code, body)
		}
	}
}

func getWith(t *testing.T, req *http.Request, out any) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("%s: decode: %v", req.URL, err)
	}
	return resp.StatusCode
}

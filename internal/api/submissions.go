package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/auth"
)

// ratioTolerance is how far, in percentage points, a submitted percentage may sit from
// 100 × numerator / denominator: officers often round to whole percent.
const ratioTolerance = 0.5

type submittedValue struct {
	Indicator   *indicators.Indicator
	Agency      string
	Value       float64
	Numerator   *float64
	Denominator *float64
}

// postSubmission takes one agency's values for one period. It is all-or-nothing: every
// problem is listed in a 422 and nothing is stored unless every value is good.
func (s *Server) postSubmission(w http.ResponseWriter, r *http.Request) {
	who, err := s.auth.Authenticate(r.Header.Get("Authorization"))
	if err != nil {
		s.metrics.SubmissionsRejected.WithLabelValues("unauthenticated").Inc()
		w.Header().Set("WWW-Authenticate", `Bearer realm="goc"`)
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType,
			"chỉ nhận JSON ở phiên bản này / only application/json is accepted here, got "+ct)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.metrics.SubmissionsRejected.WithLabelValues("too_large").Inc()
			writeError(w, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("bài nộp vượt quá %d byte / submission exceeds %d bytes", s.maxBytes, s.maxBytes))
			return
		}
		writeError(w, http.StatusBadRequest, "không đọc được nội dung / cannot read body: "+err.Error())
		return
	}
	sub, probs, forbidden := s.parseSubmission(body, who)
	if forbidden != "" {
		s.metrics.SubmissionsRejected.WithLabelValues("forbidden").Inc()
		writeError(w, http.StatusForbidden, forbidden)
		return
	}
	if len(probs) > 0 {
		s.metrics.SubmissionsRejected.WithLabelValues("invalid").Inc()
		writeProblems(w, http.StatusUnprocessableEntity, probs)
		return
	}
	batch := newBatchID()
	now := s.now().UTC()
	obs := make([]indicators.Observation, len(sub.values))
	for i, v := range sub.values {
		obs[i] = indicators.Observation{
			SeriesKey:   indicators.SeriesKey{Indicator: v.Indicator.Code, Agency: v.Agency, Period: sub.period},
			Value:       v.Value,
			Numerator:   v.Numerator,
			Denominator: v.Denominator,
			Source:      indicators.FromSubmission,
			Submitter:   who.Name,
			ReceivedAt:  now,
			Batch:       batch,
		}
	}
	stored, err := s.writer.WriteObservations(r.Context(), obs)
	if err != nil {
		s.metrics.StoreErrors.WithLabelValues("write").Inc()
		s.log.Error("store submission", "agency", sub.agency, "period", sub.period, "err", err)
		writeError(w, http.StatusServiceUnavailable, "không lưu được, hãy gửi lại / could not store, send again: "+err.Error())
		return
	}
	type rev struct {
		Indicator string `json:"indicator"`
		Agency    string `json:"agency"`
		Revision  int    `json:"revision"`
		New       bool   `json:"new"`
	}
	revs := make([]rev, len(stored))
	created := 0
	for i, o := range stored {
		isNew := o.Batch == batch
		if isNew {
			created++
		}
		revs[i] = rev{o.Indicator, o.Agency, o.Revision, isNew}
	}
	s.metrics.ObservationsWritten.WithLabelValues(string(indicators.FromSubmission)).Add(float64(created))
	s.log.Info("submission stored", "agency", sub.agency, "period", sub.period.String(), "by", who.Name, "new", created, "unchanged", len(stored)-created)
	writeJSON(w, http.StatusCreated, map[string]any{
		"batch":     batch,
		"agency":    sub.agency,
		"period":    sub.period.String(),
		"created":   created,
		"unchanged": len(stored) - created,
		"revisions": revs,
	})
}

func newBatchID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type submission struct {
	agency string
	period period.Period
	values []submittedValue
}

// parseSubmission checks the whole body and returns every problem with its JSON path.
// forbidden is set when the body names an agency the token may not submit for.
func (s *Server) parseSubmission(body []byte, who auth.Principal) (sub submission, probs []Problem, forbidden string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return sub, []Problem{{Field: "$", Reason: jsonSyntaxReason(body, err)}}, ""
	}
	if dec.More() {
		return sub, []Problem{{Field: "$", Reason: "có nội dung thừa sau đối tượng JSON / trailing data after the JSON object"}}, ""
	}
	add := func(field, vi, en string, args ...any) {
		probs = append(probs, Problem{Field: field, Reason: fmt.Sprintf(vi+" / "+en, append(args, args...)...)})
	}
	for _, k := range sortedKeys(doc) {
		if k != "agency" && k != "period" && k != "values" {
			add(k, "trường không được hỗ trợ", "unknown field")
		}
	}
	reg := s.query.Registry()
	sub.agency, _ = doc["agency"].(string)
	agencyOK := false
	switch a, ok := reg.Get(sub.agency); {
	case doc["agency"] == nil:
		add("agency", "bắt buộc", "required")
	case sub.agency == "":
		add("agency", "phải là mã đơn vị dạng chuỗi", "must be an agency code string")
	case !ok:
		add("agency", "mã đơn vị %q không có trong danh mục", "agency %q is not in the registry", sub.agency)
	case !reg.Within(sub.agency, who.Agency):
		return sub, nil, fmt.Sprintf("mã truy cập %q chỉ được nộp cho %s và đơn vị trực thuộc, không cho %s / token %q may submit only for %s and below, not for %s",
			who.Name, who.Agency, sub.agency, who.Name, who.Agency, sub.agency)
	default:
		_ = a
		agencyOK = true
	}
	ps, _ := doc["period"].(string)
	periodOK := false
	switch {
	case doc["period"] == nil:
		add("period", "bắt buộc", "required")
	case ps == "":
		add("period", "phải là chuỗi như 2025-Q3", "must be a string such as 2025-Q3")
	default:
		p, err := period.Parse(ps)
		if err != nil {
			add("period", "kỳ báo cáo không hợp lệ: %v", "invalid period: %v", err)
			break
		}
		if p.Start(s.loc).After(s.now()) {
			add("period", "kỳ %s chưa bắt đầu", "period %s has not started yet", p)
			break
		}
		sub.period, periodOK = p, true
	}
	if agencyOK && periodOK {
		a, _ := reg.Get(sub.agency)
		if !a.ActiveDuring(sub.period.Start(s.loc), sub.period.End(s.loc)) {
			add("agency", "đơn vị %s không tồn tại trong kỳ %s", "agency %s did not exist during %s", sub.agency, sub.period)
		}
	}
	raw, isList := doc["values"].([]any)
	switch {
	case doc["values"] == nil:
		add("values", "bắt buộc", "required")
		return sub, probs, ""
	case !isList:
		add("values", "phải là một mảng", "must be an array")
		return sub, probs, ""
	case len(raw) == 0:
		add("values", "không có giá trị nào", "is empty")
		return sub, probs, ""
	}
	seen := map[[2]string]int{}
	for i, item := range raw {
		path := fmt.Sprintf("values[%d]", i)
		m, ok := item.(map[string]any)
		if !ok {
			add(path, "phải là một đối tượng", "must be an object")
			continue
		}
		v, vprobs, vforbidden := s.parseValue(path, m, sub, agencyOK, periodOK, who)
		if vforbidden != "" {
			return sub, nil, vforbidden
		}
		probs = append(probs, vprobs...)
		if v.Indicator == nil || v.Agency == "" {
			continue
		}
		key := [2]string{v.Indicator.Code, v.Agency}
		if j, dup := seen[key]; dup {
			add(path, "trùng với values[%d] (cùng chỉ tiêu và đơn vị)", "duplicates values[%d] (same indicator and agency)", j)
			continue
		}
		seen[key] = i
		if len(vprobs) == 0 {
			sub.values = append(sub.values, v)
		}
	}
	return sub, probs, ""
}

func (s *Server) parseValue(path string, m map[string]any, sub submission, agencyOK, periodOK bool, who auth.Principal) (v submittedValue, probs []Problem, forbidden string) {
	add := func(field, vi, en string, args ...any) {
		probs = append(probs, Problem{Field: path + "." + field, Reason: fmt.Sprintf(vi+" / "+en, append(args, args...)...)})
	}
	for _, k := range sortedKeys(m) {
		switch k {
		case "indicator", "agency", "value", "numerator", "denominator":
		default:
			add(k, "trường không được hỗ trợ", "unknown field")
		}
	}
	reg := s.query.Registry()
	v.Agency = sub.agency
	if raw, present := m["agency"]; present {
		code, _ := raw.(string)
		a, ok := reg.Get(code)
		switch {
		case code == "":
			add("agency", "phải là mã đơn vị dạng chuỗi", "must be an agency code string")
			v.Agency = ""
		case !ok:
			add("agency", "mã đơn vị %q không có trong danh mục", "agency %q is not in the registry", code)
			v.Agency = ""
		case !reg.Within(code, who.Agency):
			return v, nil, fmt.Sprintf("mã truy cập %q không được nộp cho %s (%s) / token %q may not submit for %s (%s)",
				who.Name, code, path+".agency", who.Name, code, path+".agency")
		case periodOK && !a.ActiveDuring(sub.period.Start(s.loc), sub.period.End(s.loc)):
			add("agency", "đơn vị %s không tồn tại trong kỳ %s", "agency %s did not exist during %s", code, sub.period)
			v.Agency = ""
		default:
			v.Agency = code
		}
	} else if !agencyOK {
		v.Agency = ""
	}
	code, _ := m["indicator"].(string)
	ind, ok := s.query.Catalogue().Get(code)
	switch {
	case m["indicator"] == nil:
		add("indicator", "bắt buộc", "required")
	case code == "":
		add("indicator", "phải là mã chỉ tiêu dạng chuỗi", "must be an indicator code string")
	case !ok:
		add("indicator", "mã chỉ tiêu %q không có trong danh mục", "indicator %q is not in the catalogue", code)
	default:
		v.Indicator = ind
		if a, ok := reg.Get(v.Agency); ok && !ind.ReportedAt(a.Level()) {
			add("indicator", "chỉ tiêu %s không do cấp %s báo cáo", "%s is not reported at %s level", code, a.Level())
		}
		if periodOK && ind.Periodicity != sub.period.Kind {
			add("indicator", "chỉ tiêu %s báo cáo theo kỳ %s, kỳ đã gửi là %s", "%s is reported %s, the period sent is %s",
				code, ind.Periodicity, sub.period.Kind)
		}
	}
	num, numOK := number(m, "numerator", add)
	den, denOK := number(m, "denominator", add)
	val, valOK := number(m, "value", add)
	if v.Indicator == nil {
		return v, probs, ""
	}
	if v.Indicator.IsRatio() {
		if !numOK && m["numerator"] == nil {
			add("numerator", "bắt buộc với chỉ tiêu tỷ lệ (để cộng dồn lên cấp trên)", "required for a ratio indicator (it is what rolls up)")
		}
		if !denOK && m["denominator"] == nil {
			add("denominator", "bắt buộc với chỉ tiêu tỷ lệ", "required for a ratio indicator")
		}
		if numOK && num < 0 {
			add("numerator", "không được âm", "must not be negative")
			numOK = false
		}
		if denOK && den <= 0 {
			add("denominator", "phải lớn hơn 0", "must be greater than 0")
			denOK = false
		}
		if numOK && denOK {
			if num > den {
				add("numerator", "tử số %g lớn hơn mẫu số %g", "numerator %g is larger than denominator %g", num, den)
			} else {
				ratio := num / den
				if v.Indicator.Unit == indicators.Percent {
					ratio *= 100
				}
				if valOK && math.Abs(val-ratio) > ratioTolerance {
					add("value", "giá trị %g không khớp tử số/mẫu số = %.2f", "value %g does not match numerator/denominator = %.2f", val, ratio)
				}
				if !valOK && m["value"] == nil {
					val, valOK = ratio, true
				}
				v.Numerator, v.Denominator = indicators.F(num), indicators.F(den)
			}
		}
	} else {
		for _, k := range []string{"numerator", "denominator"} {
			if m[k] != nil && v.Indicator.Aggregation != indicators.WeightedMean {
				add(k, "chỉ dùng cho chỉ tiêu tỷ lệ", "only ratio indicators take one")
			}
		}
		if denOK && v.Indicator.Aggregation == indicators.WeightedMean {
			v.Denominator = indicators.F(den)
		}
		if !valOK && m["value"] == nil {
			add("value", "bắt buộc", "required")
		}
	}
	if valOK {
		if !v.Indicator.InBounds(val) {
			add("value", "giá trị %g nằm ngoài khoảng cho phép %s", "value %g is outside the allowed range %s", val, boundsText(v.Indicator))
		}
		v.Value = val
	}
	return v, probs, ""
}

// number reads an optional numeric field; a present field that is not a finite number
// is a problem.
func number(m map[string]any, key string, add func(field, vi, en string, args ...any)) (float64, bool) {
	raw, present := m[key]
	if !present || raw == nil {
		return 0, false
	}
	n, ok := raw.(json.Number)
	if !ok {
		add(key, "phải là số, không phải %s", "must be a number, not %s", jsonKind(raw))
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		add(key, "số %s không hợp lệ", "number %s is out of range", n.String())
		return 0, false
	}
	return f, true
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "chuỗi (string)"
	case bool:
		return "true/false (boolean)"
	case []any:
		return "mảng (array)"
	case map[string]any:
		return "đối tượng (object)"
	}
	return fmt.Sprintf("%T", v)
}

func boundsText(ind *indicators.Indicator) string {
	lo, hi := "-∞", "+∞"
	if ind.Bounds.Min != nil {
		lo = fmt.Sprintf("%g", *ind.Bounds.Min)
	}
	if ind.Bounds.Max != nil {
		hi = fmt.Sprintf("%g", *ind.Bounds.Max)
	}
	return "[" + lo + ", " + hi + "]"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonSyntaxReason names the line and column of a JSON syntax error.
func jsonSyntaxReason(body []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if errors.Is(err, io.EOF) {
		return "nội dung rỗng / empty body"
	}
	if off < 0 {
		return "JSON không hợp lệ / invalid JSON: " + err.Error()
	}
	line, col := 1, 1
	for _, b := range body[:min(int(off), len(body))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("JSON không hợp lệ ở dòng %d, cột %d / invalid JSON at line %d, column %d: %v", line, col, line, col, err)
}

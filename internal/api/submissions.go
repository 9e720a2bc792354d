package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/auth"
	"github.com/g-oc/goc/internal/intake"
	"github.com/g-oc/goc/internal/query"
	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/submission"
)

// Content types of the three submission formats.
const (
	ContentTypeJSON = "application/json"
	ContentTypeCSV  = "text/csv"
	ContentTypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// MaxSubmissionRows caps the rows of one submission through the API; historical loads
// larger than this go through `goc import`.
const MaxSubmissionRows = 100_000

// maxUnzipped caps what an uploaded workbook may unpack to. Worksheets are streamed
// from the zip as they are read, so this bounds the reading's time, not memory.
const maxUnzipped = 256 << 20

// submissionSettings are the Server's submission settings, with their defaults.
type submissionSettings struct {
	dueDays  map[period.Kind]int
	outliers float64
	// keys keeps the first response to each Idempotency-Key, so that a client retrying
	// a submission gets that response instead of a second processing. Without it, a
	// repeated submission still adds no revision (equal content is never stored
	// twice), but its answer is recomputed.
	keys store.IdempotencyKeys
}

// DefaultDueDays are the days after a period's end its reports are due, when Options
// give none: the config file's defaults.
func DefaultDueDays() map[period.Kind]int {
	return map[period.Kind]int{period.Month: 10, period.Quarter: 15, period.Half: 20, period.Year: 30}
}

func newSubmissionSettings(o Options) submissionSettings {
	s := submissionSettings{dueDays: DefaultDueDays(), outliers: o.OutlierDeviations, keys: o.Keys}
	for k, d := range o.DueDays {
		s.dueDays[k] = d
	}
	if s.outliers <= 0 {
		s.outliers = intake.DefaultOutlierDeviations
	}
	if s.keys == nil {
		s.keys, _ = o.Writer.(store.IdempotencyKeys)
	}
	return s
}

// postSubmission takes one agency's values: JSON, CSV or the XLSX template, as the
// body or as the "file" part of a multipart form. It is all-or-nothing: every problem
// is listed in a 422, each with its place (JSON path, CSV line and column, or sheet and
// cell), and nothing is stored unless every value is good. Values far from the agency's
// own history are warnings that need confirm_outliers=true.
func (s *Server) postSubmission(w http.ResponseWriter, r *http.Request) {
	// Cheap refusals first: the address's write rate, then its failed sign-ins, then
	// the token's write rate; only then is the body read, within the upload budget.
	if !s.allowAddrWrite(w, r) {
		return
	}
	who, ok := s.authenticate(w, r)
	if !ok {
		s.metrics.SubmissionsRejected.WithLabelValues("unauthenticated").Inc()
		return
	}
	if !s.allowTokenWrite(w, who.Name) {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 || strings.ContainsFunc(key, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
		s.reject(w, http.StatusBadRequest, "bad_request", "Idempotency-Key phải là 1-255 ký tự ASCII in được / Idempotency-Key must be 1-255 printable ASCII characters")
		return
	}
	share := s.uploadShare(w, r)
	if share.sem == nil {
		return
	}
	defer s.releaseShare(share)
	body, err := readBody(http.MaxBytesReader(w, r.Body, s.maxBytes), r.ContentLength, s.maxBytes)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.reject(w, http.StatusRequestEntityTooLarge, "too_large",
				fmt.Sprintf("bài nộp vượt quá %d byte / submission exceeds %d bytes", s.maxBytes, s.maxBytes))
			return
		}
		s.reject(w, http.StatusBadRequest, "bad_request", "không đọc được nội dung / cannot read body: "+err.Error())
		return
	}
	up, err := unwrap(r, body)
	if err != nil {
		s.reject(w, http.StatusUnsupportedMediaType, "unsupported", err.Error())
		return
	}
	if v := r.URL.Query().Get("confirm_outliers"); v != "" {
		// A typo here must not silently leave outliers unconfirmed (or confirmed).
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.reject(w, http.StatusBadRequest, "invalid", "confirm_outliers phải là true hoặc false / confirm_outliers must be true or false, not "+strconv.Quote(v))
			return
		}
		up.confirm = b
	}
	fingerprint := up.fingerprint()
	if key != "" && s.sub.keys != nil {
		fp, status, stored, found, err := s.sub.keys.IdempotentResponse(r.Context(), who.Name, key)
		switch {
		case err != nil:
			s.metrics.StoreErrors.WithLabelValues("read").Inc()
			s.log.Error("read idempotency key", "err", err)
		case found && fp != fingerprint:
			s.reject(w, http.StatusUnprocessableEntity, "idempotency_key_reused",
				"Idempotency-Key này đã dùng cho một bài nộp khác; dùng khoá mới cho nội dung mới / this Idempotency-Key was used for a different submission; use a new key for new content")
			return
		case found:
			w.Header().Set("Idempotent-Replayed", "true")
			writeRaw(w, status, stored)
			return
		}
	}
	status, out := s.submit(r.Context(), who, up)
	b := renderJSON(out)
	if status == http.StatusCreated && key != "" && s.sub.keys != nil {
		_, kStatus, kBody, err := s.sub.keys.SaveIdempotentResponse(r.Context(), who.Name, key, fingerprint, status, b)
		if err != nil {
			s.metrics.StoreErrors.WithLabelValues("write").Inc()
			s.log.Error("save idempotency key", "err", err)
		} else {
			status, b = kStatus, kBody // a concurrent twin may have answered first
		}
	}
	writeRaw(w, status, b)
}

// reject answers a refused submission and counts it by reason.
func (s *Server) reject(w http.ResponseWriter, code int, reason, msg string) {
	s.metrics.SubmissionsRejected.WithLabelValues(reason).Inc()
	writeError(w, code, msg)
}

// upload is a submission's file, unwrapped from the request.
type upload struct {
	format  intake.Format
	body    []byte
	confirm bool
}

func (u upload) fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%t|", u.format, u.confirm)
	h.Write(u.body)
	return hex.EncodeToString(h.Sum(nil))
}

// unwrap finds the file and its format: by Content-Type, by the multipart part's name
// or type, or by its first bytes when the type says nothing.
func unwrap(r *http.Request, body []byte) (upload, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, _ := mime.ParseMediaType(ct)
	if mt == "multipart/form-data" {
		return fromMultipart(body, params["boundary"])
	}
	f, err := formatOf(mt, "", body)
	return upload{format: f, body: body}, err
}

func fromMultipart(body []byte, boundary string) (upload, error) {
	var up upload
	found := false
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || parts > 16 {
			return up, fmt.Errorf("biểu mẫu multipart không hợp lệ / malformed multipart form: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return up, fmt.Errorf("biểu mẫu multipart không hợp lệ / malformed multipart form: %v", err)
		}
		switch p.FormName() {
		case "file":
			mt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			if up.format, err = formatOf(mt, p.FileName(), b); err != nil {
				return up, err
			}
			up.body, found = b, true
		case "confirm_outliers":
			v := strings.TrimSpace(string(b))
			if up.confirm, err = strconv.ParseBool(v); err != nil {
				return up, fmt.Errorf("phần confirm_outliers phải là true hoặc false / the confirm_outliers part must be true or false, not %q", v)
			}
		}
	}
	if !found {
		return up, errors.New("biểu mẫu thiếu phần \"file\" / the form has no \"file\" part")
	}
	return up, nil
}

func formatOf(mediaType, name string, body []byte) (intake.Format, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".xlsx", ".xlsm":
		return intake.XLSX, nil
	case ".csv":
		return intake.CSV, nil
	case ".json":
		return intake.JSON, nil
	}
	switch {
	case mediaType == ContentTypeJSON || strings.HasSuffix(mediaType, "+json"):
		return intake.JSON, nil
	case mediaType == ContentTypeCSV || mediaType == "application/csv":
		return intake.CSV, nil
	case mediaType == ContentTypeXLSX:
		return intake.XLSX, nil
	case mediaType == "" || mediaType == "application/octet-stream":
		trimmed := bytes.TrimLeft(body, " \t\r\n")
		switch {
		case bytes.HasPrefix(body, []byte("PK")) || bytes.HasPrefix(body, []byte("%PDF")) || bytes.HasPrefix(body, []byte{0xD0, 0xCF}):
			return intake.XLSX, nil
		case mediaType == "" || bytes.HasPrefix(trimmed, []byte("{")):
			return intake.JSON, nil
		}
		return intake.CSV, nil
	}
	return "", fmt.Errorf("định dạng %q không được hỗ trợ; gửi %s, %s hoặc %s / content type %q is not supported; send %s, %s or %s",
		mediaType, ContentTypeJSON, ContentTypeCSV, ContentTypeXLSX, mediaType, ContentTypeJSON, ContentTypeCSV, ContentTypeXLSX)
}

// check reads and validates an upload through intake's one entry point.
func (s *Server) check(ctx context.Context, up upload, who auth.Principal) (intake.Checked, error) {
	return intake.Check(ctx, up.format, bytes.NewReader(up.body), int64(len(up.body)), intake.Options{
		MaxRows: MaxSubmissionRows, MaxUnzipped: maxUnzipped,
	}, intake.Rules{
		Catalogue: s.query.Catalogue(), Registry: s.query.Registry(), Location: s.loc, Now: s.now(),
		Scope: who.Agency, Token: who.Name,
	})
}

// submit checks, warns and stores, and returns the answer.
func (s *Server) submit(ctx context.Context, who auth.Principal, up upload) (int, any) {
	sub, err := s.check(ctx, up, who)
	var fe *intake.FileError
	var fb *intake.ForbiddenError
	switch {
	case errors.As(err, &fb):
		s.metrics.SubmissionsRejected.WithLabelValues("forbidden").Inc()
		return http.StatusForbidden, map[string]any{"error": fb.Error()}
	case errors.As(err, &fe):
		s.metrics.SubmissionsRejected.WithLabelValues(string(fe.Kind)).Inc()
		return fileErrorStatus(fe.Kind), map[string]any{"error": fe.Reason, "reason": fe.Kind, "format": up.format}
	case err != nil:
		s.log.Error("read submission", "format", up.format, "err", err)
		return http.StatusInternalServerError, map[string]any{"error": "lỗi máy chủ / server error: " + err.Error()}
	}
	res := sub.Result
	if !res.OK() {
		s.metrics.SubmissionsRejected.WithLabelValues("invalid").Inc()
		return http.StatusUnprocessableEntity, map[string]any{
			"error":          "bài nộp bị từ chối, không có giá trị nào được lưu / submission rejected, nothing was stored",
			"format":         up.format,
			"problems":       res.Problems,
			"total_problems": res.Total,
		}
	}
	if len(sub.Items) == 0 {
		s.metrics.SubmissionsRejected.WithLabelValues("invalid").Inc()
		return http.StatusUnprocessableEntity, map[string]any{
			"error":  "không có giá trị nào để lưu (mọi dòng ghi \"không có số liệu\") / nothing to store (every row says \"no data\")",
			"format": up.format, "problems": []intake.Problem{}, "total_problems": 0, "no_data": res.NoData,
		}
	}
	warnings, err := s.outliers(ctx, sub.Items)
	if err != nil {
		s.metrics.StoreErrors.WithLabelValues("read").Inc()
		s.log.Error("read history for outliers", "err", err)
		return http.StatusServiceUnavailable, map[string]any{"error": "không đọc được lịch sử, hãy gửi lại / could not read history, send again: " + err.Error()}
	}
	if len(warnings) > 0 && !up.confirm {
		s.metrics.SubmissionsRejected.WithLabelValues("unconfirmed_outliers").Inc()
		return http.StatusUnprocessableEntity, map[string]any{
			"error":              "có giá trị khác thường cần xác nhận, chưa lưu gì; kiểm tra rồi gửi lại với confirm_outliers=true / some values are unusual and need confirmation, nothing was stored; check them and send again with confirm_outliers=true",
			"format":             up.format,
			"problems":           []intake.Problem{},
			"total_problems":     0,
			"warnings":           warnings,
			"needs_confirmation": true,
		}
	}
	batch := submission.NewBatchID()
	now := s.now().UTC()
	obs := make([]indicators.Observation, len(sub.Items))
	for i, it := range sub.Items {
		o := it.Obs
		o.Source, o.Submitter, o.ReceivedAt, o.Batch = indicators.FromSubmission, who.Name, now, batch
		obs[i] = o
	}
	stored, err := s.writer.WriteObservations(ctx, obs)
	if err != nil {
		s.metrics.StoreErrors.WithLabelValues("write").Inc()
		s.log.Error("store submission", "by", who.Name, "err", err)
		return http.StatusServiceUnavailable, map[string]any{"error": "không lưu được, hãy gửi lại / could not store, send again: " + err.Error()}
	}
	type rev struct {
		Indicator string        `json:"indicator"`
		Agency    string        `json:"agency"`
		Period    period.Period `json:"period"`
		Revision  int           `json:"revision"`
		New       bool          `json:"new"`
	}
	revs := make([]rev, len(stored))
	created := 0
	for i, o := range stored {
		isNew := o.Batch == batch
		if isNew {
			created++
		}
		revs[i] = rev{o.Indicator, o.Agency, o.Period, o.Revision, isNew}
	}
	s.metrics.ObservationsWritten.WithLabelValues(string(indicators.FromSubmission)).Add(float64(created))
	agency, per := submissionScope(sub)
	s.log.Info("submission stored", "format", up.format, "agency", agency, "period", per, "by", who.Name, "new", created, "unchanged", len(stored)-created)
	out := map[string]any{
		"batch":     batch,
		"format":    up.format,
		"agency":    agency,
		"period":    per,
		"created":   created,
		"unchanged": len(stored) - created,
		"no_data":   res.NoData,
		"revisions": revs,
	}
	if len(warnings) > 0 {
		out["confirmed_warnings"] = warnings
	}
	return http.StatusCreated, out
}

// submissionScope names the agency and period of a submission: the header's, else the
// rows' when they all agree, else empty.
func submissionScope(sub intake.Checked) (agency, per string) {
	if sub.Header.Defaults {
		agency, per = strings.TrimSpace(sub.Header.Agency.Text), ""
	}
	for i, it := range sub.Items {
		a, p := it.Obs.Agency, it.Obs.Period.String()
		if i == 0 {
			if agency == "" {
				agency = a
			}
			per = p
			continue
		}
		if p != per {
			per = ""
		}
		if !sub.Header.Defaults && a != agency {
			agency = ""
		}
	}
	if p, err := period.Parse(per); err == nil {
		per = p.String()
	}
	return agency, per
}

// outliers compares each value with its agency's own recent values, in one read of the
// store per period kind.
func (s *Server) outliers(ctx context.Context, items []intake.Placed) ([]intake.Problem, error) {
	byKind := map[period.Kind][]intake.Placed{}
	for _, it := range items {
		byKind[it.Obs.Period.Kind] = append(byKind[it.Obs.Period.Kind], it)
	}
	var out []intake.Problem
	for _, kind := range slices.Sorted(maps.Keys(byKind)) {
		group := byKind[kind]
		var codes, agencies []string
		latest := time.Time{}
		for _, it := range group {
			codes = appendUnique(codes, it.Obs.Indicator)
			agencies = appendUnique(agencies, it.Obs.Agency)
			if st := it.Obs.Period.Start(nil); st.After(latest) {
				latest = st
			}
		}
		hist, err := s.query.OwnHistory(ctx, codes, agencies, kind, latest)
		if err != nil {
			return nil, err
		}
		out = append(out, intake.Outliers(group, func(o indicators.Observation) []float64 {
			var vs []float64
			for _, h := range hist[query.SeriesKey{Indicator: o.Indicator, Agency: o.Agency}] {
				if h.Period.Compare(o.Period) < 0 {
					vs = append(vs, h.Value)
				}
			}
			return vs
		}, s.sub.outliers)...)
	}
	return out, nil
}

func appendUnique(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// fileErrorStatus maps a file that cannot be read to its HTTP status.
func fileErrorStatus(k intake.FileErrorKind) int {
	switch k {
	case intake.NotSupported:
		return http.StatusUnsupportedMediaType
	case intake.TooLarge, intake.TooManyRows:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// renderJSON encodes an answer as writeJSON does, so it can be kept for replays.
func renderJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return b.Bytes()
}

func writeRaw(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

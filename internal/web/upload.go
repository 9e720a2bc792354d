package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path/filepath"
	"strings"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
	"github.com/g-oc/goc/internal/auth"
)

// maxUploadForm bounds what the upload form may send: the API's own cap on a
// submission (10 MiB by default) as base64 in the confirm form, plus the form's fields.
const maxUploadForm = 16 << 20

// uploadPage is the data of the upload result: problems (nothing stored), warnings to
// confirm (nothing stored yet), or the receipt.
type uploadPage struct {
	Who auth.Principal
	// FileName is the uploaded file's name, shown back to the officer.
	FileName string
	// Error is a message about the whole file (unreadable, wrong format, too large).
	ErrorVI, ErrorEN string
	Problems         []problemRow
	Total            int
	// Warnings are outliers to confirm; Content carries the file back (base64) so the
	// confirm button sends the same bytes without asking to choose the file again.
	Warnings []problemRow
	Content  string
	// Receipt is set when the values were stored.
	Receipt *receipt
}

// problemRow is one problem of the file: where, which rule, why in both languages.
type problemRow struct {
	Place    string
	Rule     string
	VI, EN   string
	Previous *float64
	// Indicator is the outlier's indicator, when the warning names one.
	Indicator *indicators.Indicator
}

// receipt is what the officer keeps of a stored upload.
type receipt struct {
	Batch     string
	At        time.Time
	Agency    *indicators.Agency
	Period    period.Period
	Created   int
	Unchanged int
	Changes   []change
	Resent    int
}

// apiSubmission is the API's answer to POST /api/v1/submissions, as far as the page
// needs it.
type apiSubmission struct {
	Error    string `json:"error"`
	Problems []struct {
		Field  string `json:"field"`
		Rule   string `json:"rule"`
		Reason string `json:"reason"`
	} `json:"problems"`
	Total    int `json:"total_problems"`
	Warnings []struct {
		Field     string   `json:"field"`
		Rule      string   `json:"rule"`
		Reason    string   `json:"reason"`
		Indicator string   `json:"indicator"`
		Previous  *float64 `json:"previous"`
	} `json:"warnings"`
	Batch     string `json:"batch"`
	Agency    string `json:"agency"`
	Period    string `json:"period"`
	Created   int    `json:"created"`
	Unchanged int    `json:"unchanged"`
	Revisions []struct {
		Indicator string `json:"indicator"`
		Agency    string `json:"agency"`
		Period    string `json:"period"`
		Revision  int    `json:"revision"`
		New       bool   `json:"new"`
	} `json:"revisions"`
}

// upload takes the form's file (or, from the confirm button, the same file carried
// back) and submits it through the API. The result page shows every problem by its
// place, or the warnings to confirm, or the receipt.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadForm)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &pageError{Status: http.StatusRequestEntityTooLarge, Title: "error.bad",
				VI: fmt.Sprintf("Tệp quá lớn: tối đa %d MB.", maxUploadForm>>20), EN: fmt.Sprintf("The file is too large: at most %d MB.", maxUploadForm>>20)}
		}
		return &pageError{Status: http.StatusBadRequest, Title: "error.bad",
			VI: "Biểu mẫu tải lên không đọc được; hãy chọn tệp rồi gửi lại.", EN: "The upload form could not be read; choose the file and send it again."}
	}
	defer r.MultipartForm.RemoveAll()
	var name string
	var content []byte
	if f, h, err := r.FormFile("file"); err == nil {
		defer f.Close()
		if content, err = io.ReadAll(f); err != nil {
			return err
		}
		name = h.Filename
	} else if c := r.FormValue("content"); c != "" {
		if content, err = base64.StdEncoding.DecodeString(c); err != nil {
			return badParam("content", "…", "nội dung tệp bị hỏng", "the file's content is damaged")
		}
		name = r.FormValue("filename")
	}
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if len(content) == 0 {
		return s.renderPrivate(w, r, http.StatusUnprocessableEntity, pageOpts{Template: "upload", Nav: "reports", Data: uploadPage{Who: p,
			ErrorVI: "Chưa chọn tệp, hoặc tệp rỗng. Hãy chọn tệp mẫu Excel, CSV hoặc JSON.",
			ErrorEN: "No file was chosen, or it is empty. Choose the Excel template, a CSV or a JSON file."}})
	}
	confirm := r.FormValue("confirm_outliers") == "true"
	body, ctype, err := multipartBody(name, content, confirm)
	if err != nil {
		return err
	}
	ans, err := s.callAPI(r, p, http.MethodPost, "/api/v1/submissions", bytes.NewReader(body), ctype)
	if err != nil {
		return err
	}
	var out apiSubmission
	if err := decodeJSON(ans.Body, &out); err != nil {
		return err
	}
	page := uploadPage{Who: p, FileName: name}
	status := ans.Status
	switch {
	case ans.Status == http.StatusCreated:
		rc, err := s.receiptOf(r, p, out)
		if err != nil {
			return err
		}
		page.Receipt = rc
		status = http.StatusOK
	case ans.Status == http.StatusForbidden, ans.Status == http.StatusTooManyRequests:
		return apiError(ans)
	case len(out.Warnings) > 0 && len(out.Problems) == 0:
		for _, w := range out.Warnings {
			row := s.problemRow(w.Field, w.Rule, w.Reason)
			// The warning names its indicator and the figure it was judged against.
			if ind, ok := s.query.Catalogue().Get(w.Indicator); ok {
				row.Indicator = ind
				if w.Previous != nil {
					row.Previous = new(indicators.RoundFor(ind, *w.Previous))
				}
			}
			page.Warnings = append(page.Warnings, row)
		}
		page.Content = base64.StdEncoding.EncodeToString(content)
	default:
		for _, pr := range out.Problems {
			page.Problems = append(page.Problems, s.problemRow(pr.Field, pr.Rule, pr.Reason))
		}
		page.Total = max(out.Total, len(page.Problems))
		if len(page.Problems) == 0 {
			page.ErrorVI, page.ErrorEN = splitVIEN(out.Error)
		}
	}
	return s.renderPrivate(w, r, status, pageOpts{Template: "upload", Nav: "reports", Data: page})
}

// multipartBody is the API's multipart form: the file and confirm_outliers.
func multipartBody(name string, content []byte, confirm bool) ([]byte, string, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", "application/octet-stream")
	fw, err := mw.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := fw.Write(content); err != nil {
		return nil, "", err
	}
	if err := mw.WriteField("confirm_outliers", fmt.Sprint(confirm)); err != nil {
		return nil, "", err
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), mw.FormDataContentType(), nil
}

func (s *Server) problemRow(field, rule, reason string) problemRow {
	vi, en := splitVIEN(reason)
	return problemRow{Place: field, Rule: rule, VI: vi, EN: en}
}

// splitVIEN splits a "Vietnamese / English" message.
func splitVIEN(msg string) (vi, en string) {
	vi, en, ok := strings.Cut(msg, " / ")
	if !ok {
		return msg, msg
	}
	return vi, en
}

// receiptOf builds the receipt of a stored upload: each new revision with the value it
// replaced.
func (s *Server) receiptOf(r *http.Request, p auth.Principal, out apiSubmission) (*receipt, error) {
	rc := &receipt{Batch: out.Batch, At: s.now().In(s.loc), Created: out.Created, Unchanged: out.Unchanged}
	if a, ok := s.query.Registry().Get(out.Agency); ok {
		rc.Agency = a
	}
	per, err := period.Parse(out.Period)
	if err != nil || rc.Agency == nil {
		return rc, nil // a file spanning several agencies or periods: counts only
	}
	rc.Period = per
	_, batches, err := s.periodFigures(r.Context(), p, rc.Agency, per)
	if err != nil {
		return nil, err
	}
	for _, b := range batches {
		if b.ID == out.Batch {
			rc.Changes, rc.At, rc.Resent = b.Changes, b.At, b.Resent
		}
	}
	return rc, nil
}

func decodeJSON(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read api answer: %w", err)
	}
	return nil
}

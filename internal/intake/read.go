package intake

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/g-oc/goc/indicators"
)

// Options bound and shape what Read accepts. The zero value reads a submission with
// the default limits.
type Options struct {
	// Catalogue and Registry are today's: a template made from other ones is stale.
	Catalogue *indicators.Catalogue
	Registry  *indicators.Registry
	// MaxRows caps the data rows (CSV and XLSX); 0 means the format's default (no limit
	// for CSV, DefaultMaxRows for a workbook).
	MaxRows int
	// MaxUnzipped, MaxPart and TempDir bound a workbook (see XLSXOptions).
	MaxUnzipped, MaxPart int64
	TempDir              string
	// Progress, when set, is told how far the reader got: bytes for CSV, rows for XLSX.
	Progress func(n int64)
	// Layout, when set, reads a feed's payload: records and parts where the feed's
	// configuration says, with its defaults. Nil reads a submission, whose layout is
	// fixed and strict.
	Layout *Layout
}

// Layout says where the parts of each record sit in a feed's payload.
type Layout struct {
	// Records is, for JSON, the dotted path of the list of records ("" for a document
	// that is itself the list); for Prometheus, the metric name prefix that marks
	// G-OC figures (other families are ignored).
	Records string
	// Sheet is the XLSX sheet to read; empty means the first.
	Sheet  string
	Fields Fields
	// Agency, Indicator and Period apply to records that do not name their own.
	Agency, Indicator, Period string
}

// Fields name where each part of a value sits in a record: a JSON key (or dotted
// path), a CSV or XLSX column header, a Prometheus label. Empty means the default,
// which is the part's own name ("indicator", "agency", ...).
type Fields struct {
	Indicator, Agency, Period, Value, Numerator, Denominator string
}

// WithDefaults fills every empty name with the part's own.
func (f Fields) WithDefaults() Fields {
	def := func(s, d string) string {
		if s == "" {
			return d
		}
		return s
	}
	return Fields{def(f.Indicator, ColIndicator), def(f.Agency, ColAgency), def(f.Period, ColPeriod),
		def(f.Value, ColValue), def(f.Numerator, ColNumerator), def(f.Denominator, ColDenominator)}
}

// Read reads a file of format f into h: the one entry point every transport (feed
// puller, API, upload page, bulk import) goes through. A file that cannot be read at
// all is a *FileError; every problem inside it goes to h.
func Read(ctx context.Context, f Format, r io.ReaderAt, size int64, o Options, h Handler) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch f {
	case CSV:
		var progress func(int64)
		if o.Progress != nil {
			progress = o.Progress
		}
		return ReadCSV(io.NewSectionReader(r, 0, size), CSVOptions{MaxRows: o.MaxRows, Progress: progress, Layout: o.Layout}, h)
	case JSON:
		body, err := readAll(r, size)
		if err != nil {
			return err
		}
		return ReadJSON(body, o.Layout, h)
	case XLSX:
		xo := XLSXOptions{Catalogue: o.Catalogue, Registry: o.Registry, MaxUnzipped: o.MaxUnzipped, MaxPart: o.MaxPart,
			MaxRows: o.MaxRows, TempDir: o.TempDir, Layout: o.Layout}
		if o.Progress != nil {
			xo.Progress = func(rows int) { o.Progress(int64(rows)) }
		}
		return ReadXLSX(r, size, xo, h)
	case Prometheus:
		body, err := readAll(r, size)
		if err != nil {
			return err
		}
		return ReadPrometheus(body, o.Layout, h)
	}
	return &FileError{Kind: NotSupported, Reason: compose(msgUnknownFormat, string(f))}
}

func readAll(r io.ReaderAt, size int64) ([]byte, error) {
	if br, ok := r.(*bytes.Reader); ok && br.Size() == size {
		// The whole body is already in memory: read it without a copy when possible.
		b := make([]byte, size)
		if _, err := br.ReadAt(b, 0); err != nil && err != io.EOF {
			return nil, fmt.Errorf("read body: %w", err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// Checked is what a whole file holds once read and checked.
type Checked struct {
	// Header is what the file said about all its rows.
	Header Header
	// Items are the good rows' observations with the place of their figure, in file
	// order; they may be stored only when Result.OK().
	Items  []Placed
	Result Result
}

// Check reads a whole file through one Validator: what the API and the upload page do
// with a submission, and the feed puller with a payload. The error is a file that
// cannot be read at all (*FileError), a token that may not submit for an agency in it
// (*ForbiddenError), or ctx's.
func Check(ctx context.Context, f Format, r io.ReaderAt, size int64, o Options, rules Rules) (Checked, error) {
	var c Checked
	emit := rules.Emit
	rules.Emit = func(ob indicators.Observation, at Place) {
		c.Items = append(c.Items, Placed{Obs: ob, At: at})
		if emit != nil {
			emit(ob, at)
		}
	}
	if o.Catalogue == nil {
		o.Catalogue, o.Registry = rules.Catalogue, rules.Registry
	}
	v := NewValidator(rules)
	k := &keeper{Validator: v}
	err := Read(ctx, f, r, size, o, k)
	c.Header = k.header
	c.Result = v.Finish()
	return c, err
}

// keeper is the Handler between a reader and the Validator that keeps the header.
type keeper struct {
	*Validator
	header Header
}

func (k *keeper) Header(h Header) error {
	k.header = h
	return k.Validator.Header(h)
}

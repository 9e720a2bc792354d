package intake

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/g-oc/goc/indicators"
	"github.com/g-oc/goc/indicators/period"
)

// RatioTolerance is how far, in percentage points, a submitted percentage may sit from
// 100 × numerator / denominator: officers often round to whole percent.
const RatioTolerance = 0.5

// DefaultMaxProblems is how many problems a Validator lists; it still counts the rest.
const DefaultMaxProblems = 1000

// Rules are what a Validator checks rows against.
type Rules struct {
	Catalogue *indicators.Catalogue
	Registry  *indicators.Registry
	// Location is the time zone periods are judged in (when they start).
	Location *time.Location
	// Now is the moment of the check: periods that start after it are refused.
	Now time.Time
	// Scope is the agency whose subtree the submitter may submit for, and Token the
	// token's name. An empty Scope allows every agency: an operator's bulk import.
	Scope, Token string
	// MaxProblems caps the problems listed; DefaultMaxProblems when zero.
	MaxProblems int
	// Emit receives each good row as an observation (without source, submitter or
	// time), with the place of its figure. Rows arrive in file order; a file with
	// problems still emits its good rows, so callers must not store them before Finish
	// reports no problems.
	Emit func(o indicators.Observation, at Place)
}

// Result is what a Validator found in a whole file.
type Result struct {
	// Problems lists the first MaxProblems problems in file order; Total counts them all.
	Problems []Problem
	Total    int
	// Rows counts the rows read; Good those emitted; NoData those marked "no data".
	Rows, Good, NoData int
}

// OK reports whether the file may be stored.
func (r Result) OK() bool { return r.Total == 0 }

// Validator checks a file's header and rows. Build one per file with NewValidator; it is
// a Handler, so readers feed it directly. It keeps a few bytes per row (to find
// duplicates), never the rows themselves, so million-row imports stream through it.
type Validator struct {
	r Rules
	h Header

	headerSeen            bool
	agency                *indicators.Agency // the header's, when valid
	period                period.Period      // the header's, when valid
	agencyBad, periodBad  bool               // the header's was wrong and is reported
	problems              []Problem
	total, rows, good, nd int

	periods    map[string]periodResult
	agencyIdx  map[string]uint32
	indIdx     map[string]uint32
	keys       []rowKey
	duplicates bool
}

type periodResult struct {
	p            period.Period
	rule, reason string
}

// rowKey packs (indicator, agency, period) into 64 bits, with the row that used it, so
// finding duplicates in a million rows costs 16 MB rather than a map of strings.
type rowKey struct {
	key     uint64
	ordinal int
}

// NewValidator starts checking one file.
func NewValidator(r Rules) *Validator {
	if r.MaxProblems <= 0 {
		r.MaxProblems = DefaultMaxProblems
	}
	if r.Location == nil {
		r.Location = time.UTC
	}
	if r.Now.IsZero() {
		r.Now = time.Now()
	}
	v := &Validator{r: r, periods: map[string]periodResult{}}
	v.agencyIdx = make(map[string]uint32, len(r.Registry.All()))
	for i, a := range r.Registry.All() {
		v.agencyIdx[a.Code] = uint32(i)
	}
	v.indIdx = make(map[string]uint32, len(r.Catalogue.All()))
	for i, ind := range r.Catalogue.All() {
		v.indIdx[ind.Code] = uint32(i)
	}
	return v
}

// Problem records a problem a reader found.
func (v *Validator) Problem(p Problem) { v.add(p) }

func (v *Validator) add(p Problem) {
	p.Place = p.Place.Resolve()
	v.total++
	if len(v.problems) < v.r.MaxProblems {
		v.problems = append(v.problems, p)
	}
}

// problemAt records a problem at a field of a row (row -1 for the header).
func (v *Validator) problemAt(row int, f Field, col int, id msgID, args ...any) {
	v.add(Problem{Place: f.Place, Rule: ruleOf(id), Reason: compose(id, args...), row: row, col: col})
}

// Column order of a row's fields in problem listings.
const (
	colRow = iota
	colAgency
	colPeriod
	colIndicator
	colNumerator
	colDenominator
	colValue
	colStatus
	colExtra
)

// Header checks what the file says about all its rows. It returns a *ForbiddenError when
// the header names an agency outside the token's scope.
func (v *Validator) Header(h Header) error {
	v.h, v.headerSeen = h, true
	for _, f := range h.Extra {
		v.problemAt(-1, f, colExtra, msgUnknownField)
	}
	if !h.Defaults {
		return nil
	}
	v.clean(-1, &h.Agency, colAgency)
	v.clean(-1, &h.Period, colPeriod)
	switch a, ok := v.r.Registry.Get(h.Agency.Text); {
	case h.Agency.refused:
		v.agencyBad = true
	case !h.Agency.Set:
		v.problemAt(-1, h.Agency, colAgency, msgRequired)
		v.agencyBad = true
	case !isText(h.Agency) || h.Agency.Text == "":
		v.problemAt(-1, h.Agency, colAgency, msgAgencyNotText)
		v.agencyBad = true
	case !ok:
		v.problemAt(-1, h.Agency, colAgency, msgUnknownAgency, h.Agency.Text)
		v.agencyBad = true
	case v.r.Scope != "" && !v.r.Registry.Within(a.Code, v.r.Scope):
		return &ForbiddenError{Token: v.r.Token, Scope: v.r.Scope, Agency: a.Code}
	default:
		v.agency = a
	}
	switch {
	case h.Period.refused:
		v.periodBad = true
	case !h.Period.Set:
		v.problemAt(-1, h.Period, colPeriod, msgRequired)
		v.periodBad = true
	case !isPeriodText(h.Period) || h.Period.Text == "":
		v.problemAt(-1, h.Period, colPeriod, msgPeriodNotText)
		v.periodBad = true
	default:
		pr := v.parsePeriod(h.Period.Text)
		if pr.rule != "" {
			v.add(Problem{Place: h.Period.Place, Rule: pr.rule, Reason: pr.reason, row: -1, col: colPeriod})
			v.periodBad = true
			break
		}
		v.period = pr.p
	}
	if v.agency != nil && !v.period.IsZero() && !v.activeDuring(v.agency, v.period) {
		v.problemAt(-1, h.Agency, colAgency, msgAgencyInactive, v.agency.Code, v.period)
		v.agencyBad = true
	}
	return nil
}

func isText(f Field) bool { return f.JSONType == "" || f.JSONType == "string" }

// isPeriodText accepts a period written as a JSON number too (2025, 202509): feeds
// write years that way, and the number reads the same as the text.
func isPeriodText(f Field) bool { return isText(f) || f.JSONType == "number" }

func (v *Validator) activeDuring(a *indicators.Agency, p period.Period) bool {
	return a.ActiveDuring(p.Start(v.r.Location), p.End(v.r.Location))
}

// parsePeriod checks a period as written, remembering the answer: a million-row import
// names a handful of periods.
func (v *Validator) parsePeriod(text string) periodResult {
	if pr, ok := v.periods[text]; ok {
		return pr
	}
	var pr periodResult
	p, err := period.Parse(text)
	switch {
	case err != nil:
		pr = periodResult{rule: ruleOf(msgPeriodInvalid), reason: compose(msgPeriodInvalid, err)}
	case p.Start(v.r.Location).After(v.r.Now):
		pr = periodResult{rule: ruleOf(msgPeriodFuture), reason: compose(msgPeriodFuture, p)}
	default:
		pr = periodResult{p: p}
	}
	if len(v.periods) < 4096 {
		v.periods[text] = pr
	}
	return pr
}

// Row checks one row. It returns a *ForbiddenError when the row names an agency outside
// the token's scope; every other mistake is recorded and checking goes on.
func (v *Validator) Row(r Row) error {
	if !v.headerSeen {
		return fmt.Errorf("submission: row before header")
	}
	v.rows++
	before := v.total
	n := r.Ordinal
	for _, f := range r.Extra {
		v.problemAt(n, f, colExtra, msgUnknownField)
	}

	noData, statusOK := v.status(n, r.Status)
	v.clean(n, &r.Agency, colAgency)
	v.clean(n, &r.Period, colPeriod)
	v.clean(n, &r.Indicator, colIndicator)

	agency, err := v.rowAgency(n, r.Agency)
	if err != nil {
		return err
	}
	per := v.rowPeriod(n, r.Period)
	if agency != nil && !per.IsZero() && r.Agency.Set && !v.activeDuring(agency, per) {
		v.problemAt(n, r.Agency, colAgency, msgAgencyInactive, agency.Code, per)
		agency = nil
	}

	var ind *indicators.Indicator
	code := r.Indicator.Text
	found, known := v.r.Catalogue.Get(code)
	switch {
	case r.Indicator.refused:
	case r.Indicator.Formula:
		v.formula(n, r.Indicator, colIndicator)
	case !r.Indicator.Set:
		v.problemAt(n, r.Indicator, colIndicator, msgRequired)
	case !isText(r.Indicator) || code == "":
		v.problemAt(n, r.Indicator, colIndicator, msgIndicatorNotText)
	case !known:
		v.problemAt(n, r.Indicator, colIndicator, msgUnknownIndicator, code)
	default:
		ind = found
		if agency != nil && !ind.ReportedAt(agency.Level()) {
			v.problemAt(n, r.Indicator, colIndicator, msgLevel, code, agency.Level())
		}
		if !per.IsZero() && ind.Periodicity != per.Kind {
			v.problemAt(n, r.Indicator, colIndicator, msgPeriodicity,
				code, ind.Periodicity, per.Kind)
		}
	}
	if ind != nil && agency != nil && !per.IsZero() {
		v.keys = append(v.keys, rowKey{key: v.packKey(ind, agency, per), ordinal: n})
	}

	if noData {
		for _, f := range []struct {
			f   Field
			col int
		}{{r.Numerator, colNumerator}, {r.Denominator, colDenominator}, {r.Value, colValue}} {
			if f.f.Set {
				v.problemAt(n, f.f, f.col, msgStatusConflict)
			}
		}
		if v.total == before {
			v.nd++
		}
		return nil
	}
	if ind == nil {
		// Numbers are still checked for type, so a bad row reports everything at once.
		v.number(n, r.Numerator, colNumerator)
		v.number(n, r.Denominator, colDenominator)
		v.number(n, r.Value, colValue)
		return nil
	}
	o, at, ok := v.figures(n, r, ind)
	if !ok || !statusOK || agency == nil || per.IsZero() || v.total != before {
		return nil
	}
	o.SeriesKey = indicators.SeriesKey{Indicator: ind.Code, Agency: agency.Code, Period: per}
	v.good++
	if v.r.Emit != nil {
		v.r.Emit(o, at)
	}
	return nil
}

// Status values of the template's dropdown, in the order the dropdown lists them.
var (
	StatusReported = "Có số liệu / Reported"
	StatusNoData   = "Không có số liệu / No data"
)

// status reads the row's status: noData when the row reports that there is no figure.
func (v *Validator) status(n int, f Field) (noData, ok bool) {
	if f.Formula {
		v.formula(n, f, colStatus)
		return false, false
	}
	if !f.Set {
		return false, true
	}
	switch wordsText(f.Text) {
	case "", wordsText(StatusReported), "có số liệu", "reported":
		return false, true
	case wordsText(StatusNoData), "không có số liệu", "no data", "no_data":
		return true, true
	}
	v.problemAt(n, f, colStatus, msgStatus,
		f.Text, StatusReported, StatusNoData)
	return false, false
}

// rowAgency finds the agency a row is for: its own, else the header's.
func (v *Validator) rowAgency(n int, f Field) (*indicators.Agency, error) {
	if f.refused {
		return nil, nil
	}
	if f.Formula {
		v.formula(n, f, colAgency)
		return nil, nil
	}
	if !f.Set {
		switch {
		case v.agency != nil:
			return v.agency, nil
		case !v.h.Defaults:
			v.problemAt(n, f, colAgency, msgRequired)
		}
		return nil, nil
	}
	code := trimSpace(f.Text)
	a, ok := v.r.Registry.Get(code)
	switch {
	case !isText(f) || code == "":
		v.problemAt(n, f, colAgency, msgAgencyNotText)
	case !ok:
		v.problemAt(n, f, colAgency, msgUnknownAgency, code)
	case v.r.Scope != "" && !v.r.Registry.Within(code, v.r.Scope):
		return nil, &ForbiddenError{Token: v.r.Token, Scope: v.r.Scope, Agency: code, Place: f.Place}
	case v.agency != nil && !v.r.Registry.Within(code, v.agency.Code):
		v.problemAt(n, f, colAgency, msgAgencyMismatch,
			code, v.agency.Code)
	default:
		return a, nil
	}
	return nil, nil
}

// rowPeriod finds the period a row is for: its own, else the header's.
func (v *Validator) rowPeriod(n int, f Field) period.Period {
	if f.refused {
		return period.Period{}
	}
	if f.Formula {
		v.formula(n, f, colPeriod)
		return period.Period{}
	}
	if !f.Set {
		if !v.period.IsZero() {
			return v.period
		}
		if !v.h.Defaults {
			v.problemAt(n, f, colPeriod, msgRequired)
		}
		return period.Period{}
	}
	if !isPeriodText(f) {
		v.problemAt(n, f, colPeriod, msgPeriodNotText)
		return period.Period{}
	}
	pr := v.parsePeriod(f.Text)
	if pr.rule != "" {
		v.add(Problem{Place: f.Place, Rule: pr.rule, Reason: pr.reason, row: n, col: colPeriod})
		return period.Period{}
	}
	if !v.period.IsZero() && pr.p != v.period {
		v.problemAt(n, f, colPeriod, msgPeriodMismatch, pr.p, v.period)
		return period.Period{}
	}
	return pr.p
}

func (v *Validator) formula(n int, f Field, col int) {
	v.problemAt(n, f, col, msgFormula)
}

// number reads an optional number; a present field that is not a finite number is a
// problem.
func (v *Validator) number(n int, f Field, col int) (float64, bool) {
	if !f.Set {
		return 0, false
	}
	if f.Formula {
		v.formula(n, f, col)
		return 0, false
	}
	if f.JSONType != "" && f.JSONType != "number" {
		v.problemAt(n, f, col, msgNotNumberType, jsonKind(f.JSONType))
		return 0, false
	}
	x, e := parseDecimal(f.Text, f.DecimalComma)
	switch e {
	case numberOK:
		return x, true
	case errSeparator:
		if f.DecimalComma {
			v.problemAt(n, f, col, msgNotNumberCommaSeparator, f.Text)
			break
		}
		v.problemAt(n, f, col, msgNotNumberSeparator, f.Text)
	case errAmbiguous:
		v.problemAt(n, f, col, msgAmbiguousNumber, f.Text)
	case errPercentSign:
		v.problemAt(n, f, col, msgNotNumberPercent, f.Text)
	case errOutOfRange:
		v.problemAt(n, f, col, msgNumberOutOfRange, f.Text)
	default:
		v.problemAt(n, f, col, msgNotNumber, f.Text)
	}
	return 0, false
}

// jsonKind names a JSON type as JSON does (string, boolean, array, object): the same
// word in both languages of a message.
func jsonKind(t string) string { return t }

// figures checks a row's numbers against its indicator and returns the observation's
// figures and the place that best names them.
func (v *Validator) figures(n int, r Row, ind *indicators.Indicator) (o indicators.Observation, at Place, ok bool) {
	before := v.total
	num, numOK := v.number(n, r.Numerator, colNumerator)
	den, denOK := v.number(n, r.Denominator, colDenominator)
	val, valOK := v.number(n, r.Value, colValue)
	at = r.Value.Place
	if !r.Value.Set {
		at = r.Numerator.Place
	}
	whole := func(f Field, col int, x float64) bool {
		if x != math.Trunc(x) {
			v.problemAt(n, f, col, msgNotWhole, x)
			return false
		}
		return true
	}
	if ind.IsRatio() {
		if !r.Numerator.Set {
			v.problemAt(n, r.Numerator, colNumerator, msgRequiredNumerator)
		}
		if !r.Denominator.Set {
			v.problemAt(n, r.Denominator, colDenominator, msgRequiredDenominator)
		}
		if numOK && num < 0 {
			v.problemAt(n, r.Numerator, colNumerator, msgNegative)
			numOK = false
		}
		if denOK && den <= 0 {
			v.problemAt(n, r.Denominator, colDenominator, msgZeroDenominator)
			denOK = false
		}
		numOK = numOK && whole(r.Numerator, colNumerator, num)
		denOK = denOK && whole(r.Denominator, colDenominator, den)
		if numOK && denOK {
			if num > den {
				v.problemAt(n, r.Numerator, colNumerator, msgNumeratorAboveDenominator, num, den)
			} else {
				ratio := num / den
				if ind.Unit == indicators.Percent {
					ratio *= 100
				}
				if valOK && math.Abs(val-ratio) > RatioTolerance {
					v.problemAt(n, r.Value, colValue, msgValueMismatch, val, ratio)
				}
				// The stored value is the one computed from the parts, which is what a
				// roll-up of this agency alone gives; a typed value is only checked.
				val, valOK = ratio, true
				o.Numerator, o.Denominator = new(num), new(den)
			}
		}
	} else {
		weighted := ind.Aggregation == indicators.WeightedMean
		if r.Numerator.Set {
			v.problemAt(n, r.Numerator, colNumerator, msgNotRatio)
		}
		if r.Denominator.Set && !weighted {
			v.problemAt(n, r.Denominator, colDenominator, msgNotRatio)
		}
		if denOK && weighted {
			if den <= 0 {
				v.problemAt(n, r.Denominator, colDenominator, msgZeroWeight)
			} else {
				o.Denominator = new(den)
			}
		}
		if !r.Value.Set {
			v.problemAt(n, r.Value, colValue, msgRequired)
		}
	}
	if valOK {
		if !ind.InBounds(val) {
			v.problemAt(n, r.Value, colValue, msgBounds, val, BoundsText(ind))
		}
		o.Value = val
	}
	return o, at, valOK && v.total == before
}

// BoundsText writes an indicator's bounds as [min, max].
func BoundsText(ind *indicators.Indicator) string {
	lo, hi := "-∞", "+∞"
	if ind.Bounds.Min != nil {
		lo = fmt.Sprintf("%g", *ind.Bounds.Min)
	}
	if ind.Bounds.Max != nil {
		hi = fmt.Sprintf("%g", *ind.Bounds.Max)
	}
	return "[" + lo + ", " + hi + "]"
}

// packKey gives (indicator, agency, period) 64 bits: 16 for the indicator, 24 for the
// agency, 24 for the period (kind, year and index).
func (v *Validator) packKey(ind *indicators.Indicator, a *indicators.Agency, p period.Period) uint64 {
	pk := uint64(p.Kind)<<20 | uint64(p.Year-period.MinYear)<<8 | uint64(p.Index)
	return uint64(v.indIdx[ind.Code])<<48 | uint64(v.agencyIdx[a.Code])<<24 | pk
}

// Finish reports duplicates (found by sorting the keys of every row) and returns what
// the file holds. Call it once, after the reader is done.
func (v *Validator) Finish() Result {
	if !v.duplicates {
		v.duplicates = true
		slices.SortFunc(v.keys, func(a, b rowKey) int {
			if a.key != b.key {
				if a.key < b.key {
					return -1
				}
				return 1
			}
			return a.ordinal - b.ordinal
		})
		for i := 1; i < len(v.keys); i++ {
			if v.keys[i].key != v.keys[i-1].key {
				continue
			}
			first, dup := v.keys[i-1].ordinal, v.keys[i].ordinal
			// Chains of three or more name the first row each time.
			for j := i - 1; j > 0 && v.keys[j-1].key == v.keys[i].key; j-- {
				first = v.keys[j-1].ordinal
			}
			firstAt := v.rowPlace(first)
			v.add(Problem{Place: v.rowPlace(dup), Rule: ruleOf(msgDuplicate),
				Reason: compose(msgDuplicate, firstAt), row: dup, col: colRow})
		}
		v.keys = nil
	}
	probs := slices.Clone(v.problems)
	slices.SortStableFunc(probs, compareProblems)
	return Result{Problems: probs, Total: v.total, Rows: v.rows, Good: v.good, NoData: v.nd}
}

func (v *Validator) rowPlace(ordinal int) Place {
	if v.h.RowPlace != nil {
		return v.h.RowPlace(ordinal)
	}
	return Place{Path: fmt.Sprintf("#%d", ordinal)}
}

// Total counts the problems found so far: an importer stops feeding the store at the
// first one.
func (v *Validator) Total() int { return v.total }

// clean normalises a code or period as written (see text.go): NFC, spaces trimmed. One
// with a space or an invisible character inside is refused at its place.
func (v *Validator) clean(n int, f *Field, col int) {
	if !f.Set || f.Formula || !isPeriodText(*f) {
		return
	}
	f.Text = cleanText(f.Text)
	if c, pos, bad := hidden(f.Text); bad {
		v.problemAt(n, *f, col, msgInvisibleCharacter, f.Text, c, pos)
		f.refused = true
	}
}

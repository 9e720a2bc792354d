package intake

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Checks on the zip container, made before excelize reads anything. archive/zip refuses
// to inflate an entry past its declared size, so the declared sizes checked here bound
// what excelize will ever unpack.

var (
	magicZip = []byte("PK\x03\x04")
	magicPDF = []byte("%PDF")
	magicOLE = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// maxEntries bounds the number of parts: a workbook has a few dozen.
const maxEntries = 10_000

// pkg is a checked workbook package: its zip directory and where each sheet lives.
type pkg struct {
	zr     *zip.Reader
	parts  map[string]*zip.File // by lower-cased name
	sheets []sheetRef           // in workbook order
	sst    string               // the shared string part, lower-cased
}

type sheetRef struct {
	name, part string
	state      string // "", "hidden", "veryHidden"
}

func notSupported(id msgID) error {
	return &FileError{Kind: NotSupported, Reason: compose(id)}
}

func damaged(err error) error {
	return &FileError{Kind: Damaged, Reason: compose(msgDamaged), Err: err}
}

// checkPackage refuses what is not an XLSX workbook, or would unpack past the limits.
func checkPackage(r io.ReaderAt, size int64, o XLSXOptions) (*pkg, error) {
	head := make([]byte, 8)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, magicPDF):
		return nil, notSupported(msgRenamedPDF)
	case bytes.HasPrefix(head, magicOLE):
		return nil, notSupported(msgOldXLS)
	case !bytes.HasPrefix(head, magicZip):
		return nil, notSupported(msgNotXLSX)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, damaged(err)
	}
	if len(zr.File) > maxEntries {
		return nil, &FileError{Kind: TooLarge, Reason: compose(msgTooManyParts, len(zr.File))}
	}
	p := &pkg{zr: zr, parts: make(map[string]*zip.File, len(zr.File))}
	var total uint64
	for _, f := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		p.parts[name] = f
		total += f.UncompressedSize64
		sheet := strings.HasPrefix(name, "xl/worksheets/")
		if total > uint64(o.MaxUnzipped) || (!sheet && f.UncompressedSize64 > uint64(o.MaxPart)) {
			return nil, &FileError{Kind: TooLarge, Reason: compose(msgTooLargeUnpacked, mib(o.MaxUnzipped))}
		}
	}
	if p.parts["xl/workbook.xml"] == nil {
		return nil, notSupported(msgZipNotWorkbook)
	}
	if err := p.readSheets(); err != nil {
		return nil, err
	}
	return p, nil
}

func mib(n int64) string { return strconv.FormatInt(n>>20, 10) + " MiB" }

// readSheets maps sheet names to their parts through xl/workbook.xml and its
// relationships, as excelize does.
func (p *pkg) readSheets() error {
	var wb struct {
		Sheets []struct {
			Name  string `xml:"name,attr"`
			State string `xml:"state,attr"`
			RID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := p.decode("xl/workbook.xml", &wb); err != nil {
		return err
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if p.parts["xl/_rels/workbook.xml.rels"] != nil {
		if err := p.decode("xl/_rels/workbook.xml.rels", &rels); err != nil {
			return err
		}
	}
	target := map[string]string{}
	p.sst = "xl/sharedstrings.xml"
	for _, r := range rels.Rels {
		t := strings.ReplaceAll(r.Target, "\\", "/")
		if strings.HasPrefix(t, "/") {
			t = strings.TrimPrefix(t, "/")
		} else {
			t = path.Join("xl", t)
		}
		target[r.ID] = strings.ToLower(t)
		if strings.HasSuffix(r.Type, "/sharedStrings") && p.parts[strings.ToLower(t)] != nil {
			p.sst = strings.ToLower(t)
		}
	}
	for _, s := range wb.Sheets {
		p.sheets = append(p.sheets, sheetRef{name: s.Name, part: target[s.RID], state: s.State})
	}
	return nil
}

func (p *pkg) decode(name string, v any) error {
	f := p.parts[name]
	rc, err := f.Open()
	if err != nil {
		return damaged(err)
	}
	defer rc.Close()
	if err := xml.NewDecoder(rc).Decode(v); err != nil {
		return damaged(fmt.Errorf("%s: %w", name, err))
	}
	return nil
}

func (p *pkg) sheet(name string) (sheetRef, bool) {
	for _, s := range p.sheets {
		if s.name == name {
			return s, true
		}
	}
	return sheetRef{}, false
}

// formulas lists the formula cells of a worksheet part on rows up to maxRow, keyed by
// cellKey, and counts every formula in the part. A first pass looks only for the byte
// sequences a formula element needs ("<f" or ":f" for a prefixed name: element names
// cannot be written with character references); only a part where one appears is read
// element by element with encoding/xml, which decodes references in attributes
// (r="&#68;2" is D2) as Excel does. Sheets without formulas, which is nearly all of
// them, cost little more than unzipping.
func (p *pkg) formulas(part string, maxRow int) (map[uint64]struct{}, int, error) {
	f := p.parts[part]
	if f == nil {
		return nil, 0, nil
	}
	maybe, err := mentionsFormula(f)
	if err != nil || !maybe {
		return nil, 0, err
	}
	rc, err := f.Open()
	if err != nil {
		return nil, 0, damaged(err)
	}
	defer rc.Close()
	return scanFormulas(&tagLimit{r: bufio.NewReaderSize(rc, 64<<10)}, maxRow)
}

func mentionsFormula(f *zip.File) (bool, error) {
	rc, err := f.Open()
	if err != nil {
		return false, damaged(err)
	}
	defer rc.Close()
	buf := make([]byte, 256<<10)
	carry := 0
	for {
		n, err := io.ReadFull(rc, buf[carry:])
		chunk := buf[:carry+n]
		if bytes.Contains(chunk, []byte("<f")) || bytes.Contains(chunk, []byte(":f")) {
			return true, nil
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return false, nil
		}
		if err != nil {
			return false, damaged(err)
		}
		// Keep the last byte: a "<f" may straddle two reads.
		buf[0] = chunk[len(chunk)-1]
		carry = 1
	}
}

// cellKey packs a cell's row and column.
func cellKey(col, row int) uint64 { return uint64(row)<<16 | uint64(col) }

// maxFormulaCells bounds the formula cells remembered (a few MB). Past it, and past the
// rows read, formulas are only counted; any formula not remembered makes a problem for
// the whole sheet, so none can slip through as its cached value.
const maxFormulaCells = 1 << 18

// maxTag bounds the bytes between two '<': one tag and the text after it. A real one is
// well under a kilobyte (a cell's text is at most 32,767 characters); encoding/xml holds
// a whole token in memory, so a hostile 200 MB attribute must be refused, not read.
const maxTag = 1 << 20

// maxDepth bounds element nesting: a worksheet is five or six levels deep.
const maxDepth = 64

// tagLimit fails a read once more than maxTag bytes pass without a '<'.
type tagLimit struct {
	r   io.Reader
	run int
}

func (t *tagLimit) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	for _, b := range p[:n] {
		if b == '<' {
			t.run = 0
			continue
		}
		if t.run++; t.run > maxTag {
			return 0, fmt.Errorf("a tag or text longer than %d bytes", maxTag)
		}
	}
	return n, err
}

// scanFormulas walks the elements of a worksheet with encoding/xml, tracking the current
// row and cell, and records each cell with an <f> child. Comments, CDATA and processing
// instructions are the decoder's to skip, and attribute values come back with their
// character and entity references decoded.
func scanFormulas(r io.Reader, maxRow int) (map[uint64]struct{}, int, error) {
	dec := xml.NewDecoder(r)
	cells := map[uint64]struct{}{}
	total, row, col, depth := 0, 0, 0, 0
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return cells, total, nil
		}
		if err != nil {
			return nil, 0, damaged(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			depth--
		case xml.StartElement:
			if depth++; depth > maxDepth {
				return nil, 0, damaged(fmt.Errorf("elements nested more than %d deep", maxDepth))
			}
			switch t.Name.Local {
			case "row":
				if r, ok := attr(t, "r"); ok {
					row, _ = strconv.Atoi(r)
				} else {
					row++
				}
				col = 0
			case "c":
				if ref, ok := attr(t, "r"); ok {
					col, _ = colOf(ref)
				} else {
					col++
				}
			case "f":
				total++
				if row <= maxRow && len(cells) < maxFormulaCells {
					cells[cellKey(col, row)] = struct{}{}
				}
			}
		}
	}
}

// attr finds an attribute by its local name.
func attr(e xml.StartElement, name string) (string, bool) {
	for _, a := range e.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// colOf reads the column of a cell reference such as "AB12".
func colOf(ref string) (int, bool) {
	col := 0
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c < 'A' || c > 'Z' {
			return col, col > 0
		}
		col = col*26 + int(c-'A'+1)
		if col > 16384 {
			return 0, false
		}
	}
	return col, col > 0
}

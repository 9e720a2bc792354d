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
}

type sheetRef struct {
	name, part string
	state      string // "", "hidden", "veryHidden"
}

func notSupported(vi, en string) error {
	return &FileError{Kind: NotSupported, Reason: vi + " / " + en}
}

func damaged(err error) error {
	return &FileError{Kind: Damaged,
		Reason: "tệp Excel bị hỏng hoặc bị cắt cụt; hãy lưu lại và gửi lại / the workbook is damaged or truncated; save it again and resend", Err: err}
}

// checkPackage refuses what is not an XLSX workbook, or would unpack past the limits.
func checkPackage(r io.ReaderAt, size int64, o XLSXOptions) (*pkg, error) {
	head := make([]byte, 8)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, magicPDF):
		return nil, notSupported("tệp là PDF (đổi đuôi thành .xlsx), không phải bảng tính Excel", "the file is a PDF renamed to .xlsx, not an Excel workbook")
	case bytes.HasPrefix(head, magicOLE):
		return nil, notSupported("tệp là Excel 97-2003 (.xls) hoặc đã đặt mật khẩu; hãy lưu lại dạng .xlsx không mật khẩu",
			"the file is an Excel 97-2003 (.xls) or password-protected workbook; save it as .xlsx without a password")
	case !bytes.HasPrefix(head, magicZip):
		return nil, notSupported("tệp không phải bảng tính Excel (.xlsx)", "the file is not an Excel workbook (.xlsx)")
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, damaged(err)
	}
	if len(zr.File) > maxEntries {
		return nil, tooLarge(fmt.Sprintf("%d phần", len(zr.File)), fmt.Sprintf("%d parts", len(zr.File)))
	}
	p := &pkg{zr: zr, parts: make(map[string]*zip.File, len(zr.File))}
	var total uint64
	for _, f := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		p.parts[name] = f
		total += f.UncompressedSize64
		sheet := strings.HasPrefix(name, "xl/worksheets/")
		if total > uint64(o.MaxUnzipped) || (!sheet && f.UncompressedSize64 > uint64(o.MaxPart)) {
			return nil, tooLarge(fmt.Sprintf("hơn %s khi giải nén", mib(o.MaxUnzipped)), fmt.Sprintf("more than %s unpacked", mib(o.MaxUnzipped)))
		}
	}
	if p.parts["xl/workbook.xml"] == nil {
		return nil, notSupported("tệp nén này không phải bảng tính Excel (thiếu xl/workbook.xml)", "this zip file is not an Excel workbook (no xl/workbook.xml)")
	}
	if err := p.readSheets(); err != nil {
		return nil, err
	}
	return p, nil
}

func tooLarge(vi, en string) error {
	return &FileError{Kind: TooLarge,
		Reason: "bảng tính quá lớn (" + vi + "), có thể là \"zip bomb\"; hãy gửi tệp nhỏ hơn / the workbook is too large (" + en + "), perhaps a zip bomb; send a smaller file"}
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
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if p.parts["xl/_rels/workbook.xml.rels"] != nil {
		if err := p.decode("xl/_rels/workbook.xml.rels", &rels); err != nil {
			return err
		}
	}
	target := map[string]string{}
	for _, r := range rels.Rels {
		t := strings.ReplaceAll(r.Target, "\\", "/")
		if strings.HasPrefix(t, "/") {
			t = strings.TrimPrefix(t, "/")
		} else {
			t = path.Join("xl", t)
		}
		target[r.ID] = strings.ToLower(t)
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
// sequences a formula element needs ("<f" or ":f" for a prefixed name); only a part
// where one appears is lexed tag by tag. Sheets without formulas, which is nearly all
// of them, cost little more than unzipping.
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
	return lexFormulas(bufio.NewReaderSize(rc, 64<<10), maxRow)
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

// maxTag bounds one tag; a real one is well under a kilobyte.
const maxTag = 1 << 20

// lexFormulas walks the tags of a worksheet, tracking the current row and cell, and
// records each cell with an <f> child. Text between tags never holds '<' in well-formed
// XML; comments, CDATA and processing instructions are skipped whole.
func lexFormulas(br *bufio.Reader, maxRow int) (map[uint64]struct{}, int, error) {
	cells := map[uint64]struct{}{}
	total, row, col := 0, 0, 0
	var tag []byte
	for {
		if _, err := br.ReadSlice('<'); err != nil {
			if errors.Is(err, io.EOF) {
				return cells, total, nil
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				return nil, 0, damaged(err)
			}
			continue // long text: keep skipping
		}
		tag = tag[:0]
		for {
			part, err := br.ReadSlice('>')
			tag = append(tag, part...)
			if err == nil {
				if special(tag) {
					continue
				}
				break
			}
			if !errors.Is(err, bufio.ErrBufferFull) || len(tag) > maxTag {
				return nil, 0, damaged(fmt.Errorf("unterminated tag: %w", err))
			}
		}
		if len(tag) == 0 || tag[0] == '/' || tag[0] == '?' || tag[0] == '!' {
			continue
		}
		name := tag
		if i := bytes.IndexAny(name, " \t\r\n/>"); i >= 0 {
			name = name[:i]
		}
		if i := bytes.LastIndexByte(name, ':'); i >= 0 {
			name = name[i+1:]
		}
		switch string(name) {
		case "row":
			if r, ok := attr(tag, "r"); ok {
				row, _ = strconv.Atoi(r)
			} else {
				row++
			}
			col = 0
		case "c":
			if ref, ok := attr(tag, "r"); ok {
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

// special reports whether tag is a comment, CDATA section or processing instruction
// that has not yet reached its own end (its body may hold '>').
func special(tag []byte) bool {
	switch {
	case bytes.HasPrefix(tag, []byte("!--")):
		return !bytes.HasSuffix(tag, []byte("-->"))
	case bytes.HasPrefix(tag, []byte("![CDATA[")):
		return !bytes.HasSuffix(tag, []byte("]]>"))
	case bytes.HasPrefix(tag, []byte("?")):
		return !bytes.HasSuffix(tag, []byte("?>"))
	}
	return false
}

// attr finds name="value" (or 'value') among a tag's attributes.
func attr(tag []byte, name string) (string, bool) {
	for i := 0; i < len(tag); {
		j := bytes.Index(tag[i:], []byte(name+"="))
		if j < 0 {
			return "", false
		}
		j += i
		if j > 0 && (tag[j-1] == ' ' || tag[j-1] == '\t' || tag[j-1] == '\n' || tag[j-1] == '\r') && j+len(name)+1 < len(tag) {
			q := tag[j+len(name)+1]
			if q == '"' || q == '\'' {
				rest := tag[j+len(name)+2:]
				if k := bytes.IndexByte(rest, q); k >= 0 {
					return string(rest[:k]), true
				}
			}
		}
		i = j + len(name) + 1
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

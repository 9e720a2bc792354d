package intake

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Checks on the zip container, made before any part is read. archive/zip refuses to
// inflate an entry past its declared size, so the declared sizes checked here bound
// what the readers will ever unpack.

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

// maxTag bounds the bytes of one tag, or of the text between two tags. A real one is
// well under a kilobyte (a cell's text is at most 32,767 characters); a hostile 200 MB
// attribute must be refused, not buffered.
const maxTag = 1 << 20

// maxDepth bounds element nesting: a worksheet is five or six levels deep.
const maxDepth = 64

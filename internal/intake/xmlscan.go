package intake

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// xmlScanner splits the XML of a workbook part into tags and text by looking for '<'
// with bytes.IndexByte, without encoding/xml: decoding a million-row worksheet token by
// token with encoding/xml costs several times what unzipping it does, and it was most
// of a bulk import's reading. It checks what the readers here rely on: tags nest and
// close in order, attribute values are quoted and hold no '<', character and entity
// references are well formed (in the text and attributes that are decoded), and no
// tag or text is longer than maxTag (so a hostile part cannot make it buffer more).
// Comments, processing instructions, CDATA sections and a DOCTYPE are handled as XML
// defines them. Text and attribute values are decoded on demand, as encoding/xml
// decodes them: references resolved and line ends (CR LF, CR) read as LF.
type xmlScanner struct {
	r        io.Reader
	buf      []byte
	pos, end int
	eof      bool
	rerr     error
	started  bool

	names []byte // the raw names of the open elements, one after another
	open  []int  // where each open element's name starts in names

	// The current token; its slices point into buf and last until the next call.
	kind      tokenKind
	name      []byte // local name of an element (the part after a prefix)
	attrs     []rawAttr
	selfClose bool   // the start tag ended with "/>": no end token follows
	text      []byte // raw text, or the content of a CDATA section
	cdata     bool
}

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokStart
	tokEnd
	tokText
)

type rawAttr struct{ name, value []byte } // local name, raw value

const scanBuffer = 256 << 10

func newXMLScanner(r io.Reader) *xmlScanner {
	return &xmlScanner{r: r, buf: make([]byte, scanBuffer)}
}

// errSyntax is a part that is not well-formed XML.
type errSyntax string

func (e errSyntax) Error() string { return "XML: " + string(e) }

// fill moves the unread bytes from keep on to the front of the buffer and reads more,
// growing the buffer when one token fills it, up to maxTag.
func (s *xmlScanner) fill(keep int) error {
	if s.rerr != nil {
		return s.rerr
	}
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:s.end])
		s.pos -= keep
		s.end = n
	}
	if s.end == len(s.buf) {
		if s.end > maxTag {
			return errSyntax(fmt.Sprintf("a tag or text longer than %d bytes", maxTag))
		}
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if errors.Is(err, io.EOF) {
			s.eof = true
			return nil
		}
		if err != nil {
			s.rerr = err
			return err
		}
		if n > 0 {
			return nil
		}
	}
}

// next reads the next token. Text is returned raw: see appendText.
func (s *xmlScanner) next() (tokenKind, error) {
	for {
		if s.pos >= s.end {
			if s.eof {
				if len(s.open) > 0 {
					return tokEOF, errSyntax("unexpected end of the part inside an element")
				}
				s.kind = tokEOF
				return tokEOF, nil
			}
			if err := s.fill(s.pos); err != nil {
				return tokEOF, err
			}
			if !s.started && s.end >= 3 && bytes.HasPrefix(s.buf[:s.end], []byte("\xef\xbb\xbf")) {
				s.pos = 3 // a UTF-8 byte order mark
			}
			s.started = true
			continue
		}
		b := s.buf[s.pos:s.end]
		if b[0] != '<' {
			i := bytes.IndexByte(b, '<')
			if i < 0 {
				if !s.eof {
					if err := s.fill(s.pos); err != nil {
						return tokEOF, err
					}
					continue
				}
				i = len(b)
			}
			if i > maxTag {
				return tokEOF, errSyntax(fmt.Sprintf("a tag or text longer than %d bytes", maxTag))
			}
			s.kind, s.text, s.cdata = tokText, b[:i], false
			s.pos += i
			return tokText, nil
		}
		k, n, err := s.tag(b)
		if err != nil {
			return tokEOF, err
		}
		if n == 0 { // the tag runs past the buffer
			if s.eof {
				return tokEOF, errSyntax("unexpected end of the part inside a tag")
			}
			if err := s.fill(s.pos); err != nil {
				return tokEOF, err
			}
			continue
		}
		s.pos += n
		if k == tokEOF { // a comment, a processing instruction or a DOCTYPE
			continue
		}
		s.kind = k
		return k, nil
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// localName is what follows a name's prefix, as encoding/xml splits it.
func localName(raw []byte) []byte {
	if i := bytes.IndexByte(raw, ':'); i > 0 && i < len(raw)-1 {
		return raw[i+1:]
	}
	return raw
}

// tag reads the tag at the start of b and says how many bytes it takes, or 0 when b
// ends before it does. Comments, processing instructions and a DOCTYPE are tokEOF:
// nothing for the caller.
func (s *xmlScanner) tag(b []byte) (tokenKind, int, error) {
	if len(b) < 2 {
		return 0, 0, nil
	}
	switch b[1] {
	case '/':
		i := bytes.IndexByte(b, '>')
		if i < 0 {
			return 0, 0, nil
		}
		raw := bytes.TrimRight(b[2:i], " \t\r\n")
		if len(s.open) == 0 {
			return 0, 0, errSyntax(fmt.Sprintf("unexpected end element </%s>", raw))
		}
		top := s.open[len(s.open)-1]
		if !bytes.Equal(s.names[top:], raw) {
			return 0, 0, errSyntax(fmt.Sprintf("element <%s> closed by </%s>", s.names[top:], raw))
		}
		s.name = localName(s.names[top:])
		// The name stays valid until the next token, which is all a caller needs: the
		// bytes are not overwritten before another element opens.
		s.names = s.names[:top]
		s.open = s.open[:len(s.open)-1]
		return tokEnd, i + 1, nil
	case '?':
		i := bytes.Index(b, []byte("?>"))
		if i < 0 {
			return 0, 0, nil
		}
		if err := checkDeclaration(b[2:i]); err != nil {
			return 0, 0, err
		}
		return tokEOF, i + 2, nil
	case '!':
		switch {
		case bytes.HasPrefix(b, []byte("<!--")):
			i := bytes.Index(b[4:], []byte("-->"))
			if i < 0 {
				return 0, 0, nil
			}
			return tokEOF, 4 + i + 3, nil
		case bytes.HasPrefix(b, []byte("<![CDATA[")):
			i := bytes.Index(b[9:], []byte("]]>"))
			if i < 0 {
				return 0, 0, nil
			}
			s.text, s.cdata = b[9:9+i], true
			return tokText, 9 + i + 3, nil
		case len(b) < 9:
			return 0, 0, nil
		case bytes.HasPrefix(b, []byte("<!DOCTYPE")):
			// Skip to the '>' that closes it, past any inner declarations and quotes.
			depth, quote := 0, byte(0)
			for i := 2; i < len(b); i++ {
				c := b[i]
				switch {
				case quote != 0:
					if c == quote {
						quote = 0
					}
				case c == '"' || c == '\'':
					quote = c
				case c == '<':
					depth++
				case c == '>':
					if depth == 0 {
						return tokEOF, i + 1, nil
					}
					depth--
				}
			}
			return 0, 0, nil
		}
		return 0, 0, errSyntax("invalid markup after <!")
	}
	// A start tag.
	i := 1
	for i < len(b) && !isSpace(b[i]) && b[i] != '/' && b[i] != '>' {
		i++
	}
	if i == len(b) {
		return 0, 0, nil
	}
	raw := b[1:i]
	if len(raw) == 0 {
		return 0, 0, errSyntax("a tag without a name")
	}
	s.attrs = s.attrs[:0]
	s.selfClose = false
	for {
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i == len(b) {
			return 0, 0, nil
		}
		if b[i] == '>' {
			i++
			break
		}
		if b[i] == '/' {
			if i+1 == len(b) {
				return 0, 0, nil
			}
			if b[i+1] != '>' {
				return 0, 0, errSyntax(fmt.Sprintf("expected /> in element <%s>", raw))
			}
			s.selfClose = true
			i += 2
			break
		}
		j := i
		for j < len(b) && !isSpace(b[j]) && b[j] != '=' && b[j] != '>' && b[j] != '/' {
			j++
		}
		name := b[i:j]
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j == len(b) {
			return 0, 0, nil
		}
		if b[j] != '=' || len(name) == 0 {
			return 0, 0, errSyntax(fmt.Sprintf("attribute %q of <%s> without a value", name, raw))
		}
		j++
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j == len(b) {
			return 0, 0, nil
		}
		q := b[j]
		if q != '"' && q != '\'' {
			return 0, 0, errSyntax(fmt.Sprintf("unquoted value of attribute %q of <%s>", name, raw))
		}
		k := bytes.IndexByte(b[j+1:], q)
		if k < 0 {
			return 0, 0, nil
		}
		v := b[j+1 : j+1+k]
		if bytes.IndexByte(v, '<') >= 0 {
			return 0, 0, errSyntax(fmt.Sprintf("unescaped < in attribute %q of <%s>", name, raw))
		}
		s.attrs = append(s.attrs, rawAttr{name: localName(name), value: v})
		i = j + 1 + k + 1
	}
	s.name = localName(raw)
	if !s.selfClose {
		if len(s.open) >= maxDepth {
			return 0, 0, errSyntax(fmt.Sprintf("elements nested more than %d deep", maxDepth))
		}
		s.open = append(s.open, len(s.names))
		s.names = append(s.names, raw...)
	}
	return tokStart, i, nil
}

// checkDeclaration refuses an XML declaration naming an encoding other than UTF-8:
// every spreadsheet program writes UTF-8, and reading another as UTF-8 would misread
// every non-ASCII letter.
func checkDeclaration(pi []byte) error {
	if !bytes.HasPrefix(pi, []byte("xml")) || (len(pi) > 3 && !isSpace(pi[3])) {
		return nil
	}
	i := bytes.Index(pi, []byte("encoding"))
	if i < 0 {
		return nil
	}
	rest := bytes.TrimLeft(pi[i+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return nil
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) < 2 || (rest[0] != '"' && rest[0] != '\'') {
		return errSyntax("malformed XML declaration")
	}
	end := bytes.IndexByte(rest[1:], rest[0])
	if end < 0 {
		return errSyntax("malformed XML declaration")
	}
	if enc := string(rest[1 : 1+end]); !bytes.EqualFold([]byte(enc), []byte("utf-8")) && !bytes.EqualFold([]byte(enc), []byte("utf8")) {
		return errSyntax(fmt.Sprintf("encoding %q is not supported; save the workbook again as .xlsx", enc))
	}
	return nil
}

// attr finds an attribute of the current start tag by local name; the last one wins,
// as in excelize.
func (s *xmlScanner) attr(name string) ([]byte, bool) {
	var v []byte
	found := false
	for _, a := range s.attrs {
		if string(a.name) == name {
			v, found = a.value, true
		}
	}
	return v, found
}

// skip reads to the end of the element whose start tag was just read.
func (s *xmlScanner) skip() error {
	if s.selfClose {
		return nil
	}
	for depth := 1; depth > 0; {
		k, err := s.next()
		if err != nil {
			return err
		}
		switch k {
		case tokStart:
			if !s.selfClose {
				depth++
			}
		case tokEnd:
			depth--
		case tokEOF:
			return errSyntax("unexpected end of the part")
		}
	}
	return nil
}

// appendContent reads to the end of the element whose start tag was just read and
// appends its own character data, decoded, to dst; text inside child elements is left
// out, as encoding/xml does when it decodes an element into a string.
func (s *xmlScanner) appendContent(dst []byte) ([]byte, error) {
	if s.selfClose {
		return dst, nil
	}
	for depth := 1; ; {
		k, err := s.next()
		if err != nil {
			return dst, err
		}
		switch k {
		case tokText:
			if depth == 1 {
				if dst, err = appendText(dst, s.text, s.cdata); err != nil {
					return dst, err
				}
			}
		case tokStart:
			if !s.selfClose {
				depth++
			}
		case tokEnd:
			if depth--; depth == 0 {
				return dst, nil
			}
		case tokEOF:
			return dst, errSyntax("unexpected end of the part")
		}
	}
}

// appendText decodes raw XML text onto dst: line ends read as LF, and (outside CDATA)
// the five predefined entities and character references resolved. Other entities are
// refused, as encoding/xml refuses them in strict mode.
func appendText(dst, raw []byte, cdata bool) ([]byte, error) {
	if bytes.IndexByte(raw, '\r') < 0 && (cdata || bytes.IndexByte(raw, '&') < 0) {
		return append(dst, raw...), nil
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\r':
			dst = append(dst, '\n')
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
		case c == '&' && !cdata:
			j := bytes.IndexByte(raw[i+1:], ';')
			if j < 0 {
				return dst, errSyntax(fmt.Sprintf("an & that starts no reference in %q", excerptBytes(raw[i:])))
			}
			ref := raw[i+1 : i+1+j]
			var ok bool
			if dst, ok = appendReference(dst, ref); !ok {
				return dst, errSyntax(fmt.Sprintf("invalid character entity &%s;", excerptBytes(ref)))
			}
			i += j + 1
		default:
			dst = append(dst, c)
		}
	}
	return dst, nil
}

func appendReference(dst, ref []byte) ([]byte, bool) {
	switch string(ref) {
	case "amp":
		return append(dst, '&'), true
	case "lt":
		return append(dst, '<'), true
	case "gt":
		return append(dst, '>'), true
	case "apos":
		return append(dst, '\''), true
	case "quot":
		return append(dst, '"'), true
	}
	if len(ref) < 2 || ref[0] != '#' {
		return dst, false
	}
	var n uint64
	var err error
	if len(ref) >= 3 && ref[1] == 'x' {
		n, err = strconv.ParseUint(string(ref[2:]), 16, 64)
	} else {
		n, err = strconv.ParseUint(string(ref[1:]), 10, 64)
	}
	if err != nil || n > unicode.MaxRune {
		return dst, false
	}
	// A surrogate becomes U+FFFD, as string(rune(n)) makes it in encoding/xml.
	return utf8.AppendRune(dst, rune(n)), true
}

// checkChars refuses what encoding/xml refuses in decoded text: bytes that are not
// UTF-8 and characters XML does not allow (control characters but tab and line ends,
// U+FFFE, U+FFFF).
func checkChars(b []byte) error {
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c < 0x80 {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return errSyntax("invalid UTF-8")
		}
		if !inCharacterRange(r) {
			return errSyntax(fmt.Sprintf("illegal character code %U", r))
		}
		i += n
	}
	return nil
}

func inCharacterRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

func excerptBytes(b []byte) string {
	if len(b) > 20 {
		b = b[:20]
	}
	return string(b)
}

package probe

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// hasMobileViewport reports whether the page declares
// <meta name="viewport" content="width=device-width, ...">: without it a phone lays
// the page out at desktop width and shrinks it, which is the first thing mobile
// readiness checks (Lighthouse's "viewport" audit among them) look for. Only the
// head is read; the tokenizer copes with any attribute order, quoting and case.
func hasMobileViewport(body []byte) bool {
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "body":
				return false
			case "meta":
				var isViewport bool
				var content string
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					switch string(k) {
					case "name":
						isViewport = strings.EqualFold(strings.TrimSpace(string(v)), "viewport")
					case "content":
						content = strings.ToLower(string(v))
					}
				}
				if isViewport && strings.Contains(strings.ReplaceAll(content, " ", ""), "width=device-width") {
					return true
				}
			}
		}
	}
}

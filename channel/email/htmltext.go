package email

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLToText converts an HTML body to plain text: the visible text, with
// line breaks for block elements and <br>, list items prefixed with "- ",
// link targets kept after their text when they differ from it, scripts,
// styles and the head left out, and quoted history left out too (the
// contents of <blockquote>, and of the quote containers Gmail, Yahoo and
// Outlook wrap around earlier messages). It never fails: broken HTML gives
// the text a browser would show.
func HTMLToText(src string) string { return htmlToText(src, true) }

// htmlToText converts HTML to text; dropQuotes leaves out quoted history
// (inbound replies) or keeps it (the text alternative of outbound HTML).
func htmlToText(src string, dropQuotes bool) string {
	z := html.NewTokenizer(strings.NewReader(src))
	var (
		b       strings.Builder
		skip    []atom.Atom // stack of elements whose content is dropped
		hrefs   []string
		depth   int
		quoteAt = -1 // depth of the quote container being skipped
	)
	newline := func() {
		s := b.String()
		if s != "" && !strings.HasSuffix(s, "\n") {
			b.WriteByte('\n')
		}
	}
	blankLine := func() {
		newline()
		s := b.String()
		if s != "" && !strings.HasSuffix(s, "\n\n") {
			b.WriteByte('\n')
		}
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidyText(b.String())
		case html.TextToken:
			if len(skip) > 0 || quoteAt >= 0 {
				continue
			}
			t := strings.Join(strings.Fields(string(z.Text())), " ")
			if t == "" {
				if s := b.String(); s != "" && !strings.HasSuffix(s, " ") && !strings.HasSuffix(s, "\n") && len(z.Raw()) > 0 {
					b.WriteByte(' ')
				}
				continue
			}
			raw := string(z.Raw())
			s := b.String()
			if s != "" && !strings.HasSuffix(s, "\n") && !strings.HasSuffix(s, " ") && startsWithSpace(raw) {
				b.WriteByte(' ')
			}
			b.WriteString(t)
			if endsWithSpace(raw) {
				b.WriteByte(' ')
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			var class, id, href string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch string(k) {
				case "class":
					class = string(v)
				case "id":
					id = string(v)
				case "href":
					href = string(v)
				}
			}
			selfClosing := tt == html.SelfClosingTagToken || isVoid(a)
			if !selfClosing {
				depth++
			}
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title, atom.Template, atom.Noscript:
				if !selfClosing {
					skip = append(skip, a)
				}
				continue
			}
			if dropQuotes && quoteAt < 0 && !selfClosing && (a == atom.Blockquote || isQuoteContainer(class, id)) {
				quoteAt = depth
				continue
			}
			if quoteAt >= 0 || len(skip) > 0 {
				continue
			}
			switch a {
			case atom.Br:
				b.WriteByte('\n')
			case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Table, atom.Ul, atom.Ol, atom.Pre:
				blankLine()
			case atom.Div, atom.Tr, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Dd, atom.Dt:
				newline()
			case atom.Li:
				newline()
				b.WriteString("- ")
			case atom.Td, atom.Th:
				if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") && !strings.HasSuffix(s, " ") {
					b.WriteByte(' ')
				}
			case atom.Hr:
				newline()
				b.WriteString("---\n")
			case atom.A:
				if !selfClosing {
					hrefs = append(hrefs, href)
				}
			case atom.Img:
				// Images carry no text; alt text of tracking pixels is noise.
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if isVoid(a) {
				continue
			}
			if len(skip) > 0 {
				if skip[len(skip)-1] == a {
					skip = skip[:len(skip)-1]
				}
				if depth > 0 {
					depth--
				}
				continue
			}
			if quoteAt >= 0 {
				if depth == quoteAt {
					quoteAt = -1
				}
				if depth > 0 {
					depth--
				}
				continue
			}
			if depth > 0 {
				depth--
			}
			switch a {
			case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Table, atom.Ul, atom.Ol, atom.Pre:
				blankLine()
			case atom.Div, atom.Tr, atom.Li, atom.Section, atom.Article, atom.Header, atom.Footer:
				newline()
			case atom.A:
				if n := len(hrefs); n > 0 {
					href := hrefs[n-1]
					hrefs = hrefs[:n-1]
					if keepLink(href) && !strings.Contains(b.String(), href) {
						b.WriteString(" (" + href + ")")
					}
				}
			}
		}
	}
}

func startsWithSpace(s string) bool { return s != "" && strings.ContainsRune(" \t\r\n", rune(s[0])) }
func endsWithSpace(s string) bool {
	return s != "" && strings.ContainsRune(" \t\r\n", rune(s[len(s)-1]))
}

func keepLink(href string) bool {
	h := strings.ToLower(strings.TrimSpace(href))
	return strings.HasPrefix(h, "http://") || strings.HasPrefix(h, "https://")
}

func isVoid(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input,
		atom.Link, atom.Meta, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}

// isQuoteContainer reports the wrappers mail clients put around quoted
// history in HTML replies.
func isQuoteContainer(class, id string) bool {
	for _, c := range strings.Fields(class) {
		switch c {
		case "gmail_quote", "gmail_quote_container", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote", "zmail_extra":
			return true
		}
	}
	switch id {
	case "divRplyFwdMsg", "appendonsend", "mail-editor-reference-message-container", "ymail_android_signature":
		return true
	}
	return false
}

// tidyText trims each line's trailing space, collapses runs of blank lines
// to one, and trims blank lines at both ends.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\u00a0")
		if strings.TrimSpace(l) == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, strings.TrimLeft(l, " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}

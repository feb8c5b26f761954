package template

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLToText converts an HTML email body into readable plain text: paragraphs and
// headings become blank-line separated blocks, <br> a line break, list items lines
// starting with "- " (or "1. " in ordered lists), table cells are separated by spaces,
// images become their alt text, scripts and styles are dropped, and links keep their
// target: `<a href="https://x.example/b">Book now</a>` becomes "Book now
// (https://x.example/b)" and a link whose text is its address appears once. It is used for
// the text part of emails without one and for Airbnb (SPEC C11).
func HTMLToText(s string) (string, error) {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return "", fmt.Errorf("template: html to text: %w", err)
	}
	c := &converter{}
	c.node(doc, false)
	lines := strings.Split(c.b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(strings.Join(lines, "\n")), nil
}

type converter struct {
	b       strings.Builder
	nl      int  // newlines owed before the next word
	space   bool // a space owed before the next word
	midLine bool // the current line has text
	lists   []int
}

func (c *converter) breakLines(n int) {
	if n == 0 {
		return
	}
	if c.b.Len() > 0 && n > c.nl {
		c.nl = n
	}
	c.space = false
}

func (c *converter) word(w string) {
	switch {
	case c.nl > 0:
		if c.midLine {
			c.b.WriteString(strings.Repeat("\n", c.nl))
		} else {
			c.b.WriteString(strings.Repeat("\n", c.nl-1))
		}
		c.midLine = false
	case c.space && c.midLine:
		c.b.WriteByte(' ')
	}
	c.nl, c.space = 0, false
	c.b.WriteString(w)
	c.midLine = !strings.HasSuffix(w, "\n")
}

func (c *converter) text(s string, pre bool) {
	if pre {
		c.word(s)
		return
	}
	if s != "" && isSpace(s[0]) {
		c.space = true
	}
	for _, w := range strings.Fields(s) {
		c.word(w)
		c.space = true
	}
	if s == "" || !isSpace(s[len(s)-1]) {
		c.space = false
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' || b == '\f' }

var blockBreaks = map[atom.Atom]int{
	atom.P: 2, atom.H1: 2, atom.H2: 2, atom.H3: 2, atom.H4: 2, atom.H5: 2, atom.H6: 2,
	atom.Blockquote: 2, atom.Pre: 2, atom.Table: 2, atom.Ul: 2, atom.Ol: 2, atom.Hr: 2,
	atom.Div: 1, atom.Section: 1, atom.Article: 1, atom.Header: 1, atom.Footer: 1, atom.Main: 1,
	atom.Nav: 1, atom.Aside: 1, atom.Address: 1, atom.Figure: 1, atom.Form: 1, atom.Tr: 1,
	atom.Li: 1, atom.Dt: 1, atom.Dd: 1, atom.Center: 1,
}

func (c *converter) node(n *html.Node, pre bool) {
	switch n.Type {
	case html.TextNode:
		c.text(n.Data, pre)
		return
	case html.ElementNode:
	case html.DocumentNode:
		c.children(n, pre)
		return
	default:
		return
	}
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Head, atom.Title, atom.Template, atom.Noscript:
		return
	case atom.Br:
		c.word("\n")
		return
	case atom.Img:
		if alt := attr(n, "alt"); alt != "" {
			c.text(alt, false)
		}
		return
	case atom.A:
		c.link(n)
		return
	case atom.Td, atom.Th:
		c.space = true
		c.children(n, pre)
		c.space = true
		return
	}
	brk := blockBreaks[n.DataAtom]
	c.breakLines(brk)
	switch n.DataAtom {
	case atom.Ul:
		c.lists = append(c.lists, 0)
	case atom.Ol:
		c.lists = append(c.lists, 1)
	case atom.Li:
		marker := "-"
		if k := len(c.lists); k > 0 && c.lists[k-1] > 0 {
			marker = strconv.Itoa(c.lists[k-1]) + "."
			c.lists[k-1]++
		}
		c.word(marker)
		c.space = true
	case atom.Hr:
		c.word("---")
	}
	c.children(n, pre || n.DataAtom == atom.Pre)
	if n.DataAtom == atom.Ul || n.DataAtom == atom.Ol {
		c.lists = c.lists[:len(c.lists)-1]
	}
	c.breakLines(brk)
}

func (c *converter) children(n *html.Node, pre bool) {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		c.node(ch, pre)
	}
}

// link writes a link's text followed by its target in brackets, or the target alone when
// the text is empty or the same address.
func (c *converter) link(n *html.Node) {
	inner := &converter{}
	inner.children(n, false)
	text := strings.Join(strings.Fields(inner.b.String()), " ")
	href := strings.TrimSpace(attr(n, "href"))
	lower := strings.ToLower(href)
	if href == "" || strings.HasPrefix(href, "#") || strings.HasPrefix(lower, "javascript:") {
		c.text(text, false)
		return
	}
	shown := href
	for _, scheme := range []string{"mailto:", "tel:"} {
		if strings.HasPrefix(lower, scheme) {
			shown = href[len(scheme):]
		}
	}
	switch text {
	case "", href, shown, strings.TrimSuffix(shown, "/"):
		c.text(shown, false)
	default:
		c.text(text+" ("+shown+")", false)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

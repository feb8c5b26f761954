package template

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template/parse"
	"time"
	"unicode/utf8"
)

// Default limits; see [Options].
const (
	DefaultMaxOutput     = 64 << 10
	DefaultMaxAlloc      = 1 << 20
	DefaultMaxIterations = 10_000
	DefaultMaxList       = 1_000
	DefaultTimeout       = 100 * time.Millisecond
)

// Options configures [Parse]. The zero value means the defaults.
type Options struct {
	// MaxOutput bounds the size in bytes of each rendered field. Default 64 KiB. The
	// source of each field may be as long as MaxOutput or 64 KiB, whichever is larger.
	MaxOutput int
	// MaxAlloc is the allocation budget of one render: the bytes its function calls may
	// allocate, all calls and all fields counted together. Each call is charged before
	// it allocates (see the package documentation for what counts). Default 1 MiB.
	MaxAlloc int
	// MaxIterations bounds the loop iterations of one render, all loops counted together.
	// Default 10 000.
	MaxIterations int
	// MaxList bounds the items a list-building function (until, untilStep, seq, split,
	// splitList, regexFindAll, regexSplit) produces. Default 1 000.
	MaxList int
	// Timeout is the time budget of one render. Default 100 ms.
	Timeout time.Duration
	// Now is the clock used for the time budget and the template functions now, date and
	// htmlDate. Default time.Now.
	Now func() time.Time
}

// limits are the resolved limits of a template.
type limits struct {
	maxOutput int
	maxAlloc  int64
	maxList   int
	maxIter   int
	timeout   time.Duration
	now       func() time.Time
}

func (o Options) limits() (limits, error) {
	if o.MaxOutput < 0 || o.MaxAlloc < 0 || o.MaxIterations < 0 || o.MaxList < 0 || o.Timeout < 0 {
		return limits{}, fmt.Errorf("template: options: %w: limits must not be negative", ErrInvalid)
	}
	lim := limits{
		maxOutput: cmpOr(o.MaxOutput, DefaultMaxOutput),
		maxAlloc:  int64(cmpOr(o.MaxAlloc, DefaultMaxAlloc)),
		maxIter:   cmpOr(o.MaxIterations, DefaultMaxIterations),
		maxList:   cmpOr(o.MaxList, DefaultMaxList),
		timeout:   cmpOr(o.Timeout, DefaultTimeout),
		now:       o.Now,
	}
	if lim.now == nil {
		lim.now = time.Now
	}
	return lim, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// builtinFuncs is the function table, built once and never changed, with the name map
// the parser checks function names against.
var builtinFuncs = sync.OnceValues(func() (funcTable, map[string]any) {
	ft := newFuncTable()
	return ft, ft.names()
})

// Source is the text of a template as staff write it.
type Source struct {
	// Name identifies the template in errors and logs.
	Name string
	// Subject is the subject line (email, push); optional.
	Subject string
	// Text is the plain-text body.
	Text string
	// HTML is the HTML body of an email; optional. Values are escaped with html/template
	// semantics.
	HTML string
}

// Template is a parsed template. It is immutable and safe for concurrent use: parse once,
// check and render many times.
type Template struct {
	name   string
	cat    *Catalog
	lim    limits
	funcs  funcTable
	fields [3]*field // subject, text, html; nil when empty
	roots  []rootScope
}

// field is one parsed part of a template: a program for the executor (subject, text)
// or an HTML program.
type field struct {
	name Field
	src  string
	prog *program
	html *htmlProgram
	refs []ref
}

// ref is a variable reference found in a field.
type ref struct {
	path      string // absolute path without the leading dot: "Booking.CheckIn"
	line, col int
}

// rootScope is a root field name a template references and the scope providing it.
type rootScope struct {
	root  string
	scope Scope
}

var fieldOrder = [3]Field{FieldSubject, FieldText, FieldHTML}

// Parse parses src against the catalog cat. Syntax errors in any field are returned
// together as a [*CheckError] whose problems have kind [KindSyntax] (Go's parser stops
// at the first error of each field). A template needs a text or an HTML body.
//
// Templates may not use define, block or template: a message template is one text.
func Parse(cat *Catalog, src Source, opts Options) (*Template, error) {
	if cat == nil {
		return nil, fmt.Errorf("template: parse %q: %w: nil catalog", src.Name, ErrInvalid)
	}
	lim, err := opts.limits()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(src.Text) == "" && strings.TrimSpace(src.HTML) == "" {
		return nil, fmt.Errorf("template: parse %q: %w: a text or HTML body is required", src.Name, ErrInvalid)
	}
	funcs, _ := builtinFuncs()
	t := &Template{name: src.Name, cat: cat, lim: lim, funcs: funcs}
	var problems []Problem
	for i, text := range [3]string{src.Subject, src.Text, src.HTML} {
		if text == "" {
			continue
		}
		f, ps := t.parseField(fieldOrder[i], text)
		problems = append(problems, ps...)
		t.fields[i] = f
	}
	if len(problems) > 0 {
		return nil, &CheckError{Problems: problems}
	}
	t.collectRoots()
	return t, nil
}

// WithSubject returns a copy of t whose subject is subject, for one send (SPEC C4); t is
// left unchanged. An empty subject removes it.
func (t *Template) WithSubject(subject string) (*Template, error) {
	c := *t
	c.fields[0] = nil
	if subject != "" {
		f, ps := c.parseField(FieldSubject, subject)
		if len(ps) > 0 {
			return nil, &CheckError{Problems: ps}
		}
		c.fields[0] = f
	}
	c.collectRoots()
	return &c, nil
}

// Name returns the template's name.
func (t *Template) Name() string { return t.name }

// Source returns the template's text.
func (t *Template) Source() Source {
	s := Source{Name: t.name}
	dst := [3]*string{&s.Subject, &s.Text, &s.HTML}
	for i, f := range t.fields {
		if f != nil {
			*dst[i] = f.src
		}
	}
	return s
}

// Variables returns the variables the template references, as absolute paths with their
// leading dot (".Contact.FirstName"), each once, in order of first use.
func (t *Template) Variables() []string {
	var out []string
	for _, f := range t.fields {
		if f == nil {
			continue
		}
		for _, r := range f.refs {
			if p := "." + r.path; !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func (t *Template) collectRoots() {
	roots := t.cat.rootsSnapshot()
	t.roots = nil
	for _, f := range t.fields {
		if f == nil {
			continue
		}
		for _, r := range f.refs {
			root, _, _ := strings.Cut(r.path, ".")
			s, ok := roots[root]
			if ok && !slices.ContainsFunc(t.roots, func(rs rootScope) bool { return rs.root == root }) {
				t.roots = append(t.roots, rootScope{root: root, scope: s})
			}
		}
	}
}

// Check reports, without rendering, every variable of the template that is not in the
// catalog and every variable whose scope is not among provided (the scopes the send
// context supplies), each with its field, line and column (SPEC C5). It returns nil or a
// [*CheckError].
//
// Variables are followed through `with` blocks (`{{ with .Booking }}{{ .CheckIn }}`) and
// `$` (`$.Contact.FirstName`); fields of range elements and of other variables are not
// checked. A variable guarded by a default or a condition is reported too: in a context
// without its scope it could never have a value.
func (t *Template) Check(provided ...Scope) error {
	var problems []Problem
	for _, f := range t.fields {
		if f == nil {
			continue
		}
		for _, r := range f.refs {
			p := Problem{Field: f.name, Line: r.line, Column: r.col, Variable: "." + r.path}
			root, _, hasField := strings.Cut(r.path, ".")
			scope, ok := t.cat.ScopeOf(root)
			p.Scope = scope
			switch {
			case !ok:
				p.Kind = KindUnknownVariable
				p.Message = fmt.Sprintf("unknown variable %s: no scope has the root %q", p.Variable, root)
			case hasField && !t.cat.known(r.path):
				p.Kind = KindUnknownVariable
				p.Message = fmt.Sprintf("unknown variable %s", p.Variable)
			case !slices.Contains(provided, scope):
				p.Kind = KindScopeUnavailable
				p.Message = fmt.Sprintf("%s needs the %s scope, which this context does not provide", p.Variable, scope)
			default:
				continue
			}
			problems = append(problems, p)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return &CheckError{Problems: problems}
}

// parseField parses one field and compiles it: a program for a subject or text body,
// a rewritten html/template for an HTML body.
func (t *Template) parseField(name Field, src string) (*field, []Problem) {
	if limit := max(t.lim.maxOutput, DefaultMaxOutput); len(src) > limit {
		return nil, []Problem{{Field: name, Line: 1, Column: 1, Kind: KindSyntax,
			Message: fmt.Sprintf("the %s is %d bytes long, more than the limit of %d", name, len(src), limit)}}
	}
	_, names := builtinFuncs()
	trees, err := parse.Parse(string(name), src, "", "", names)
	if err != nil {
		return nil, []Problem{syntaxProblem(name, src, err)}
	}
	tree := trees[string(name)]
	if len(trees) != 1 || tree == nil {
		line, col := position(src, max(strings.Index(src, "define"), strings.Index(src, "block"), 0))
		return nil, []Problem{{Field: name, Line: line, Column: col, Kind: KindSyntax,
			Message: "define and block are not available in message templates"}}
	}
	f := &field{name: name, src: src}
	c := &compiler{f: f, funcs: t.funcs, html: name == FieldHTML}
	if !c.html {
		f.prog = c.compile(tree)
		if len(c.problems) > 0 {
			return nil, c.problems
		}
		return f, nil
	}
	c.list(tree.Root, dotCtx{known: true})
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	h, ps := newHTMLProgram(name, src, tree, c.pipes)
	if len(ps) > 0 {
		return nil, ps
	}
	f.html = h
	return f, nil
}

var (
	parseErrRE = regexp.MustCompile(`^template: [^:]*:(\d+):(?:(\d+):)? ?(.*)$`)
	quotedRE   = regexp.MustCompile(`"([^"]+)"`)
)

// syntaxProblem converts a parse error into a Problem, finding a column on a best-effort
// basis (text/template reports lines only).
func syntaxProblem(name Field, src string, err error) Problem {
	p := Problem{Field: name, Line: 1, Column: 1, Kind: KindSyntax, Message: err.Error()}
	m := parseErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		return p
	}
	p.Message = m[3]
	p.Line, _ = strconv.Atoi(m[1])
	lines := strings.Split(src, "\n")
	if p.Line < 1 || p.Line > len(lines) {
		p.Line = min(max(p.Line, 1), len(lines))
		return p
	}
	text := lines[p.Line-1]
	at := -1
	if q := quotedRE.FindStringSubmatch(p.Message); q != nil {
		at = strings.Index(text, q[1])
	}
	if at < 0 {
		at = strings.LastIndex(text, "{{")
	}
	if at > 0 {
		p.Column = utf8.RuneCountInString(text[:at]) + 1
	}
	return p
}

// position converts a byte offset into a 1-based line and character column.
func position(src string, pos int) (line, col int) {
	pos = min(max(pos, 0), len(src))
	before := src[:pos]
	line = 1 + strings.Count(before, "\n")
	start := strings.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCountInString(before[start:]) + 1
}

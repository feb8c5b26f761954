package template

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"
)

// Default limits; see [Options].
const (
	DefaultMaxOutput     = 64 << 10
	DefaultMaxIterations = 10_000
	DefaultMaxList       = 1_000
	DefaultTimeout       = 100 * time.Millisecond
)

// Options configures [Parse]. The zero value means the defaults.
type Options struct {
	// MaxOutput bounds the size in bytes of each rendered field and of any string or list
	// a template builds. Default 64 KiB. The source of each field may be as long as
	// MaxOutput or 64 KiB, whichever is larger.
	MaxOutput int
	// MaxIterations bounds the loop iterations of one render, all loops counted together.
	// Default 10 000.
	MaxIterations int
	// MaxList bounds the items a list-building function (until, untilStep, seq) produces.
	// Default 1 000.
	MaxList int
	// Timeout is the time budget of one render. Default 100 ms.
	Timeout time.Duration
	// Now is the clock used for the time budget and the template function now.
	// Default time.Now.
	Now func() time.Time
}

func (o Options) limits() (limits, error) {
	if o.MaxOutput < 0 || o.MaxIterations < 0 || o.MaxList < 0 || o.Timeout < 0 {
		return limits{}, fmt.Errorf("template: options: %w: limits must not be negative", ErrInvalid)
	}
	lim := limits{
		maxOutput: cmpOr(o.MaxOutput, DefaultMaxOutput),
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
	funcs  map[string]any
	fields [3]*field // subject, text, html; nil when empty
	roots  []rootScope
}

// field is one parsed part of a template.
type field struct {
	name Field
	src  string
	exec interface {
		Execute(io.Writer, any) error
	}
	refs []ref
}

// ref is a variable reference found in a field.
type ref struct {
	path      string // absolute path without the leading dot: "Booking.CheckIn"
	pos       int    // byte offset in the field's source
	node      int    // the parser's offset of the node (where exec errors point)
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
	t := &Template{name: src.Name, cat: cat, lim: lim, funcs: funcMap(lim)}
	addInternalFuncs(t.funcs, lim)
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

// parseField parses one field, rewrites its tree for safe rendering and collects its
// variable references.
func (t *Template) parseField(name Field, src string) (*field, []Problem) {
	if limit := max(t.lim.maxOutput, DefaultMaxOutput); len(src) > limit {
		return nil, []Problem{{Field: name, Line: 1, Column: 1, Kind: KindSyntax,
			Message: fmt.Sprintf("the %s is %d bytes long, more than the limit of %d", name, len(src), limit)}}
	}
	tt, err := texttemplate.New(string(name)).Option("missingkey=error").Funcs(t.funcs).Parse(src)
	if err != nil {
		return nil, []Problem{syntaxProblem(name, src, err)}
	}
	if len(tt.Templates()) > 1 || tt.Tree == nil {
		line, col := position(src, max(strings.Index(src, "define"), strings.Index(src, "block"), 0))
		return nil, []Problem{{Field: name, Line: line, Column: col, Kind: KindSyntax,
			Message: "define and block are not available in message templates"}}
	}
	f := &field{name: name, src: src}
	w := &walker{f: f}
	w.list(tt.Tree.Root, dotCtx{known: true})
	if len(w.problems) > 0 {
		return nil, w.problems
	}
	if name != FieldHTML {
		f.exec = tt
		return f, nil
	}
	ht, err := htmltemplate.New(string(name)).Option("missingkey=error").Funcs(t.funcs).AddParseTree(string(name), tt.Tree)
	if err != nil {
		return nil, []Problem{syntaxProblem(name, src, err)}
	}
	// html/template escapes on first execution; run it once on no data to surface
	// escaping errors now. The run stops at the first variable, loop or write.
	err = ht.Execute(&limitWriter{st: &renderState{}}, nil)
	var he *htmltemplate.Error
	if errors.As(err, &he) && he.ErrorCode != htmltemplate.ErrorCode(0) {
		p := Problem{Field: name, Line: max(he.Line, 1), Column: 1, Kind: KindSyntax, Message: he.Description}
		if he.Node != nil {
			p.Line, p.Column = position(src, int(he.Node.Position()))
		}
		return nil, []Problem{p}
	}
	f.exec = ht
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

// dotCtx is what the walker knows about dot: the absolute path it holds ("" for the
// root) when known.
type dotCtx struct {
	path  string
	known bool
}

func (d dotCtx) join(idents []string) (string, bool) {
	if !d.known {
		return "", false
	}
	if d.path == "" {
		return strings.Join(idents, "."), true
	}
	return d.path + "." + strings.Join(idents, "."), true
}

// tolerantFuncs accept a missing value: a variable passed to them (or piped into them)
// is looked up without the missing-key error, so `.X | default "y"` works.
var tolerantFuncs = map[string]bool{"default": true, "coalesce": true, "empty": true, "and": true, "or": true, "not": true}

// walker walks a parse tree: it records variable references with positions, rewrites
// tolerated references into lookups, and adds loop guards.
type walker struct {
	f        *field
	problems []Problem
}

func (w *walker) list(l *parse.ListNode, dot dotCtx) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			w.pipe(n.Pipe, dot, false)
		case *parse.IfNode:
			w.pipe(n.Pipe, dot, true)
			w.list(n.List, dot)
			w.list(n.ElseList, dot)
		case *parse.WithNode:
			inner := dotOf(n.Pipe, dot)
			w.pipe(n.Pipe, dot, true)
			w.list(n.List, inner)
			w.list(n.ElseList, dot)
		case *parse.RangeNode:
			w.pipe(n.Pipe, dot, false)
			guardRange(n)
			w.list(n.List, dotCtx{})
			w.list(n.ElseList, dot)
		case *parse.TemplateNode:
			line, col := position(w.f.src, max(strings.LastIndex(w.f.src[:n.Pos], "{{"), 0))
			w.problems = append(w.problems, Problem{Field: w.f.name, Line: line, Column: col, Kind: KindSyntax,
				Message: "template calls are not available in message templates"})
		}
	}
}

// pipe walks a pipeline. cond is true for if/with conditions, where a bare variable is
// a presence test and tolerates a missing value.
func (w *walker) pipe(p *parse.PipeNode, dot dotCtx, cond bool) {
	if p == nil {
		return
	}
	for i, cmd := range p.Cmds {
		fn := funcName(cmd)
		bare := len(cmd.Args) == 1 && ((cond && len(p.Cmds) == 1) || (i+1 < len(p.Cmds) && tolerantFuncs[funcName(p.Cmds[i+1])]))
		for j, arg := range cmd.Args {
			cmd.Args[j] = w.arg(arg, dot, bare || (j > 0 && tolerantFuncs[fn]))
		}
	}
}

func (w *walker) arg(n parse.Node, dot dotCtx, tolerant bool) parse.Node {
	switch a := n.(type) {
	case *parse.FieldNode:
		// The parser places a chain of fields at its second element; move to its start.
		start := int(a.Pos)
		if len(a.Ident) > 1 {
			start -= len(a.Ident[0]) + 1
		}
		w.ref(dot, a.Ident, parse.Pos(max(start, 0)), a.Pos)
		if tolerant {
			return lookupPipe(&parse.DotNode{NodeType: parse.NodeDot, Pos: a.Pos}, a.Ident, a.Pos)
		}
	case *parse.VariableNode:
		if a.Ident[0] == "$" && len(a.Ident) > 1 {
			// The parser places `$.X` at its first field; move to the `$`.
			w.ref(dotCtx{known: true}, a.Ident[1:], a.Pos-1, a.Pos)
		}
		if tolerant && len(a.Ident) > 1 {
			recv := &parse.VariableNode{NodeType: parse.NodeVariable, Pos: a.Pos, Ident: a.Ident[:1]}
			return lookupPipe(recv, a.Ident[1:], a.Pos)
		}
	case *parse.ChainNode:
		a.Node = w.arg(a.Node, dot, false)
	case *parse.PipeNode:
		w.pipe(a, dot, tolerant)
	}
	return n
}

func (w *walker) ref(dot dotCtx, idents []string, pos, node parse.Pos) {
	path, ok := dot.join(idents)
	if !ok {
		return
	}
	line, col := position(w.f.src, int(pos))
	w.f.refs = append(w.f.refs, ref{path: path, pos: int(pos), node: int(node), line: line, col: col})
}

func funcName(cmd *parse.CommandNode) string {
	if len(cmd.Args) > 0 {
		if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok {
			return id.Ident
		}
	}
	return ""
}

// dotOf returns what dot holds inside `with p`.
func dotOf(p *parse.PipeNode, dot dotCtx) dotCtx {
	if len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return dotCtx{}
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		path, ok := dot.join(a.Ident)
		return dotCtx{path: path, known: ok}
	case *parse.VariableNode:
		if a.Ident[0] == "$" {
			return dotCtx{path: strings.Join(a.Ident[1:], "."), known: true}
		}
	case *parse.DotNode:
		return dot
	}
	return dotCtx{}
}

// lookupPipe builds `(parleyLookup recv "A" "B")`.
func lookupPipe(recv parse.Node, names []string, pos parse.Pos) *parse.PipeNode {
	args := []parse.Node{parse.NewIdentifier(fnLookup).SetPos(pos), recv}
	for _, n := range names {
		args = append(args, &parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(n), Text: n})
	}
	return &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: pos, Args: args}}}
}

// guardRange makes `range X` run `range X | parleyRange $`, which counts the iterations
// against the limit before the loop starts, and makes each iteration start with
// `{{ $parleyTick := parleyTick $ }}`, which checks the time budget and the context.
func guardRange(n *parse.RangeNode) {
	root := func() parse.Node {
		return &parse.VariableNode{NodeType: parse.NodeVariable, Pos: n.Pos, Ident: []string{"$"}}
	}
	n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos,
		Args: []parse.Node{parse.NewIdentifier(fnRange).SetPos(n.Pos), root()}})
	if n.List == nil {
		return
	}
	tick := &parse.ActionNode{NodeType: parse.NodeAction, Pos: n.Pos, Line: n.Line, Pipe: &parse.PipeNode{
		NodeType: parse.NodePipe, Pos: n.Pos, Line: n.Line,
		Decl: []*parse.VariableNode{{NodeType: parse.NodeVariable, Pos: n.Pos, Ident: []string{"$parleyTick"}}},
		Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: n.Pos,
			Args: []parse.Node{parse.NewIdentifier(fnTick).SetPos(n.Pos), root()}}},
	}}
	n.List.Nodes = append([]parse.Node{tick}, n.List.Nodes...)
}

package template

import (
	"errors"
	htmltemplate "html/template"
	"io"
	"reflect"
	"strconv"
	"strings"
	"text/template/parse"
)

// HTML bodies keep html/template's contextual escaping, which works on a parse tree that
// text/template executes. The tree is rewritten so that text/template only walks it
// (text, if, with, range, variables) while every pipeline is evaluated by this package's
// executor, with its budget, limits and printing rules:
//
//	{{ .Contact.FirstName | upper }}  →  {{ parleyEval3 $parleyState . }}
//	{{ range $i, $x := .List }}       →  {{ range $i, $x := parleyEval4 $parleyState . }}{{ $parleyTick := parleyTick $parleyState }}
//	{{ printf "%d" $i }}              →  {{ parleyEval5 $parleyState . $i }}
//
// html/template then appends its escapers to the rewritten pipelines. The render state
// is the data given to Execute, stored at the top in $parleyState (templates cannot name
// variables starting with $parley); each pipeline has its own function, which receives
// dot and the variables the pipeline reads.

// htmlMode is what a rewritten pipeline's value is used for.
type htmlMode uint8

const (
	modePrint htmlMode = iota // printed: strings, numbers and booleans as they are, the rest printed by the executor
	modeValue                 // a condition or a variable: the value as it is
	modeRange                 // ranged over: the iterations counted first
)

const (
	fnEval   = "parleyEval"
	fnTick   = "parleyTick"
	stateVar = "$parleyState"
)

// htmlPipe is one pipeline of an HTML body.
type htmlPipe struct {
	pipe *pipeline
	mode htmlMode
	free []string // the variables text/template passes, in order
}

// htmlProgram is a compiled HTML body.
type htmlProgram struct {
	tmpl  *htmltemplate.Template
	pipes []htmlPipe
}

// rewrite returns the pipeline that replaces orig: a call of parleyEval for the
// pipeline just compiled, keeping orig's declarations and, for a printed pipeline, a
// trailing predefined escaper (html, urlquery) for html/template to merge with its own.
func (c *compiler) rewrite(orig *parse.PipeNode, mode htmlMode) *parse.PipeNode {
	id := len(c.pipes) - 1
	pos := orig.Pos
	args := []parse.Node{
		parse.NewIdentifier(fnEval + strconv.Itoa(id)).SetPos(pos),
		&parse.VariableNode{NodeType: parse.NodeVariable, Pos: pos, Ident: []string{stateVar}},
		&parse.DotNode{NodeType: parse.NodeDot, Pos: pos},
	}
	for _, name := range c.pipes[id].free {
		args = append(args, &parse.VariableNode{NodeType: parse.NodeVariable, Pos: pos, Ident: []string{name}})
	}
	cmds := []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: pos, Args: args}}
	if mode == modePrint && c.tail != nil {
		cmds = append(cmds, c.tail)
	}
	return &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Line: orig.Line, IsAssign: orig.IsAssign, Decl: orig.Decl, Cmds: cmds}
}

// predefinedEscapers are the text/template functions html/template treats as escapers.
var predefinedEscapers = map[string]bool{"html": true, "urlquery": true}

// htmlEscaperTail returns the commands of a printed HTML pipeline that the executor
// runs, and sets c.tail to a trailing predefined escaper, which stays in the tree. Like
// html/template, it refuses a predefined escaper anywhere else in the pipeline.
func (c *compiler) htmlEscaperTail(p *parse.PipeNode) []*parse.CommandNode {
	c.tail = nil
	cmds := p.Cmds
	for _, cmd := range cmds[:len(cmds)-1] {
		if name := funcName(cmd); predefinedEscapers[name] {
			c.problem(cmd.Position(), "predefined escaper %q disallowed in template", name)
		}
	}
	last := cmds[len(cmds)-1]
	name := funcName(last)
	if !predefinedEscapers[name] {
		return cmds
	}
	pos := last.Args[0].Position()
	c.tail = &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{parse.NewIdentifier(name).SetPos(pos)}}
	if len(cmds) == 1 && len(last.Args) > 1 {
		// {{ html a b }} is {{ print a b | html }}, as html/template reads it.
		args := append([]parse.Node{parse.NewIdentifier("print").SetPos(pos)}, last.Args[1:]...)
		return []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: last.Pos, Args: args}}
	}
	return cmds[:len(cmds)-1]
}

// guardRange makes each iteration of a range start with `{{ $parleyTick := parleyTick
// $parleyState }}`, which checks the context and the time budget.
func guardRange(n *parse.RangeNode) {
	tick := &parse.ActionNode{NodeType: parse.NodeAction, Pos: n.Pos, Line: n.Line, Pipe: &parse.PipeNode{
		NodeType: parse.NodePipe, Pos: n.Pos, Line: n.Line,
		Decl: []*parse.VariableNode{{NodeType: parse.NodeVariable, Pos: n.Pos, Ident: []string{"$parleyTick"}}},
		Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand, Pos: n.Pos, Args: []parse.Node{
			parse.NewIdentifier(fnTick).SetPos(n.Pos),
			&parse.VariableNode{NodeType: parse.NodeVariable, Pos: n.Pos, Ident: []string{stateVar}},
		}}},
	}}
	if n.List == nil {
		n.List = &parse.ListNode{NodeType: parse.NodeList, Pos: n.Pos}
	}
	n.List.Nodes = append([]parse.Node{tick}, n.List.Nodes...)
}

// newHTMLProgram builds the html/template of a rewritten tree and has it escape the
// tree now, so that escaping errors are reported by Parse.
func newHTMLProgram(name Field, src string, tree *parse.Tree, pipes []htmlPipe) (*htmlProgram, []Problem) {
	h := &htmlProgram{pipes: pipes}
	declare := &parse.ActionNode{NodeType: parse.NodeAction, Line: 1, Pipe: &parse.PipeNode{
		NodeType: parse.NodePipe, Line: 1,
		Decl: []*parse.VariableNode{{NodeType: parse.NodeVariable, Ident: []string{stateVar}}},
		Cmds: []*parse.CommandNode{{NodeType: parse.NodeCommand, Args: []parse.Node{&parse.DotNode{NodeType: parse.NodeDot}}}},
	}}
	tree.Root.Nodes = append([]parse.Node{declare}, tree.Root.Nodes...)
	funcs := htmltemplate.FuncMap{fnTick: tick}
	for id := range pipes {
		funcs[fnEval+strconv.Itoa(id)] = h.evalFunc(id)
	}
	ht, err := htmltemplate.New(string(name)).Funcs(funcs).AddParseTree(string(name), tree)
	if err != nil {
		return nil, []Problem{syntaxProblem(name, src, err)}
	}
	// Escaping happens on the first execution; this one stops at its first write or
	// pipeline (it has no render state).
	err = ht.Execute(io.Discard, (*renderState)(nil))
	var he *htmltemplate.Error
	if errors.As(err, &he) && he.ErrorCode != htmltemplate.ErrorCode(0) {
		p := Problem{Field: name, Line: max(he.Line, 1), Column: 1, Kind: KindSyntax, Message: he.Description}
		if he.Node != nil {
			p.Line, p.Column = position(src, int(he.Node.Position()))
		}
		return nil, []Problem{p}
	}
	h.tmpl = ht
	return h, nil
}

func tick(st *renderState) (string, error) {
	if st == nil || st.ctx == nil {
		return "", renderf("no render in progress")
	}
	if st.err != nil {
		return "", st.err
	}
	return "", st.fail(st.check())
}

// execute renders the HTML body into st.w.
func (h *htmlProgram) execute(st *renderState) error {
	err := h.tmpl.Execute(&st.w, st)
	if st.err != nil {
		return st.err
	}
	if err != nil {
		return renderf("%s", strings.TrimPrefix(err.Error(), "template: "))
	}
	return nil
}

// evalFunc returns the function text/template calls for pipeline id: without the
// variadic form when it reads fewer than three variables, which spares text/template a
// slice per call.
func (h *htmlProgram) evalFunc(id int) any {
	switch len(h.pipes[id].free) {
	case 0:
		return func(st *renderState, dot any) (any, error) { return h.eval(st, id, dot, nil) }
	case 1:
		return func(st *renderState, dot, v0 any) (any, error) { return h.eval(st, id, dot, []any{v0}) }
	case 2:
		return func(st *renderState, dot, v0, v1 any) (any, error) { return h.eval(st, id, dot, []any{v0, v1}) }
	}
	return func(st *renderState, dot any, vars ...any) (any, error) { return h.eval(st, id, dot, vars) }
}

// eval evaluates pipeline id for text/template, with dot and the variables it reads.
func (h *htmlProgram) eval(st *renderState, id int, dot any, vars []any) (any, error) {
	if st == nil || st.ctx == nil {
		return nil, renderf("no render in progress")
	}
	if st.err != nil {
		return nil, st.err
	}
	p := &h.pipes[id]
	if d, ok := dot.(*renderState); ok && d == st {
		dot = st.root
	}
	for i, v := range vars {
		if s, ok := v.(*renderState); ok && s == st {
			vars[i] = st.root
		}
	}
	st.vars = vars
	v, err := st.evalPipe(p.pipe, dot)
	if err == nil {
		switch p.mode {
		case modePrint:
			v, err = st.printHTML(p.pipe, v)
		case modeRange:
			var n int64
			if _, n, err = rangeCount(v); err == nil {
				err = st.iterate("range", n)
			}
			err = locate(p.pipe.pos, err)
		}
	}
	if err != nil {
		return nil, st.fail(err)
	}
	return v, nil
}

func locate(pos int, err error) error {
	if err == nil {
		return nil
	}
	return at(pos, "", err)
}

// printHTML returns what html/template escapes for a printed value: nil, strings
// (typed ones such as template.HTML included), numbers and booleans as they are, other
// values printed. The escaping is charged: at most 6 bytes per byte (\u003c) in a
// doubling builder, 13 bytes per byte.
const htmlEscapeCost = 13

func (st *renderState) printHTML(p *pipeline, v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, int, int64, float64:
		return v, nil
	case string:
		return v, locate(p.pos, st.charge("print", mulCost(int64(len(x)), htmlEscapeCost)))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return v, locate(p.pos, st.charge("print", mulCost(int64(rv.Len()), htmlEscapeCost)))
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return v, nil
	}
	s, err := st.printValue("print", v)
	if err == nil {
		err = st.charge("print", mulCost(int64(len(s)), htmlEscapeCost))
	}
	return s, locate(p.pos, err)
}

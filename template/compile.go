package template

import (
	"fmt"
	"reflect"
	"strings"
	"text/template/parse"
)

// The compiler turns a parse tree into a program for the executor (subjects and text
// bodies) or into a rewritten tree whose every pipeline calls the executor (HTML bodies,
// so that html/template keeps escaping them). It records variable references for Check,
// and refuses what templates may not do: template calls, method calls with arguments,
// predefined escapers inside an HTML pipeline.

// A program is a compiled field: its nodes, and how many variable slots it uses (slot 0
// holds $).
type program struct {
	nodes []node
	nvars int
}

// Nodes of a program.
type (
	node       any
	textNode   struct{ text string }
	actionNode struct {
		pipe  *pipeline
		print bool // false for a declaration or an assignment
	}
	ifNode struct {
		pipe           *pipeline
		list, elseList []node
		with           bool
	}
	rangeNode struct {
		pipe           *pipeline
		list, elseList []node
	}
	breakNode    struct{}
	continueNode struct{}
)

// A pipeline is a chain of commands, each one's result given to the next as its last
// argument.
type pipeline struct {
	pos    int
	cmds   []command
	decl   []int // variable slots the pipeline's value is stored in
	ref    string
	refPos int
}

// A command is a function call or an operand.
type command struct {
	pos       int
	fn        *funcDef
	args      []operand
	types     []reflect.Type // the parameter type of each argument (nil: any value)
	finalType reflect.Type   // the parameter type of a piped value
	op        operand        // when fn is nil
	err       error          // returned when the command runs (a wrong number of arguments …)
}

// An operand is a value in a command: a literal, dot, a field chain, a variable, a
// parenthesized pipeline or a function called without arguments.
type operand interface {
	eval(st *renderState, dot any) (any, error)
}

type (
	constOp struct{ v any }
	errOp   struct {
		pos int
		err error
	}
	dotOp   struct{}
	fieldOp struct {
		names    []string
		tolerant bool
		pos      int
		ref      string
	}
	varOp struct {
		slot     int
		names    []string
		tolerant bool
		pos      int
		ref      string
	}
	chainOp struct {
		base  operand
		names []string
		pos   int
		ref   string
	}
	pipeOp struct{ p *pipeline }
	callOp struct{ cmd command }
)

// dotCtx is what the compiler knows about dot: the absolute path it holds ("" for the
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
// is looked up without the missing-value error, so `.X | default "y"` works.
var tolerantFuncs = map[string]bool{"default": true, "coalesce": true, "empty": true, "and": true, "or": true, "not": true}

// reservedVar is the prefix of the variables the HTML rewrite declares.
const reservedVar = "$parley"

type compiler struct {
	f        *field
	funcs    funcTable
	problems []Problem

	// Text programs: the variables in scope, by slot.
	scope []string
	nvars int

	// HTML rewrite: the compiled pipelines, and the variables the pipeline being
	// compiled reads (passed to it by text/template, in this order).
	html  bool
	pipes []htmlPipe
	free  []string
	tail  *parse.CommandNode // a printed pipeline's trailing predefined escaper
}

func (c *compiler) problem(pos parse.Pos, format string, args ...any) {
	line, col := position(c.f.src, int(pos))
	c.problems = append(c.problems, Problem{Field: c.f.name, Line: line, Column: col, Kind: KindSyntax, Message: fmt.Sprintf(format, args...)})
}

// compile compiles the tree of a subject or text field into a program.
func (c *compiler) compile(t *parse.Tree) *program {
	c.scope = []string{"$"}
	c.nvars = 1
	nodes := c.list(t.Root, dotCtx{known: true})
	return &program{nodes: nodes, nvars: c.nvars}
}

func (c *compiler) list(l *parse.ListNode, dot dotCtx) []node {
	if l == nil {
		return nil
	}
	var out []node
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			out = append(out, &textNode{text: string(n.Text)})
		case *parse.ActionNode:
			mode := modePrint
			if len(n.Pipe.Decl) > 0 {
				mode = modeValue
			}
			p := c.pipe(n.Pipe, dot, false, mode)
			out = append(out, &actionNode{pipe: p, print: mode == modePrint})
			if c.html {
				n.Pipe = c.rewrite(n.Pipe, mode)
			}
		case *parse.IfNode:
			out = append(out, c.branch(&n.BranchNode, dot, dot, false))
		case *parse.WithNode:
			out = append(out, c.branch(&n.BranchNode, dot, dotOf(n.Pipe, dot), true))
		case *parse.RangeNode:
			mark := len(c.scope)
			p := c.pipe(n.Pipe, dot, false, modeRange)
			declared := len(c.scope)
			if c.html {
				n.Pipe = c.rewrite(n.Pipe, modeRange)
			}
			// Variables declared in the body end with each iteration; those of the
			// pipeline are visible in the else branch too.
			body := c.list(n.List, dotCtx{})
			if c.html {
				guardRange(n)
			}
			c.scope = c.scope[:declared]
			elseList := c.list(n.ElseList, dot)
			c.scope = c.scope[:mark]
			out = append(out, &rangeNode{pipe: p, list: body, elseList: elseList})
		case *parse.BreakNode:
			out = append(out, breakNode{})
		case *parse.ContinueNode:
			out = append(out, continueNode{})
		case *parse.TemplateNode:
			c.problem(parse.Pos(max(strings.LastIndex(c.f.src[:n.Pos], "{{"), 0)), "template calls are not available in message templates")
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (c *compiler) branch(n *parse.BranchNode, dot, inner dotCtx, with bool) node {
	mark := len(c.scope)
	p := c.pipe(n.Pipe, dot, true, modeValue)
	if c.html {
		n.Pipe = c.rewrite(n.Pipe, modeValue)
	}
	list := c.list(n.List, inner)
	elseList := c.list(n.ElseList, dot)
	c.scope = c.scope[:mark]
	return &ifNode{pipe: p, list: list, elseList: elseList, with: with}
}

// pipe compiles a pipeline. cond is true for if/with conditions, where a bare variable
// is a presence test and tolerates a missing value.
func (c *compiler) pipe(p *parse.PipeNode, dot dotCtx, cond bool, mode htmlMode) *pipeline {
	if c.html {
		c.free = c.free[:0]
	}
	out := &pipeline{pos: int(p.Pos)}
	cmds := p.Cmds
	if c.html && mode == modePrint {
		cmds = c.htmlEscaperTail(p)
	}
	for i, cmd := range cmds {
		fn := funcName(cmd)
		bare := len(cmd.Args) == 1 && ((cond && len(cmds) == 1) || (i+1 < len(cmds) && tolerantFuncs[funcName(cmds[i+1])]))
		out.cmds = append(out.cmds, c.command(cmd, dot, bare, tolerantFuncs[fn], i > 0))
	}
	if len(out.cmds) > 0 {
		switch op := out.cmds[len(out.cmds)-1].op.(type) {
		case *fieldOp:
			out.ref, out.refPos = op.ref, op.pos
		case *varOp:
			out.ref, out.refPos = op.ref, op.pos
		case *chainOp:
			out.ref, out.refPos = op.ref, op.pos
		}
	}
	for _, v := range p.Decl {
		name := v.Ident[0]
		if strings.HasPrefix(name, reservedVar) {
			c.problem(v.Pos, "variable names starting with %s are reserved", reservedVar)
		}
		if c.html {
			continue
		}
		if p.IsAssign {
			out.decl = append(out.decl, c.slot(name))
			continue
		}
		c.scope = append(c.scope, name)
		c.nvars = max(c.nvars, len(c.scope))
		out.decl = append(out.decl, len(c.scope)-1)
	}
	if c.html {
		c.pipes = append(c.pipes, htmlPipe{pipe: out, mode: mode, free: append([]string(nil), c.free...)})
	}
	return out
}

// slot returns the slot of the variable name in scope, or -1 when it was never declared.
func (c *compiler) slot(name string) int {
	if c.html {
		for i, v := range c.free {
			if v == name {
				return i
			}
		}
		c.free = append(c.free, name)
		return len(c.free) - 1
	}
	for i := len(c.scope) - 1; i >= 0; i-- {
		if c.scope[i] == name {
			return i
		}
	}
	return -1 // assigned without a declaration, which the parser lets through
}

func (c *compiler) command(cmd *parse.CommandNode, dot dotCtx, bare, tolerantArgs, piped bool) command {
	first := cmd.Args[0]
	if id, ok := first.(*parse.IdentifierNode); ok {
		f := c.funcs[id.Ident]
		out := command{pos: int(id.Pos), fn: f}
		if f == nil { // the parser knows every name of the table; defensive
			out.err = renderf("function %q is not available", id.Ident)
			return out
		}
		n := len(cmd.Args) - 1 + boolInt(piped)
		if err := f.arity(n); err != nil {
			out.err = fmt.Errorf("%w: %w", ErrRender, err)
		}
		for j, arg := range cmd.Args[1:] {
			t := f.param(j)
			out.args = append(out.args, c.operand(arg, dot, tolerantArgs, t))
			out.types = append(out.types, t)
		}
		if piped {
			out.finalType = f.param(n - 1)
		}
		return out
	}
	if len(cmd.Args) > 1 || piped {
		switch a := first.(type) {
		case *parse.FieldNode, *parse.ChainNode:
			c.problem(first.Position(), "%s: method calls with arguments are not available; only fields and methods without arguments can be read", first)
		case *parse.VariableNode:
			if len(a.Ident) > 1 {
				c.problem(first.Position(), "%s: method calls with arguments are not available; only fields and methods without arguments can be read", first)
			} else {
				c.problem(first.Position(), "%s is not a function: it cannot take arguments", first)
			}
		default:
			c.problem(first.Position(), "%s is not a function: it cannot take arguments", first)
		}
	}
	out := command{pos: int(first.Position())}
	if _, ok := first.(*parse.NilNode); ok {
		out.err = renderf("nil is not a command")
		return out
	}
	out.op = c.operand(first, dot, bare, nil)
	return out
}

func (c *compiler) operand(n parse.Node, dot dotCtx, tolerant bool, t reflect.Type) operand {
	switch a := n.(type) {
	case *parse.FieldNode:
		// The parser places a chain of fields at its second element; move to its start.
		start := int(a.Pos)
		if len(a.Ident) > 1 {
			start -= len(a.Ident[0]) + 1
		}
		start = max(start, 0)
		op := &fieldOp{names: a.Ident, tolerant: tolerant, pos: start, ref: a.String()}
		if path, ok := dot.join(a.Ident); ok {
			c.ref(path, start)
			op.ref = "." + path
		}
		return op
	case *parse.VariableNode:
		op := &varOp{slot: c.slot(a.Ident[0]), names: a.Ident[1:], tolerant: tolerant && len(a.Ident) > 1, pos: int(a.Pos), ref: a.String()}
		if strings.HasPrefix(a.Ident[0], reservedVar) {
			c.problem(a.Pos, "variable names starting with %s are reserved", reservedVar)
		}
		if a.Ident[0] == "$" && len(a.Ident) > 1 {
			// The parser places `$.X` at its first field; move to the `$`.
			op.pos = int(a.Pos) - 1
			c.ref(strings.Join(a.Ident[1:], "."), op.pos)
			op.ref = "." + strings.Join(a.Ident[1:], ".")
		}
		return op
	case *parse.ChainNode:
		return &chainOp{base: c.operand(a.Node, dot, false, nil), names: a.Field, pos: int(a.Pos), ref: a.String()}
	case *parse.PipeNode:
		return &pipeOp{p: c.subPipe(a, dot, tolerant)}
	case *parse.IdentifierNode:
		f := c.funcs[a.Ident]
		cmd := command{pos: int(a.Pos), fn: f}
		if f == nil {
			cmd.err = renderf("function %q is not available", a.Ident)
		} else if err := f.arity(0); err != nil {
			cmd.err = fmt.Errorf("%w: %w", ErrRender, err)
		}
		return &callOp{cmd: cmd}
	case *parse.DotNode:
		return dotOp{}
	case *parse.BoolNode, *parse.StringNode, *parse.NumberNode, *parse.NilNode:
		v, err := constant(n, t)
		if err != nil {
			return &errOp{pos: int(n.Position()), err: fmt.Errorf("%w: %w", ErrRender, err)}
		}
		return &constOp{v: v}
	}
	return &errOp{pos: int(n.Position()), err: renderf("can't evaluate %s", n)}
}

// subPipe compiles a parenthesized pipeline inside a command: its variables belong to
// the enclosing pipeline.
func (c *compiler) subPipe(p *parse.PipeNode, dot dotCtx, cond bool) *pipeline {
	out := &pipeline{pos: int(p.Pos)}
	for i, cmd := range p.Cmds {
		fn := funcName(cmd)
		bare := len(cmd.Args) == 1 && ((cond && len(p.Cmds) == 1) || (i+1 < len(p.Cmds) && tolerantFuncs[funcName(p.Cmds[i+1])]))
		out.cmds = append(out.cmds, c.command(cmd, dot, bare, tolerantFuncs[fn], i > 0))
	}
	return out
}

func (c *compiler) ref(path string, pos int) {
	line, col := position(c.f.src, pos)
	c.f.refs = append(c.f.refs, ref{path: path, line: line, col: col})
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

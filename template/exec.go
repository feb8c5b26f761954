package template

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// The executor runs a compiled program with text/template's semantics. Every function
// call goes through call, which charges the budget before the function runs; loops
// count their iterations before they start and check the context and the time budget
// at every iteration; printed values go through printValue.

type ctrl int8

const (
	ctrlNext ctrl = iota
	ctrlBreak
	ctrlContinue
)

// execError locates a failure in the field being rendered.
type execError struct {
	pos      int
	variable string
	err      error
}

func (e *execError) Error() string { return e.err.Error() }
func (e *execError) Unwrap() error { return e.err }

// at locates err at pos, unless it is located already.
func at(pos int, variable string, err error) error {
	if _, ok := err.(*execError); ok {
		return err
	}
	return &execError{pos: pos, variable: variable, err: err}
}

// run renders a text program into st.w.
func (st *renderState) run(p *program) error {
	if cap(st.vars) < p.nvars {
		st.vars = make([]any, p.nvars)
	}
	st.vars = st.vars[:p.nvars]
	clear(st.vars)
	st.vars[0] = st.root
	_, err := st.walk(p.nodes, st.root)
	return err
}

func (st *renderState) walk(nodes []node, dot any) (ctrl, error) {
	for _, n := range nodes {
		switch n := n.(type) {
		case *textNode:
			if err := st.w.writeString(n.text); err != nil {
				return 0, err
			}
		case *actionNode:
			v, err := st.evalPipe(n.pipe, dot)
			if err != nil {
				return 0, err
			}
			if n.print {
				if err := st.printText(n.pipe, v); err != nil {
					return 0, err
				}
			}
		case *ifNode:
			v, err := st.evalPipe(n.pipe, dot)
			if err != nil {
				return 0, err
			}
			t, ok := truth(v)
			if !ok {
				return 0, at(n.pipe.pos, "", renderf("if/with can't use a value of type %T", v))
			}
			list, inner := n.elseList, dot
			if t {
				list = n.list
				if n.with {
					inner = v
				}
			}
			if c, err := st.walk(list, inner); err != nil || c != ctrlNext {
				return c, err
			}
		case *rangeNode:
			if err := st.walkRange(n, dot); err != nil {
				return 0, err
			}
		case breakNode:
			return ctrlBreak, nil
		case continueNode:
			return ctrlContinue, nil
		}
	}
	return ctrlNext, nil
}

// rangeCount returns what range iterates over (pointers followed) and how many times:
// the length of a list or map, the value of an integer. Channels and functions (Go
// iterators) are refused: they would run host code for as long as it likes.
func rangeCount(v any) (reflect.Value, int64, error) {
	rv, _ := indirect(reflect.ValueOf(v))
	switch rv.Kind() {
	case reflect.Invalid:
		return rv, 0, nil
	case reflect.Slice, reflect.Array, reflect.Map:
		return rv, int64(rv.Len()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv, max(rv.Int(), 0), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv, int64(min(rv.Uint(), 1<<62)), nil
	case reflect.Chan, reflect.Func:
		return rv, 0, renderf("range over a %s is not available", rv.Kind())
	}
	return rv, 0, renderf("range can't iterate over a value of type %T", v)
}

func (st *renderState) walkRange(r *rangeNode, dot any) error {
	v, err := st.evalPipe(r.pipe, dot)
	if err != nil {
		return err
	}
	rv, n, err := rangeCount(v)
	if err != nil {
		return at(r.pipe.pos, "", err)
	}
	if err := st.iterate("range", n); err != nil {
		return at(r.pipe.pos, "", err)
	}
	if n == 0 {
		if r.elseList != nil {
			_, err := st.walk(r.elseList, dot)
			return err
		}
		return nil
	}
	decl := r.pipe.decl
	one := func(index, elem any) (bool, error) {
		switch len(decl) {
		case 1:
			st.vars[decl[0]] = elem
		case 2:
			st.vars[decl[0]], st.vars[decl[1]] = index, elem
		}
		if err := st.check(); err != nil {
			return false, err
		}
		c, err := st.walk(r.list, elem)
		return c == ctrlBreak, err
	}
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if l, ok := rv.Interface().([]any); ok && rv.Kind() == reflect.Slice {
			for i, e := range l {
				if stop, err := one(i, e); stop || err != nil {
					return err
				}
			}
			return nil
		}
		for i := range rv.Len() {
			e := rv.Index(i)
			if !e.CanInterface() {
				return at(r.pipe.pos, "", renderf("range over unexported values"))
			}
			if stop, err := one(i, e.Interface()); stop || err != nil {
				return err
			}
		}
	case reflect.Map:
		keys, err := sortedKeys(rv)
		if err != nil {
			return at(r.pipe.pos, "", err)
		}
		for _, k := range keys {
			e := rv.MapIndex(k)
			if !k.CanInterface() || !e.CanInterface() {
				return at(r.pipe.pos, "", renderf("range over unexported values"))
			}
			if stop, err := one(k.Interface(), e.Interface()); stop || err != nil {
				return err
			}
		}
	default: // an integer: 0 … n-1, of its type
		if len(decl) > 1 {
			return at(r.pipe.pos, "", renderf("can't use a value of type %T to iterate over more than one variable", v))
		}
		t := rv.Type()
		for i := range n {
			var e any = int(i)
			if t.Kind() != reflect.Int {
				e = reflect.ValueOf(i).Convert(t).Interface()
			}
			if stop, err := one(nil, e); stop || err != nil {
				return err
			}
		}
	}
	return nil
}

// sortedKeys returns the keys of a map in the order range visits them: numbers and
// strings ascending, false before true, others by their printed form.
func sortedKeys(m reflect.Value) ([]reflect.Value, error) {
	keys := m.MapKeys()
	if m.Type().Key().Kind() == reflect.String {
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		return keys, nil
	}
	var err error
	slices.SortFunc(keys, func(a, b reflect.Value) int {
		c, e := compareKeys(a, b)
		if e != nil && err == nil {
			err = e
		}
		return c
	})
	return keys, err
}

func compareKeys(a, b reflect.Value) (int, error) {
	if a.Kind() == reflect.Interface {
		a, b = a.Elem(), b.Elem()
		if !a.IsValid() || !b.IsValid() {
			return boolInt(a.IsValid()) - boolInt(b.IsValid()), nil
		}
		if a.Type() != b.Type() {
			return strings.Compare(a.Type().String(), b.Type().String()), nil
		}
	}
	ka, err := kindOf(a)
	if err != nil {
		return 0, renderf("range over a map with %s keys is not available", a.Type())
	}
	switch ka {
	case intKind:
		return cmpOrdered(a.Int(), b.Int()), nil
	case uintKind:
		return cmpOrdered(a.Uint(), b.Uint()), nil
	case floatKind:
		return cmpOrdered(a.Float(), b.Float()), nil
	case stringKind:
		return strings.Compare(a.String(), b.String()), nil
	case boolKind:
		return boolInt(a.Bool()) - boolInt(b.Bool()), nil
	}
	return 0, renderf("range over a map with %s keys is not available", a.Type())
}

func cmpOrdered[T int64 | uint64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (st *renderState) evalPipe(p *pipeline, dot any) (any, error) {
	var v any
	for i := range p.cmds {
		c := &p.cmds[i]
		var err error
		switch {
		case c.err != nil:
			return nil, at(c.pos, "", c.err)
		case c.fn != nil:
			v, err = st.call(c, dot, v, i > 0)
		default:
			v, err = c.op.eval(st, dot)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, s := range p.decl {
		if s < 0 {
			return nil, at(p.pos, "", renderf("assignment to an undefined variable"))
		}
		st.vars[s] = v
	}
	return v, nil
}

// call evaluates the arguments of a function, converts them to its parameter types,
// charges its cost to the budget, then calls it, turning a panic into an error.
func (st *renderState) call(c *command, dot, final any, hasFinal bool) (any, error) {
	if c.err != nil {
		return nil, at(c.pos, "", c.err)
	}
	f := c.fn
	if f.lazy {
		return st.andOr(c, dot, final, hasFinal)
	}
	base := len(st.stack)
	defer func() { st.stack = st.stack[:base] }()
	for i, a := range c.args {
		v, err := a.eval(st, dot)
		if err != nil {
			return nil, err
		}
		if t := c.types[i]; t != nil {
			if v, err = convert(v, t); err != nil {
				return nil, argError(c, a, v, err)
			}
		}
		st.stack = append(st.stack, v)
	}
	if hasFinal {
		v, err := convert(final, c.finalType)
		if err != nil {
			return nil, argError(c, nil, final, err)
		}
		st.stack = append(st.stack, v)
	}
	res, err := st.invoke(f, st.stack[base:])
	if err != nil {
		return nil, at(c.pos, "", callError(f.name, err))
	}
	return res, nil
}

func (st *renderState) invoke(f *funcDef, args []any) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	if f.cost != nil {
		n, err := f.cost(st, args)
		if err != nil {
			return nil, err
		}
		if err := st.charge(f.name, n); err != nil {
			return nil, err
		}
	}
	return f.call(st, args)
}

// callError keeps the errors of this package and the context's as they are, and wraps
// a function's own error in ErrRender.
func callError(name string, err error) error {
	var le *LimitError
	if errors.As(err, &le) || errors.Is(err, ErrRender) || errors.Is(err, ErrMissingValue) ||
		errors.Is(err, ErrOutputTooLarge) || errors.Is(err, ErrTimeBudget) || isContextError(err) {
		return err
	}
	return fmt.Errorf("%w: error calling %s: %w", ErrRender, name, err)
}

// argError reports an argument that does not fit its parameter: a missing value when
// a variable holds none, else a type error.
func argError(c *command, a operand, v any, err error) error {
	if v == nil {
		if ref, pos := refOf(a); ref != "" {
			return at(pos, ref, missingf("%s has no value: %v", ref, err))
		}
	}
	return at(c.pos, "", fmt.Errorf("%w: %s: %w", ErrRender, c.fn.name, err))
}

func refOf(a operand) (string, int) {
	switch a := a.(type) {
	case *fieldOp:
		return a.ref, a.pos
	case *varOp:
		if len(a.names) > 0 {
			return a.ref, a.pos
		}
	case *chainOp:
		return a.ref, a.pos
	}
	return "", 0
}

// andOr evaluates and's or or's arguments one at a time and stops at the first that
// decides the result.
func (st *renderState) andOr(c *command, dot, final any, hasFinal bool) (any, error) {
	isOr := c.fn.name == "or"
	var v any
	for _, a := range c.args {
		x, err := a.eval(st, dot)
		if err != nil {
			return nil, err
		}
		v = x
		if t, _ := truth(v); t == isOr {
			return v, nil
		}
	}
	if hasFinal {
		v = final
	}
	return v, nil
}

func (o *constOp) eval(*renderState, any) (any, error)  { return o.v, nil }
func (o *errOp) eval(*renderState, any) (any, error)    { return nil, at(o.pos, "", o.err) }
func (dotOp) eval(_ *renderState, dot any) (any, error) { return dot, nil }
func (o *pipeOp) eval(st *renderState, dot any) (any, error) {
	return st.evalPipe(o.p, dot)
}
func (o *callOp) eval(st *renderState, dot any) (any, error) {
	return st.call(&o.cmd, dot, nil, false)
}

func (o *fieldOp) eval(_ *renderState, dot any) (any, error) {
	return fields(dot, o.names, o.tolerant, o.pos, o.ref)
}

func (o *varOp) eval(st *renderState, _ any) (any, error) {
	if o.slot < 0 {
		return nil, at(o.pos, "", renderf("undefined variable: %s", o.ref))
	}
	v := st.vars[o.slot]
	if len(o.names) == 0 {
		return v, nil
	}
	return fields(v, o.names, o.tolerant, o.pos, o.ref)
}

func (o *chainOp) eval(st *renderState, dot any) (any, error) {
	v, err := o.base.eval(st, dot)
	if err != nil {
		return nil, err
	}
	return fields(v, o.names, false, o.pos, o.ref)
}

// fields follows names from v. A tolerant lookup gives nil for a value that is missing
// or cannot be read; a strict one fails, naming the variable.
func fields(v any, names []string, tolerant bool, pos int, ref string) (any, error) {
	for _, name := range names {
		if m, ok := v.(map[string]any); ok { // the common case, without an error on a miss
			x, found := m[name]
			if !found {
				if tolerant {
					return nil, nil
				}
				return nil, at(pos, ref, missingf("map has no entry for key %q", name))
			}
			v = x
			continue
		}
		x, err := fieldValue(v, name)
		if err != nil {
			if tolerant {
				return nil, nil
			}
			return nil, at(pos, ref, err)
		}
		v = x
	}
	return v, nil
}

// printText writes the value of an action of a text field.
func (st *renderState) printText(p *pipeline, v any) error {
	switch v := v.(type) {
	case string:
		return st.w.writeString(v)
	case nil:
		pos := p.pos
		if p.ref != "" {
			pos = p.refPos
		}
		return at(pos, p.ref, missingf("no value to print"))
	case int:
		var b [24]byte
		return st.w.writeBytes(strconv.AppendInt(b[:0], int64(v), 10))
	}
	s, err := st.printValue("print", v)
	if err != nil {
		return at(p.pos, "", err)
	}
	return st.w.writeString(s)
}

// checkEvery is how many bytes the writer accepts between checks of the context and the
// time budget.
const checkEvery = 4 << 10

// limitWriter collects a field's output, refusing to grow beyond max and checking the
// render state every checkEvery bytes.
type limitWriter struct {
	buf  strings.Builder
	max  int
	next int
	st   *renderState
}

func (w *limitWriter) writeString(s string) error {
	if w.buf.Len()+len(s) > w.max {
		return fmt.Errorf("%w: output exceeds %d bytes", ErrOutputTooLarge, w.max)
	}
	w.buf.WriteString(s)
	if w.buf.Len() >= w.next {
		w.next = w.buf.Len() + checkEvery
		return w.st.check()
	}
	return nil
}

func (w *limitWriter) writeBytes(p []byte) error {
	if w.buf.Len()+len(p) > w.max {
		return fmt.Errorf("%w: output exceeds %d bytes", ErrOutputTooLarge, w.max)
	}
	w.buf.Write(p)
	if w.buf.Len() >= w.next {
		w.next = w.buf.Len() + checkEvery
		return w.st.check()
	}
	return nil
}

// Write implements io.Writer for html/template.
func (w *limitWriter) Write(p []byte) (int, error) {
	if err := w.writeBytes(p); err != nil {
		return 0, w.st.fail(err)
	}
	return len(p), nil
}

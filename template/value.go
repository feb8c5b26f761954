package template

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"text/template/parse"
)

// This file holds how templates see host values: field and method lookups, truth,
// argument conversion, comparisons, and the printing and walking of values with cycle,
// depth and size bounds.

var (
	reflectValueType = reflect.TypeFor[reflect.Value]()
	errorType        = reflect.TypeFor[error]()
	stringerType     = reflect.TypeFor[fmt.Stringer]()
	anyType          = reflect.TypeFor[any]()
)

func missingf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMissingValue, fmt.Sprintf(format, args...))
}

func renderf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRender, fmt.Sprintf(format, args...))
}

// fieldValue returns what `.name` gives on recv, with text/template's rules: a niladic method
// of that name, else a map entry, else a struct field. The error wraps [ErrMissingValue]
// when there is no such value and [ErrRender] when there is one that cannot be read (an
// unexported field, a method that takes arguments, fails or panics).
func fieldValue(recv any, name string) (any, error) {
	switch m := recv.(type) {
	case map[string]any:
		if v, ok := m[name]; ok {
			return v, nil
		}
		return nil, missingf("map has no entry for key %q", name)
	case map[string]string:
		if v, ok := m[name]; ok {
			return v, nil
		}
		return nil, missingf("map has no entry for key %q", name)
	case nil:
		return nil, missingf("nil data; no entry for key %q", name)
	}
	return fieldOf(reflect.ValueOf(recv), name)
}

func fieldOf(recv reflect.Value, name string) (any, error) {
	typ := recv.Type()
	v, isNil := indirect(recv)
	if v.Kind() == reflect.Interface && isNil {
		return nil, missingf("nil pointer evaluating %s.%s", typ, name)
	}
	ptr := v
	if ptr.Kind() != reflect.Interface && ptr.Kind() != reflect.Pointer && ptr.CanAddr() {
		ptr = ptr.Addr()
	}
	if m := ptr.MethodByName(name); m.IsValid() {
		return callMethod(m, name)
	}
	switch v.Kind() {
	case reflect.Struct:
		sf, ok := v.Type().FieldByName(name)
		if !ok {
			break
		}
		if !sf.IsExported() {
			return nil, renderf("%s is an unexported field of struct type %s", name, typ)
		}
		f, err := v.FieldByIndexErr(sf.Index)
		if err != nil {
			return nil, missingf("%v", err)
		}
		if !f.CanInterface() {
			return nil, renderf("%s of struct type %s cannot be read", name, typ)
		}
		return f.Interface(), nil
	case reflect.Map:
		kt := v.Type().Key()
		if kt.Kind() != reflect.String {
			break
		}
		e := v.MapIndex(reflect.ValueOf(name).Convert(kt))
		if !e.IsValid() {
			return nil, missingf("map has no entry for key %q", name)
		}
		return e.Interface(), nil
	case reflect.Pointer:
		if isNil {
			return nil, missingf("nil pointer evaluating %s.%s", typ, name)
		}
	}
	return nil, missingf("can't evaluate field %s in type %s", name, typ)
}

// callMethod calls a host method found by name. Only methods without parameters and
// with one result, or a result and an error, can be called.
func callMethod(m reflect.Value, name string) (out any, err error) {
	mt := m.Type()
	if mt.NumIn() != 0 {
		return nil, renderf("method %s takes arguments: only methods without arguments can be read", name)
	}
	if mt.NumOut() == 0 || mt.NumOut() > 2 || (mt.NumOut() == 2 && mt.Out(1) != errorType) {
		return nil, renderf("method %s cannot be read: it must return a value, or a value and an error", name)
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%w: error calling %s: %w", ErrRender, name, panicError(r))
		}
	}()
	res := m.Call(nil)
	if len(res) == 2 && !res[1].IsNil() {
		return nil, fmt.Errorf("%w: error calling %s: %w", ErrRender, name, res[1].Interface().(error))
	}
	return res[0].Interface(), nil
}

// indirect follows pointers and interfaces down to a value, stopping at a nil one, which
// it returns with isNil true.
func indirect(v reflect.Value) (rv reflect.Value, isNil bool) {
	for ; v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface; v = v.Elem() {
		if v.IsNil() {
			return v, true
		}
	}
	return v, false
}

// lookup follows names from recv the way a template's field access does but returns nil
// instead of failing when a step is missing or cannot be read. Templates use it for
// values given to default, coalesce, empty, and, or, not, and for if/with conditions.
func lookup(recv any, names ...string) any {
	v := recv
	for _, name := range names {
		var err error
		if v, err = fieldValue(v, name); err != nil {
			return nil
		}
	}
	return v
}

// truth reports whether v is true in an if, with, and, or or not, with text/template's
// rules; ok is false for values that have no truth (none in Go today).
func truth(v any) (t, ok bool) {
	switch v := v.(type) {
	case nil:
		return false, true
	case bool:
		return v, true
	case string:
		return v != "", true
	case int:
		return v != 0, true
	case map[string]any:
		return len(v) > 0, true
	case []any:
		return len(v) > 0, true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return rv.Len() > 0, true
	case reflect.Bool:
		return rv.Bool(), true
	case reflect.Complex64, reflect.Complex128:
		return rv.Complex() != 0, true
	case reflect.Chan, reflect.Func, reflect.Pointer, reflect.UnsafePointer, reflect.Interface:
		return !rv.IsNil(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() != 0, true
	case reflect.Float32, reflect.Float64:
		return rv.Float() != 0, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint() != 0, true
	case reflect.Struct:
		return true, true
	}
	return false, false
}

func canBeNil(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer, reflect.Slice:
		return true
	case reflect.Struct:
		return t == reflectValueType
	}
	return false
}

// convert makes v fit a parameter of type t the way text/template does: as it is when
// assignable, through one pointer, or not at all.
func convert(v any, t reflect.Type) (any, error) {
	if t == nil || t == anyType {
		return v, nil
	}
	if v == nil {
		if canBeNil(t) {
			return reflect.Zero(t).Interface(), nil
		}
		return nil, fmt.Errorf("invalid value; expected %s", t)
	}
	vt := reflect.TypeOf(v)
	if vt == t {
		return v, nil
	}
	if vt.AssignableTo(t) {
		if t.Kind() == reflect.Interface {
			return v, nil
		}
		return reflect.ValueOf(v).Convert(t).Interface(), nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && vt.Elem().AssignableTo(t) {
		if rv.IsNil() {
			return nil, fmt.Errorf("dereference of nil pointer of type %s", t)
		}
		e := rv.Elem()
		if t.Kind() != reflect.Interface && e.Type() != t {
			e = e.Convert(t)
		}
		return e.Interface(), nil
	}
	return nil, fmt.Errorf("wrong type for value; expected %s; got %s", t, vt)
}

// idealConstant is the value of a number written in a template when nothing asks for a
// type: int, float64 or complex128.
func idealConstant(n *parse.NumberNode) (any, error) {
	switch {
	case n.IsComplex:
		return n.Complex128, nil
	case n.IsFloat && !isHexInt(n.Text) && !isRuneInt(n.Text) && containsAny(n.Text, ".eEpP"):
		return n.Float64, nil
	case n.IsInt:
		i := int(n.Int64)
		if int64(i) != n.Int64 {
			return nil, fmt.Errorf("%s overflows int", n.Text)
		}
		return i, nil
	case n.IsUint:
		return nil, fmt.Errorf("%s overflows int", n.Text)
	}
	return nil, fmt.Errorf("%s is not a number", n.Text)
}

func isRuneInt(s string) bool { return len(s) > 0 && s[0] == '\'' }

func isHexInt(s string) bool {
	return len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && !containsAny(s, "pP")
}

func containsAny(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return true
			}
		}
	}
	return false
}

// constant converts a literal to a parameter of type t as text/template does (t nil or
// an empty interface: the ideal constant).
func constant(n parse.Node, t reflect.Type) (any, error) {
	if t == nil || (t.Kind() == reflect.Interface && t.NumMethod() == 0) {
		switch n := n.(type) {
		case *parse.BoolNode:
			return n.True, nil
		case *parse.StringNode:
			return n.Text, nil
		case *parse.NumberNode:
			return idealConstant(n)
		case *parse.NilNode:
			return nil, nil
		}
		return nil, fmt.Errorf("can't handle %s", n)
	}
	if _, ok := n.(*parse.NilNode); ok {
		if canBeNil(t) {
			return reflect.Zero(t).Interface(), nil
		}
		return nil, fmt.Errorf("cannot assign nil to %s", t)
	}
	v := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.Bool:
		if b, ok := n.(*parse.BoolNode); ok {
			v.SetBool(b.True)
			return v.Interface(), nil
		}
	case reflect.String:
		if s, ok := n.(*parse.StringNode); ok {
			v.SetString(s.Text)
			return v.Interface(), nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if num, ok := n.(*parse.NumberNode); ok && num.IsInt {
			v.SetInt(num.Int64)
			return v.Interface(), nil
		}
		return nil, fmt.Errorf("expected integer; found %s", n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if num, ok := n.(*parse.NumberNode); ok && num.IsUint {
			v.SetUint(num.Uint64)
			return v.Interface(), nil
		}
		return nil, fmt.Errorf("expected unsigned integer; found %s", n)
	case reflect.Float32, reflect.Float64:
		if num, ok := n.(*parse.NumberNode); ok && num.IsFloat {
			v.SetFloat(num.Float64)
			return v.Interface(), nil
		}
		return nil, fmt.Errorf("expected float; found %s", n)
	case reflect.Complex64, reflect.Complex128:
		if num, ok := n.(*parse.NumberNode); ok && num.IsComplex {
			v.SetComplex(num.Complex128)
			return v.Interface(), nil
		}
		return nil, fmt.Errorf("expected complex; found %s", n)
	}
	return nil, fmt.Errorf("expected %s; found %s", t, n)
}

// Comparisons, with text/template's rules (eq, ne, lt, le, gt, ge).

type basicKind int

const (
	invalidKind basicKind = iota
	boolKind
	complexKind
	intKind
	floatKind
	stringKind
	uintKind
)

var errBadComparisonType = errors.New("invalid type for comparison")

func kindOf(v reflect.Value) (basicKind, error) {
	switch v.Kind() {
	case reflect.Bool:
		return boolKind, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intKind, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintKind, nil
	case reflect.Float32, reflect.Float64:
		return floatKind, nil
	case reflect.Complex64, reflect.Complex128:
		return complexKind, nil
	case reflect.String:
		return stringKind, nil
	}
	return invalidKind, errBadComparisonType
}

func isNilValue(v reflect.Value) bool {
	if !v.IsValid() {
		return true
	}
	switch v.Kind() {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer, reflect.Slice:
		return v.IsNil()
	}
	return false
}

func equal(a any, others ...any) (bool, error) {
	if len(others) == 0 {
		return false, errors.New("missing argument for comparison")
	}
	if s, ok := a.(string); ok {
		for _, o := range others {
			if t, ok := o.(string); ok {
				if s == t {
					return true, nil
				}
				continue
			}
			if eq, err := equalValues(reflect.ValueOf(a), reflect.ValueOf(o)); eq || err != nil {
				return eq, err
			}
		}
		return false, nil
	}
	arg1 := reflect.ValueOf(a)
	for _, o := range others {
		if eq, err := equalValues(arg1, reflect.ValueOf(o)); eq || err != nil {
			return eq, err
		}
	}
	return false, nil
}

func equalValues(arg1, arg reflect.Value) (bool, error) {
	k1, _ := kindOf(arg1)
	k2, _ := kindOf(arg)
	if k1 != k2 {
		switch {
		case k1 == intKind && k2 == uintKind:
			return arg1.Int() >= 0 && uint64(arg1.Int()) == arg.Uint(), nil
		case k1 == uintKind && k2 == intKind:
			return arg.Int() >= 0 && arg1.Uint() == uint64(arg.Int()), nil
		}
		if arg1.IsValid() && arg.IsValid() {
			return false, fmt.Errorf("incompatible types for comparison: %v and %v", arg1.Type(), arg.Type())
		}
	}
	switch k1 {
	case boolKind:
		return arg1.Bool() == arg.Bool(), nil
	case complexKind:
		return arg1.Complex() == arg.Complex(), nil
	case floatKind:
		return arg1.Float() == arg.Float(), nil
	case intKind:
		return arg1.Int() == arg.Int(), nil
	case stringKind:
		return arg1.String() == arg.String(), nil
	case uintKind:
		return arg1.Uint() == arg.Uint(), nil
	}
	if arg1.IsValid() && arg.IsValid() && arg1.Kind() != arg.Kind() {
		return false, fmt.Errorf("non-comparable types %v and %v", arg1.Type(), arg.Type())
	}
	if isNilValue(arg1) || isNilValue(arg) {
		return isNilValue(arg) == isNilValue(arg1), nil
	}
	if !arg.Type().Comparable() {
		return false, fmt.Errorf("non-comparable type %v", arg.Type())
	}
	return arg1.Interface() == arg.Interface(), nil
}

func less(a, b any) (bool, error) {
	arg1, arg2 := reflect.ValueOf(a), reflect.ValueOf(b)
	k1, err := kindOf(arg1)
	if err != nil {
		return false, err
	}
	k2, err := kindOf(arg2)
	if err != nil {
		return false, err
	}
	if k1 != k2 {
		switch {
		case k1 == intKind && k2 == uintKind:
			return arg1.Int() < 0 || uint64(arg1.Int()) < arg2.Uint(), nil
		case k1 == uintKind && k2 == intKind:
			return arg2.Int() >= 0 && arg1.Uint() < uint64(arg2.Int()), nil
		}
		return false, fmt.Errorf("incompatible types for comparison: %v and %v", arg1.Type(), arg2.Type())
	}
	switch k1 {
	case floatKind:
		return arg1.Float() < arg2.Float(), nil
	case intKind:
		return arg1.Int() < arg2.Int(), nil
	case stringKind:
		return arg1.String() < arg2.String(), nil
	case uintKind:
		return arg1.Uint() < arg2.Uint(), nil
	}
	return false, errBadComparisonType
}

// Printing and walking.

// printable returns the value text/template prints for v (pointers followed, a pointer
// receiver used for String or Error when there is one), or an error for values that
// cannot be printed (channels, functions).
func printable(v any) (any, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		rv, _ = indirect(rv)
	}
	if !rv.IsValid() {
		return nil, nil
	}
	if !rv.Type().Implements(errorType) && !rv.Type().Implements(stringerType) {
		if rv.CanAddr() && (reflect.PointerTo(rv.Type()).Implements(errorType) || reflect.PointerTo(rv.Type()).Implements(stringerType)) {
			rv = rv.Addr()
		} else {
			switch rv.Kind() {
			case reflect.Chan, reflect.Func:
				return nil, renderf("can't print value of type %s", rv.Type())
			}
		}
	}
	if !rv.CanInterface() {
		return nil, renderf("can't print value of type %s", rv.Type())
	}
	return rv.Interface(), nil
}

// printValue formats v as fmt's %v does, charging the budget before anything is built.
// Strings, numbers and booleans are formatted directly; other values are measured first:
// a value that contains itself, is nested deeper than [MaxDataDepth] or would print
// larger than the budget left is refused with a [*LimitError].
func (st *renderState) printValue(fn string, v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case int:
		return strconv.Itoa(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	}
	p, err := printable(v)
	if err != nil {
		return "", err
	}
	n, err := measureValue(st, fn, p, fmtMeasure)
	if err != nil {
		return "", err
	}
	if err := st.charge(fn, mulCost(n, growth)); err != nil {
		return "", err
	}
	return fmt.Sprint(p), nil
}

// measureOpts says what a measure bounds: fmt's output (any verb) or encoding/json's.
type measureOpts struct {
	json    bool  // encoding/json rules: pointers followed, exported fields, Marshal methods
	verbose bool  // type and field names are printed (%+v, %#v, %T)
	leaf    int64 // the longest a number may print
	pad     int64 // added to every printed leaf (a printf width)
	factor  int64 // bytes per string byte (escaping, hex)
}

var fmtMeasure = measureOpts{leaf: 24, factor: 1}

// measureValue returns an upper bound of the bytes fn allocates to print v with opts,
// walking v. It fails with a [*LimitError] when v contains itself (LimitCycle), is
// nested deeper than MaxDataDepth (LimitDepth) or would print larger than the budget
// left (LimitAlloc): the walk stops there, so it costs at most what the budget allows.
func measureValue(st *renderState, fn string, v any, opts measureOpts) (int64, error) {
	m := measurer{opts: opts, left: st.left(), fn: fn}
	if err := m.value(v, 0); err != nil {
		return 0, err
	}
	return m.total, nil
}

type measurer struct {
	opts  measureOpts
	left  int64
	total int64
	path  []reference // references on the current path, for cycle detection
	fn    string
}

// reference identifies a map, a slice or a pointer on a walk's path: a value contains
// itself when the same reference (address, length and type) is met again below it.
type reference struct {
	ptr uintptr
	n   int
	t   reflect.Type
}

func (m *measurer) add(n int64) error {
	m.total = addCost(m.total, n)
	if m.total > m.left {
		return &LimitError{Func: m.fn, Limit: LimitAlloc, Want: m.total, Left: m.left}
	}
	return nil
}

func (m *measurer) str(n int) error {
	return m.add(addCost(mulCost(int64(n), m.opts.factor), 2+m.opts.pad))
}

// value measures v; fast paths for the types templates and JSON produce.
func (m *measurer) value(v any, depth int) error {
	switch v := v.(type) {
	case nil:
		return m.add(5 + m.opts.pad)
	case string:
		return m.str(len(v))
	case bool:
		return m.add(5 + m.opts.pad)
	case int, int64, float64:
		return m.add(m.opts.leaf + m.opts.pad)
	case []string:
		if err := m.add(int64(2 + len(v))); err != nil {
			return err
		}
		for _, s := range v {
			if err := m.str(len(s)); err != nil {
				return err
			}
		}
		return nil
	}
	return m.reflect(reflect.ValueOf(v), depth)
}

func (m *measurer) enter(v reflect.Value, depth int) error {
	if depth > MaxDataDepth {
		return &LimitError{Func: m.fn, Limit: LimitDepth, Want: int64(depth), Left: MaxDataDepth}
	}
	r := reference{ptr: v.Pointer(), t: v.Type()}
	if v.Kind() == reflect.Slice {
		r.n = v.Len()
	}
	for _, q := range m.path {
		if q == r {
			return &LimitError{Func: m.fn, Limit: LimitCycle}
		}
	}
	m.path = append(m.path, r)
	return nil
}

func (m *measurer) leave() { m.path = m.path[:len(m.path)-1] }

// method measures what a Stringer, error, Formatter or JSON/text marshaler prints, by
// calling it; ok is false when v has none of these methods.
func (m *measurer) method(v reflect.Value) (ok bool, err error) {
	// Most values have no methods: spare them the box v.Interface() allocates.
	if v.Type().NumMethod() == 0 || !v.CanInterface() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return false, nil
	}
	x := v.Interface()
	var s string
	if m.opts.json {
		switch x := x.(type) {
		case json.Marshaler:
			b, err := safeMethod(func() ([]byte, error) { return x.MarshalJSON() })
			if err != nil {
				return true, m.add(128)
			}
			return true, m.add(mulCost(int64(len(b)), 2))
		case encoding.TextMarshaler:
			b, err := safeMethod(func() ([]byte, error) { return x.MarshalText() })
			if err != nil {
				return true, m.add(128)
			}
			return true, m.str(len(b))
		}
		return false, nil
	}
	switch x := x.(type) {
	case fmt.Formatter:
		b, _ := safeMethod(func() ([]byte, error) { return []byte(fmt.Sprint(x)), nil })
		s = string(b)
	case error:
		b, _ := safeMethod(func() ([]byte, error) { return []byte(x.Error()), nil })
		s = string(b)
	case fmt.Stringer:
		b, _ := safeMethod(func() ([]byte, error) { return []byte(x.String()), nil })
		s = string(b)
	default:
		return false, nil
	}
	// fmt prints a panicking method as "%!v(PANIC=String method: …)".
	return true, m.add(addCost(mulCost(int64(len(s)), m.opts.factor), 128+m.opts.pad))
}

// panicError describes a recovered panic without printing its value (which may be host
// data that contains itself): errors and strings by their text, other values by type.
func panicError(r any) error {
	switch r := r.(type) {
	case error:
		return r
	case string:
		return errors.New(r)
	}
	return fmt.Errorf("panic with a value of type %T", r)
}

func safeMethod(f func() ([]byte, error)) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, panicError(r)
		}
	}()
	return f()
}

func (m *measurer) reflect(v reflect.Value, depth int) error {
	if !v.IsValid() {
		return m.add(5 + m.opts.pad)
	}
	if ok, err := m.method(v); ok || err != nil {
		return err
	}
	if m.opts.verbose {
		if err := m.add(int64(len(v.Type().String()) + 2)); err != nil {
			return err
		}
	}
	switch v.Kind() {
	case reflect.Bool:
		return m.add(5 + m.opts.pad)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return m.add(m.opts.leaf + m.opts.pad)
	case reflect.Complex64, reflect.Complex128:
		return m.add(2*m.opts.leaf + 4 + m.opts.pad)
	case reflect.String:
		return m.str(v.Len())
	case reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return m.add(20 + m.opts.pad)
	case reflect.Interface:
		if v.IsNil() {
			return m.add(5 + m.opts.pad)
		}
		return m.reflect(v.Elem(), depth+1)
	case reflect.Pointer:
		if v.IsNil() {
			return m.add(5 + m.opts.pad)
		}
		// fmt follows a pointer only at the top (&{…}); encoding/json follows them all.
		if !m.opts.json && depth > 0 {
			return m.add(20 + m.opts.pad)
		}
		switch k := v.Elem().Kind(); {
		case m.opts.json, k == reflect.Struct || k == reflect.Map || k == reflect.Slice || k == reflect.Array:
			if err := m.enter(v, depth); err != nil {
				return err
			}
			defer m.leave()
			if err := m.add(1); err != nil {
				return err
			}
			return m.reflect(v.Elem(), depth+1)
		}
		return m.add(20 + m.opts.pad)
	case reflect.Slice, reflect.Array:
		n := v.Len()
		if v.Kind() == reflect.Slice {
			if v.IsNil() {
				return m.add(2)
			}
			if n > 0 {
				if err := m.enter(v, depth); err != nil {
					return err
				}
				defer m.leave()
			} else if depth > MaxDataDepth {
				return &LimitError{Func: m.fn, Limit: LimitDepth, Want: int64(depth), Left: MaxDataDepth}
			}
		} else if depth > MaxDataDepth {
			return &LimitError{Func: m.fn, Limit: LimitDepth, Want: int64(depth), Left: MaxDataDepth}
		}
		if k := v.Type().Elem().Kind(); k == reflect.Uint8 {
			// []byte prints as a list of numbers (%v) or as a string (%s, %x, json base64).
			return m.add(addCost(mulCost(int64(n), max(4, m.opts.factor)), 2+m.opts.pad))
		}
		if err := m.add(int64(2 + n)); err != nil {
			return err
		}
		for i := range n {
			if err := m.reflect(v.Index(i), depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if v.IsNil() {
			return m.add(5)
		}
		if err := m.enter(v, depth); err != nil {
			return err
		}
		defer m.leave()
		// Printing a map sorts its entries: fmt and encoding/json allocate for that too.
		if err := m.add(addCost(5, mulCost(int64(v.Len()), 64))); err != nil {
			return err
		}
		it := v.MapRange()
		for it.Next() {
			if err := m.reflect(it.Key(), depth+1); err != nil {
				return err
			}
			if err := m.reflect(it.Value(), depth+1); err != nil {
				return err
			}
		}
		return nil
	case reflect.Struct:
		if v.Type() == reflectValueType && v.CanInterface() {
			// fmt prints the value a reflect.Value holds.
			return m.reflect(v.Interface().(reflect.Value), depth+1)
		}
		if depth > MaxDataDepth {
			return &LimitError{Func: m.fn, Limit: LimitDepth, Want: int64(depth), Left: MaxDataDepth}
		}
		t := v.Type()
		if err := m.add(int64(2 + t.NumField())); err != nil {
			return err
		}
		for i := range t.NumField() {
			sf := t.Field(i)
			if m.opts.json && !sf.IsExported() && !sf.Anonymous {
				continue
			}
			if m.opts.verbose || m.opts.json {
				if err := m.add(int64(len(sf.Name)+len(sf.Tag)) + 4); err != nil {
					return err
				}
			}
			if err := m.reflect(v.Field(i), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return m.add(20 + m.opts.pad)
}

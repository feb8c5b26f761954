package template

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Resolver supplies the values of the scopes a send context provides, for one recipient.
// A scope's value may be a map with string keys (map[string]any, map[string]string …) or
// a struct (or pointer to one) whose exported fields and niladic methods are the
// variables. Resolve returns ok == false when the context does not provide the scope.
//
// Templates can read every exported field and call every exported niladic method of the
// values they are given: give them plain data.
type Resolver interface {
	Resolve(s Scope) (value any, ok bool)
}

// Values is a [Resolver] backed by a map from scope to value.
type Values map[Scope]any

// Resolve implements [Resolver].
func (v Values) Resolve(s Scope) (any, bool) {
	x, ok := v[s]
	return x, ok
}

// Format is the shape of a rendered message, chosen by channel.
type Format string

// Formats.
const (
	// FormatText is plain text for SMS, MMS, WhatsApp free text and push: Subject (when the
	// template has one; push uses it) and Text. Text is derived from the HTML body when
	// the template has no text body.
	FormatText Format = "text"
	// FormatEmail gives Subject, Text and HTML. Text is derived from the HTML body when the
	// template has no text body.
	FormatEmail Format = "email"
	// FormatAirbnb is plain text for OTA messaging (SPEC C11): the HTML body converted to
	// text with links kept readable, or the text body when there is no HTML body. No
	// subject.
	FormatAirbnb Format = "airbnb"
)

// Output is a rendered message.
type Output struct {
	Subject string
	Text    string
	HTML    string
}

// Render renders the template for one recipient in format f, with the scope values data
// supplies. A variable without a value fails with a [*RenderError] wrapping
// [ErrMissingValue] and naming it, unless the template gives a default
// (`{{ .Contact.Nickname | default "there" }}`). Exceeding a limit fails with
// [ErrOutputTooLarge], [ErrLimit] or [ErrTimeBudget]; a cancelled ctx returns ctx.Err().
// Values are data: text that looks like template code in a value is printed as it is.
func (t *Template) Render(ctx context.Context, f Format, data Resolver) (*Output, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f != FormatText && f != FormatEmail && f != FormatAirbnb {
		return nil, fmt.Errorf("template: render %q: %w: unknown format %q", t.name, ErrInvalid, f)
	}
	st := &renderState{ctx: ctx, now: t.lim.now, deadline: t.lim.now().Add(t.lim.timeout), maxIter: t.lim.maxIter}
	root := make(map[string]any, len(t.roots)+1)
	root[stateKey] = st
	if data != nil {
		for _, r := range t.roots {
			if v, ok := data.Resolve(r.scope); ok {
				root[r.root] = v
			}
		}
	}
	subject, text, html := t.fields[0], t.fields[1], t.fields[2]
	out := &Output{}
	var err error
	if subject != nil && f != FormatAirbnb {
		if out.Subject, err = t.exec(subject, root, st); err != nil {
			return nil, err
		}
	}
	if html != nil && (f == FormatEmail || f == FormatAirbnb || text == nil) {
		if out.HTML, err = t.exec(html, root, st); err != nil {
			return nil, err
		}
	}
	switch {
	case text != nil && (f != FormatAirbnb || html == nil):
		if out.Text, err = t.exec(text, root, st); err != nil {
			return nil, err
		}
	case html != nil:
		if out.Text, err = HTMLToText(out.HTML); err != nil {
			return nil, err
		}
	}
	if f != FormatEmail {
		out.HTML = ""
	}
	return out, nil
}

// Preview renders the template with the catalog's example values, so a composer can show
// the full message before any recipient exists (SPEC C4).
func (t *Template) Preview(ctx context.Context, f Format) (*Output, error) {
	return t.Render(ctx, f, t.cat.Examples())
}

// stateKey is the key of the render state in the root map; it is not an identifier, so a
// template cannot name it as a field.
const stateKey = ""

// renderState is the per-render bookkeeping shared by the writer and the loop guards.
type renderState struct {
	ctx      context.Context
	now      func() time.Time
	deadline time.Time
	maxIter  int
	iter     int
	err      error
	w        limitWriter // the writer of the field being rendered
}

// String hides the state from a template that prints it.
func (s *renderState) String() string { return "" }

func (s *renderState) fail(err error) error {
	if s.err == nil {
		s.err = err
	}
	return s.err
}

// check returns the first failure of the render: an earlier one, the context's error or
// the time budget.
func (s *renderState) check() error {
	if s.err != nil {
		return s.err
	}
	if s.ctx == nil {
		return s.fail(fmt.Errorf("%w: no render in progress", ErrRender))
	}
	if err := s.ctx.Err(); err != nil {
		return s.fail(err)
	}
	if s.now().After(s.deadline) {
		return s.fail(fmt.Errorf("%w: render took longer than its budget", ErrTimeBudget))
	}
	return nil
}

// checkEvery is how many bytes the writer accepts between checks of the context and the
// time budget.
const checkEvery = 4 << 10

const noValue = "<no value>"

// limitWriter collects a field's output, refusing to grow beyond max and checking the
// render state every checkEvery bytes.
type limitWriter struct {
	buf  strings.Builder
	max  int
	next int
	st   *renderState
	text bool // detect text/template's "<no value>" for nil values
}

// Write implements io.Writer for text/template.
func (w *limitWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.max {
		return 0, w.st.fail(fmt.Errorf("%w: output exceeds %d bytes", ErrOutputTooLarge, w.max))
	}
	if w.text && len(p) == len(noValue) && string(p) == noValue {
		return 0, w.st.fail(fmt.Errorf("%w: a variable has no value", ErrMissingValue))
	}
	w.buf.Write(p)
	if w.buf.Len() >= w.next {
		w.next = w.buf.Len() + checkEvery
		if err := w.st.check(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

var execErrRE = regexp.MustCompile(`^template: [^:]*:(\d+):(\d+): executing "[^"]*" at <([^>]*)>: (.*)$`)

// exec renders one field.
func (t *Template) exec(f *field, root map[string]any, st *renderState) (string, error) {
	w := &st.w
	*w = limitWriter{max: t.lim.maxOutput, st: st, text: f.name != FieldHTML}
	w.buf.Grow(min(len(f.src)+len(f.src)/2, t.lim.maxOutput))
	err := f.exec.Execute(w, root)
	if err == nil && st.err == nil {
		return w.buf.String(), nil
	}
	rerr := &RenderError{Field: f.name}
	if st.err != nil {
		if ctxErr := st.ctx.Err(); ctxErr != nil && errors.Is(st.err, ctxErr) {
			return "", ctxErr
		}
		rerr.Err = st.err
		if r, ok := firstNil(f, root); ok && errors.Is(st.err, ErrMissingValue) {
			rerr.Variable, rerr.Line, rerr.Column = "."+r.path, r.line, r.col
		}
		return "", rerr
	}
	msg := err.Error()
	m := execErrRE.FindStringSubmatch(msg)
	if m == nil {
		rerr.Err = fmt.Errorf("%w: %s", ErrRender, strings.TrimPrefix(msg, "template: "))
		return "", rerr
	}
	line, _ := strconv.Atoi(m[1])
	byteCol, _ := strconv.Atoi(m[2])
	offset := byteCol
	if line > 1 {
		offset += nthIndex(f.src, '\n', line-1) + 1
	}
	rerr.Line, rerr.Column = position(f.src, offset)
	rerr.Variable = m[3]
	if !strings.HasPrefix(m[3], ".") && !strings.HasPrefix(m[3], "$") {
		rerr.Variable = ""
	}
	for _, r := range f.refs {
		if r.node == offset {
			rerr.Variable = "." + r.path
			rerr.Line, rerr.Column = r.line, r.col
		}
	}
	cause := m[4]
	if own := ownError(err); own != nil {
		rerr.Err = own
		return "", rerr
	}
	if strings.Contains(cause, "no entry for key") || strings.Contains(cause, "can't evaluate field") ||
		strings.Contains(cause, "nil pointer evaluating") {
		rerr.Err = fmt.Errorf("%w: %s", ErrMissingValue, cause)
	} else {
		rerr.Variable = ""
		rerr.Err = fmt.Errorf("%w: %s", ErrRender, cause)
	}
	return "", rerr
}

// nthIndex returns the offset of the n-th (1-based) occurrence of c in s, or len(s).
func nthIndex(s string, c byte, n int) int {
	at := -1
	for range n {
		i := strings.IndexByte(s[at+1:], c)
		if i < 0 {
			return len(s)
		}
		at += i + 1
	}
	return at
}

// ownError returns the error of this package that a function call inside err returned,
// if any: the one whose message starts with one of the sentinels.
func ownError(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		for _, s := range [...]error{ErrLimit, ErrOutputTooLarge, ErrTimeBudget, ErrRender, ErrMissingValue} {
			if strings.HasPrefix(e.Error(), s.Error()) {
				return e
			}
		}
	}
	return nil
}

// firstNil finds the first variable of f whose value in root is nil, to explain a
// "<no value>" write.
func firstNil(f *field, root map[string]any) (ref, bool) {
	for _, r := range f.refs {
		if lookup(root, strings.Split(r.path, ".")...) == nil {
			return r, true
		}
	}
	return ref{}, false
}

// addInternalFuncs adds the functions the rewritten trees call.
func addInternalFuncs(fm map[string]any, lim limits) {
	fm[fnLookup] = lookup
	fm[fnTick] = func(root any) (string, error) {
		st := stateOf(root)
		if st == nil {
			return "", fmt.Errorf("%w: loop outside a render", ErrRender)
		}
		return "", st.check()
	}
	fm[fnRange] = func(root, v any) (any, error) {
		st := stateOf(root)
		if st == nil {
			return nil, fmt.Errorf("%w: loop outside a render", ErrRender)
		}
		n := 0
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Invalid:
		case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
			n = rv.Len()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			n = int(max(0, min(rv.Int(), int64(lim.maxIter)+1)))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			n = int(min(rv.Uint(), uint64(lim.maxIter)+1))
		default:
			return nil, st.fail(fmt.Errorf("%w: cannot loop over a %s", ErrRender, rv.Kind()))
		}
		if st.iter += n; st.iter > st.maxIter {
			return nil, st.fail(fmt.Errorf("%w: loops run more than %d iterations", ErrLimit, st.maxIter))
		}
		return v, st.check()
	}
}

func stateOf(root any) *renderState {
	m, _ := root.(map[string]any)
	st, _ := m[stateKey].(*renderState)
	return st
}

// lookup follows names from recv the way a template's field access does (niladic
// methods, map keys, struct fields) but returns nil instead of failing when a step is
// missing. Templates use it for values given to default, coalesce, empty, and, or, not,
// and for if/with conditions.
func lookup(recv any, names ...string) (out any) {
	defer func() {
		if recover() != nil { // a host method panicked: treat the value as missing
			out = nil
		}
	}()
	v := reflect.ValueOf(recv)
	for _, name := range names {
		if v = lookupStep(v, name); !v.IsValid() {
			return nil
		}
	}
	if !v.CanInterface() {
		return nil
	}
	return v.Interface()
}

func lookupStep(v reflect.Value, name string) reflect.Value {
	for v.IsValid() && v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return reflect.Value{}
	}
	if m := v.MethodByName(name); m.IsValid() {
		return callNiladic(m)
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() {
		if m := v.Addr().MethodByName(name); m.IsValid() {
			return callNiladic(m)
		}
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return reflect.Value{}
		}
		e := v.MapIndex(reflect.ValueOf(name).Convert(v.Type().Key()))
		for e.IsValid() && e.Kind() == reflect.Interface {
			e = e.Elem()
		}
		return e
	case reflect.Struct:
		sf, ok := v.Type().FieldByName(name)
		if !ok || !sf.IsExported() {
			return reflect.Value{}
		}
		f, err := v.FieldByIndexErr(sf.Index)
		if err != nil {
			return reflect.Value{}
		}
		return f
	}
	return reflect.Value{}
}

func callNiladic(m reflect.Value) reflect.Value {
	mt := m.Type()
	if mt.NumIn() != 0 || mt.NumOut() == 0 || mt.NumOut() > 2 || (mt.NumOut() == 2 && mt.Out(1) != errorType) {
		return reflect.Value{}
	}
	out := m.Call(nil)
	if len(out) == 2 && !out[1].IsNil() {
		return reflect.Value{}
	}
	return out[0]
}

package template

// Implementations of the functions that replace text/template's builtins and Sprig's
// functions whose output or work grows with their arguments: each charges the render's
// budget, or is charged by its cost function, before it allocates.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// timeOf is the time date and htmlDate format: the value when it is a time or Unix
// seconds, else the template's clock.
func timeOf(st *renderState, v any) time.Time {
	switch v := v.(type) {
	case time.Time:
		return v
	case *time.Time:
		if v != nil {
			return *v
		}
	case int64:
		return time.Unix(v, 0)
	case int:
		return time.Unix(int64(v), 0)
	case int32:
		return time.Unix(int64(v), 0)
	}
	return st.now()
}

func empty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case bool:
		return !v
	case int:
		return v == 0
	}
	g := reflect.ValueOf(v)
	switch g.Kind() {
	case reflect.Array, reflect.Slice, reflect.Map, reflect.String:
		return g.Len() == 0
	case reflect.Bool:
		return !g.Bool()
	case reflect.Complex64, reflect.Complex128:
		return g.Complex() == 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return g.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return g.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return g.Float() == 0
	case reflect.Struct:
		return false
	}
	return g.IsNil()
}

// strval is Sprig's conversion of a value to a string, charged: strings as they are,
// byte slices copied, errors and Stringers by their method, the rest printed with %v.
func strval(st *renderState, fn string, v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case []byte:
		if err := st.charge(fn, int64(len(v))); err != nil {
			return "", err
		}
		return string(v), nil
	case error:
		return v.Error(), nil
	case fmt.Stringer:
		return v.String(), nil
	}
	n, err := measureValue(st, fn, v, fmtMeasure)
	if err != nil {
		return "", err
	}
	if err := st.charge(fn, mulCost(n, growth)); err != nil {
		return "", err
	}
	return fmt.Sprintf("%v", v), nil
}

// toStrings converts a list to strings as Sprig does (nil items are skipped; anything
// else is a list of one). A []string is returned as it is unless copy is set.
func toStrings(st *renderState, fn string, v any, copied bool) ([]string, error) {
	switch v := v.(type) {
	case []string:
		if !copied {
			return v, nil
		}
		if err := st.charge(fn, 16*int64(len(v))); err != nil {
			return nil, err
		}
		return slices.Clone(v), nil
	case nil:
		return []string{}, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		s, err := strval(st, fn, v)
		return []string{s}, err
	}
	if err := st.charge(fn, 16*int64(rv.Len())); err != nil {
		return nil, err
	}
	out := make([]string, 0, rv.Len())
	for i := range rv.Len() {
		e := rv.Index(i)
		if !e.CanInterface() {
			continue
		}
		x := e.Interface()
		if x == nil {
			continue
		}
		s, err := strval(st, fn, x)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// quoteAll is Sprig's quote (strconv.Quote of each value as a string) and squote ('%v').
func quoteAll(st *renderState, fn string, a []any, double bool) (string, error) {
	out := make([]string, 0, len(a))
	n := int64(0)
	for _, v := range a {
		if v == nil {
			continue
		}
		var s string
		if double {
			x, err := strval(st, fn, v)
			if err != nil {
				return "", err
			}
			// strconv.Quote writes at most 4 bytes per byte (\x00), plus the quotes.
			if err := st.charge(fn, mulCost(addCost(mulCost(int64(len(x)), 4), 2), growth)); err != nil {
				return "", err
			}
			s = strconv.Quote(x)
		} else {
			m, err := measureValue(st, fn, v, fmtMeasure)
			if err != nil {
				return "", err
			}
			if err := st.charge(fn, mulCost(addCost(m, 2), growth)); err != nil {
				return "", err
			}
			s = fmt.Sprintf("'%v'", v)
		}
		out = append(out, s)
		n = addCost(n, int64(len(s)+1))
	}
	if err := st.charge(fn, n); err != nil {
		return "", err
	}
	return strings.Join(out, " "), nil
}

func untilStep(st *renderState, fn string, start, stop, step int) ([]int, error) {
	n := stepCount(start, stop, step)
	if n > uint64(st.lim.maxList) {
		return nil, &LimitError{Func: fn, Limit: LimitList, Want: int64(min(n, 1<<62)), Left: int64(st.lim.maxList)}
	}
	if err := st.charge(fn, 8*int64(n)+24); err != nil {
		return nil, err
	}
	out := make([]int, 0, n)
	for i := range int(n) {
		out = append(out, start+i*step)
	}
	return out, nil
}

// stepCount is the number of items Sprig's untilStep(start, stop, step) yields, computed
// without building them and without overflow.
func stepCount(start, stop, step int) uint64 {
	switch {
	case stop < start && step < 0:
		s := uint64(-(step + 1)) + 1
		return (uint64(start)-uint64(stop)-1)/s + 1
	case stop > start && step > 0:
		return (uint64(stop)-uint64(start)-1)/uint64(step) + 1
	}
	return 0
}

// seq is Sprig's seq with its list bounded: "1 2 3".
func seq(st *renderState, a []any) (any, error) {
	params := make([]int, len(a))
	for i, v := range a {
		params[i] = v.(int)
	}
	start, stop, step := 1, 0, 1
	switch len(params) {
	case 0:
		return "", nil
	case 1:
		stop = params[0]
		if stop < start {
			step = -1
		}
	case 2:
		start, stop = params[0], params[1]
		if stop < start {
			step = -1
		}
	case 3:
		start, step, stop = params[0], params[1], params[2]
		if stop < start && step > 0 {
			return "", nil
		}
	default:
		return "", nil
	}
	// Sprig's bounds are inclusive: untilStep(start, stop ± 1, step).
	end := stop + 1
	if stop < start {
		end = stop - 1
	}
	if (stop == int(^uint(0)>>1) && end < stop) || (stop < start && end > stop) {
		return nil, &LimitError{Func: "seq", Limit: LimitList, Want: 1 << 62, Left: int64(st.lim.maxList)}
	}
	n := stepCount(start, end, step)
	if n > uint64(st.lim.maxList) {
		return nil, &LimitError{Func: "seq", Limit: LimitList, Want: int64(min(n, 1<<62)), Left: int64(st.lim.maxList)}
	}
	if err := st.charge("seq", 48*int64(n)+24); err != nil {
		return nil, err
	}
	var b strings.Builder
	for i := range int(n) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(start + i*step))
	}
	return b.String(), nil
}

// builtinLen is text/template's len.
func builtinLen(_ *renderState, a []any) (any, error) {
	item, isNil := indirect(reflect.ValueOf(a[0]))
	if isNil {
		return nil, errors.New("len of nil pointer")
	}
	switch item.Kind() {
	case reflect.Array, reflect.Chan, reflect.Map, reflect.Slice, reflect.String:
		return item.Len(), nil
	case reflect.Invalid:
		return nil, errors.New("len of nil")
	}
	return nil, fmt.Errorf("len of type %s", item.Type())
}

// builtinIndex is text/template's index.
func builtinIndex(_ *renderState, a []any) (any, error) {
	item := reflect.ValueOf(a[0])
	if !item.IsValid() {
		return nil, errors.New("index of untyped nil")
	}
	for _, x := range a[1:] {
		index := reflect.ValueOf(x)
		var isNil bool
		if item, isNil = indirect(item); isNil {
			return nil, errors.New("index of nil pointer")
		}
		switch item.Kind() {
		case reflect.Array, reflect.Slice, reflect.String:
			i, err := indexArg(index, item.Len())
			if err != nil {
				return nil, err
			}
			item = item.Index(i)
		case reflect.Map:
			key, err := prepareArg(index, item.Type().Key())
			if err != nil {
				return nil, err
			}
			if v := item.MapIndex(key); v.IsValid() {
				item = v
			} else {
				item = reflect.Zero(item.Type().Elem())
			}
		case reflect.Invalid:
			return nil, errors.New("index of untyped nil")
		default:
			return nil, fmt.Errorf("can't index item of type %s", item.Type())
		}
	}
	if !item.CanInterface() {
		return nil, errors.New("index of an unexported value")
	}
	return item.Interface(), nil
}

func indexArg(index reflect.Value, size int) (int, error) {
	var x int64
	switch index.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x = index.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		x = int64(index.Uint())
	case reflect.Invalid:
		return 0, errors.New("cannot index slice/array with nil")
	default:
		return 0, fmt.Errorf("cannot index slice/array with type %s", index.Type())
	}
	if x < 0 || int(x) < 0 || int(x) >= size {
		return 0, fmt.Errorf("index out of range: %d", x)
	}
	return int(x), nil
}

func prepareArg(value reflect.Value, argType reflect.Type) (reflect.Value, error) {
	if !value.IsValid() {
		if !canBeNil(argType) {
			return reflect.Value{}, fmt.Errorf("value is nil; should be of type %s", argType)
		}
		value = reflect.Zero(argType)
	}
	if value.Type().AssignableTo(argType) {
		return value, nil
	}
	if intLike(value.Kind()) && intLike(argType.Kind()) && value.Type().ConvertibleTo(argType) {
		return value.Convert(argType), nil
	}
	return reflect.Value{}, fmt.Errorf("value has type %s; should be %s", value.Type(), argType)
}

func intLike(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// builtinPrintf is fmt.Sprintf charged before it runs: the format's text, and for every
// verb its width and precision plus its operand as printed, with each number printed at
// its widest for the verbs used and each string byte at its most escaped (%q, %x).
func builtinPrintf(st *renderState, a []any) (any, error) {
	format, args := a[0].(string), a[1:]
	f, err := scanFormat(format, st.lim.maxOutput)
	if err != nil {
		return nil, err
	}
	opts := measureOpts{verbose: f.verbose, leaf: f.leaf, pad: f.pad, factor: f.factor}
	total := addCost(int64(len(format)), mulCost(int64(f.verbs), 32))
	sizes := make([]int64, len(args))
	largest := int64(0)
	for i, v := range args {
		m, err := measureValue(st, "printf", v, opts)
		if err != nil {
			return nil, err
		}
		// A mismatched operand prints as %!d(type=value).
		sizes[i] = addCost(m, addCost(f.pad, 32+typeNameLen(v)))
		largest = max(largest, sizes[i])
	}
	if f.indexed {
		// Operands chosen by index may be printed any number of times: each verb, and
		// each extra operand, may print the largest.
		total = addCost(total, mulCost(int64(f.verbs+len(args)), largest))
	} else {
		for _, s := range sizes {
			total = addCost(total, s)
		}
	}
	if err := st.charge("printf", mulCost(total, growth)); err != nil {
		return nil, err
	}
	return fmt.Sprintf(format, args...), nil
}

func typeNameLen(v any) int64 {
	if v == nil {
		return 5
	}
	return int64(len(reflect.TypeOf(v).String()))
}

// formatScan is what scanFormat learns from a printf format.
type formatScan struct {
	verbs   int
	pad     int64 // the largest width plus the largest precision
	leaf    int64 // the longest a number may print with the verbs used
	factor  int64 // bytes per string byte with the verbs used
	verbose bool  // %+v, %#v or %T print type or field names
	indexed bool  // explicit argument indexes ([n])
}

// scanFormat reads the verbs of a printf format. A width or precision taken from an
// argument ('*') is refused, and so is any width or precision above maxWidth.
func scanFormat(format string, maxWidth int) (formatScan, error) {
	f := formatScan{leaf: 24, factor: 1}
	var width, prec int64
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i < len(format) && format[i] == '%' {
			continue
		}
		n, inPrec := int64(0), false
		flush := func() {
			if inPrec {
				prec = max(prec, n)
			} else {
				width = max(width, n)
			}
			n = 0
		}
	spec:
		for ; i < len(format); i++ {
			c := format[i]
			switch {
			case c >= '0' && c <= '9':
				if n = n*10 + int64(c-'0'); n > int64(maxWidth) {
					return f, &LimitError{Func: "printf", Limit: LimitAlloc, Want: n, Left: int64(maxWidth)}
				}
			case c == '*':
				return f, fmt.Errorf("%w: printf: a width or precision taken from an argument ('*') is not available", ErrLimit)
			case c == '.':
				flush()
				inPrec = true
			case c == '[':
				flush()
				f.indexed = true
				j := strings.IndexByte(format[i:], ']')
				if j < 0 {
					break spec
				}
				i += j
			case c == '+' || c == '-' || c == '#' || c == ' ':
				if c == '#' || c == '+' {
					f.verbose = true
				}
				flush()
			default:
				flush()
				f.verbs++
				switch c {
				case 'f', 'F':
					f.leaf = max(f.leaf, 330) // %f of 1e308
				case 'b':
					f.leaf = max(f.leaf, 72)
				case 'q', 'x', 'X':
					f.factor = 4
				case 'T':
					f.verbose = true
				}
				break spec
			}
		}
		inPrec = false
	}
	f.pad = width + prec
	return f, nil
}

// jsonFunc is Sprig's toJson family, charged after walking the value with encoding/json's
// rules: each string byte may be escaped to 6 bytes, and the encoder's buffer, its copy
// and the string make 3 copies.
func jsonFunc(name string) callFunc {
	pretty := strings.Contains(name, "Pretty")
	raw := strings.Contains(name, "Raw")
	must := strings.HasPrefix(name, "must")
	return func(st *renderState, a []any) (any, error) {
		opts := measureOpts{json: true, leaf: 24, factor: 6}
		if pretty {
			opts.pad = 2*MaxDataDepth + 2
		}
		n, err := measureValue(st, name, a[0], opts)
		if err != nil {
			return nil, err
		}
		if err := st.charge(name, mulCost(n, 4)); err != nil {
			return nil, err
		}
		var out []byte
		switch {
		case raw:
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			err = enc.Encode(&a[0])
			out = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		case pretty:
			out, err = json.MarshalIndent(a[0], "", "  ")
		default:
			out, err = json.Marshal(a[0])
		}
		if err != nil {
			if must || raw { // Sprig's toRawJson panics on an error
				return nil, err
			}
			return "", nil
		}
		return string(out), nil
	}
}

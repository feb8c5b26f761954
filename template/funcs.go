package template

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
)

// removedFuncs are the Sprig functions no template can call. They read the process
// environment, the file system (time zones) or the network, depend on randomness or the
// wall clock, burn CPU on cryptography, mutate the host's data, or cost quadratic time.
// now is put back, reading the template's clock.
var removedFuncs = [...]string{
	"env", "expandenv", "getHostByName",
	"now", "ago", "durationRound", "date_in_zone", "dateInZone", "htmlDateInZone",
	"randAlphaNum", "randAlpha", "randAscii", "randNumeric", "randBytes", "randInt", "uuidv4", "shuffle",
	"bcrypt", "htpasswd", "genPrivateKey", "derivePassword", "buildCustomCert", "genCA", "genCAWithKey",
	"genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey",
	"encryptAES", "decryptAES",
	"set", "unset", "merge", "mergeOverwrite", "mustMerge", "mustMergeOverwrite", "deepCopy", "mustDeepCopy",
	"uniq", "mustUniq", "without", "mustWithout",
	"hello",
}

// Names of the functions the package adds to every template for its own bookkeeping.
const (
	fnRange  = "parleyRange"
	fnTick   = "parleyTick"
	fnLookup = "parleyLookup"
)

// limits are the resolved work limits of a template.
type limits struct {
	maxOutput int
	maxList   int
	maxIter   int
	timeout   time.Duration
	now       func() time.Time
}

// funcMap returns the functions templates may call: Sprig without [removedFuncs], with
// list- and string-building functions bounded, and every function whose result can grow
// checked against the limits.
func funcMap(lim limits) map[string]any {
	fm := sprig.TxtFuncMap()
	for _, name := range removedFuncs {
		delete(fm, name)
	}
	seq := fm["seq"].(func(...int) string)
	fm["repeat"] = func(count int, s string) (string, error) {
		if count < 0 {
			return "", fmt.Errorf("%w: repeat: negative count %d", ErrLimit, count)
		}
		if len(s) > 0 && count > lim.maxOutput/len(s) {
			return "", fmt.Errorf("%w: repeat: %d × %d bytes exceeds %d bytes", ErrLimit, count, len(s), lim.maxOutput)
		}
		return strings.Repeat(s, count), nil
	}
	fm["until"] = func(count int) ([]int, error) {
		step := 1
		if count < 0 {
			step = -1
		}
		return boundedUntilStep(lim, "until", 0, count, step)
	}
	fm["untilStep"] = func(start, stop, step int) ([]int, error) {
		return boundedUntilStep(lim, "untilStep", start, stop, step)
	}
	fm["seq"] = func(params ...int) (string, error) {
		for _, p := range params {
			if p > 1<<40 || p < -(1<<40) {
				return "", fmt.Errorf("%w: seq: bound %d", ErrLimit, p)
			}
		}
		start, stop, step := 1, 0, 1
		switch len(params) {
		case 1:
			stop = params[0]
		case 2:
			start, stop = params[0], params[1]
		case 3:
			start, step, stop = params[0], params[1], params[2]
		}
		if diff, st := absInt(stop-start), absInt(step); st > 0 && diff/st+1 > lim.maxList {
			return "", fmt.Errorf("%w: seq: %d items exceeds the limit of %d", ErrLimit, diff/st+1, lim.maxList)
		}
		return seq(params...), nil
	}
	indent := func(name string, prefix string) func(int, string) (string, error) {
		return func(spaces int, s string) (string, error) {
			lines := strings.Count(s, "\n") + 1
			if spaces < 0 || (spaces > 0 && lines > (lim.maxOutput-len(s))/spaces) {
				return "", fmt.Errorf("%w: %s: %d spaces on %d lines", ErrLimit, name, spaces, lines)
			}
			pad := strings.Repeat(" ", spaces)
			return prefix + pad + strings.ReplaceAll(s, "\n", "\n"+pad), nil
		}
	}
	fm["indent"] = indent("indent", "")
	fm["nindent"] = indent("nindent", "\n")
	fm["replace"] = func(old, repl, src string) (string, error) {
		n := strings.Count(src, old)
		if d := len(repl) - len(old); d > 0 && n > 0 && n > (lim.maxOutput-len(src))/d {
			return "", fmt.Errorf("%w: replace: %d replacements exceed %d bytes", ErrLimit, n, lim.maxOutput)
		}
		return strings.ReplaceAll(src, old, repl), nil
	}
	wrapWith := fm["wrapWith"].(func(int, string, string) string)
	fm["wrapWith"] = func(l int, sep, s string) (string, error) {
		if growth := (len(s)/max(l, 1) + 1) * len(sep); growth > lim.maxOutput-len(s) {
			return "", fmt.Errorf("%w: wrapWith: output exceeds %d bytes", ErrLimit, lim.maxOutput)
		}
		return wrapWith(l, sep, s), nil
	}
	fm["wrap"] = func(l int, s string) (string, error) {
		if growth := len(s)/max(l, 1) + 1; growth > lim.maxOutput-len(s) {
			return "", fmt.Errorf("%w: wrap: output exceeds %d bytes", ErrLimit, lim.maxOutput)
		}
		return wrapWith(l, "\n", s), nil
	}
	for name, literal := range map[string]bool{"regexReplaceAll": false, "mustRegexReplaceAll": false, "regexReplaceAllLiteral": true, "mustRegexReplaceAllLiteral": true} {
		fm[name] = func(expr, s, repl string) (string, error) {
			return boundedRegexReplace(lim, name, expr, s, repl, literal)
		}
	}
	fm["join"] = func(sep string, v any) (string, error) {
		var b strings.Builder
		for i, s := range toStrings(v) {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(s)
			if b.Len() > lim.maxOutput {
				return "", fmt.Errorf("%w: join: output exceeds %d bytes", ErrLimit, lim.maxOutput)
			}
		}
		return b.String(), nil
	}
	fm["now"] = lim.now
	// Builtins replaced: printf with bounded widths, call refused.
	fm["printf"] = func(format string, args ...any) (string, error) {
		if err := checkFormat(format, lim.maxOutput); err != nil {
			return "", err
		}
		return fmt.Sprintf(format, args...), nil
	}
	fm["print"] = fmt.Sprint
	fm["println"] = fmt.Sprintln
	fm["html"] = texttemplate.HTMLEscaper
	fm["js"] = texttemplate.JSEscaper
	fm["urlquery"] = texttemplate.URLQueryEscaper
	fm["call"] = func(any, ...any) (any, error) {
		return nil, fmt.Errorf("%w: call is not available", ErrRender)
	}
	for name, f := range fm {
		fm[name] = guardFunc(lim, name, f)
	}
	return fm
}

// boundedUntilStep is Sprig's untilStep refusing lists longer than the limit.
func boundedUntilStep(lim limits, name string, start, stop, step int) ([]int, error) {
	n := stepCount(start, stop, step)
	if n > uint64(lim.maxList) {
		return nil, fmt.Errorf("%w: %s: %d items exceeds the limit of %d", ErrLimit, name, n, lim.maxList)
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

func boundedRegexReplace(lim limits, name, expr, s, repl string, literal bool) (string, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrRender, name, err)
	}
	var out []byte
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		out = append(out, s[last:m[0]]...)
		if literal {
			out = append(out, repl...)
		} else {
			out = re.ExpandString(out, repl, s, m)
		}
		last = m[1]
		if len(out) > lim.maxOutput {
			return "", fmt.Errorf("%w: %s: output exceeds %d bytes", ErrLimit, name, lim.maxOutput)
		}
	}
	out = append(out, s[last:]...)
	return string(out), nil
}

// toStrings converts a list to strings as Sprig's join does (nil items are skipped).
func toStrings(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case nil:
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return []string{fmt.Sprint(v)}
	}
	out := make([]string, 0, rv.Len())
	for i := range rv.Len() {
		if e := rv.Index(i).Interface(); e != nil {
			if s, ok := e.(string); ok {
				out = append(out, s)
			} else {
				out = append(out, fmt.Sprint(e))
			}
		}
	}
	return out
}

// checkFormat refuses printf widths and precisions beyond max and '*' (taken from data).
func checkFormat(format string, maxWidth int) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		n := 0
		for i++; i < len(format); i++ {
			c := format[i]
			switch {
			case c >= '0' && c <= '9':
				if n = n*10 + int(c-'0'); n > maxWidth {
					return fmt.Errorf("%w: printf: width %d…", ErrLimit, n)
				}
				continue
			case c == '*':
				return fmt.Errorf("%w: printf: '*' width is not available", ErrLimit)
			case c == '.' || c == '+' || c == '-' || c == '#' || c == ' ' || c == '[' || c == ']':
				n = 0
				continue
			}
			break
		}
	}
	return nil
}

var errorType = reflect.TypeFor[error]()

// guardFunc wraps f so that its arguments together and its result stay within the size
// limits. Functions whose results cannot grow (numbers, booleans, times) are returned as
// they are; common signatures are wrapped without reflection.
func guardFunc(lim limits, name string, f any) any {
	ft := reflect.TypeOf(f)
	if ft.Kind() != reflect.Func || ft.NumOut() == 0 {
		return f
	}
	switch ft.Out(0).Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Array:
	default:
		return f
	}
	check := func(args ...any) error {
		if size(args, lim.maxOutput) > lim.maxOutput {
			return fmt.Errorf("%w: %s: arguments exceed %d bytes", ErrLimit, name, lim.maxOutput)
		}
		return nil
	}
	result := func(v any) error {
		if size(v, lim.maxOutput) > lim.maxOutput {
			return fmt.Errorf("%w: %s: result exceeds %d bytes", ErrLimit, name, lim.maxOutput)
		}
		return nil
	}
	switch f := f.(type) {
	case func(string) string:
		return func(s string) (string, error) {
			r := f(s)
			return r, result(r)
		}
	case func(string, string) string:
		return func(a, b string) (string, error) {
			r := f(a, b)
			return r, result(r)
		}
	case func(...any) string:
		return func(args ...any) (string, error) {
			if err := check(args...); err != nil {
				return "", err
			}
			r := f(args...)
			return r, result(r)
		}
	case func(any, ...any) any:
		return func(a any, args ...any) (any, error) {
			r := f(a, args...)
			return r, result(r)
		}
	case func(string, ...any) (string, error):
		return func(format string, args ...any) (string, error) {
			if err := check(args...); err != nil {
				return "", err
			}
			r, err := f(format, args...)
			if err != nil {
				return r, err
			}
			return r, result(r)
		}
	case func(string) (string, error), func(int, string) (string, error),
		func(string, string, string) (string, error), func(int, string, string) (string, error),
		func(string, any) (string, error), func(...int) (string, error), func(int) ([]int, error),
		func(int, int, int) ([]int, error):
		return f // already bounded above
	}
	outs := []reflect.Type{ft.Out(0), errorType}
	ins := make([]reflect.Type, ft.NumIn())
	for i := range ins {
		ins[i] = ft.In(i)
	}
	fv := reflect.ValueOf(f)
	wt := reflect.FuncOf(ins, outs, ft.IsVariadic())
	return reflect.MakeFunc(wt, func(in []reflect.Value) []reflect.Value {
		total := 0
		for _, a := range in {
			if a.CanInterface() {
				total += size(a.Interface(), lim.maxOutput)
			}
		}
		var errv reflect.Value
		fail := func(err error) []reflect.Value {
			errv = reflect.New(errorType).Elem()
			errv.Set(reflect.ValueOf(err))
			return []reflect.Value{reflect.Zero(outs[0]), errv}
		}
		if total > lim.maxOutput {
			return fail(fmt.Errorf("%w: %s: arguments exceed %d bytes", ErrLimit, name, lim.maxOutput))
		}
		var out []reflect.Value
		if ft.IsVariadic() {
			out = fv.CallSlice(in)
		} else {
			out = fv.Call(in)
		}
		if len(out) == 2 && !out[1].IsNil() {
			return fail(out[1].Interface().(error))
		}
		if err := result(out[0].Interface()); err != nil {
			return fail(err)
		}
		return []reflect.Value{out[0], reflect.Zero(errorType)}
	}).Interface()
}

// size estimates the bytes v takes when printed: strings by length, lists and maps by the
// sum of their items (at least one byte each), other values as 8 bytes. It stops counting
// once budget is exceeded, so it costs at most O(budget) even on shared structures.
func size(v any, budget int) int {
	switch v := v.(type) {
	case nil:
		return 0
	case string:
		return len(v)
	case []byte:
		return len(v)
	case []string:
		n := 0
		for _, s := range v {
			if n += len(s) + 1; n > budget {
				return n
			}
		}
		return n
	case []any:
		n := 0
		for _, e := range v {
			if n += size(e, budget-n) + 1; n > budget {
				return n
			}
		}
		return n
	case map[string]any:
		n := 0
		for k, e := range v {
			if n += len(k) + size(e, budget-n) + 1; n > budget {
				return n
			}
		}
		return n
	case []int:
		return 8 * len(v)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return 8 * rv.Len()
	case reflect.String:
		return rv.Len()
	}
	return 8
}

func absInt(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

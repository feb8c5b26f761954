package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/Masterminds/sprig/v3"
)

// removedFuncs are the Sprig functions no template can call. They read the process
// environment, the file system (time zones) or the network, depend on randomness or the
// wall clock, burn CPU on cryptography, mutate or deep-copy the host's data, or cost
// quadratic time.
var removedFuncs = [...]string{
	"env", "expandenv", "getHostByName",
	"ago", "durationRound", "date_in_zone", "dateInZone", "htmlDateInZone",
	"randAlphaNum", "randAlpha", "randAscii", "randNumeric", "randBytes", "randInt", "uuidv4", "shuffle",
	"bcrypt", "htpasswd", "genPrivateKey", "derivePassword", "buildCustomCert", "genCA", "genCAWithKey",
	"genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey",
	"encryptAES", "decryptAES",
	"set", "unset", "merge", "mergeOverwrite", "mustMerge", "mustMergeOverwrite", "deepCopy", "mustDeepCopy",
	"uniq", "mustUniq", "without", "mustWithout",
	"hello",
}

// callFunc runs a function on arguments already converted to its parameter types.
type callFunc func(st *renderState, args []any) (any, error)

// costFunc returns the bytes a function will allocate for args, at most: the executor
// charges them to the render's budget before the call. It may walk args (and fail with a
// *LimitError for a value that contains itself or is nested too deep).
type costFunc func(st *renderState, args []any) (int64, error)

// funcDef is one function templates can call.
type funcDef struct {
	name string
	call callFunc
	cost costFunc // nil: the function allocates nothing that grows with its input
	// in holds the parameter types (nil entries take any value); for a variadic function
	// the last is the type of each of its variadic arguments.
	in       []reflect.Type
	variadic bool
	// lazy functions (and, or) receive their arguments unevaluated: the executor
	// evaluates them one by one and stops as soon as the result is known.
	lazy bool
}

// arity reports whether the function takes n arguments.
func (f *funcDef) arity(n int) error {
	if f.variadic {
		if n < len(f.in)-1 {
			return fmt.Errorf("wrong number of args for %s: want at least %d got %d", f.name, len(f.in)-1, n)
		}
		return nil
	}
	if n != len(f.in) {
		return fmt.Errorf("wrong number of args for %s: want %d got %d", f.name, len(f.in), n)
	}
	return nil
}

// param returns the type of argument i of n.
func (f *funcDef) param(i int) reflect.Type {
	if f.variadic && i >= len(f.in)-1 {
		return f.in[len(f.in)-1]
	}
	if i < len(f.in) {
		return f.in[i]
	}
	return nil
}

// funcTable holds every function templates can call, by name. It is built once and
// never changed.
type funcTable map[string]*funcDef

// names returns the table as the function map text/template/parse wants: only the names
// matter to it.
func (ft funcTable) names() map[string]any {
	m := make(map[string]any, len(ft))
	for name, f := range ft {
		m[name] = f
	}
	return m
}

// Types used in signatures.
var (
	tString = reflect.TypeFor[string]()
	tInt    = reflect.TypeFor[int]()
	tAny    reflect.Type // nil: any value, no conversion
)

func sig(in ...reflect.Type) []reflect.Type { return in }

// newFuncTable builds the table: Sprig's functions without [removedFuncs], the builtins
// of text/template except call, and replacements for the functions whose output or work
// grows with their arguments, each charged to the budget before it allocates.
func newFuncTable() funcTable {
	ft := make(funcTable, 220)
	add := func(f *funcDef) { ft[f.name] = f }
	native := func(name string, in []reflect.Type, variadic bool, cost costFunc, call callFunc) {
		add(&funcDef{name: name, in: in, variadic: variadic, cost: cost, call: call})
	}
	sprigFuncs := sprig.TxtFuncMap()
	wrap := func(name string, cost costFunc) {
		f, ok := sprigFuncs[name]
		if !ok {
			panic("template: sprig has no function " + name)
		}
		add(wrapFunc(name, f, cost))
	}
	alias := func(name, to string) {
		f := *ft[to]
		f.name = name
		ft[name] = &f
	}

	// text/template builtins (and, or: short-circuit; call is not available).
	add(&funcDef{name: "and", in: sig(tAny, tAny), variadic: true, lazy: true})
	add(&funcDef{name: "or", in: sig(tAny, tAny), variadic: true, lazy: true})
	native("not", sig(tAny), false, nil, func(_ *renderState, a []any) (any, error) {
		t, _ := truth(a[0])
		return !t, nil
	})
	native("len", sig(tAny), false, nil, builtinLen)
	native("index", sig(tAny, tAny), true, nil, builtinIndex)
	native("eq", sig(tAny, tAny), true, nil, func(_ *renderState, a []any) (any, error) { return equal(a[0], a[1:]...) })
	native("ne", sig(tAny, tAny), false, nil, func(_ *renderState, a []any) (any, error) {
		eq, err := equal(a[0], a[1])
		return !eq, err
	})
	native("lt", sig(tAny, tAny), false, nil, func(_ *renderState, a []any) (any, error) { return less(a[0], a[1]) })
	native("le", sig(tAny, tAny), false, nil, func(_ *renderState, a []any) (any, error) {
		if lt, err := less(a[0], a[1]); lt || err != nil {
			return lt, err
		}
		return equal(a[0], a[1])
	})
	native("gt", sig(tAny, tAny), false, nil, func(_ *renderState, a []any) (any, error) {
		if lt, err := less(a[0], a[1]); lt || err != nil {
			return false, err
		}
		eq, err := equal(a[0], a[1])
		return !eq, err
	})
	native("ge", sig(tAny, tAny), false, nil, func(_ *renderState, a []any) (any, error) {
		lt, err := less(a[0], a[1])
		return !lt, err
	})
	native("print", sig(tAny), true, printCost("print", 1), func(_ *renderState, a []any) (any, error) { return fmt.Sprint(a...), nil })
	native("println", sig(tAny), true, printCost("println", 1), func(_ *renderState, a []any) (any, error) { return fmt.Sprintln(a...), nil })
	native("printf", sig(tString, tAny), true, nil, builtinPrintf)
	// Escapers print their arguments, then escape: at most 6 bytes per byte (\u003c).
	native("html", sig(tAny), true, printCost("html", 6), func(_ *renderState, a []any) (any, error) { return texttemplate.HTMLEscaper(a...), nil })
	native("js", sig(tAny), true, printCost("js", 6), func(_ *renderState, a []any) (any, error) { return texttemplate.JSEscaper(a...), nil })
	native("urlquery", sig(tAny), true, printCost("urlquery", 6), func(_ *renderState, a []any) (any, error) {
		return texttemplate.URLQueryEscaper(a...), nil
	})

	// Dates: now and the default of date read the template's clock.
	native("now", sig(), false, nil, func(st *renderState, _ []any) (any, error) { return st.now(), nil })
	native("date", sig(tString, tAny), false, stringCost(4, 128, 0), func(st *renderState, a []any) (any, error) {
		return timeOf(st, a[1]).In(time.Local).Format(a[0].(string)), nil
	})
	native("htmlDate", sig(tAny), false, fixedCost(128), func(st *renderState, a []any) (any, error) {
		return timeOf(st, a[0]).In(time.Local).Format("2006-01-02"), nil
	})
	// A string that does not parse is copied, quoted, into the error (time.ParseError,
	// strconv.NumError): up to 8 bytes a byte.
	wrap("dateModify", stringCost(8, 128, 0))
	alias("date_modify", "dateModify")
	wrap("mustDateModify", stringCost(8, 128, 0))
	alias("must_date_modify", "mustDateModify")
	wrap("duration", stringCost(8, 64, 0))
	wrap("toDate", stringCost(8, 256, 0, 1))
	wrap("mustToDate", stringCost(8, 256, 0, 1))
	wrap("unixEpoch", fixedCost(32))

	// Strings. Case mapping may grow a string 3× (an invalid byte becomes U+FFFD), plus
	// the builder's growth.
	wrap("abbrev", stringCost(1, 8, 1))
	wrap("abbrevboth", stringCost(1, 8, 2))
	wrap("trunc", nil)
	wrap("trim", nil)
	wrap("upper", stringCost(6, 16, 0))
	wrap("lower", stringCost(6, 16, 0))
	wrap("title", stringCost(6, 16, 0))
	wrap("untitle", stringCost(8, 16, 0))
	wrap("substr", nil)
	wrap("trimall", trimCost("trimall"))
	wrap("trimAll", trimCost("trimAll"))
	wrap("trimSuffix", nil)
	wrap("trimPrefix", nil)
	wrap("nospace", stringCost(6, 16, 0))
	wrap("initials", stringCost(4, 16, 0))
	wrap("swapcase", stringCost(8, 16, 0))
	wrap("snakecase", stringCost(8, 16, 0))
	wrap("camelcase", stringCost(8, 16, 0))
	wrap("kebabcase", stringCost(8, 16, 0))
	wrap("contains", nil)
	wrap("hasPrefix", nil)
	wrap("hasSuffix", nil)
	wrap("plural", nil)
	wrap("sha1sum", stringCost(1, 256, 0))
	wrap("sha256sum", stringCost(1, 256, 0))
	wrap("sha512sum", stringCost(1, 256, 0))
	wrap("adler32sum", stringCost(1, 256, 0))
	wrap("regexQuoteMeta", stringCost(2, 16, 0))
	wrap("base", stringCost(2, 16, 0))
	wrap("dir", stringCost(2, 16, 0))
	wrap("clean", stringCost(2, 16, 0))
	wrap("ext", nil)
	wrap("isAbs", nil)
	wrap("osBase", stringCost(2, 16, 0))
	wrap("osClean", stringCost(2, 16, 0))
	wrap("osDir", stringCost(2, 16, 0))
	wrap("osExt", nil)
	wrap("osIsAbs", nil)
	wrap("b64enc", stringCost(4, 16, 0))
	wrap("b64dec", stringCost(2, 64, 0))
	wrap("b32enc", stringCost(5, 16, 0))
	wrap("b32dec", stringCost(2, 64, 0))
	wrap("urlParse", stringCost(12, 1024, 0)) // the parts, and the quoted URL in a panic
	wrap("urlJoin", func(st *renderState, a []any) (int64, error) {
		n := int64(512)
		for _, v := range a[0].(map[string]any) {
			if s, ok := v.(string); ok {
				n = addCost(n, mulCost(int64(len(s)), 4))
			}
		}
		return n, nil
	})
	wrap("semver", stringCost(16, 512, 0))
	wrap("semverCompare", stringCost(16, 1024, 0, 1))
	wrap("fail", nil)
	native("repeat", sig(tInt, tString), false, func(_ *renderState, a []any) (int64, error) {
		count, s := a[0].(int), a[1].(string)
		if count < 0 {
			return 0, renderf("repeat: negative count %d", count)
		}
		return mulCost(int64(count), int64(len(s))), nil
	}, func(_ *renderState, a []any) (any, error) { return strings.Repeat(a[1].(string), a[0].(int)), nil })
	indent := func(prefix string) callFunc {
		return func(_ *renderState, a []any) (any, error) {
			pad := strings.Repeat(" ", a[0].(int))
			return prefix + pad + strings.ReplaceAll(a[1].(string), "\n", "\n"+pad), nil
		}
	}
	indentCost := func(st *renderState, a []any) (int64, error) {
		spaces, s := a[0].(int), a[1].(string)
		if spaces < 0 {
			return 0, renderf("indent: negative count %d", spaces)
		}
		lines := int64(strings.Count(s, "\n") + 1)
		// The padding, the result, and the strings.Replace builder.
		return addCost(mulCost(2, addCost(int64(len(s)), mulCost(lines, int64(spaces)))), int64(spaces)+16), nil
	}
	native("indent", sig(tInt, tString), false, indentCost, indent(""))
	native("nindent", sig(tInt, tString), false, indentCost, indent("\n"))
	native("replace", sig(tString, tString, tString), false, func(_ *renderState, a []any) (int64, error) {
		old, repl, src := a[0].(string), a[1].(string), a[2].(string)
		n := int64(strings.Count(src, old))
		return addCost(int64(len(src)), mulCost(n, int64(len(repl)))), nil
	}, func(_ *renderState, a []any) (any, error) {
		return strings.ReplaceAll(a[2].(string), a[0].(string), a[1].(string)), nil
	})
	wrapCost := func(l int, sep, s string) int64 {
		// goutils' builder: the result (each line plus a separator) and its growth.
		return mulCost(3, addCost(int64(len(s)), mulCost(int64(len(s)/max(l, 1)+1), int64(max(len(sep), 1)))))
	}
	native("wrap", sig(tInt, tString), false, func(_ *renderState, a []any) (int64, error) {
		return wrapCost(a[0].(int), "\n", a[1].(string)), nil
	}, func(_ *renderState, a []any) (any, error) {
		return sprigFuncs["wrap"].(func(int, string) string)(a[0].(int), a[1].(string)), nil
	})
	native("wrapWith", sig(tInt, tString, tString), false, func(_ *renderState, a []any) (int64, error) {
		return wrapCost(a[0].(int), a[1].(string), a[2].(string)), nil
	}, func(_ *renderState, a []any) (any, error) {
		return sprigFuncs["wrapWith"].(func(int, string, string) string)(a[0].(int), a[1].(string), a[2].(string)), nil
	})
	native("cat", sig(tAny), true, printCost("cat", 2), func(_ *renderState, a []any) (any, error) {
		var parts []any
		for _, v := range a {
			if v != nil {
				parts = append(parts, v)
			}
		}
		return fmt.Sprintf(strings.TrimSpace(strings.Repeat("%v ", len(parts))), parts...), nil
	})
	native("quote", sig(tAny), true, nil, func(st *renderState, a []any) (any, error) { return quoteAll(st, "quote", a, true) })
	native("squote", sig(tAny), true, nil, func(st *renderState, a []any) (any, error) { return quoteAll(st, "squote", a, false) })
	native("toString", sig(tAny), false, nil, func(st *renderState, a []any) (any, error) { return strval(st, "toString", a[0]) })
	native("toStrings", sig(tAny), false, nil, func(st *renderState, a []any) (any, error) { return toStrings(st, "toStrings", a[0], false) })
	native("sortAlpha", sig(tAny), false, nil, func(st *renderState, a []any) (any, error) {
		// A copy is sorted: the host's list is never changed.
		if k := reflect.Indirect(reflect.ValueOf(a[0])).Kind(); k != reflect.Slice && k != reflect.Array {
			s, err := strval(st, "sortAlpha", a[0])
			return []string{s}, err
		}
		out, err := toStrings(st, "sortAlpha", a[0], true)
		sort.Strings(out)
		return out, err
	})
	native("join", sig(tString, tAny), false, nil, func(st *renderState, a []any) (any, error) {
		sep := a[0].(string)
		parts, err := toStrings(st, "join", a[1], false)
		if err != nil {
			return nil, err
		}
		n := int64(max(len(parts)-1, 0)) * int64(len(sep))
		for _, p := range parts {
			n = addCost(n, int64(len(p)))
		}
		if err := st.charge("join", n); err != nil {
			return nil, err
		}
		return strings.Join(parts, sep), nil
	})
	native("split", sig(tString, tString), false, splitCost("split", 0, 1, -1, 128), func(_ *renderState, a []any) (any, error) {
		return sprigFuncs["split"].(func(string, string) map[string]string)(a[0].(string), a[1].(string)), nil
	})
	native("splitn", sig(tString, tInt, tString), false, splitCost("splitn", 0, 2, 1, 128), func(_ *renderState, a []any) (any, error) {
		return sprigFuncs["splitn"].(func(string, int, string) map[string]string)(a[0].(string), a[1].(int), a[2].(string)), nil
	})
	native("splitList", sig(tString, tString), false, splitCost("splitList", 0, 1, -1, 16), func(_ *renderState, a []any) (any, error) {
		return strings.Split(a[1].(string), a[0].(string)), nil
	})

	// Numbers, converted by spf13/cast, which prints a value it cannot convert into its
	// error (%#v): such values are walked and charged first.
	for _, name := range []string{"atoi", "int64", "int", "float64", "add1", "add", "sub", "div", "mod", "mul",
		"add1f", "addf", "subf", "divf", "mulf", "biggest", "max", "min", "maxf", "minf", "ceil", "floor", "round"} {
		wrap(name, castCost(name, 0))
	}
	native("toDecimal", sig(tAny), false, printCost("toDecimal", 1), func(_ *renderState, a []any) (any, error) {
		return sprigFuncs["toDecimal"].(func(any) int64)(a[0]), nil
	})
	native("until", sig(tInt), false, nil, func(st *renderState, a []any) (any, error) {
		count, step := a[0].(int), 1
		if count < 0 {
			step = -1
		}
		return untilStep(st, "until", 0, count, step)
	})
	native("untilStep", sig(tInt, tInt, tInt), false, nil, func(st *renderState, a []any) (any, error) {
		return untilStep(st, "untilStep", a[0].(int), a[1].(int), a[2].(int))
	})
	native("seq", sig(tInt), true, nil, seq)

	// Defaults and conditions.
	native("default", sig(tAny, tAny), true, nil, func(_ *renderState, a []any) (any, error) {
		if len(a) < 2 || empty(a[1]) {
			return a[0], nil
		}
		return a[1], nil
	})
	native("empty", sig(tAny), false, nil, func(_ *renderState, a []any) (any, error) { return empty(a[0]), nil })
	native("coalesce", sig(tAny), true, nil, func(_ *renderState, a []any) (any, error) {
		for _, v := range a {
			if !empty(v) {
				return v, nil
			}
		}
		return nil, nil
	})
	native("all", sig(tAny), true, nil, func(_ *renderState, a []any) (any, error) {
		return !slices.ContainsFunc(a, empty), nil
	})
	native("any", sig(tAny), true, nil, func(_ *renderState, a []any) (any, error) {
		return slices.ContainsFunc(a, func(v any) bool { return !empty(v) }), nil
	})
	native("ternary", sig(tAny, tAny, reflect.TypeFor[bool]()), false, nil, func(_ *renderState, a []any) (any, error) {
		if a[2].(bool) {
			return a[0], nil
		}
		return a[1], nil
	})

	// Encodings and reflection.
	native("fromJson", sig(tString), false, fromJSONCost, func(_ *renderState, a []any) (any, error) {
		var out any
		_ = json.Unmarshal([]byte(a[0].(string)), &out)
		return out, nil
	})
	native("mustFromJson", sig(tString), false, fromJSONCost, func(_ *renderState, a []any) (any, error) {
		var out any
		err := json.Unmarshal([]byte(a[0].(string)), &out)
		return out, err
	})
	for _, name := range []string{"toJson", "mustToJson", "toPrettyJson", "mustToPrettyJson", "toRawJson", "mustToRawJson"} {
		native(name, sig(tAny), false, nil, jsonFunc(name))
	}
	native("deepEqual", sig(tAny, tAny), false, walkCost("deepEqual", 0, 1), func(_ *renderState, a []any) (any, error) {
		return reflect.DeepEqual(a[0], a[1]), nil
	})
	wrap("typeOf", fixedCost(256))
	wrap("typeIs", fixedCost(256))
	wrap("typeIsLike", stringCost(1, 256, 0)) // "*" + target
	wrap("kindOf", nil)
	wrap("kindIs", nil)

	// Lists and dicts: charged for what they allocate (a 16-byte slot per item, a box
	// of up to 24 bytes per item copied out of a host list, and the growth of an
	// appended list: twice its final size); what they hold is charged, all of it, when
	// it is printed, joined or encoded.
	listCost := func(per, extra int64) costFunc {
		return func(_ *renderState, a []any) (int64, error) {
			return addCost(mulCost(addCost(lenOf(a[0]), 1), per), extra), nil
		}
	}
	native("list", sig(tAny), true, argsCost(16, 24), func(_ *renderState, a []any) (any, error) { return slices.Clone(a), nil })
	alias("tuple", "list")
	native("dict", sig(tAny), true, nil, func(st *renderState, a []any) (any, error) {
		if err := st.charge("dict", addCost(mulCost(int64(len(a)/2+1), 96), 48)); err != nil {
			return nil, err
		}
		d := make(map[string]any, (len(a)+1)/2)
		for i := 0; i < len(a); i += 2 {
			k, err := strval(st, "dict", a[i])
			if err != nil {
				return nil, err
			}
			if i+1 < len(a) {
				d[k] = a[i+1]
			} else {
				d[k] = ""
			}
		}
		return d, nil
	})
	wrap("get", nil)
	wrap("hasKey", nil)
	wrap("pluck", argsCost(64, 24))
	wrap("keys", func(_ *renderState, a []any) (int64, error) {
		n := int64(0)
		for _, d := range a {
			n = addCost(n, int64(len(d.(map[string]any))))
		}
		return addCost(mulCost(n, 64), 24), nil
	})
	wrap("pick", func(_ *renderState, a []any) (int64, error) { return addCost(mulCost(int64(len(a)), 96), 48), nil })
	wrap("omit", func(_ *renderState, a []any) (int64, error) {
		return addCost(mulCost(int64(len(a[0].(map[string]any))+len(a)), 96), 96), nil
	})
	wrap("values", func(_ *renderState, a []any) (int64, error) {
		return addCost(mulCost(int64(len(a[0].(map[string]any))), 64), 24), nil
	})
	for _, name := range []string{"append", "push", "mustAppend", "mustPush", "prepend", "mustPrepend"} {
		wrap(name, listCost(80, 48))
	}
	for _, name := range []string{"first", "mustFirst", "last", "mustLast"} {
		wrap(name, fixedCost(32))
	}
	for _, name := range []string{"rest", "mustRest", "initial", "mustInitial", "reverse", "mustReverse"} {
		wrap(name, listCost(48, 24))
	}
	for _, name := range []string{"compact", "mustCompact"} {
		wrap(name, listCost(96, 24))
	}
	for _, name := range []string{"has", "mustHas"} {
		wrap(name, walkCost(name, 0, 1))
	}
	wrap("slice", castCost("slice", 1))
	wrap("mustSlice", castCost("mustSlice", 1))
	wrap("dig", nil)
	wrap("concat", func(_ *renderState, a []any) (int64, error) {
		n := int64(1)
		for _, l := range a {
			n = addCost(n, lenOf(l))
		}
		return mulCost(n, 96), nil
	})
	chunkCost := func(_ *renderState, a []any) (int64, error) {
		size, n := a[0].(int), lenOf(a[1])
		chunks := int64(1)
		if size > 0 {
			chunks = n/int64(size) + 1
		}
		return addCost(mulCost(n, 48), mulCost(chunks, 64)), nil
	}
	wrap("chunk", chunkCost)
	wrap("mustChunk", chunkCost)

	// Regular expressions: compiled size and matches estimated before anything is built.
	for _, name := range []string{"regexMatch", "mustRegexMatch", "regexFind", "mustRegexFind", "regexFindAll",
		"mustRegexFindAll", "regexSplit", "mustRegexSplit", "regexReplaceAll", "mustRegexReplaceAll",
		"regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"} {
		add(regexFunc(name))
	}

	for _, name := range removedFuncs {
		delete(ft, name)
	}
	return ft
}

// wrapFunc adapts a Go function (Sprig's) to the table: its parameter types come from
// its signature, and common signatures are called without reflection.
func wrapFunc(name string, fn any, cost costFunc) *funcDef {
	fv := reflect.ValueOf(fn)
	ft := fv.Type()
	f := &funcDef{name: name, cost: cost, variadic: ft.IsVariadic()}
	for i := range ft.NumIn() {
		t := ft.In(i)
		if f.variadic && i == ft.NumIn()-1 {
			t = t.Elem()
		}
		if t == anyType {
			t = nil
		}
		f.in = append(f.in, t)
	}
	switch fn := fn.(type) {
	case func(string) string:
		f.call = func(_ *renderState, a []any) (any, error) { return fn(a[0].(string)), nil }
	case func(string) bool:
		f.call = func(_ *renderState, a []any) (any, error) { return fn(a[0].(string)), nil }
	case func(string, string) string:
		f.call = func(_ *renderState, a []any) (any, error) { return fn(a[0].(string), a[1].(string)), nil }
	case func(string, string) bool:
		f.call = func(_ *renderState, a []any) (any, error) { return fn(a[0].(string), a[1].(string)), nil }
	case func(int, string) string:
		f.call = func(_ *renderState, a []any) (any, error) { return fn(a[0].(int), a[1].(string)), nil }
	case func(any) any:
		f.call = func(_ *renderState, a []any) (any, error) { return fn(a[0]), nil }
	case func(any) int64:
		f.call = func(_ *renderState, a []any) (any, error) { return fn(a[0]), nil }
	case func(any, any) int64:
		f.call = func(_ *renderState, a []any) (any, error) { return fn(a[0], a[1]), nil }
	default:
		f.call = func(_ *renderState, a []any) (any, error) {
			in := make([]reflect.Value, len(a))
			for i, v := range a {
				if v == nil {
					t := f.param(i)
					if t == nil {
						t = anyType
					}
					in[i] = reflect.Zero(t)
				} else {
					in[i] = reflect.ValueOf(v)
				}
			}
			out := fv.Call(in)
			if len(out) == 2 && !out[1].IsNil() {
				return nil, out[1].Interface().(error)
			}
			return out[0].Interface(), nil
		}
	}
	return f
}

func fixedCost(n int64) costFunc {
	return func(*renderState, []any) (int64, error) { return n, nil }
}

// stringCost charges k bytes per byte of the string arguments at idx, plus extra.
func stringCost(k, extra int64, idx ...int) costFunc {
	return func(_ *renderState, a []any) (int64, error) {
		n := extra
		for _, i := range idx {
			if s, ok := a[i].(string); ok {
				n = addCost(n, mulCost(int64(len(s)), k))
			}
		}
		return n, nil
	}
}

// argsCost charges per argument (variadic lists).
func argsCost(per, extra int64) costFunc {
	return func(_ *renderState, a []any) (int64, error) { return addCost(mulCost(int64(len(a)), per), extra), nil }
}

// printCost charges what fmt prints for the arguments, times factor for an escaper,
// after walking them (cycles, depth).
func printCost(name string, factor int64) costFunc {
	return func(st *renderState, a []any) (int64, error) {
		n := int64(len(a) + 16)
		for _, v := range a {
			m, err := measureValue(st, name, v, fmtMeasure)
			if err != nil {
				return 0, err
			}
			n = addCost(n, m)
		}
		// The printed string, its escaped copy, and the builders' growth.
		return mulCost(n, 2*factor), nil
	}
}

// trimCost refuses a trim whose cutset is not ASCII and whose work (the cutset is
// searched for each rune trimmed) would exceed MaxWork.
func trimCost(name string) costFunc {
	return func(_ *renderState, a []any) (int64, error) {
		cutset, s := a[0].(string), a[1].(string)
		for i := 0; i < len(cutset); i++ {
			if cutset[i] >= utf8.RuneSelf {
				if work := mulCost(int64(len(cutset)), int64(len(s))); work > MaxWork {
					return 0, &LimitError{Func: name, Limit: LimitWork, Want: work, Left: MaxWork}
				}
				break
			}
		}
		return 64, nil
	}
}

// castCost charges the numbers spf13/cast converts, from argument from on: a string
// that is not a number is copied into strconv's error and quoted into cast's (%#v, up to
// 4 bytes a byte, in a growing buffer); any other value that is not a number is printed
// into the error with %#v too (type names, quoted strings).
func castCost(name string, from int) costFunc {
	return func(st *renderState, a []any) (int64, error) {
		n := int64(64)
		for _, v := range a[min(from, len(a)):] {
			switch v := v.(type) {
			case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
				continue
			case string:
				n = addCost(n, mulCost(int64(len(v)), 10))
				continue
			}
			m, err := measureValue(st, name, v, measureOpts{verbose: true, leaf: 24, factor: 4})
			if err != nil {
				return 0, err
			}
			n = addCost(n, mulCost(m, 2))
		}
		return n, nil
	}
}

// walkCost refuses arguments that contain themselves, are nested too deep or are larger
// than the budget left, for functions that walk them without allocating (deepEqual, has).
func walkCost(name string, idx ...int) costFunc {
	return func(st *renderState, a []any) (int64, error) {
		for _, i := range idx {
			if _, err := measureValue(st, name, a[i], fmtMeasure); err != nil {
				return 0, err
			}
		}
		return 64, nil
	}
}

// splitCost charges a split of the string at src by the separator at sep, into at most n
// parts (argument at limit, -1: none), per bytes a part.
func splitCost(name string, sep, src, limit int, per int64) costFunc {
	return func(st *renderState, a []any) (int64, error) {
		s, sp := a[src].(string), a[sep].(string)
		parts := int64(utf8.RuneCountInString(s))
		if sp != "" {
			parts = int64(strings.Count(s, sp)) + 1
		}
		if limit >= 0 {
			if n := a[limit].(int); n >= 0 {
				parts = min(parts, int64(n))
			}
		}
		if err := st.listLen(name, parts); err != nil {
			return 0, err
		}
		return addCost(mulCost(parts, per), int64(len(s))), nil
	}
}

// fromJSONCost: decoding builds at most about 32 bytes per byte of JSON ("[]," is a list
// header, an interface and a slot).
func fromJSONCost(_ *renderState, a []any) (int64, error) {
	return addCost(mulCost(int64(len(a[0].(string))), 32), 64), nil
}

// lenOf is the length of a list, map or string, 0 for anything else.
func lenOf(v any) int64 {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
		return int64(rv.Len())
	}
	return 0
}

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
	if err := st.charge(fn, 2*n); err != nil {
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
			if err := st.charge(fn, addCost(mulCost(int64(len(x)), 8), 8)); err != nil {
				return "", err
			}
			s = strconv.Quote(x)
		} else {
			m, err := measureValue(st, fn, v, fmtMeasure)
			if err != nil {
				return "", err
			}
			if err := st.charge(fn, addCost(mulCost(m, 2), 8)); err != nil {
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
	// fmt's buffer grows by doubling, then the string is copied.
	if err := st.charge("printf", mulCost(total, 3)); err != nil {
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
		if err := st.charge(name, mulCost(n, 3)); err != nil {
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

// regexFunc is one of Sprig's regex functions, charged before it compiles or matches.
func regexFunc(name string) *funcDef {
	f := &funcDef{name: name}
	base := strings.TrimPrefix(name, "must")
	base = strings.TrimPrefix(strings.TrimPrefix(base, "regex"), "Regex")
	switch base {
	case "Match":
		f.in = sig(tString, tString)
		f.call = func(st *renderState, a []any) (any, error) {
			re, _, err := compileRegexp(st, name, a[0].(string), len(a[1].(string)))
			if err != nil {
				return nil, err
			}
			return re.MatchString(a[1].(string)), nil
		}
	case "Find":
		f.in = sig(tString, tString)
		f.call = func(st *renderState, a []any) (any, error) {
			re, _, err := compileRegexp(st, name, a[0].(string), len(a[1].(string)))
			if err != nil {
				return nil, err
			}
			if err := st.charge(name, 64); err != nil {
				return nil, err
			}
			return re.FindString(a[1].(string)), nil
		}
	case "FindAll", "Split":
		split := strings.HasSuffix(name, "Split")
		f.in = sig(tString, tString, tInt)
		f.call = func(st *renderState, a []any) (any, error) {
			s, n := a[1].(string), a[2].(int)
			re, ast, err := compileRegexp(st, name, a[0].(string), len(s))
			if err != nil {
				return nil, err
			}
			m := matchBound(ast, len(s))
			if n >= 0 {
				m = min(m, int64(n))
			}
			// Each match: its index slice, the result slot, and the result's growth.
			if err := st.charge(name, addCost(mulCost(m, 64+8*int64(2*(re.NumSubexp()+1))), 64)); err != nil {
				return nil, err
			}
			var out []string
			if split {
				out = re.Split(s, n)
			} else {
				out = re.FindAllString(s, n)
			}
			if err := st.listLen(name, int64(len(out))); err != nil {
				return nil, err
			}
			return out, nil
		}
	case "ReplaceAll", "ReplaceAllLiteral":
		literal := strings.HasSuffix(name, "Literal")
		f.in = sig(tString, tString, tString)
		f.call = func(st *renderState, a []any) (any, error) {
			s, repl := a[1].(string), a[2].(string)
			re, ast, err := compileRegexp(st, name, a[0].(string), len(s))
			if err != nil {
				return nil, err
			}
			// The result holds the text between matches, and per match the replacement's
			// text; each $reference in it expands to at most the whole input (the
			// matches do not overlap).
			out := addCost(int64(len(s)), mulCost(matchBound(ast, len(s)), int64(len(repl))))
			if !literal {
				out = addCost(out, mulCost(int64(strings.Count(repl, "$")), int64(len(s))))
			}
			if err := st.charge(name, mulCost(out, 3)); err != nil {
				return nil, err
			}
			if literal {
				return re.ReplaceAllLiteralString(s, repl), nil
			}
			return re.ReplaceAllString(s, repl), nil
		}
	default:
		panic("template: unknown regex function " + name)
	}
	return f
}

// compileRegexp charges and bounds a regular expression before compiling it: its syntax
// tree (about 128 bytes a source byte), then its program (about 128 bytes an
// instruction, with the matcher's queues), and refuses one whose program size times the
// input length exceeds MaxWork.
func compileRegexp(st *renderState, fn, expr string, input int) (*regexp.Regexp, *syntax.Regexp, error) {
	if err := st.charge(fn, addCost(mulCost(int64(len(expr)), 128), 256)); err != nil {
		return nil, nil, err
	}
	ast, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, nil, err
	}
	size := progSize(ast)
	if err := st.charge(fn, mulCost(size, 128)); err != nil {
		return nil, nil, err
	}
	if work := mulCost(size, int64(max(input, 1))); work > MaxWork {
		return nil, nil, &LimitError{Func: fn, Limit: LimitWork, Want: work, Left: MaxWork}
	}
	re, err := regexp.Compile(expr)
	return re, ast, err
}

// progSize is an upper bound of the instructions regexp compiles re to.
func progSize(re *syntax.Regexp) int64 {
	sub := func() int64 {
		n := int64(0)
		for _, s := range re.Sub {
			n = addCost(n, progSize(s))
		}
		return n
	}
	switch re.Op {
	case syntax.OpLiteral:
		return int64(len(re.Rune)) + 1
	case syntax.OpCharClass:
		return int64(len(re.Rune)/2) + 2
	case syntax.OpCapture:
		return addCost(sub(), 2)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		return addCost(sub(), 2)
	case syntax.OpRepeat:
		n := int64(re.Max)
		if re.Max < 0 {
			n = int64(re.Min) + 1
		}
		return addCost(mulCost(sub(), n+1), n+1)
	case syntax.OpConcat, syntax.OpAlternate:
		return addCost(sub(), int64(len(re.Sub))+1)
	}
	return 2
}

// matchBound is the most matches re can have in n bytes: matches do not overlap, each is
// at least minLen bytes long, and an empty match advances by at least one byte.
func matchBound(re *syntax.Regexp, n int) int64 {
	return int64(n)/max(minLen(re), 1) + 1
}

// minLen is the length in bytes of the shortest text re matches.
func minLen(re *syntax.Regexp) int64 {
	switch re.Op {
	case syntax.OpLiteral:
		return int64(len(re.Rune))
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minLen(re.Sub[0])
	case syntax.OpRepeat:
		return mulCost(minLen(re.Sub[0]), int64(re.Min))
	case syntax.OpConcat:
		n := int64(0)
		for _, s := range re.Sub {
			n = addCost(n, minLen(s))
		}
		return n
	case syntax.OpAlternate:
		n := int64(-1)
		for _, s := range re.Sub {
			if m := minLen(s); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	}
	return 0
}

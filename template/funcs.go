package template

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
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
	native("print", sig(tAny), true, printCost("print", 0), func(_ *renderState, a []any) (any, error) { return fmt.Sprint(a...), nil })
	native("println", sig(tAny), true, printCost("println", 0), func(_ *renderState, a []any) (any, error) { return fmt.Sprintln(a...), nil })
	native("printf", sig(tString, tAny), true, nil, builtinPrintf)
	// Escapers print their arguments, then escape: html and urlquery write at most 6 and
	// 3 bytes per byte; js formats each rune it escapes with fmt (\u00E9), 10 at most.
	native("html", sig(tAny), true, printCost("html", 6), func(_ *renderState, a []any) (any, error) { return texttemplate.HTMLEscaper(a...), nil })
	native("js", sig(tAny), true, printCost("js", 10), func(_ *renderState, a []any) (any, error) { return texttemplate.JSEscaper(a...), nil })
	native("urlquery", sig(tAny), true, printCost("urlquery", 3), func(_ *renderState, a []any) (any, error) {
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
	wrap("toDate", stringCost(16, 256, 0, 1))
	wrap("mustToDate", stringCost(16, 256, 0, 1))
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
	wrap("regexQuoteMeta", stringCost(4, 16, 0))
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
		// The padding and "\n"+padding, the replaced text, and the result they make.
		return addCost(mulCost(2, addCost(int64(len(s)), mulCost(lines, int64(spaces)))), mulCost(int64(spaces), 3)+64), nil
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
		// goutils' bytes.Buffer: the result (each line plus a separator), its growth, and
		// the string copied out of it.
		return mulCost(5, addCost(int64(len(s)), mulCost(int64(len(s)/max(l, 1)+1), int64(max(len(sep), 1)))))
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
	native("cat", sig(tAny), true, printCost("cat", 0), func(_ *renderState, a []any) (any, error) {
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
		"biggest", "max", "min", "maxf", "minf", "ceil", "floor", "round"} {
		wrap(name, castCost(name, 0, 1024))
	}
	// The float operations go through shopspring/decimal: big integers per operand.
	for _, name := range []string{"add1f", "addf", "subf", "divf", "mulf"} {
		wrap(name, castCost(name, 0, 2048))
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
		walk := walkCost(name, 0, 1)
		wrap(name, func(st *renderState, a []any) (int64, error) {
			n, err := walk(st, a)
			// Each item is boxed to be compared.
			return addCost(n, mulCost(lenOf(a[1]), 48)), err
		})
	}
	wrap("slice", castCost("slice", 1, 64))
	wrap("mustSlice", castCost("mustSlice", 1, 64))
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

// printCost charges what fmt prints for the arguments, after walking them (cycles,
// depth), with fmt's growth; an escaper then writes up to escape bytes per byte into a
// bytes.Buffer (which doubles: 3 bytes per byte of its result, with the copy).
func printCost(name string, escape int64) costFunc {
	return func(st *renderState, a []any) (int64, error) {
		n := int64(len(a) + 16)
		for _, v := range a {
			m, err := measureValue(st, name, v, fmtMeasure)
			if err != nil {
				return 0, err
			}
			n = addCost(n, m)
		}
		return mulCost(n, growth+3*escape), nil
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
func castCost(name string, from int, base int64) costFunc {
	return func(st *renderState, a []any) (int64, error) {
		n := addCost(base, mulCost(int64(len(a)), 256))
		for _, v := range a[min(from, len(a)):] {
			switch v := v.(type) {
			case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
				continue
			case string:
				n = addCost(n, mulCost(int64(len(v)), 4*growth+1))
				continue
			}
			m, err := measureValue(st, name, v, measureOpts{verbose: true, leaf: 24, factor: 4})
			if err != nil {
				return 0, err
			}
			n = addCost(n, mulCost(m, growth))
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

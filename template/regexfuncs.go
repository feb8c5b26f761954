package template

// Sprig's regular-expression functions, bounded: the expression's syntax tree, program
// and matches are estimated, and charged, before it is compiled or run.

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

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
			if err := st.charge(name, mulCost(out, growth)); err != nil {
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
// instruction, with the matchers' queues and bitmap), and refuses one whose program size
// times the input length exceeds MaxWork.
func compileRegexp(st *renderState, fn, expr string, input int) (*regexp.Regexp, *syntax.Regexp, error) {
	if err := st.charge(fn, addCost(mulCost(int64(len(expr)), 128), 2048)); err != nil {
		return nil, nil, err
	}
	ast, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, nil, err
	}
	size := progSize(ast)
	// The program and the matchers' queues; a small program is run by a backtracker,
	// whose visited bitmap has a bit per instruction and input byte (32 KiB at most).
	if err := st.charge(fn, addCost(mulCost(size, 128), min(mulCost(size, int64(input+1))/8, 33<<10))); err != nil {
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

package textindex

import (
	"regexp"
	"regexp/syntax"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"github.com/parleyhq/parley/internal/fold"
)

// nationalDigits returns the digits of phonenumbers.Format(num,
// phonenumbers.NATIONAL), where nsn is the national significant number of
// num (phonenumbers.GetNationalSignificantNumber) and cc its country code.
//
// Format picks the first of its region's number formats whose leading
// digits pattern matches at the start of nsn and whose pattern matches all
// of it, then rewrites nsn with the pattern and the format's template,
// through regular expressions: about two microseconds a number. The fast
// path here takes the same decisions without running them: the formats of
// a country code are analysed once (see ccFormats), the leading digits
// patterns are evaluated as sets of end positions over the digits, and a
// pattern made of digit classes repeated a bounded number of times gives
// its groups by the greedy rule the regexp package follows. The template is
// then expanded by the regexp package itself. Whatever the analysis cannot
// prove the same (another form of pattern, an extension, a raw input) is
// formatted by phonenumbers.
func nationalDigits(num *phonenumbers.PhoneNumber, cc int, nsn string) string {
	if num.GetExtension() == "" && num.GetRawInput() == "" {
		if f := formatsFor(cc); f != nil {
			if d, ok := f.digits(nsn); ok {
				return d
			}
		}
	}
	return fold.Digits(phonenumbers.Format(num, phonenumbers.NATIONAL))
}

// ccFormats holds the national number formats of one country code, in the
// order phonenumbers tries them.
type ccFormats struct {
	none    bool // no fast path for the country code
	formats []fastFormat
}

// fastFormat is one number format, analysed.
type fastFormat struct {
	// ok reports that the fast path can decide and apply this format.
	ok bool
	// lead is the last leading digits pattern, nil when there is none.
	lead *syntax.Regexp
	// elems are the pattern's elements in order; fixed are the first
	// ones, of fixed width; every later element accepts any digit.
	elems []elem
	fixed int
	// width is the total width of the fixed elements; minRest[i] the
	// least number of digits elements i… take (i ≥ fixed); maxLen the
	// most the whole pattern takes.
	width   int
	minRest []int
	maxLen  int
	// caps are, by capturing group number, its elements [from, to).
	caps [][2]int
	re   *regexp.Regexp // the pattern, compiled as phonenumbers does
	tmpl string         // the template phonenumbers expands (NATIONAL)
}

// elem is a digit class repeated min to max times; digits is the set of
// digits it accepts, bit d for digit d.
type elem struct {
	digits   uint16
	min, max int
}

const allDigits = 1<<10 - 1

// formatCache holds the analysed formats by country code (country codes
// have one to three digits), nil until first needed. The analysis reads
// only the library's metadata, fixed when it loads: two goroutines that
// analyse one country code at once store the same formats, and an entry
// never changes once stored.
var formatCache [1000]atomic.Pointer[ccFormats]

// metadata indexes the library's metadata as it does: by region code, and
// by country code for the non-geographical entities ("001").
var metadata = sync.OnceValues(func() (map[string]*phonenumbers.PhoneMetadata, map[int]*phonenumbers.PhoneMetadata) {
	byRegion, nonGeo := map[string]*phonenumbers.PhoneMetadata{}, map[int]*phonenumbers.PhoneMetadata{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return byRegion, nonGeo
	}
	for _, m := range coll.GetMetadata() {
		if m.GetId() == "001" {
			nonGeo[int(m.GetCountryCode())] = m
		} else {
			byRegion[m.GetId()] = m
		}
	}
	return byRegion, nonGeo
})

// formatsFor returns the analysed formats of country code cc, nil when the
// fast path does not serve it.
func formatsFor(cc int) *ccFormats {
	if cc < 0 || cc >= len(formatCache) {
		return nil
	}
	f := formatCache[cc].Load()
	if f == nil {
		f = analyse(cc)
		formatCache[cc].Store(f)
	}
	if f.none {
		return nil
	}
	return f
}

// analyse builds the formats of cc as phonenumbers.Format finds them.
func analyse(cc int) *ccFormats {
	if !phonenumbers.GetSupportedCallingCodes()[cc] {
		return &ccFormats{none: true} // Format writes the national significant number: not worth a fast path
	}
	region := phonenumbers.GetRegionCodeForCountryCode(cc)
	byRegion, nonGeo := metadata()
	md := byRegion[region]
	if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
		md = nonGeo[cc]
	}
	if md == nil {
		return &ccFormats{none: true}
	}
	out := &ccFormats{}
	for _, nf := range md.GetNumberFormat() {
		out.formats = append(out.formats, analyseFormat(nf))
	}
	return out
}

func analyseFormat(nf *phonenumbers.NumberFormat) fastFormat {
	var f fastFormat
	if leads := nf.GetLeadingDigitsPattern(); len(leads) > 0 {
		re, err := syntax.Parse(leads[len(leads)-1], syntax.Perl)
		if err != nil || !evaluable(re) {
			return f
		}
		f.lead = re
	}
	pattern := nf.GetPattern()
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return f
	}
	f.caps = make([][2]int, re.MaxCap()+1)
	if !f.flatten(re, false) {
		return f
	}
	f.fixed = len(f.elems)
	for i, e := range f.elems {
		if e.min != e.max {
			f.fixed = i
			break
		}
		f.width += e.min
	}
	f.minRest = make([]int, len(f.elems)+1)
	for i := len(f.elems) - 1; i >= f.fixed; i-- {
		e := f.elems[i]
		if e.digits != allDigits {
			return f // a class after a variable width: its place is not fixed
		}
		f.minRest[i] = f.minRest[i+1] + e.min
	}
	f.maxLen = f.width
	for _, e := range f.elems[f.fixed:] {
		f.maxLen += e.max
	}
	if f.re, err = regexp.Compile(pattern); err != nil || f.re.NumSubexp() != len(f.caps)-1 {
		return f
	}
	// formatNsnUsingPatternWithCarrier, without a carrier code: the
	// national prefix formatting rule replaces the template's first group.
	f.tmpl = nf.GetFormat()
	if rule := nf.GetNationalPrefixFormattingRule(); rule != "" {
		i := 1
		f.tmpl = phonenumbers.FIRST_GROUP_PATTERN.ReplaceAllStringFunc(f.tmpl, func(s string) string {
			if i > 0 {
				i--
				return rule
			}
			return s
		})
	}
	f.ok = true
	return f
}

// flatten appends the elements of re to f.elems, recording the capturing
// groups; false when re is not a sequence of digit classes repeated a
// bounded number of times, greedily, with groups that do not nest.
func (f *fastFormat) flatten(re *syntax.Regexp, inCap bool) bool {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return true
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !f.flatten(sub, inCap) {
				return false
			}
		}
		return true
	case syntax.OpCapture:
		if inCap {
			return false
		}
		from := len(f.elems)
		if !f.flatten(re.Sub[0], true) {
			return false
		}
		f.caps[re.Cap] = [2]int{from, len(f.elems)}
		return true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return false
		}
		for _, r := range re.Rune {
			f.elems = append(f.elems, elem{digits: runeDigits(r), min: 1, max: 1})
		}
		return true
	case syntax.OpCharClass:
		f.elems = append(f.elems, elem{digits: classDigits(re.Rune), min: 1, max: 1})
		return true
	case syntax.OpRepeat, syntax.OpQuest:
		if re.Flags&syntax.NonGreedy != 0 {
			return false
		}
		lo, hi := re.Min, re.Max
		if re.Op == syntax.OpQuest {
			lo, hi = 0, 1
		}
		if hi < 0 {
			return false
		}
		var d uint16
		switch sub := re.Sub[0]; {
		case sub.Op == syntax.OpCharClass:
			d = classDigits(sub.Rune)
		case sub.Op == syntax.OpLiteral && len(sub.Rune) == 1 && sub.Flags&syntax.FoldCase == 0:
			d = runeDigits(sub.Rune[0])
		default:
			return false
		}
		f.elems = append(f.elems, elem{digits: d, min: lo, max: hi})
		return true
	}
	return false
}

func runeDigits(r rune) uint16 {
	if r >= '0' && r <= '9' {
		return 1 << (r - '0')
	}
	return 0
}

// classDigits returns the digits in a class given as rune ranges.
func classDigits(ranges []rune) uint16 {
	var d uint16
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := max(ranges[i], '0'); r <= min(ranges[i+1], '9'); r++ {
			d |= 1 << (r - '0')
		}
	}
	return d
}

// digits returns the digits of the national format of nsn, false when the
// fast path cannot tell them.
func (c *ccFormats) digits(nsn string) (string, bool) {
	if len(nsn) == 0 || len(nsn) > 62 {
		return "", false
	}
	for i := 0; i < len(nsn); i++ {
		if nsn[i] < '0' || nsn[i] > '9' {
			return "", false
		}
	}
	for i := range c.formats {
		f := &c.formats[i]
		if !f.ok {
			return "", false // phonenumbers may pick it: only it can tell
		}
		if f.lead != nil && ends(f.lead, nsn, 1) == 0 {
			continue
		}
		if !f.fullMatch(nsn) {
			continue
		}
		return f.apply(nsn), true
	}
	return nsn, true // no format: Format returns the number as it is
}

// fullMatch reports whether the pattern matches all of nsn (digits only).
func (f *fastFormat) fullMatch(nsn string) bool {
	if len(nsn) < f.width+f.minRest[f.fixed] || len(nsn) > f.maxLen {
		return false
	}
	p := 0
	for _, e := range f.elems[:f.fixed] {
		for range e.min {
			if e.digits&(1<<(nsn[p]-'0')) == 0 {
				return false
			}
			p++
		}
	}
	return true // the rest accepts any digits, and their number fits
}

// apply rewrites nsn, which the pattern matches whole, as
// regexp.ReplaceAllString does with the template, and returns its digits.
// The leftmost-first match starts at 0; every element after the fixed
// ones accepts any digit and is greedy, so each takes as many digits as it
// may while those after it still get their least, which ends the match at
// the end of nsn.
func (f *fastFormat) apply(nsn string) string {
	var posBuf [32]int
	pos := posBuf[:0]
	p := 0
	for i, e := range f.elems {
		pos = append(pos, p)
		if i < f.fixed {
			p += e.min
			continue
		}
		p += min(e.max, len(nsn)-p-f.minRest[i+1])
	}
	pos = append(pos, p)
	var matchBuf [32]int
	match := append(matchBuf[:0], 0, len(nsn))
	for _, c := range f.caps[1:] {
		match = append(match, pos[c[0]], pos[c[1]])
	}
	var buf [64]byte
	out := f.re.ExpandString(buf[:0], f.tmpl, nsn, match)
	n := 0 // the digits, as fold.Digits keeps them
	for _, c := range out {
		if c >= '0' && c <= '9' {
			out[n] = c
			n++
		}
	}
	if string(out[:n]) == nsn {
		return nsn
	}
	return string(out[:n])
}

// evaluable reports whether ends can evaluate re: no assertions (of
// beginning, end or word boundary) and no case folding.
func evaluable(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpNoMatch, syntax.OpEmptyMatch, syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && unicode.SimpleFold(r) != r {
				return false
			}
		}
	case syntax.OpCapture, syntax.OpConcat, syntax.OpAlternate, syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
	default:
		return false
	}
	for _, sub := range re.Sub {
		if !evaluable(sub) {
			return false
		}
	}
	return true
}

// ends returns the set of positions of s (bit i for position i, len(s) <
// 63) at which a match of re can end when it starts at one of the
// positions in from. re is evaluable. A match of re starts at 0 exactly
// when ends(re, s, 1) is not empty: the leftmost match the regexp package
// finds then starts at 0.
func ends(re *syntax.Regexp, s string, from uint64) uint64 {
	if from == 0 {
		return 0
	}
	switch re.Op {
	case syntax.OpNoMatch:
		return 0
	case syntax.OpEmptyMatch:
		return from
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			from = step(s, from, func(c byte) bool { return rune(c) == r })
		}
		return from
	case syntax.OpCharClass:
		return step(s, from, func(c byte) bool {
			for i := 0; i+1 < len(re.Rune); i += 2 {
				if rune(c) >= re.Rune[i] && rune(c) <= re.Rune[i+1] {
					return true
				}
			}
			return false
		})
	case syntax.OpAnyChar:
		return step(s, from, func(byte) bool { return true })
	case syntax.OpAnyCharNotNL:
		return step(s, from, func(c byte) bool { return c != '\n' })
	case syntax.OpCapture:
		return ends(re.Sub[0], s, from)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			from = ends(sub, s, from)
		}
		return from
	case syntax.OpAlternate:
		var out uint64
		for _, sub := range re.Sub {
			out |= ends(sub, s, from)
		}
		return out
	case syntax.OpQuest:
		return from | ends(re.Sub[0], s, from)
	case syntax.OpStar:
		return star(re.Sub[0], s, from)
	case syntax.OpPlus:
		return star(re.Sub[0], s, ends(re.Sub[0], s, from))
	case syntax.OpRepeat:
		for range re.Min {
			from = ends(re.Sub[0], s, from)
		}
		if re.Max < 0 {
			return star(re.Sub[0], s, from)
		}
		out := from
		for range re.Max - re.Min {
			from = ends(re.Sub[0], s, from)
			out |= from
		}
		return out
	}
	return 0
}

// star returns the positions reached from from by zero or more matches of
// re.
func star(re *syntax.Regexp, s string, from uint64) uint64 {
	out := from
	for from != 0 {
		from = ends(re, s, from) &^ out
		out |= from
	}
	return out
}

// step returns the positions after one character that ok accepts, from the
// positions in from.
func step(s string, from uint64, ok func(byte) bool) uint64 {
	var out uint64
	for p := 0; p < len(s); p++ {
		if from&(1<<p) != 0 && ok(s[p]) {
			out |= 1 << (p + 1)
		}
	}
	return out
}

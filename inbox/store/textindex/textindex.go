package textindex

import (
	"iter"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/internal/fold"
)

// minPhoneDigits is the shortest digit-only query taken as a phone search.
const minPhoneDigits = 3

// MaxWordBytes is the longest word, in bytes, that search indexes and
// matches. Longer words of snapshots and messages, phone digit forms and
// query terms are cut to their first MaxWordBytes bytes (at a character
// boundary): a store's index entries stay small (PostgreSQL refuses a GIN
// entry over about 2,700 bytes, and a store indexing every prefix of a word
// would otherwise keep quadratic bytes), and a word of any length is still
// found by its first characters. Two words that share their first
// MaxWordBytes bytes are one word to search.
const MaxWordBytes = 64

// capWord returns w cut to at most MaxWordBytes bytes at a character
// boundary.
func capWord(w string) string {
	if len(w) <= MaxWordBytes {
		return w
	}
	return w[:capLen(w)]
}

// capLen returns the length of the prefix of w that capWord keeps.
func capLen[S ~string | ~[]byte](w S) int {
	if len(w) <= MaxWordBytes {
		return len(w)
	}
	i := MaxWordBytes
	for i > 0 && !utf8.RuneStart(w[i]) {
		i--
	}
	return i
}

// ParseQuery parses what a user typed in the search box (T13). When q,
// without spaces, '+', '-', '.', '(' and ')', is made only of digits and
// holds at least three, it is a phone search: Search{Phone: digits}. A
// number written internationally, with "+" or the international prefix
// "00", is searched by its E.164 digits: "0033 6 12 34 56 78" and
// "+33 (0)6 12 34 56 78" (the trunk prefix written after the country code)
// both search "33612345678". Otherwise Terms are the whitespace-separated
// chunks of the folded query, without duplicates, in the order typed. Terms
// and digits are cut to MaxWordBytes. A blank query gives the zero Search,
// which matches everything.
func ParseQuery(q string) store.Search {
	if digits, ok := phoneQuery(q); ok {
		return store.Search{Phone: capWord(digits)}
	}
	var terms []string
	for _, t := range strings.Fields(fold.String(q)) {
		t = capWord(t)
		if !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	return store.Search{Terms: terms}
}

// phoneQuery returns the digits a phone query searches when q is one.
func phoneQuery(q string) (string, bool) {
	b := make([]byte, 0, len(q))
	plus := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c >= '0' && c <= '9':
			b = append(b, c)
		case c == '+':
			plus = plus || len(b) == 0
		case c == '(' && (plus && len(b) > 0 || len(b) > 2 && b[0] == '0' && b[1] == '0') && strings.HasPrefix(q[i:], "(0)"):
			// "+33 (0)6…": the trunk prefix, which international numbers
			// leave out
			i += len("(0)") - 1
		case c == ' ' || c == '\t' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	if len(b) < minPhoneDigits {
		return "", false
	}
	digits := string(b)
	intl := ""
	switch {
	case plus:
		intl = digits
	case strings.HasPrefix(digits, "00"):
		intl = digits[2:] // the international prefix of most regions
	}
	if len(intl) < minPhoneDigits {
		return digits, true
	}
	// The parser drops a trunk prefix typed after the country code
	// ("+330612…") when what is left is a possible number.
	if num, err := phonenumbers.Parse("+"+intl, "ZZ"); err == nil {
		if e := strconv.Itoa(int(num.GetCountryCode())) + phonenumbers.GetNationalSignificantNumber(num); len(e) >= minPhoneDigits {
			return e, true
		}
	}
	return intl, true
}

// SubjectWords returns the searchable words of a thread subject's snapshot
// (T13), without duplicates: the folded words of FirstName, LastName, Name
// and Email split at every character that is neither a letter nor a digit,
// plus each whitespace-separated folded chunk whole, so that
// "marie@example.com" and "jean-pierre" match whole and "pierre" matches
// too, each cut to MaxWordBytes. A term matches the subject when it is a
// prefix of one of them. The phone is searched through PhoneForms instead.
func SubjectWords(s store.Snapshot) []string {
	var words []string
	for _, field := range [...]string{s.FirstName, s.LastName, s.Name, s.Email} {
		if field == "" {
			continue
		}
		if words == nil {
			words = make([]string, 0, 8) // a contact's words fit
		}
		f := fold.String(field)
		for chunk := range strings.FieldsSeq(f) {
			words = appendUnique(words, capWord(chunk))
		}
		words = appendWords(words, f)
	}
	return words
}

// PhoneForms returns the digit forms under which a phone number given in
// E.164 is found (T13), without duplicates: the E.164 digits
// ("33612345678"), the national significant number ("612345678") and the
// digits of the national format with its trunk prefix ("0612345678"; for
// NANP numbers "2015550123"). A phone query matches when it is a prefix of
// one of them. A number that cannot be parsed gives only its digits; one
// with no digits gives nil. Forms are cut to MaxWordBytes.
func PhoneForms(e164 string) []string {
	digits := fold.Digits(e164)
	if digits == "" {
		return nil
	}
	forms := make([]string, 1, 3)
	forms[0] = capWord(digits)
	nsn, national, ok := fastNational(e164, digits)
	if !ok {
		num, n := e164Number(e164, digits)
		if num == nil {
			if len(digits) > MaxWordBytes {
				return forms // no phone number is that long
			}
			var err error
			if num, err = phonenumbers.Parse(e164, ""); err != nil {
				return forms
			}
		}
		if n == "" {
			n = phonenumbers.GetNationalSignificantNumber(num)
		}
		nsn, national = n, nationalDigits(num, int(num.GetCountryCode()), n)
	}
	forms = appendUnique(forms, capWord(nsn))
	forms = appendUnique(forms, capWord(national))
	return slices.DeleteFunc(forms, func(f string) bool { return f == "" })
}

// fastNational returns the national significant number of a number in
// E.164 form and the digits of its national format, without building a
// phonenumbers.PhoneNumber, when the analysed formats of its country code
// tell them (see nationalDigits); false otherwise.
func fastNational(e164, digits string) (nsn, national string, ok bool) {
	cc, rest, ok := e164Split(e164, digits)
	if !ok || strings.TrimLeft(rest, "0") == "" {
		return "", "", false // rest is the national significant number only when not all zeros (see e164Number)
	}
	f := formatsFor(cc)
	if f == nil {
		return "", "", false
	}
	national, ok = f.digits(rest)
	return rest, national, ok
}

// e164Number builds the phone number of a string already in E.164 form
// ("+" and 8 to 15 digits with a known country code) without running the
// full parser, which is about ten times slower; it returns nil for anything
// else. With the number it returns its national significant number
// (phonenumbers.GetNationalSignificantNumber), which is the digits after
// the country code unless they are all zeros (then "", for the caller to
// ask phonenumbers).
func e164Number(e164, digits string) (*phonenumbers.PhoneNumber, string) {
	cc, rest, ok := e164Split(e164, digits)
	if !ok {
		return nil, ""
	}
	national, err := strconv.ParseUint(rest, 10, 64)
	if err != nil {
		return nil, ""
	}
	cc32 := int32(cc)
	num := &phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &national}
	if zeros := int32(len(rest) - len(strings.TrimLeft(rest, "0"))); zeros > 0 && national != 0 {
		lead := true
		num.ItalianLeadingZero = &lead
		num.NumberOfLeadingZeros = &zeros
	}
	if national == 0 {
		return num, ""
	}
	return num, rest
}

// e164Split splits a string already in E.164 form ("+" and 8 to 15 digits
// with a known country code) into its country code and the digits after
// it; false for anything else.
func e164Split(e164, digits string) (int, string, bool) {
	if len(e164) != len(digits)+1 || e164[0] != '+' || len(digits) < 8 || len(digits) > 15 {
		return 0, "", false
	}
	for n := 1; n <= 3; n++ {
		cc, err := strconv.Atoi(digits[:n])
		if err != nil || phonenumbers.GetRegionCodeForCountryCode(cc) == phonenumbers.UNKNOWN_REGION {
			continue
		}
		for i := n; i < len(digits); i++ {
			if digits[i] < '0' || digits[i] > '9' {
				return 0, "", false
			}
		}
		return cc, digits[n:], true
	}
	return 0, "", false
}

// MessageWords returns the distinct folded words of a message text (T13,
// T14), split at every character that is neither a letter nor a digit and
// cut to MaxWordBytes, in order of first appearance.
func MessageWords(text string) []string {
	return AppendMessageWords(nil, text)
}

// AppendMessageWords appends the words MessageWords returns to dst, without
// duplicating words already in dst, and returns the extended slice. It
// allocates only to fold text that is not lower-case ASCII and to grow dst,
// which lets a store index a message with a reused buffer.
func AppendMessageWords(dst []string, text string) []string {
	return appendWords(dst, fold.String(text))
}

// MessageTerms returns the words that terms require of a message: the
// message words of every term, without duplicates. A term such as
// "rendez-vous" thus requires both "rendez" and "vous" as words of one
// message, since message words never hold punctuation. Terms made only of
// punctuation require nothing.
func MessageTerms(terms []string) []string {
	var words []string
	for _, t := range terms {
		words = AppendMessageWords(words, t)
	}
	return words
}

// MatchSubject reports whether a thread with snapshot s matches q through
// its subject (T13): every term is a prefix of one of SubjectWords(s), or
// q.Phone is a prefix of one of PhoneForms(s.Phone). The zero Search
// matches.
func MatchSubject(s store.Snapshot, q store.Search) bool {
	if q.Phone != "" {
		return anyPrefix(PhoneForms(s.Phone), q.Phone)
	}
	words := SubjectWords(s)
	for _, t := range q.Terms {
		if !anyPrefix(words, t) {
			return false
		}
	}
	return true
}

// MatchMessage reports whether a message text holds every word of
// MessageTerms(terms) as a whole word (T13, T14). No terms match every
// text.
func MatchMessage(text string, terms []string) bool {
	want := MessageTerms(terms)
	if len(want) == 0 {
		return true
	}
	have := MessageWords(text)
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// MatchThread reports whether a thread matches q (T13): its subject matches
// (MatchSubject), or, when q holds terms that require message words, one of
// the texts of its messages holds them all (MatchMessage). A phone query
// matches the subject only; the zero Search matches every thread.
func MatchThread(s store.Snapshot, q store.Search, texts iter.Seq[string]) bool {
	if MatchSubject(s, q) {
		return true
	}
	if q.Phone != "" || len(MessageTerms(q.Terms)) == 0 {
		return false
	}
	for text := range texts {
		if MatchMessage(text, q.Terms) {
			return true
		}
	}
	return false
}

// IsWord reports whether s is one word as MessageWords and SubjectWords
// split text: not empty, valid UTF-8, made only of letters, digits and
// marks. It changes no matching rule; it tells an index which of a
// subject's words a term can match: a term that is a word prefixes one of
// SubjectWords exactly when it prefixes one of those that are words, since
// every other entry (a whitespace chunk holding punctuation, such as an
// e-mail address) starts with a word of its own.
func IsWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return false
			}
		}
		if !isWordRune(r) {
			return false
		}
		i += size
	}
	return true
}

func anyPrefix(words []string, prefix string) bool {
	for _, w := range words {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}

// appendWords appends to dst the words of the folded string f, cut to
// MaxWordBytes, that dst does not hold yet. The words are substrings of f.
func appendWords(dst []string, f string) []string {
	start := -1
	for i := 0; i < len(f); {
		r, size := rune(f[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(f[i:])
		}
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			dst = appendUnique(dst, capWord(f[start:i]))
			start = -1
		}
		i += size
	}
	if start >= 0 {
		dst = appendUnique(dst, capWord(f[start:]))
	}
	return dst
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

func appendUnique(dst []string, w string) []string {
	if w == "" || slices.Contains(dst, w) {
		return dst
	}
	return append(dst, w)
}

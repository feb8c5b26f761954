package fold

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// String returns s folded for comparison: decomposed (Unicode NFD),
// stripped of combining marks (category Mn), lower-cased, and with letters
// that have no decomposition spelled out in ASCII (ß→ss, œ→oe, æ→ae, ø→o,
// ł→l, đ→d, þ→th, ı→i, …). Two strings that differ only in case and accents
// fold to the same string, and folding is idempotent:
// String(String(s)) == String(s).
//
// Pure-ASCII input without upper-case letters is returned as is, without
// allocating.
func String(s string) string {
	ascii, upper := scanASCII(s)
	if ascii {
		if !upper {
			return s
		}
		return lowerASCII(s)
	}
	return foldUnicode(s)
}

// Append appends String(s) to dst and returns the extended slice. With room
// in dst it folds without allocating: a caller that only compares or looks
// up the folded form (m[string(b)]) folds into a buffer of its own.
func Append(dst []byte, s string) []byte {
	ascii, upper := scanASCII(s)
	if !ascii {
		return appendUnicode(dst, s)
	}
	if !upper {
		return append(dst, s...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// Digits returns only the ASCII digits 0-9 of s, in order, so that phone
// numbers written in different formats compare equal ("06 12 34 56 78" and
// "06.12.34.56.78" both give "0612345678"). A string made only of digits is
// returned as is, without allocating.
func Digits(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	if n == len(s) {
		return s
	}
	if n == 0 {
		return ""
	}
	b := make([]byte, 0, n)
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanASCII reports whether s is pure ASCII and whether it holds an
// upper-case ASCII letter.
func scanASCII(s string) (ascii, upper bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return false, upper
		}
		if 'A' <= c && c <= 'Z' {
			upper = true
		}
	}
	return true, upper
}

func lowerASCII(s string) string {
	b := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return string(b)
}

// foldUnicode folds a string holding at least one non-ASCII byte, rune by
// rune: lower-case, spell out special letters, else decompose (NFD) and keep
// the lower-cased base letters without their combining marks.
func foldUnicode(s string) string {
	return string(appendUnicode(make([]byte, 0, len(s)), s))
}

// appendUnicode appends the folding of s (see foldUnicode) to b.
func appendUnicode(b []byte, s string) []byte {
	var enc [utf8.UTFMax]byte
	for _, r := range s {
		r = unicode.ToLower(r)
		if r < utf8.RuneSelf {
			b = append(b, byte(r))
			continue
		}
		if sp, ok := special(r); ok {
			b = append(b, sp...)
			continue
		}
		if hangulFirst <= r && r <= hangulLast {
			b = appendHangul(b, r)
			continue
		}
		n := utf8.EncodeRune(enc[:], r)
		d := norm.NFD.Properties(enc[:n]).Decomposition()
		if d == nil {
			if !unicode.Is(unicode.Mn, r) {
				b = utf8.AppendRune(b, r)
			}
			continue
		}
		// The decomposition is complete (recursive); its base letters may
		// be upper-case (compatibility characters) or special, so they go
		// through the same lowering and spelling.
		for _, dr := range string(d) {
			if unicode.Is(unicode.Mn, dr) {
				continue
			}
			dr = unicode.ToLower(dr)
			if sp, ok := special(dr); ok {
				b = append(b, sp...)
				continue
			}
			b = utf8.AppendRune(b, dr)
		}
	}
	return b
}

// Hangul syllables decompose algorithmically (Unicode §3.12), not through
// the decomposition tables.
const (
	hangulFirst = 0xAC00
	hangulLast  = 0xD7A3
	jamoL       = 0x1100
	jamoV       = 0x1161
	jamoT       = 0x11A7
	jamoVCount  = 21
	jamoTCount  = 28
)

// appendHangul appends the canonical decomposition of the Hangul syllable r:
// a leading consonant, a vowel and, when present, a trailing consonant.
func appendHangul(b []byte, r rune) []byte {
	i := r - hangulFirst
	b = utf8.AppendRune(b, jamoL+i/(jamoVCount*jamoTCount))
	b = utf8.AppendRune(b, jamoV+(i%(jamoVCount*jamoTCount))/jamoTCount)
	if t := i % jamoTCount; t != 0 {
		b = utf8.AppendRune(b, jamoT+t)
	}
	return b
}

// special spells out lower-case letters that Unicode does not decompose into
// a base letter and marks. Upper-case forms are lowered before the lookup.
func special(r rune) (string, bool) {
	switch r {
	case 'ß', 'ẞ':
		return "ss", true
	case 'œ':
		return "oe", true
	case 'æ':
		return "ae", true
	case 'ø':
		return "o", true
	case 'ł':
		return "l", true
	case 'đ', 'ð':
		return "d", true
	case 'þ':
		return "th", true
	case 'ı':
		return "i", true
	case 'ħ':
		return "h", true
	case 'ŧ':
		return "t", true
	case 'ŀ':
		return "l", true
	case 'ſ':
		return "s", true
	case 'ƒ':
		return "f", true
	case 'ĳ':
		return "ij", true
	case 'ﬀ':
		return "ff", true
	case 'ﬁ':
		return "fi", true
	case 'ﬂ':
		return "fl", true
	case 'ﬃ':
		return "ffi", true
	case 'ﬄ':
		return "ffl", true
	case 'ﬅ', 'ﬆ':
		return "st", true
	}
	return "", false
}

package sms

import (
	"strings"
	"unicode/utf8"
)

// Replacement records one character that Normalize replaced.
type Replacement struct {
	// Offset is the byte offset of the replaced character in the input.
	Offset int
	// From is the character that was replaced.
	From rune
	// To is the GSM-7 text that replaced it; empty when the character was
	// invisible and has been removed.
	To string
}

// Normalize is the optional smart encoding of SPEC rule C6: it replaces every
// look-alike character that has a GSM-7 equivalent and returns the new text
// with the list of replacements, in input order. When nothing is replaced it
// returns body itself and a nil slice.
//
// Replacements happen whether or not the result is GSM-7 as a whole (an emoji
// keeps a body UCS-2); [Measurement.SmartGSM7] tells beforehand whether
// normalizing would make the body GSM-7. Letters, digits and symbols with a
// meaning of their own are never changed (lower-case ç stays ç, ½ stays ½):
// only typographic variants of GSM-7 characters are. The replacements are:
//
//   - double quotes “ ” „ ‟ ″ ‶ « » ʺ ˮ ❝ ❞ 〝 〞 〟 → "
//   - single quotes and apostrophes ‘ ’ ‚ ‛ ′ ‵ ‹ › ʹ ʻ ʼ ʽ ˈ ˊ ˋ ´ ` ❛ ❜ → '
//   - hyphens, dashes and bullets ‐ ‑ ‒ – — ― ⁃ − • ﹘ ﹣ → -
//   - … → ..., ‥ → .., ․ → ., ‼ → !!, ⁇ → ??, ⁈ → ?!, ⁉ → !?
//   - ⁄ ∕ → /, ∗ ⁎ → *, ˆ → ^, ˜ ∼ → ~
//   - tab, no-break space, the spaces U+2000 to U+200A, narrow no-break space,
//     medium mathematical space and ideographic space → space
//   - line separator, paragraph separator and next line (U+0085) → line feed
//   - soft hyphen, zero width space, word joiner and zero width no-break
//     space (BOM) are removed; the zero width joiners of emoji are kept
//   - fullwidth forms U+FF01 to U+FF5E → their ASCII character (fullwidth `
//     → ')
//
// Invalid UTF-8 bytes are copied unchanged.
func Normalize(body string) (string, []Replacement) {
	var (
		b    strings.Builder
		reps []Replacement
		last int // start of the input not yet copied to b
	)
	for i, r := range body {
		if r < utf8.RuneSelf && r != '\t' && r != '`' {
			continue
		}
		to, ok := replacement(r)
		if !ok {
			continue
		}
		if reps == nil {
			b.Grow(len(body) + 8)
		}
		b.WriteString(body[last:i])
		b.WriteString(to)
		last = i + utf8.RuneLen(r)
		reps = append(reps, Replacement{Offset: i, From: r, To: to})
	}
	if reps == nil {
		return body, nil
	}
	b.WriteString(body[last:])
	return b.String(), reps
}

// printableASCII holds '!' to '~', so that a fullwidth form maps to a
// one-byte substring without allocating.
const printableASCII = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"

// replacement returns the GSM-7 text Normalize puts in place of r, and
// whether there is one. Every replacement text is GSM-7.
func replacement(r rune) (string, bool) {
	switch r {
	case '“', '”', '„', '‟', '″', '‶', '«', '»', 'ʺ', 'ˮ', '❝', '❞', '〝', '〞', '〟':
		return `"`, true
	case '‘', '’', '‚', '‛', '′', '‵', '‹', '›', 'ʹ', 'ʻ', 'ʼ', 'ʽ', 'ˈ', 'ˊ', 'ˋ', '´', '`', '❛', '❜':
		return "'", true
	case '‐', '‑', '‒', '–', '—', '―', '⁃', '−', '•', '﹘', '﹣':
		return "-", true
	case '…':
		return "...", true
	case '‥':
		return "..", true
	case '․':
		return ".", true
	case '‼':
		return "!!", true
	case '⁇':
		return "??", true
	case '⁈':
		return "?!", true
	case '⁉':
		return "!?", true
	case '⁄', '∕':
		return "/", true
	case '∗', '⁎':
		return "*", true
	case 'ˆ':
		return "^", true
	case '˜', '∼':
		return "~", true
	case '\t', '\u00A0', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005',
		'\u2006', '\u2007', '\u2008', '\u2009', '\u200A', '\u202F', '\u205F', '\u3000':
		return " ", true
	case '\u2028', '\u2029', '\u0085':
		return "\n", true
	case '\u00AD', '\u200B', '\u2060', '\uFEFF':
		return "", true
	}
	if r >= '！' && r <= '～' { // fullwidth forms of '!' to '~'
		k := int(r - '！')
		if printableASCII[k] == '`' {
			return "'", true
		}
		return printableASCII[k : k+1], true
	}
	return "", false
}

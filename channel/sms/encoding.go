package sms

import "strconv"

// Encoding is the data coding of an SMS body: GSM-7 or UCS-2. The zero value
// is GSM7.
type Encoding uint8

// The encodings a body can be sent in.
const (
	// GSM7 is the GSM 7-bit default alphabet with its extension table
	// (TS 23.038 §6.2.1), counted in septets.
	GSM7 Encoding = iota
	// UCS2 is the 16-bit encoding used when a body holds any character that is
	// not in GSM-7, counted in UTF-16 code units.
	UCS2
)

// String returns "GSM-7" or "UCS-2", or "Encoding(N)" for an invalid value.
func (e Encoding) String() string {
	switch e {
	case GSM7:
		return "GSM-7"
	case UCS2:
		return "UCS-2"
	}
	return "Encoding(" + strconv.Itoa(int(e)) + ")"
}

// Segment sizes in units (septets for GSM-7, UTF-16 code units for UCS-2).
const (
	gsmSingle  = 160 // 140 octets of septets
	gsmMulti   = 153 // 140 octets less the 6-octet concatenation header
	ucs2Single = 70
	ucs2Multi  = 67
)

// asciiCost is the GSM-7 cost of each ASCII character, as a digit: '1' for
// the default alphabet, '2' for the extension table (form feed and
// [ \ ] ^ { | } ~), '0' when GSM-7 cannot carry it (controls other than LF,
// CR and form feed, U+001B ESCAPE, the backtick and DEL). It is a constant so
// that the table is read-only and needs no initialisation.
const asciiCost = "" +
	"0000000000102100" + // 0x00: LF, form feed, CR
	"0000000000000000" + // 0x10: ESCAPE is not a character
	"1111111111111111" + // 0x20: space ! " # $ % & ' ( ) * + , - . /
	"1111111111111111" + // 0x30: 0 to 9 : ; < = > ?
	"1111111111111111" + // 0x40: @ A to O
	"1111111111122221" + // 0x50: P to Z [ \ ] ^ _
	"0111111111111111" + // 0x60: ` a to o
	"1111111111122220" //   0x70: p to z { | } ~ DEL

// asciiSeptets returns the GSM-7 cost of the ASCII character c (c < 0x80): 1
// for the default alphabet, 2 for the extension table, 0 when it is not GSM-7.
func asciiSeptets(c byte) int {
	return int(asciiCost[c&0x7F] - '0')
}

// twoByte classifies the characters that UTF-8 encodes in two bytes, U+0080
// to U+07FF, by blocks of 64: bit r&63 of twoByte[r>>6].gsm is set when r is
// in the GSM-7 default alphabet (all such characters cost one septet), and of
// .smart when r is GSM-7 or Normalize replaces it. Blocks without any such
// character are zero. The table is read-only.
var twoByte = [32]struct{ gsm, smart uint64 }{
	0x80 >> 6: { // U+0080 to U+00BF; Normalize replaces next line, no-break space, « » ´ and soft hyphen
		gsm: latin1Lower,
		smart: latin1Lower | 1<<(0x85-0x80) | 1<<(0xA0-0x80) | 1<<('«'-0x80) | 1<<(0xAD-0x80) |
			1<<('´'-0x80) | 1<<('»'-0x80),
	},
	0xC0 >> 6: { // U+00C0 to U+00FF
		gsm:   latin1Upper,
		smart: latin1Upper,
	},
	0x280 >> 6: { // U+0280 to U+02BF: modifier letters ʹ ʺ ʻ ʼ ʽ
		smart: 1<<('ʹ'-0x280) | 1<<('ʺ'-0x280) | 1<<('ʻ'-0x280) | 1<<('ʼ'-0x280) | 1<<('ʽ'-0x280),
	},
	0x2C0 >> 6: { // U+02C0 to U+02FF: modifier letters ˆ ˈ ˊ ˋ ˜ ˮ
		smart: 1<<('ˆ'-0x2C0) | 1<<('ˈ'-0x2C0) | 1<<('ˊ'-0x2C0) | 1<<('ˋ'-0x2C0) | 1<<('˜'-0x2C0) | 1<<('ˮ'-0x2C0),
	},
	0x380 >> 6: { // U+0380 to U+03BF: Greek capitals
		gsm:   greekCapitals,
		smart: greekCapitals,
	},
}

// The GSM-7 characters of U+0080 to U+00BF, U+00C0 to U+00FF and U+0380 to
// U+03BF: bit r&63 is character r.
const (
	latin1Lower uint64 = 1<<('¡'-0x80) | 1<<('£'-0x80) | 1<<('¤'-0x80) | 1<<('¥'-0x80) | 1<<('§'-0x80) |
		1<<('¿'-0x80)
	latin1Upper uint64 = 1<<('Ä'-0xC0) | 1<<('Å'-0xC0) | 1<<('Æ'-0xC0) | 1<<('Ç'-0xC0) | 1<<('É'-0xC0) |
		1<<('Ñ'-0xC0) | 1<<('Ö'-0xC0) | 1<<('Ø'-0xC0) | 1<<('Ü'-0xC0) | 1<<('ß'-0xC0) | 1<<('à'-0xC0) |
		1<<('ä'-0xC0) | 1<<('å'-0xC0) | 1<<('æ'-0xC0) | 1<<('è'-0xC0) | 1<<('é'-0xC0) | 1<<('ì'-0xC0) |
		1<<('ñ'-0xC0) | 1<<('ò'-0xC0) | 1<<('ö'-0xC0) | 1<<('ø'-0xC0) | 1<<('ù'-0xC0) | 1<<('ü'-0xC0)
	greekCapitals uint64 = 1<<('Γ'-0x380) | 1<<('Δ'-0x380) | 1<<('Θ'-0x380) | 1<<('Λ'-0x380) | 1<<('Ξ'-0x380) |
		1<<('Π'-0x380) | 1<<('Σ'-0x380) | 1<<('Φ'-0x380) | 1<<('Ψ'-0x380) | 1<<('Ω'-0x380)
)

// threeBytePage and threeByteSmart classify the characters that UTF-8
// encodes in three bytes, U+0800 to U+FFFF, for the smart encoding: bit r&63
// of threeByteSmart[threeBytePage[r>>8]][r>>6&3] is set when r is € (the one
// GSM-7 character of the range) or Normalize replaces it. Page 0 is empty.
// The tables are read-only.
var (
	threeBytePage = [256]uint8{0x20: 1, 0x22: 2, 0x27: 3, 0x30: 4, 0xFE: 5, 0xFF: 6}

	threeByteSmart = [7][4]uint64{
		1: { // U+2000 to U+20FF: General Punctuation, €
			0: 1<<12 - 1 | // U+2000 to U+200B: spaces and zero width space
				1<<('‐'-0x2000) | 1<<('‑'-0x2000) | 1<<('‒'-0x2000) | 1<<('–'-0x2000) | 1<<('—'-0x2000) |
				1<<('―'-0x2000) | 1<<('‘'-0x2000) | 1<<('’'-0x2000) | 1<<('‚'-0x2000) | 1<<('‛'-0x2000) |
				1<<('“'-0x2000) | 1<<('”'-0x2000) | 1<<('„'-0x2000) | 1<<('‟'-0x2000) | 1<<('•'-0x2000) |
				1<<('․'-0x2000) | 1<<('‥'-0x2000) | 1<<('…'-0x2000) | 1<<(0x2028-0x2000) | 1<<(0x2029-0x2000) |
				1<<(0x202F-0x2000) | 1<<('′'-0x2000) | 1<<('″'-0x2000) | 1<<('‵'-0x2000) | 1<<('‶'-0x2000) |
				1<<('‹'-0x2000) | 1<<('›'-0x2000) | 1<<('‼'-0x2000),
			1: 1<<('⁃'-0x2040) | 1<<('⁄'-0x2040) | 1<<('⁇'-0x2040) | 1<<('⁈'-0x2040) | 1<<('⁉'-0x2040) |
				1<<('⁎'-0x2040) | 1<<(0x205F-0x2040) | 1<<(0x2060-0x2040),
			2: 1 << ('€' - 0x2080),
		},
		2: { // U+2200 to U+22FF: mathematical operators − ∕ ∗ ∼
			0: 1<<('−'-0x2200) | 1<<('∕'-0x2200) | 1<<('∗'-0x2200) | 1<<('∼'-0x2200),
		},
		3: { // U+2700 to U+27FF: dingbat quotes ❛ ❜ ❝ ❞
			1: 1<<('❛'-0x2740) | 1<<('❜'-0x2740) | 1<<('❝'-0x2740) | 1<<('❞'-0x2740),
		},
		4: { // U+3000 to U+30FF: ideographic space, quotes 〝 〞 〟
			0: 1<<(0x3000-0x3000) | 1<<('〝'-0x3000) | 1<<('〞'-0x3000) | 1<<('〟'-0x3000),
		},
		5: { // U+FE00 to U+FEFF: small hyphens ﹘ ﹣, zero width no-break space
			1: 1<<('﹘'-0xFE40) | 1<<('﹣'-0xFE40),
			3: 1 << (0xFEFF - 0xFEC0),
		},
		6: { // U+FF00 to U+FFFF: fullwidth forms of '!' to '~', U+FF01 to U+FF5E
			0: 1<<64 - 2,
			1: 1<<31 - 1,
		},
	}
)

// septets returns the GSM-7 cost of r: 1 for a character of the default
// alphabet, 2 for one of the extension table, 0 for a character that GSM-7
// cannot carry (including U+001B ESCAPE and U+FFFD, which stands for invalid
// UTF-8).
func septets(r rune) int {
	switch {
	case r < 0:
		return 0
	case r < 0x80:
		return asciiSeptets(byte(r))
	case r < 0x800:
		return int(twoByte[r>>6].gsm >> (r & 63) & 1)
	case r == '€':
		return 2
	}
	return 0
}

// smartBMP reports whether r, a character of the Basic Multilingual Plane
// (0 ≤ r ≤ 0xFFFF), is GSM-7 or replaced by Normalize: a body made only of
// such characters is GSM-7 after Normalize.
func smartBMP(r rune) bool {
	switch {
	case r < 0x80:
		return asciiCost[r] != '0' || r == '\t' || r == '`'
	case r < 0x800:
		return twoByte[r>>6].smart>>(r&63)&1 != 0
	}
	return threeByteSmart[threeBytePage[r>>8&0xFF]][r>>6&3]>>(r&63)&1 != 0
}

// SWAR ("SIMD within a register") constants: one bit or one value per byte of
// a 64-bit word.
const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// nonPlainGSM returns the high bit of each of the 8 bytes of w that is not a
// GSM-7 character of cost 1 in the ranges ' ' to 'Z', 'a' to 'z', or '_'
// (w's first byte is its least significant). It is the fast path of the GSM-7
// pass of Measure: most text is made of these, and 8 bytes are checked at
// once (Split uses it too). Each byte is classified on its own: no carry
// crosses bytes.
func nonPlainGSM(w uint64) uint64 {
	x := w &^ high // 7 bits per byte: the additions below cannot carry out of a byte
	// The high bit of each byte of ge20 is set when the byte is ≥ 0x20, and
	// so on; the other bits are ignored.
	ge20 := x + (0x80-0x20)*ones
	le5A := ^(x + (0x7F-0x5A)*ones)
	ge61 := x + (0x80-0x61)*ones
	le7A := ^(x + (0x7F-0x7A)*ones)
	is5F := ^((x ^ 0x5F*ones) + 0x7F*ones) // x^'_' is 0 only for '_', and 0+0x7F alone keeps the high bit clear
	return (^(ge20&le5A | ge61&le7A | is5F) | w) & high
}

// nonPrintable returns the high bit of each of the 8 bytes of w that is not
// in ' ' to '~'. It is the fast path of the UCS-2 pass of Measure while the
// body may still become GSM-7 by Normalize: every printable ASCII character
// is GSM-7 or replaced by Normalize (the backtick).
func nonPrintable(w uint64) uint64 {
	x := w &^ high
	ge20 := (x + (0x80-0x20)*ones) & high
	le7E := ^(x + 0x01*ones) & high
	return high&^(ge20&le7E) | w&high
}

// load64 returns the first 8 bytes of s (len(s) ≥ 8) as a little-endian
// word.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

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

// Bitmaps of the ASCII characters in the GSM-7 default alphabet (basic) and
// in its extension table (ext): bit c of lo is character c, bit c-64 of hi is
// character c for c ≥ 64. They are constants so that the hot loop of Measure
// needs no table in memory.
const (
	// LF, CR, and ' ' to '?'.
	basicLo uint64 = 1<<'\n' | 1<<'\r' | (1<<64-1)&^(1<<' '-1)
	// '@', 'A' to 'Z', '_', and 'a' to 'z'.
	basicHi uint64 = 1<<('Z'-64+1) - 1 | 1<<('_'-64) | (1<<('z'-64+1)-1)&^(1<<('a'-64)-1)
	// Form feed.
	extLo uint64 = 1 << '\f'
	// [ \ ] ^ { | } ~
	extHi uint64 = 1<<('['-64) | 1<<('\\'-64) | 1<<(']'-64) | 1<<('^'-64) |
		1<<('{'-64) | 1<<('|'-64) | 1<<('}'-64) | 1<<('~'-64)
)

// asciiSeptets returns the GSM-7 cost of the ASCII character c (c < 0x80): 1
// for the default alphabet, 2 for the extension table, 0 when it is not GSM-7.
func asciiSeptets(c byte) int {
	if c < 64 {
		return int(basicLo>>c&1) | int(extLo>>c&1)<<1
	}
	c -= 64
	return int(basicHi>>c&1) | int(extHi>>c&1)<<1
}

// septets returns the GSM-7 cost of r: 1 for a character of the default
// alphabet, 2 for one of the extension table, 0 for a character that GSM-7
// cannot carry (including U+001B ESCAPE and U+FFFD, which stands for invalid
// UTF-8).
func septets(r rune) int {
	if r < 0x80 {
		return asciiSeptets(byte(r))
	}
	switch r {
	case '£', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', 'Ø', 'ø', 'Å', 'å',
		'Δ', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ',
		'Æ', 'æ', 'ß', 'É', '¤', '¡', 'Ä', 'Ö', 'Ñ', 'Ü', '§', '¿',
		'ä', 'ö', 'ñ', 'ü', 'à':
		return 1
	case '€':
		return 2
	}
	return 0
}

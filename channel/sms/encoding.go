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

// Bitmaps of the non-ASCII characters of the default alphabet, all in the
// Latin-1 Supplement and Greek blocks: bit r-base of the map is character r.
const (
	latin1Base        = 0xA0 // U+00A0 to U+00DF
	latin1Lo   uint64 = 1<<('¡'-latin1Base) | 1<<('£'-latin1Base) | 1<<('¤'-latin1Base) |
		1<<('¥'-latin1Base) | 1<<('§'-latin1Base) | 1<<('¿'-latin1Base) | 1<<('Ä'-latin1Base) |
		1<<('Å'-latin1Base) | 1<<('Æ'-latin1Base) | 1<<('Ç'-latin1Base) | 1<<('É'-latin1Base) |
		1<<('Ñ'-latin1Base) | 1<<('Ö'-latin1Base) | 1<<('Ø'-latin1Base) | 1<<('Ü'-latin1Base) |
		1<<('ß'-latin1Base)
	latin1HiBase        = 0xE0 // U+00E0 to U+00FF
	latin1Hi     uint64 = 1<<('à'-latin1HiBase) | 1<<('ä'-latin1HiBase) | 1<<('å'-latin1HiBase) |
		1<<('æ'-latin1HiBase) | 1<<('è'-latin1HiBase) | 1<<('é'-latin1HiBase) | 1<<('ì'-latin1HiBase) |
		1<<('ñ'-latin1HiBase) | 1<<('ò'-latin1HiBase) | 1<<('ö'-latin1HiBase) | 1<<('ø'-latin1HiBase) |
		1<<('ù'-latin1HiBase) | 1<<('ü'-latin1HiBase)
	greekBase        = 0x380 // U+0380 to U+03BF
	greek     uint64 = 1<<('Γ'-greekBase) | 1<<('Δ'-greekBase) | 1<<('Θ'-greekBase) | 1<<('Λ'-greekBase) |
		1<<('Ξ'-greekBase) | 1<<('Π'-greekBase) | 1<<('Σ'-greekBase) | 1<<('Φ'-greekBase) |
		1<<('Ψ'-greekBase) | 1<<('Ω'-greekBase)
)

// septets returns the GSM-7 cost of r: 1 for a character of the default
// alphabet, 2 for one of the extension table, 0 for a character that GSM-7
// cannot carry (including U+001B ESCAPE and U+FFFD, which stands for invalid
// UTF-8).
func septets(r rune) int {
	switch {
	case r < 0x80:
		return asciiSeptets(byte(r))
	case r < 0x800:
		return twoByteSeptets(r)
	case r == '€':
		return 2
	}
	return 0
}

// twoByteSeptets is septets for U+0080 to U+07FF, the characters UTF-8
// encodes in two bytes; it is small enough to be inlined.
func twoByteSeptets(r rune) int {
	switch {
	case r >= latin1HiBase && r < 0x100:
		return int(latin1Hi >> (r - latin1HiBase) & 1)
	case r >= latin1Base && r < latin1HiBase:
		return int(latin1Lo >> (r - latin1Base) & 1)
	case r >= greekBase && r < greekBase+64:
		return int(greek >> (r - greekBase) & 1)
	}
	return 0
}

// plainGSM reports whether each of the 8 bytes of w is a GSM-7 character of
// cost 1 in the ranges ' ' to 'Z', 'a' to 'z', or '_'. It is the fast path of
// Measure: most text is made of these, and 8 bytes are checked at once.
func plainGSM(w uint64) bool {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	if w&high != 0 {
		return false // not ASCII; no byte below can carry into the next
	}
	ge20 := (w + (0x80-0x20)*ones) & high
	le5A := ^(w + (0x7F-0x5A)*ones) & high
	ge61 := (w + (0x80-0x61)*ones) & high
	le7A := ^(w + (0x7F-0x7A)*ones) & high
	v := w ^ 0x5F*ones // zero bytes are '_'
	is5F := ^((v&^high + ^uint64(high)) | v) & high
	return ge20&le5A|ge61&le7A|is5F == high
}

// load64 returns the first 8 bytes of s (len(s) ≥ 8) as a little-endian
// word.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

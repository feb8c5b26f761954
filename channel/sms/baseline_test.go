package sms

import "unicode/utf8"

// measurePrevious is Measure as it was before the table-driven classifier of
// issue 18, kept verbatim (its helpers below carry the suffix Previous) as
// the baseline that the Measure benchmarks time in the same run, and as a
// second reference for FuzzMeasureDifferential.
func measurePrevious(body string) Measurement {
	// GSM-7 pass: stops at the first character GSM-7 cannot carry. pad counts
	// the septets left empty by escape sequences moved to the next segment of
	// a concatenated message, kept so that a long body needs no second pass.
	// extra counts the bytes of multi-byte characters beyond their first.
	septs, pad, extra, next := 0, 0, 0, gsmMulti-1
	i := 0
	for i < len(body) {
		if i+8 <= len(body) && plainGSMPrevious(load64(body[i:])) {
			septs += 8
			i += 8
			continue
		}
		var n, size int
		if c := body[i]; c < utf8.RuneSelf {
			n, size = asciiSeptetsPrevious(c), 1
		} else if c >= 0xC2 && c < 0xE0 && i+1 < len(body) && body[i+1]&0xC0 == 0x80 {
			// Two-byte sequence, decoded inline: accented Latin and Greek.
			n, size = twoByteSeptetsPrevious(rune(c&0x1F)<<6|rune(body[i+1]&0x3F)), 2
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(body[i:])
			n = septetsPrevious(r) // 0 for invalid UTF-8 (U+FFFD), which stops here
		}
		if n == 0 {
			break
		}
		if n == 2 {
			pad += pairPadPrevious(septs+pad, &next, gsmMulti)
		}
		septs += n
		i += size
		extra += size - 1
	}
	runes := i - extra
	if i == len(body) {
		m := Measurement{Encoding: GSM7, Characters: runes, Units: septs}
		switch {
		case septs == 0:
			m.PerSegment, m.Remaining = gsmSingle, gsmSingle
		case septs <= gsmSingle:
			m.Segments, m.PerSegment, m.Remaining = 1, gsmSingle, gsmSingle-septs
		default:
			pos := septs + pad
			m.Segments = (pos + gsmMulti - 1) / gsmMulti
			m.PerSegment, m.Remaining = gsmMulti, m.Segments*gsmMulti-pos
		}
		return m
	}

	// UCS-2 pass from the first non-GSM character. Every character before it
	// is in the Basic Multilingual Plane: one code unit each, no padding.
	units, pad, next := runes, 0, ucs2Multi-1
	smart := true
	for i < len(body) {
		if i+4 <= len(body) {
			// A valid four-byte sequence (a character above U+FFFF, most
			// emoji) is decoded inline: the fast path of emoji text.
			q := body[i : i+4]
			w := uint32(q[0]) | uint32(q[1])<<8 | uint32(q[2])<<16 | uint32(q[3])<<24
			if w&0xC0C0C0F8 == 0x808080F0 {
				r := (w&0x07)<<18 | (w&0x3F00)<<4 | (w&0x3F0000)>>10 | (w&0x3F000000)>>24
				if r-0x10000 < 0x100000 { // U+10000 to U+10FFFF
					pad += pairPadPrevious(units+pad, &next, ucs2Multi)
					units += 2
					i += 4
					runes++
					smart = false // no replacement exists outside the BMP
					continue
				}
			}
		}
		c := body[i]
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(body[i:])
		}
		i += size
		runes++
		if r > 0xFFFF { // unreachable today: the fast path above takes every valid four-byte sequence
			pad += pairPadPrevious(units+pad, &next, ucs2Multi)
			units += 2
			smart = false // no replacement exists outside the BMP
			continue
		}
		units++
		if smart && septetsPrevious(r) == 0 {
			_, smart = replacement(r)
		}
	}
	m := Measurement{Encoding: UCS2, Characters: runes, Units: units, SmartGSM7: smart}
	if units <= ucs2Single {
		m.Segments, m.PerSegment, m.Remaining = 1, ucs2Single, ucs2Single-units
	} else {
		pos := units + pad
		m.Segments = (pos + ucs2Multi - 1) / ucs2Multi
		m.PerSegment, m.Remaining = ucs2Multi, m.Segments*ucs2Multi-pos
	}
	return m
}

// The helpers of measurePrevious, as they were.

// pairPadPrevious returns 1 when a two-unit item (escape sequence or surrogate pair)
// at position pos of a concatenated message with per units per segment would
// straddle two segments, so it moves whole to the next one and leaves a unit
// empty; 0 otherwise. next is the last position of a segment at or after the
// previous call's; keeping it avoids a division per character.
func pairPadPrevious(pos int, next *int, per int) int {
	for *next < pos {
		*next += per
	}
	if pos == *next {
		return 1
	}
	return 0
}

// Bitmaps of the ASCII characters in the GSM-7 default alphabet (basic) and
// in its extension table (ext): bit c of lo is character c, bit c-64 of hi is
// character c for c ≥ 64. They are constants so that the hot loop of Measure
// needs no table in memory.
const (
	// LF, CR, and ' ' to '?'.
	basicLoPrevious uint64 = 1<<'\n' | 1<<'\r' | (1<<64-1)&^(1<<' '-1)
	// '@', 'A' to 'Z', '_', and 'a' to 'z'.
	basicHiPrevious uint64 = 1<<('Z'-64+1) - 1 | 1<<('_'-64) | (1<<('z'-64+1)-1)&^(1<<('a'-64)-1)
	// Form feed.
	extLoPrevious uint64 = 1 << '\f'
	// [ \ ] ^ { | } ~
	extHiPrevious uint64 = 1<<('['-64) | 1<<('\\'-64) | 1<<(']'-64) | 1<<('^'-64) |
		1<<('{'-64) | 1<<('|'-64) | 1<<('}'-64) | 1<<('~'-64)
)

// asciiSeptetsPrevious returns the GSM-7 cost of the ASCII character c (c < 0x80): 1
// for the default alphabet, 2 for the extension table, 0 when it is not GSM-7.
func asciiSeptetsPrevious(c byte) int {
	if c < 64 {
		return int(basicLoPrevious>>c&1) | int(extLoPrevious>>c&1)<<1
	}
	c -= 64
	return int(basicHiPrevious>>c&1) | int(extHiPrevious>>c&1)<<1
}

// Bitmaps of the non-ASCII characters of the default alphabet, all in the
// Latin-1 Supplement and Greek blocks: bit r-base of the map is character r.
const (
	latin1BasePrevious        = 0xA0 // U+00A0 to U+00DF
	latin1LoPrevious   uint64 = 1<<('¡'-latin1BasePrevious) | 1<<('£'-latin1BasePrevious) | 1<<('¤'-latin1BasePrevious) |
		1<<('¥'-latin1BasePrevious) | 1<<('§'-latin1BasePrevious) | 1<<('¿'-latin1BasePrevious) | 1<<('Ä'-latin1BasePrevious) |
		1<<('Å'-latin1BasePrevious) | 1<<('Æ'-latin1BasePrevious) | 1<<('Ç'-latin1BasePrevious) | 1<<('É'-latin1BasePrevious) |
		1<<('Ñ'-latin1BasePrevious) | 1<<('Ö'-latin1BasePrevious) | 1<<('Ø'-latin1BasePrevious) | 1<<('Ü'-latin1BasePrevious) |
		1<<('ß'-latin1BasePrevious)
	latin1HiBasePrevious        = 0xE0 // U+00E0 to U+00FF
	latin1HiPrevious     uint64 = 1<<('à'-latin1HiBasePrevious) | 1<<('ä'-latin1HiBasePrevious) | 1<<('å'-latin1HiBasePrevious) |
		1<<('æ'-latin1HiBasePrevious) | 1<<('è'-latin1HiBasePrevious) | 1<<('é'-latin1HiBasePrevious) | 1<<('ì'-latin1HiBasePrevious) |
		1<<('ñ'-latin1HiBasePrevious) | 1<<('ò'-latin1HiBasePrevious) | 1<<('ö'-latin1HiBasePrevious) | 1<<('ø'-latin1HiBasePrevious) |
		1<<('ù'-latin1HiBasePrevious) | 1<<('ü'-latin1HiBasePrevious)
	greekBasePrevious        = 0x380 // U+0380 to U+03BF
	greekPrevious     uint64 = 1<<('Γ'-greekBasePrevious) | 1<<('Δ'-greekBasePrevious) | 1<<('Θ'-greekBasePrevious) | 1<<('Λ'-greekBasePrevious) |
		1<<('Ξ'-greekBasePrevious) | 1<<('Π'-greekBasePrevious) | 1<<('Σ'-greekBasePrevious) | 1<<('Φ'-greekBasePrevious) |
		1<<('Ψ'-greekBasePrevious) | 1<<('Ω'-greekBasePrevious)
)

// septetsPrevious returns the GSM-7 cost of r: 1 for a character of the default
// alphabet, 2 for one of the extension table, 0 for a character that GSM-7
// cannot carry (including U+001B ESCAPE and U+FFFD, which stands for invalid
// UTF-8).
func septetsPrevious(r rune) int {
	switch {
	case r < 0x80:
		return asciiSeptetsPrevious(byte(r))
	case r < 0x800:
		return twoByteSeptetsPrevious(r)
	case r == '€':
		return 2
	}
	return 0
}

// twoByteSeptetsPrevious is septetsPrevious for U+0080 to U+07FF, the characters UTF-8
// encodes in two bytes; it is small enough to be inlined.
func twoByteSeptetsPrevious(r rune) int {
	switch {
	case r >= latin1HiBasePrevious && r < 0x100:
		return int(latin1HiPrevious >> (r - latin1HiBasePrevious) & 1)
	case r >= latin1BasePrevious && r < latin1HiBasePrevious:
		return int(latin1LoPrevious >> (r - latin1BasePrevious) & 1)
	case r >= greekBasePrevious && r < greekBasePrevious+64:
		return int(greekPrevious >> (r - greekBasePrevious) & 1)
	}
	return 0
}

// plainGSMPrevious reports whether each of the 8 bytes of w is a GSM-7 character of
// cost 1 in the ranges ' ' to 'Z', 'a' to 'z', or '_'. It is the fast path of
// Measure: most text is made of these, and 8 bytes are checked at once.
func plainGSMPrevious(w uint64) bool {
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

// measureNaive is a straightforward model of Measure: one pass over the runes
// with the package's classifiers (septets, which TestSeptetsMatchStandardC6
// checks against TS 23.038 for every code point, and replacement, which
// defines Normalize), and segments filled one unit at a time. It is the
// reference of FuzzMeasureDifferential and a baseline of the Measure
// benchmarks.
func measureNaive(body string) Measurement {
	gsm, smart := true, true
	chars, septs, units := 0, 0, 0
	for _, r := range body {
		chars++
		n := septets(r)
		septs += n
		if n == 0 {
			gsm = false
			if _, ok := replacement(r); !ok {
				smart = false
			}
		}
		if r > 0xFFFF {
			units += 2
		} else {
			units++
		}
	}
	m := Measurement{Encoding: GSM7, Characters: chars, Units: septs}
	single, multi := gsmSingle, gsmMulti
	if !gsm {
		m.Encoding, m.Units, m.SmartGSM7 = UCS2, units, smart
		single, multi = ucs2Single, ucs2Multi
	}
	switch {
	case m.Units == 0:
		m.PerSegment, m.Remaining = single, single
		return m
	case m.Units <= single:
		m.Segments, m.PerSegment, m.Remaining = 1, single, single-m.Units
		return m
	}
	segments, used := 1, 0
	for _, r := range body {
		cost := 1
		switch {
		case gsm:
			cost = septets(r)
		case r > 0xFFFF:
			cost = 2
		}
		if used+cost > multi {
			segments++
			used = 0
		}
		used += cost
	}
	m.Segments, m.PerSegment, m.Remaining = segments, multi, multi-used
	return m
}

// splitNaive is Split as it was before issue 18, one rune at a time, on the
// naive model: the reference of Split's fast path in
// FuzzMeasureDifferential.
func splitNaive(body string) []string {
	m := measureNaive(body)
	switch m.Segments {
	case 0:
		return nil
	case 1:
		return []string{body}
	}
	parts := make([]string, 0, m.Segments)
	start, used := 0, 0
	for i, r := range body {
		n := 1
		if m.Encoding == GSM7 {
			n = septets(r)
		} else if r > 0xFFFF {
			n = 2
		}
		if used+n > m.PerSegment {
			parts = append(parts, body[start:i])
			start, used = i, 0
		}
		used += n
	}
	return append(parts, body[start:])
}

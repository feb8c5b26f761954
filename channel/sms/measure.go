package sms

import (
	"math/bits"
	"strings"
	"unicode/utf8"
)

// Measurement describes how an SMS body travels (SPEC rule C6). The package
// documentation defines units, segments and the placement of two-unit
// characters precisely.
type Measurement struct {
	// Encoding is GSM7 when every character of the body is in the GSM-7
	// default alphabet or its extension table, UCS2 otherwise. The empty body
	// is GSM7.
	Encoding Encoding
	// Characters is the number of Unicode code points of the body; each byte
	// of invalid UTF-8 counts as one.
	Characters int
	// Units is the size of the body: septets for GSM-7 (an extension
	// character counts two), UTF-16 code units for UCS-2 (a character above
	// U+FFFF counts two). It does not include units left empty by moved
	// pairs.
	Units int
	// Segments is the number of SMS the body is sent as: 0 for the empty body,
	// 1 when it fits a single message, more for a concatenated message.
	Segments int
	// PerSegment is the capacity of each segment in units: 160 (GSM-7) or 70
	// (UCS-2) for a body of at most one segment, 153 or 67 for a
	// concatenated message.
	PerSegment int
	// Remaining is the number of units that still fit in the last segment:
	// PerSegment×Segments − Units − the units left empty at the end of
	// earlier segments when an escape sequence or a surrogate pair moved whole
	// to the next one. For the empty body it is PerSegment (160). A character
	// costing two units needs Remaining ≥ 2 to fit without a new segment.
	Remaining int
	// SmartGSM7 reports that the body is UCS-2 only because of characters
	// that Normalize replaces: after Normalize it would be GSM-7. It is false
	// for a GSM-7 body, which needs no replacement.
	SmartGSM7 bool
}

// Measure returns the encoding, size and segment count of body (SPEC rule
// C6). It never fails and does not allocate; invalid UTF-8 is measured as
// described in the package documentation.
func Measure(body string) Measurement {
	// Three stages, each with a fast path that reads 8 bytes at once: a GSM-7
	// pass until the first character GSM-7 cannot carry; for a UCS-2 body, a
	// pass that checks whether Normalize would make it GSM-7, until the first
	// character that rules it out; then a pass that only counts characters
	// and UTF-16 code units. Each character is classified by table lookups,
	// never by a list of cases.
	//
	// GSM-7 pass: stops at the first character GSM-7 cannot carry. pad counts
	// the septets left empty by escape sequences moved to the next segment of
	// a concatenated message, kept so that a long body needs no second pass.
	// extra counts the bytes of multi-byte characters beyond their first.
	septs, pad, extra, next := 0, 0, 0, gsmMulti-1
	i := 0
	for i < len(body) {
		if i+8 <= len(body) {
			mask := nonPlainGSM(load64(body[i:]))
			if mask == 0 {
				septs += 8
				i += 8
				continue
			}
			k := bits.TrailingZeros64(mask) >> 3 // plain bytes before the first other one
			septs += k
			i += k
		}
		c := body[i]
		n, size := 0, 1
		switch {
		case c < utf8.RuneSelf:
			n = int(asciiCost[c] - '0')
		case c >= 0xC2 && c < 0xE0 && i+1 < len(body) && body[i+1]&0xC0 == 0x80:
			// Two-byte sequence: accented Latin and Greek.
			r := rune(c&0x1F)<<6 | rune(body[i+1]&0x3F)
			n, size = int(twoByte[r>>6].gsm>>(r&63)&1), 2
		case c == 0xE2 && strings.HasPrefix(body[i:], "€"): // the one GSM-7 character above U+07FF
			n, size = 2, 3
		}
		if n == 0 {
			break // not GSM-7, or invalid UTF-8 (U+FFFD)
		}
		if n == 2 {
			p, end := pairPad(septs+pad, next, gsmMulti)
			pad, next = pad+p, end
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

	// UCS-2 from the first non-GSM character. Every character before it is in
	// the Basic Multilingual Plane: one code unit each. Smart pass: while every
	// character is GSM-7 or replaced by Normalize, all of them are in the BMP
	// too, so units counts both characters and code units.
	n, size := smartPrefix(body[i:])
	i += size
	units := runes + n
	m := Measurement{Encoding: UCS2, Characters: units, Units: units, SmartGSM7: i == len(body)}
	pad = 0
	if !m.SmartGSM7 {
		m.Characters, m.Units, pad = countUCS2(body[i:], units)
	}
	if m.Units <= ucs2Single {
		m.Segments, m.PerSegment, m.Remaining = 1, ucs2Single, ucs2Single-m.Units
	} else {
		pos := m.Units + pad
		m.Segments = (pos + ucs2Multi - 1) / ucs2Multi
		m.PerSegment, m.Remaining = ucs2Multi, m.Segments*ucs2Multi-pos
	}
	return m
}

// smartPrefix returns the number of characters at the start of s that are
// GSM-7 or replaced by Normalize, all of them in the Basic Multilingual
// Plane, and their length in bytes. It stops at the first other character,
// at a character above U+FFFF (none is replaced) and at invalid UTF-8 (U+FFFD
// is not replaced).
func smartPrefix(s string) (int, int) {
	n, j := 0, 0
	for j < len(s) {
		if j+8 <= len(s) {
			mask := nonPrintable(load64(s[j:]))
			if mask == 0 {
				n += 8
				j += 8
				continue
			}
			k := bits.TrailingZeros64(mask) >> 3
			n += k
			j += k
		}
		c := s[j]
		var r rune
		size := 1
		switch {
		case c < utf8.RuneSelf:
			r = rune(c)
		case c >= 0xC2 && c < 0xE0 && j+1 < len(s) && s[j+1]&0xC0 == 0x80:
			r, size = rune(c&0x1F)<<6|rune(s[j+1]&0x3F), 2
		case c >= 0xE0 && c < 0xF0 && j+2 < len(s) && s[j+1]&0xC0 == 0x80 && s[j+2]&0xC0 == 0x80:
			r, size = rune(c&0x0F)<<12|rune(s[j+1]&0x3F)<<6|rune(s[j+2]&0x3F), 3
			if r < 0x800 || r >= 0xD800 && r < 0xE000 {
				r = utf8.RuneError // overlong or surrogate: invalid UTF-8
			}
		default:
			r = utf8.RuneError // above U+FFFF or invalid: not replaced
		}
		if !smartBMP(r) {
			break
		}
		n++
		j += size
	}
	return n, j
}

// countUCS2 measures s, the rest of a UCS-2 body after its first before
// characters, all of them one code unit: it returns the number of characters
// and code units of the whole body, and the code units left empty by
// surrogate pairs moved whole to the next segment of a concatenated message
// (which needs the position of each pair, hence before). Each byte of invalid
// UTF-8 is one U+FFFD: one character, one code unit.
func countUCS2(s string, before int) (chars, units, pad int) {
	chars, units = before, before
	next := ucs2Multi - 1
	j := 0
	for j < len(s) {
		c := s[j]
		if c < utf8.RuneSelf {
			// ASCII, 8 bytes at a time up to the next other byte.
			k := 1
			if j+8 <= len(s) {
				k = 8
				if nonASCII := load64(s[j:]) & high; nonASCII != 0 {
					k = bits.TrailingZeros64(nonASCII) >> 3
				}
			}
			chars += k
			units += k
			j += k
			continue
		}
		if c >= 0xF0 {
			// Valid four-byte sequences are characters above U+FFFF (most
			// emoji, which come in runs): each is a surrogate pair, two code
			// units that never straddle two segments.
			start := j
			for j+4 <= len(s) {
				q := s[j : j+4]
				w := uint32(q[0]) | uint32(q[1])<<8 | uint32(q[2])<<16 | uint32(q[3])<<24
				r := (w&0x07)<<18 | (w&0x3F00)<<4 | (w&0x3F0000)>>10 | (w&0x3F000000)>>24
				if w&0xC0C0C0F8 != 0x808080F0 || r-0x10000 >= 0x100000 { // not U+10000 to U+10FFFF
					break
				}
				p, end := pairPad(units+pad, next, ucs2Multi)
				pad, next = pad+p, end
				units += 2
				chars++
				j += 4
			}
			if j > start {
				continue
			}
		}
		// A character of two or three bytes decoded inline, or one byte of
		// invalid UTF-8 (size 1).
		size := 1
		switch {
		case c < 0xC2: // continuation byte or overlong lead
		case c < 0xE0:
			if j+1 < len(s) && s[j+1]&0xC0 == 0x80 {
				size = 2
			}
		case c < 0xF0:
			if j+2 < len(s) && s[j+1]&0xC0 == 0x80 && s[j+2]&0xC0 == 0x80 {
				r := rune(c&0x0F)<<12 | rune(s[j+1]&0x3F)<<6 | rune(s[j+2]&0x3F)
				if r >= 0x800 && (r < 0xD800 || r >= 0xE000) { // not overlong, not a surrogate
					size = 3
				}
			}
		}
		chars++
		units++
		j += size
	}
	return chars, units, pad
}

// pairPad returns the units left empty (0 or 1) by a two-unit item (escape
// sequence or surrogate pair) at position pos of a concatenated message with
// per units per segment: 1 when the item would straddle two segments, so it
// moves whole to the next one. next is the last position of a segment at or
// after the previous item (per-1 for the first); pairPad returns it for pos,
// for the next call. Keeping it makes the common case, an item before the end
// of the current segment, one well-predicted comparison.
func pairPad(pos, next, per int) (pad, nextEnd int) {
	if pos < next {
		return 0, next
	}
	for next < pos {
		next += per
	}
	if pos == next {
		return 1, next
	}
	return 0, next
}

// Split returns the text of each segment of body, in order (SPEC rule C6).
// The segments join to exactly body, byte for byte, each fits
// Measure(body).PerSegment, and len(Split(body)) == Measure(body).Segments:
// nil for the empty body, body itself for a single segment. A segment never
// ends inside an escape sequence or a surrogate pair, and never inside a
// UTF-8 sequence; it may end inside a grapheme cluster, as the package
// documentation explains. Invalid UTF-8 bytes are kept as they are.
func Split(body string) []string {
	m := Measure(body)
	switch m.Segments {
	case 0:
		return nil
	case 1:
		return []string{body}
	}
	parts := make([]string, 0, m.Segments)
	start, used := 0, 0
	for i := 0; i < len(body); {
		if m.Encoding == GSM7 && i+8 <= len(body) {
			// Characters of one septet, as many as fit in this segment.
			k := 8
			if mask := nonPlainGSM(load64(body[i:])); mask != 0 {
				k = bits.TrailingZeros64(mask) >> 3
			}
			k = min(k, m.PerSegment-used)
			used += k
			i += k
			if k > 0 {
				continue
			}
		}
		r, size := rune(body[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(body[i:]) // one invalid byte: U+FFFD, size 1
		}
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
		i += size
	}
	return append(parts, body[start:])
}

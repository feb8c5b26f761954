package sms

import "unicode/utf8"

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
	// GSM-7 pass: stops at the first character GSM-7 cannot carry. pad counts
	// the septets left empty by escape sequences moved to the next segment of
	// a concatenated message, kept so that a long body needs no second pass.
	// extra counts the bytes of multi-byte characters beyond their first.
	septs, pad, extra, next := 0, 0, 0, gsmMulti-1
	i := 0
	for i < len(body) {
		if i+8 <= len(body) && plainGSM(load64(body[i:])) {
			septs += 8
			i += 8
			continue
		}
		var n, size int
		if c := body[i]; c < utf8.RuneSelf {
			n, size = asciiSeptets(c), 1
		} else if c >= 0xC2 && c < 0xE0 && i+1 < len(body) && body[i+1]&0xC0 == 0x80 {
			// Two-byte sequence, decoded inline: accented Latin and Greek.
			n, size = twoByteSeptets(rune(c&0x1F)<<6|rune(body[i+1]&0x3F)), 2
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(body[i:])
			n = septets(r) // 0 for invalid UTF-8 (U+FFFD), which stops here
		}
		if n == 0 {
			break
		}
		if n == 2 {
			pad += pairPad(septs+pad, &next, gsmMulti)
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
					pad += pairPad(units+pad, &next, ucs2Multi)
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
			pad += pairPad(units+pad, &next, ucs2Multi)
			units += 2
			smart = false // no replacement exists outside the BMP
			continue
		}
		units++
		if smart && septets(r) == 0 {
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

// pairPad returns 1 when a two-unit item (escape sequence or surrogate pair)
// at position pos of a concatenated message with per units per segment would
// straddle two segments, so it moves whole to the next one and leaves a unit
// empty; 0 otherwise. next is the last position of a segment at or after the
// previous call's; keeping it avoids a division per character.
func pairPad(pos int, next *int, per int) int {
	for *next < pos {
		*next += per
	}
	if pos == *next {
		return 1
	}
	return 0
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

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
	// GSM-7 pass: stops at the first character GSM-7 cannot carry. pos is the
	// position in a concatenated message (septets plus padding), kept so that
	// a body that turns out longer than one message needs no second pass.
	septs, pos, runes := 0, 0, 0
	i := 0
	for i < len(body) {
		c := body[i]
		if c < utf8.RuneSelf {
			n := asciiSeptets(c)
			if n == 0 {
				break
			}
			if n == 2 && pos%gsmMulti == gsmMulti-1 {
				pos++ // the escape sequence moves whole to the next segment
			}
			septs += n
			pos += n
			runes++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(body[i:])
		n := septets(r) // 0 for utf8.RuneError, so invalid UTF-8 stops here
		if n == 0 {
			break
		}
		if n == 2 && pos%gsmMulti == gsmMulti-1 {
			pos++
		}
		septs += n
		pos += n
		runes++
		i += size
	}
	if i == len(body) {
		m := Measurement{Encoding: GSM7, Characters: runes, Units: septs}
		switch {
		case septs == 0:
			m.PerSegment, m.Remaining = gsmSingle, gsmSingle
		case septs <= gsmSingle:
			m.Segments, m.PerSegment, m.Remaining = 1, gsmSingle, gsmSingle-septs
		default:
			m.Segments = (pos + gsmMulti - 1) / gsmMulti
			m.PerSegment, m.Remaining = gsmMulti, m.Segments*gsmMulti-pos
		}
		return m
	}

	// UCS-2 pass from the first non-GSM character. Every character before it
	// is in the Basic Multilingual Plane: one code unit each, no padding.
	units, pos := runes, runes
	smart := true
	for _, r := range body[i:] {
		runes++
		if r > 0xFFFF {
			if pos%ucs2Multi == ucs2Multi-1 {
				pos++ // the surrogate pair moves whole to the next segment
			}
			units += 2
			pos += 2
			smart = false // no replacement exists outside the BMP
			continue
		}
		units++
		pos++
		if smart && septets(r) == 0 {
			_, smart = replacement(r)
		}
	}
	m := Measurement{Encoding: UCS2, Characters: runes, Units: units, SmartGSM7: smart}
	if units <= ucs2Single {
		m.Segments, m.PerSegment, m.Remaining = 1, ucs2Single, ucs2Single-units
	} else {
		m.Segments = (pos + ucs2Multi - 1) / ucs2Multi
		m.PerSegment, m.Remaining = ucs2Multi, m.Segments*ucs2Multi-pos
	}
	return m
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

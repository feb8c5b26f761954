package sms

import (
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"", "Hello", strings.Repeat("a", 160), strings.Repeat("a", 161), strings.Repeat("a", 152) + "€x",
	strings.Repeat("ç", 71), strings.Repeat("ç", 66) + "😀", strings.Repeat("😀", 36), "“Hi” – it’s…",
	"a\xffb", "\xed\xa0\x80", "\x1b", "👨\u200d👩\u200d👧", "Ça\r\nva {ok}",
}

// unitsIn counts s in units of e, the way Measure counts a body.
func unitsIn(e Encoding, s string) int {
	n := 0
	for _, r := range s {
		switch {
		case e == GSM7:
			n += septets(r)
		case r > 0xFFFF:
			n += 2
		default:
			n++
		}
	}
	return n
}

// FuzzMeasureSplit checks the promises of SPEC C6 on any input: no panic,
// segments join to the input, each fits its limit, and Split agrees with
// Measure.
func FuzzMeasureSplit(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	costs := standardCosts(f)
	f.Fuzz(func(t *testing.T, body string) {
		m := Measure(body)
		parts := Split(body)
		ref := measureReference(costs, body)
		if m.Encoding != ref.enc || m.Units != ref.units || m.Characters != ref.chars ||
			len(parts) != len(ref.segments) || (len(parts) > 0 && m.Remaining != ref.per-ref.last) {
			t.Fatalf("Measure = %+v, %d segments; naive model %+v", m, len(parts), ref)
		}
		if got := strings.Join(parts, ""); got != body {
			t.Fatalf("segments join to %q, want %q", got, body)
		}
		if len(parts) != m.Segments {
			t.Fatalf("Split gave %d segments, Measure %d", len(parts), m.Segments)
		}
		if m.Units < 0 || m.Remaining < 0 || m.Remaining > m.PerSegment || m.Characters < len(parts) {
			t.Fatalf("inconsistent measurement %+v", m)
		}
		total := 0
		for i, p := range parts {
			u := unitsIn(m.Encoding, p)
			if u == 0 || u > m.PerSegment {
				t.Fatalf("segment %d %q holds %d units, limit %d", i, p, u, m.PerSegment)
			}
			if utf8.ValidString(body) && !utf8.ValidString(p) {
				t.Fatalf("segment %d %q splits a UTF-8 sequence", i, p)
			}
			total += u
		}
		if total != m.Units {
			t.Fatalf("segments hold %d units, Measure says %d", total, m.Units)
		}
		if len(parts) > 0 {
			if last := unitsIn(m.Encoding, parts[len(parts)-1]); m.PerSegment-last != m.Remaining {
				t.Fatalf("last segment holds %d units, Remaining %d, PerSegment %d", last, m.Remaining, m.PerSegment)
			}
		}
		if m.Encoding == GSM7 && !utf8.ValidString(body) {
			t.Fatalf("invalid UTF-8 measured as GSM-7")
		}
	})
}

// FuzzNormalize checks that Normalize never panics, that its report
// rebuilds the output from the input, and that SmartGSM7 predicts it.
func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		out, reps := Normalize(body)
		var b strings.Builder
		last := 0
		for _, r := range reps {
			if r.Offset < last || r.Offset >= len(body) {
				t.Fatalf("replacement %+v out of order or range", r)
			}
			got, size := utf8.DecodeRuneInString(body[r.Offset:])
			if got != r.From {
				t.Fatalf("replacement %+v: input holds %q there", r, got)
			}
			b.WriteString(body[last:r.Offset])
			b.WriteString(r.To)
			last = r.Offset + size
		}
		b.WriteString(body[last:])
		if b.String() != out {
			t.Fatalf("replacements rebuild %q, Normalize returned %q", b.String(), out)
		}
		m := Measure(body)
		if want := m.Encoding == UCS2 && Measure(out).Encoding == GSM7; m.SmartGSM7 != want {
			t.Fatalf("SmartGSM7 = %v, want %v", m.SmartGSM7, want)
		}
	})
}

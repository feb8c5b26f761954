package sms

import "testing"

// TestMeasureMatchesUTF8 checks the inline decoding of Measure against
// unicode/utf8 on every lead byte, every second byte and the edges of the
// continuation range for the rest, whole and truncated: invalid bytes count
// as U+FFFD and valid sequences as their code point.
func TestMeasureMatchesUTF8(t *testing.T) {
	tails := []byte{0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF}
	check := func(b []byte) {
		s := string(b)
		m := Measure(s)
		enc, runes := GSM7, 0
		for _, r := range s {
			runes++
			if septets(r) == 0 {
				enc = UCS2
			}
		}
		if m.Encoding != enc || m.Characters != runes || m.Units != unitsIn(enc, s) {
			t.Fatalf("Measure(%q) = %+v; want %v, %d characters, %d units", s, m, enc, runes, unitsIn(enc, s))
		}
	}
	for c := 0x80; c <= 0xFF; c++ {
		check([]byte{byte(c)})
		for b1 := 0; b1 <= 0xFF; b1++ {
			check([]byte{byte(c), byte(b1)})
			for _, b2 := range tails {
				check([]byte{byte(c), byte(b1), b2})
				for _, b3 := range tails {
					check([]byte{byte(c), byte(b1), b2, b3})
					check([]byte{'a', byte(c), byte(b1), b2, b3, 'a'})
				}
			}
		}
	}
}

// TestPlainGSM checks the 8-byte fast path of Measure: a word is plain when
// every byte is a one-septet GSM-7 character other than LF and CR.
func TestPlainGSM(t *testing.T) {
	for c := 0; c <= 0xFF; c++ {
		want := c < 0x80 && asciiSeptets(byte(c)) == 1 && c != '\n' && c != '\r'
		for p := range 8 {
			b := []byte("abcdefgh")
			b[p] = byte(c)
			if got := plainGSM(load64(string(b))); got != want {
				t.Errorf("plainGSM(%q) = %v, want %v", b, got, want)
			}
		}
	}
	if !plainGSM(load64("_Z a09@?")) {
		t.Error("plainGSM rejects plain characters")
	}
}

package sms

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestSmartTablesMatchNormalizeC6 checks the smart-encoding tables of
// Measure against Normalize's own replacement table and the GSM-7 classifier
// for every character of the Basic Multilingual Plane (SPEC C6: a body is
// SmartGSM7 when Normalize would make it GSM-7).
func TestSmartTablesMatchNormalizeC6(t *testing.T) {
	for r := rune(0); r <= 0xFFFF; r++ {
		_, replaced := replacement(r)
		if got, want := smartBMP(r), septets(r) > 0 || replaced; got != want {
			t.Errorf("smartBMP(%U %q) = %v, want %v", r, r, got, want)
		}
	}
}

// plainGSM reports whether each of the 8 bytes of w is a GSM-7 character of
// cost 1 in the ranges ' ' to 'Z', 'a' to 'z', or '_': nonPlainGSM as
// TestPlainGSM checks it.
func plainGSM(w uint64) bool {
	return nonPlainGSM(w) == 0
}

// TestByteMasks checks the 8-byte classifiers of Measure byte by byte, with
// every byte value at every position among neighbours of each kind (ASCII,
// continuation bytes, lead bytes), so that no carry or borrow leaks from one
// byte into another.
func TestByteMasks(t *testing.T) {
	plain := func(c byte) bool { return c < 0x80 && asciiSeptets(c) == 1 && c != '\n' && c != '\r' }
	printable := func(c byte) bool { return c >= ' ' && c <= '~' }
	for _, fill := range []byte{'a', '_', ' ', 0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xF0, 0xFF} {
		for c := 0; c <= 0xFF; c++ {
			for p := range 8 {
				b := bytes.Repeat([]byte{fill}, 8)
				b[p] = byte(c)
				w := load64(string(b))
				gsm, prn := nonPlainGSM(w), nonPrintable(w)
				for q := range 8 {
					bit := uint64(0x80) << (8 * q)
					if got, want := gsm&bit == 0, plain(b[q]); got != want {
						t.Fatalf("nonPlainGSM(% x): byte %d plain = %v, want %v", b, q, got, want)
					}
					if got, want := prn&bit == 0, printable(b[q]); got != want {
						t.Fatalf("nonPrintable(% x): byte %d printable = %v, want %v", b, q, got, want)
					}
				}
				if gsm&^high != 0 || prn&^high != 0 {
					t.Fatalf("masks of % x have bits outside the high bits: %x %x", b, gsm, prn)
				}
			}
		}
	}
}

// checkDifferential compares Measure with the naive model and with the
// previous implementation, and Split with the naive split, on body and on
// body behind prefixes that move it to every position of the 8-byte fast
// paths and into each stage of Measure: GSM-7 text, UCS-2 text that
// Normalize could still make GSM-7, and UCS-2 text that it cannot.
func checkDifferential(t *testing.T, body string) {
	t.Helper()
	for _, prefix := range []string{"", "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg",
		"ç", "“", "x“yz", "ç1234567"} {
		s := prefix + body
		got, want := Measure(s), measureNaive(s)
		if got != want {
			t.Fatalf("Measure(%q)\n  got %+v\n want %+v (naive model)", s, got, want)
		}
		if prev := measurePrevious(s); got != prev {
			t.Fatalf("Measure(%q)\n  got %+v\n want %+v (previous implementation)", s, got, prev)
		}
		if parts, want := Split(s), splitNaive(s); !slices.Equal(parts, want) {
			t.Fatalf("Split(%q)\n  got %q\n want %q (naive model)", s, parts, want)
		}
	}
}

// differentialSeeds cover the GSM-7 basic and extension tables, UCS-2, the
// characters Normalize replaces, emoji and other surrogate pairs, invalid
// UTF-8, and lengths on and around the segment limits.
var differentialSeeds = []string{
	"", "Hello", "Ça\r\nva {ok} [x] ~^|\\ \f €5", "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà",
	"ça coûte", "Здравствуйте", "你好，世界", "“Hi” – it’s… ＯＫ\u00a0\u200b\t`", "«ok» ´ ʼ ˆ ˜ ❝❞ 〝〟 ﹘ \ufeff",
	"Hi 👋🏽 👨\u200d👩\u200d👧 𝐀", strings.Repeat("😀", 36), strings.Repeat("a", 152) + "€x",
	strings.Repeat("a", 160), strings.Repeat("a", 161), strings.Repeat("€", 81), strings.Repeat("ç", 66) + "😀ç",
	strings.Repeat("“", 70) + "”", strings.Repeat("é", 200), "a\xffb", "\xed\xa0\x80", "\xe0\x80\x80",
	"\xf4\x90\x80\x80", "\xc0\xaf", "\xc1\xbf", "\xf0\x9f\x98", "\xe2\x82", "\x1b", "\ufffd",
}

// TestMeasureMatchesNaiveC6 runs the differential check on the seeds, the
// benchmark corpus and a random corpus (SPEC C6).
func TestMeasureMatchesNaiveC6(t *testing.T) {
	for _, s := range differentialSeeds {
		checkDifferential(t, s)
	}
	for _, s := range corpusBodies() {
		checkDifferential(t, s)
	}
	rng := rand.New(rand.NewPCG(18, 250))
	n := 5000
	if testing.Short() {
		n = 500
	}
	for range n {
		checkDifferential(t, randomBody(rng))
	}
}

// TestMeasureMatchesNaiveSequences runs the differential check on every
// lead byte followed by every second byte, and on the edges of the
// continuation range for the third and fourth, inside text of each stage of
// Measure and at each position of its 8-byte fast paths: valid sequences of
// every length, overlong forms, surrogates, truncated and stray bytes.
func TestMeasureMatchesNaiveSequences(t *testing.T) {
	tails := []byte{0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF}
	for c := 0x80; c <= 0xFF; c++ {
		for b1 := 0; b1 <= 0xFF; b1++ {
			seq := string([]byte{byte(c), byte(b1), 0x80, 0x80})
			checkDifferential(t, seq+"abcdefgh")
			checkDifferential(t, seq[:2]+"😀z")
		}
		if testing.Short() {
			continue
		}
		for _, b1 := range tails {
			for _, b2 := range tails {
				for _, b3 := range tails {
					checkDifferential(t, string([]byte{byte(c), b1, b2, b3})+"ç")
				}
			}
		}
	}
}

// FuzzMeasureDifferential compares Measure, field by field, with the naive
// per-rune model and with the previous implementation on any input (SPEC C6).
func FuzzMeasureDifferential(f *testing.F) {
	for _, s := range append(differentialSeeds, fuzzSeeds...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		checkDifferential(t, body)
		// The model itself: its units are those of a UTF-16 or GSM-7 encoding.
		m := measureNaive(body)
		if m.Characters != utf8.RuneCountInString(body) {
			t.Fatalf("naive model counts %d characters in %q, want %d", m.Characters, body, utf8.RuneCountInString(body))
		}
	})
}

package sms

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// defaultAlphabet is the GSM 7-bit default alphabet of TS 23.038 §6.2.1 in
// code order, 0x00 to 0x7F; 0x1B is the escape to the extension table.
const defaultAlphabet = "@£$¥èéùìòÇ\nØø\rÅå" +
	"Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ" +
	" !\"#¤%&'()*+,-./" +
	"0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNO" +
	"PQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmno" +
	"pqrstuvwxyzäöñüà"

// extensionTable is the default extension table of TS 23.038 §6.2.1.1: code
// (after the escape) to character.
var extensionTable = map[byte]rune{
	0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
	0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€',
}

// standardCosts maps every GSM-7 character to its cost in septets, built
// from the tables above rather than from the package's own classifier.
func standardCosts(t testing.TB) map[rune]int {
	t.Helper()
	table := []rune(defaultAlphabet)
	if len(table) != 128 {
		t.Fatalf("default alphabet has %d characters, want 128", len(table))
	}
	// Spot checks against the standard's table, so that a shifted row shows.
	for code, want := range map[int]rune{0x00: '@', 0x09: 'Ç', 0x10: 'Δ', 0x1B: 0x1B, 0x1F: 'É',
		0x24: '¤', 0x40: '¡', 0x5F: '§', 0x60: '¿', 0x7F: 'à'} {
		if table[code] != want {
			t.Fatalf("default alphabet 0x%02X = %q, want %q", code, table[code], want)
		}
	}
	costs := make(map[rune]int, 138)
	for code, r := range table {
		if code == 0x1B {
			continue // the escape is not a character (package doc)
		}
		costs[r] = 1
	}
	for _, r := range extensionTable {
		costs[r] = 2
	}
	return costs
}

// TestSeptetsMatchStandardC6 checks the classifier against TS 23.038 for
// every code point (SPEC C6: GSM-7 alphabet, extension characters cost two).
func TestSeptetsMatchStandardC6(t *testing.T) {
	costs := standardCosts(t)
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if got, want := septets(r), costs[r]; got != want {
			t.Errorf("septets(%U %q) = %d, want %d", r, r, got, want)
		}
	}
	if len(costs) != 127+10 {
		t.Errorf("standard table has %d characters, want 137", len(costs))
	}
}

func TestEncodingString(t *testing.T) {
	for e, want := range map[Encoding]string{GSM7: "GSM-7", UCS2: "UCS-2", 7: "Encoding(7)"} {
		if got := e.String(); got != want {
			t.Errorf("Encoding(%d).String() = %q, want %q", uint8(e), got, want)
		}
	}
}

// TestMeasureC6 covers the limits of SPEC C6: 160/153 septets, 70/67 code
// units, two-septet extension characters, emoji forcing UCS-2, two-unit pairs
// moving whole to the next segment, the empty body and invalid UTF-8.
func TestMeasureC6(t *testing.T) {
	a := strings.Repeat
	tests := []struct {
		name  string
		body  string
		want  Measurement
		parts []string // nil: not checked
	}{
		{"empty", "", Measurement{GSM7, 0, 0, 0, 160, 160, false}, []string{}},
		{"short", "Hello", Measurement{GSM7, 5, 5, 1, 160, 155, false}, []string{"Hello"}},
		{"160 septets is one segment", a("a", 160), Measurement{GSM7, 160, 160, 1, 160, 0, false}, nil},
		{"161 septets is two", a("a", 161), Measurement{GSM7, 161, 161, 2, 153, 145, false},
			[]string{a("a", 153), a("a", 8)}},
		{"306 septets fill two", a("a", 306), Measurement{GSM7, 306, 306, 2, 153, 0, false}, nil},
		{"307 septets is three", a("a", 307), Measurement{GSM7, 307, 307, 3, 153, 152, false}, nil},
		{"extension costs two", "{x}", Measurement{GSM7, 3, 5, 1, 160, 155, false}, nil},
		{"form feed is extension", "\f", Measurement{GSM7, 1, 2, 1, 160, 158, false}, nil},
		{"80 euros fit one", a("€", 80), Measurement{GSM7, 80, 160, 1, 160, 0, false}, nil},
		{"81 euros", a("€", 81), Measurement{GSM7, 81, 162, 2, 153, 143, false},
			[]string{a("€", 76), a("€", 5)}},
		{"escape moves whole", a("a", 152) + "€" + a("a", 10), Measurement{GSM7, 163, 164, 2, 153, 141, false},
			[]string{a("a", 152), "€" + a("a", 10)}},
		{"escape fits at 151", a("a", 151) + "€" + a("a", 10), Measurement{GSM7, 162, 163, 2, 153, 143, false},
			[]string{a("a", 151) + "€", a("a", 10)}},
		{"GSM-7 accents", "Ça coûte", Measurement{UCS2, 8, 8, 1, 70, 62, false}, nil},
		{"e with diaeresis is not", "Ça va à Noël? Ñ ß Δ", Measurement{UCS2, 19, 19, 1, 70, 51, false}, nil},
		{"GSM-7 non-ASCII", "Ça va à Öl? Ñ ß Δ £ ¥ § ¿ ¡ ¤", Measurement{GSM7, 29, 29, 1, 160, 131, false}, nil},
		{"lower-case cedilla is not", "ça", Measurement{UCS2, 2, 2, 1, 70, 68, false}, nil},
		{"escape character is not", "a\x1bb", Measurement{UCS2, 3, 3, 1, 70, 67, false}, nil},
		{"backtick is not but normalizes", "`a`", Measurement{UCS2, 3, 3, 1, 70, 67, true}, nil},
		{"CRLF", "a\r\nb", Measurement{GSM7, 4, 4, 1, 160, 156, false}, nil},
		{"70 UCS-2 fit one", a("ç", 70), Measurement{UCS2, 70, 70, 1, 70, 0, false}, nil},
		{"71 UCS-2 is two", a("ç", 71), Measurement{UCS2, 71, 71, 2, 67, 63, false},
			[]string{a("ç", 67), a("ç", 4)}},
		{"emoji forces UCS-2 and counts two", "Hi 👋", Measurement{UCS2, 4, 5, 1, 70, 65, false}, nil},
		{"35 emoji fit one", a("😀", 35), Measurement{UCS2, 35, 70, 1, 70, 0, false}, nil},
		{"36 emoji", a("😀", 36), Measurement{UCS2, 36, 72, 2, 67, 61, false},
			[]string{a("😀", 33), a("😀", 3)}},
		{"surrogate pair moves whole", a("ç", 66) + "😀" + a("ç", 10), Measurement{UCS2, 77, 78, 2, 67, 55, false},
			[]string{a("ç", 66), "😀" + a("ç", 10)}},
		{"GSM prefix then UCS-2", a("a", 66) + "😀" + a("a", 10), Measurement{UCS2, 77, 78, 2, 67, 55, false},
			[]string{a("a", 66), "😀" + a("a", 10)}},
		{"extension in UCS-2 costs one", a("€", 66) + "ç", Measurement{UCS2, 67, 67, 1, 70, 3, false}, nil},
		{"ZWJ sequence may split", a("a", 65) + "👨\u200d👩" + a("a", 5), Measurement{UCS2, 73, 75, 2, 67, 59, false},
			[]string{a("a", 65) + "👨", "\u200d👩" + a("a", 5)}},
		{"smart quotes", "“Hi” – it’s…", Measurement{UCS2, 12, 12, 1, 70, 58, true}, nil},
		{"smart quotes with emoji", "“Hi” 😀", Measurement{UCS2, 6, 7, 1, 70, 63, false}, nil},
		{"invalid byte is U+FFFD", "ab\xff", Measurement{UCS2, 3, 3, 1, 70, 67, false}, []string{"ab\xff"}},
		{"truncated sequence", "\xe2\x82", Measurement{UCS2, 2, 2, 1, 70, 68, false}, nil},
		{"invalid bytes split", a("\xff", 68), Measurement{UCS2, 68, 68, 1, 70, 2, false}, nil},
		{"invalid bytes multi", a("\xff", 71), Measurement{UCS2, 71, 71, 2, 67, 63, false},
			[]string{a("\xff", 67), a("\xff", 4)}},
		{"encoded surrogate is invalid", "\xed\xa0\x80", Measurement{UCS2, 3, 3, 1, 70, 67, false}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Measure(tt.body)
			if got != tt.want {
				t.Errorf("Measure(%q)\n got %+v\nwant %+v", tt.body, got, tt.want)
			}
			if tt.parts == nil {
				return
			}
			parts := Split(tt.body)
			if len(parts) != len(tt.parts) {
				t.Fatalf("Split gave %d segments %q, want %d", len(parts), parts, len(tt.parts))
			}
			for i := range parts {
				if parts[i] != tt.parts[i] {
					t.Errorf("segment %d = %q, want %q", i, parts[i], tt.parts[i])
				}
			}
		})
	}
}

// reference is an independent, naive model of SPEC C6 built from the tables
// of the standard: it lists every code point with its cost and fills segments
// one by one.
type reference struct {
	enc      Encoding
	units    int
	chars    int
	segments []string
	per      int
	last     int // units in the last segment
}

func measureReference(costs map[rune]int, body string) reference {
	type item struct {
		off, size, gsm, ucs int
	}
	var items []item
	gsm := true
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRuneInString(body[i:])
		if r == utf8.RuneError && size <= 1 {
			r = utf8.RuneError // one invalid byte, counted as U+FFFD
		}
		c, ok := costs[r]
		gsm = gsm && ok
		items = append(items, item{i, size, c, len(utf16.Encode([]rune{r}))})
		i += size
	}
	ref := reference{enc: GSM7, chars: len(items), per: 160}
	single, multi := 160, 153
	cost := func(it item) int { return it.gsm }
	if !gsm {
		ref.enc, ref.per, single, multi = UCS2, 70, 70, 67
		cost = func(it item) int { return it.ucs }
	}
	for _, it := range items {
		ref.units += cost(it)
	}
	switch {
	case len(items) == 0:
		return ref
	case ref.units <= single:
		ref.segments, ref.last = []string{body}, ref.units
		return ref
	}
	ref.per = multi
	start, used := 0, 0
	for _, it := range items {
		if used+cost(it) > multi {
			ref.segments = append(ref.segments, body[start:it.off])
			start, used = it.off, 0
		}
		used += cost(it)
	}
	ref.segments = append(ref.segments, body[start:])
	ref.last = used
	return ref
}

// pieces are the building blocks of the random corpus: GSM-7 basic and
// extension characters, non-GSM BMP characters, characters that Normalize
// replaces, emoji (with ZWJ and skin tones), controls and invalid UTF-8.
var pieces = []string{
	"a", "Z", " ", "0", "\n", "\r\n", "@", "$", "_", "é", "Ç", "Δ", "€", "[", "]", "{", "}", "\\", "~", "^", "|", "\f",
	"ç", "ê", "œ", "Ж", "中", "\x1b", "\t", "`", "\u00a0", "“", "”", "’", "–", "…", "\u200b", "！",
	"😀", "👍🏽", "👨\u200d👩\u200d👧", "𝐀", "\xff", "\xe2\x82", "\xed\xa0\x80", "\ufffd",
}

// randomBody returns a body built from a few kinds of piece, with long runs
// of one piece so that lengths land on and around the segment limits.
func randomBody(rng *rand.Rand) string {
	var b strings.Builder
	kinds := pieces[:23] // GSM-7 only
	if rng.IntN(3) == 0 {
		kinds = pieces
	}
	for n := rng.IntN(6); n >= 0; n-- {
		p := kinds[rng.IntN(len(kinds))]
		switch rng.IntN(3) {
		case 0:
			b.WriteString(strings.Repeat(p, rng.IntN(4)+1))
		case 1:
			b.WriteString(strings.Repeat(p, rng.IntN(80)))
		default:
			b.WriteString(strings.Repeat(p, 140+rng.IntN(30)))
		}
	}
	return b.String()
}

// TestMeasureSplitMatchReferenceC6 compares Measure and Split with the
// naive model over a large random corpus (SPEC C6).
func TestMeasureSplitMatchReferenceC6(t *testing.T) {
	costs := standardCosts(t)
	rng := rand.New(rand.NewPCG(23038, 23040))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for range n {
		body := randomBody(rng)
		ref := measureReference(costs, body)
		m := Measure(body)
		want := Measurement{
			Encoding:   ref.enc,
			Characters: ref.chars,
			Units:      ref.units,
			Segments:   len(ref.segments),
			PerSegment: ref.per,
			Remaining:  ref.per - ref.last,
		}
		m.SmartGSM7 = false // checked by TestSmartGSM7MatchesNormalizeC6
		if m != want {
			t.Fatalf("Measure(%q)\n got %+v\nwant %+v", body, m, want)
		}
		parts := Split(body)
		if len(parts) != len(ref.segments) {
			t.Fatalf("Split(%q) gave %d segments, want %d", body, len(parts), len(ref.segments))
		}
		for i := range parts {
			if parts[i] != ref.segments[i] {
				t.Fatalf("Split(%q) segment %d = %q, want %q", body, i, parts[i], ref.segments[i])
			}
		}
	}
}

// TestMeasureDoesNotAllocateC6 checks the zero-allocation promise of Measure
// (the speed target itself is met in BenchmarkMeasure).
func TestMeasureDoesNotAllocateC6(t *testing.T) {
	for _, body := range []string{gsmBody160, latinBody160, emojiBody70, strings.Repeat("ç😀€", 100), "\xff\xfe"} {
		if n := testing.AllocsPerRun(50, func() { Measure(body) }); n != 0 {
			t.Errorf("Measure(%.20q…) allocates %v times, want 0", body, n)
		}
	}
}

package fold

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// T13, R5: case- and accent-insensitive folding.
func TestString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"helene", "helene"},
		{"Hélène", "helene"},             // T13: "helene" finds "Hélène"
		{"HÉLÈNE", "helene"},             // upper-case with accents
		{"He\u0301le\u0300ne", "helene"}, // already decomposed input
		{"STOP", "stop"},                 // R5 keyword
		{"Arrêt", "arret"},               // R5 French keyword
		{"ARRÊT", "arret"},
		{"Straße", "strasse"}, // ß has no decomposition
		{"STRAẞE", "strasse"}, // capital sharp s
		{"Œuvre", "oeuvre"},
		{"Ærø", "aero"},
		{"Łódź", "lodz"},
		{"Đorđe", "dorde"},
		{"Þór", "thor"},
		{"İstanbul", "istanbul"}, // dotted capital I decomposes to I + dot
		{"ılık", "ilik"},         // dotless i
		{"ﬁne", "fine"},          // ligature
		{"Ça va ?", "ca va ?"},
		{"São Paulo", "sao paulo"},
		{"Zoë 06 12", "zoe 06 12"},
		{"\u212Aelvin", "kelvin"},   // Kelvin sign lowers to k
		{"日本", "日本"},                // letters without case or accents stay
		{"꾲", "\u1101\u116d\u11bd"}, // Hangul decomposes to jamo, as NFD does
		{"\xff", "\uFFFD"},          // invalid UTF-8 becomes the replacement rune
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The fast path returns lower-case ASCII input without allocating.
func TestStringASCIIFastPathDoesNotAllocate(t *testing.T) {
	in := "helene dupont 0612345678"
	allocs := testing.AllocsPerRun(100, func() {
		if String(in) != in {
			t.Fatal("lower-case ASCII changed")
		}
	})
	if allocs != 0 {
		t.Errorf("String on lower-case ASCII allocates %v times, want 0", allocs)
	}
}

// T13: phone search matches across formats.
func TestDigits(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"0612345678", "0612345678"},
		{"06 12 34 56 78", "0612345678"},
		{"+33 6 12 34 56 78", "33612345678"},
		{"(212) 555-0123", "2125550123"},
		{"no digits", ""},
		{"٠١٢", ""}, // only ASCII digits are kept
	}
	for _, tt := range tests {
		if got := Digits(tt.in); got != tt.want {
			t.Errorf("Digits(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	allocs := testing.AllocsPerRun(100, func() { _ = Digits("33612345678") })
	if allocs != 0 {
		t.Errorf("Digits on digits-only input allocates %v times, want 0", allocs)
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "Hélène", "STRAẞE", "İı", "ﬃ", "\u212A", "ǅ", "\xff\xfe", "Ω\u0345", "ᾼ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := String(s)
		if twice := String(once); twice != once {
			t.Fatalf("not idempotent: String(%q) = %q, String(%q) = %q", s, once, once, twice)
		}
		if ref := reference(s); utf8.ValidString(s) && ref != once {
			t.Fatalf("String(%q) = %q, reference folding gives %q", s, once, ref)
		}
		if !utf8.ValidString(once) {
			t.Fatalf("String(%q) = %q is not valid UTF-8", s, once)
		}
		if isASCII(s) && String(strings.ToUpper(s)) != once {
			t.Fatalf("String(%q) differs from String of its upper-case form", s)
		}
		d := Digits(s)
		for i := 0; i < len(d); i++ {
			if d[i] < '0' || d[i] > '9' {
				t.Fatalf("Digits(%q) = %q holds a non-digit", s, d)
			}
		}
	})
}

// isASCII reports whether s is ASCII, where upper-casing changes nothing but
// letter case and the case check above is meaningful.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func BenchmarkString(b *testing.B) {
	cases := map[string]string{
		"ascii-lower": "helene dupont",
		"ascii-upper": "Helene Dupont",
		"accented":    "Hélène Dupont-Lefèvre",
	}
	for name, in := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = String(in)
			}
		})
	}
}

// reference folds the slow, obvious way: lower-case and spell out, then NFD
// the whole string, then drop combining marks and lower once more.
func reference(s string) string {
	var lowered strings.Builder
	for _, r := range s {
		r = unicode.ToLower(r)
		if sp, ok := special(r); ok {
			lowered.WriteString(sp)
			continue
		}
		lowered.WriteRune(r)
	}
	var out strings.Builder
	for _, r := range norm.NFD.String(lowered.String()) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		if sp, ok := special(r); ok {
			out.WriteString(sp)
			continue
		}
		out.WriteRune(r)
	}
	return out.String()
}

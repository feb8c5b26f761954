package inbox

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// plainASCII, cleanText's fast path, says a text is clean only when it is
// ASCII without NUL, at every length and with the odd byte anywhere in an
// eight-byte word: its answer is the per-byte one, and a text it refuses
// is still cleaned as before. (No rule of the contract names the input
// policy: it is the inbox's own, see ErrUnstorable.)
func TestPlainASCII(t *testing.T) {
	slow := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] == 0 || s[i] >= utf8.RuneSelf {
				return false
			}
		}
		return true
	}
	rng := rand.New(rand.NewPCG(1, 2))
	odd := []byte{0, 1, 0x7f, 0x80, 0xc3, 0xff, 'A'}
	for n := 0; n <= 40; n++ {
		for trial := 0; trial < 200; trial++ {
			b := []byte(strings.Repeat("x", n))
			for k := rng.IntN(3); k > 0 && n > 0; k-- {
				b[rng.IntN(n)] = odd[rng.IntN(len(odd))]
			}
			s := string(b)
			if got, want := plainASCII(s), slow(s); got != want {
				t.Fatalf("plainASCII(%q) = %v, want %v", s, got, want)
			}
			if c := cleanText(s); !utf8.ValidString(c) || strings.IndexByte(c, 0) >= 0 || slow(s) && c != s {
				t.Fatalf("cleanText(%q) = %q", s, c)
			}
		}
	}
}

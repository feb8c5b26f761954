package memstore

import (
	"slices"
	"strings"
	"testing"
)

// T13: a prefix scan of the subject word index finds exactly the threads
// with a word the prefix starts, whatever the words hold (bytes past the
// eighth and the sixteenth, zero bytes, words shorter than the prefix).
func FuzzScanPrefix(f *testing.F) {
	f.Add("marie\x00martin\x00marie.martin12@gmail.com\x00mar", "mari")
	f.Add("ab\x00ab\x00\x00abc\x00a", "ab\x00")
	f.Add("helene.dubois@example.fr\x00helene.dubois2@example.fr\x00helen", "helene.dubois@")
	f.Add("helene.dubois@example.fr\x00helene.dubois@example.com\x00helene.dubois@ex", "helene.dubois@ex")
	f.Add("helene.dubois@example.fr\x00helene.dubois@example.com\x00helene.dubois@ex", "helene.dubois@exa")
	f.Add("33612345678\x0033612345679\x00336123456", "3361234567")
	f.Add("x\x00\x00", "")
	f.Fuzz(func(t *testing.T, words, prefix string) {
		x := newWordIndex()
		all := strings.Split(words, "\x00")
		for i, w := range all {
			if w != "" {
				x.add([]string{w}, uint32(i%5))
			}
		}
		var got []uint32
		x.scanPrefix(prefix, func(n uint32) { got = append(got, n) })
		var want []uint32
		for i, w := range all {
			if w != "" && strings.HasPrefix(w, prefix) {
				want = append(want, uint32(i%5))
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(slices.Compact(got), slices.Compact(want)) {
			t.Fatalf("scanPrefix(%q) over %q = %v, want %v", prefix, all, got, want)
		}
	})
}

// T13: the order of word heads is the order of the words.
func TestWordHeadOrder(t *testing.T) {
	words := []string{"", "\x00", "a", "a\x00", "a\x00\x00\x00\x00\x00\x00\x00\x01", "ab", "abcdefgh", "abcdefgh\x00", "abcdefghi",
		"abcdefgh\x00\x00\x00\x00\x00\x00\x00\x00\x01", "abcdefghijklmnop", "abcdefghijklmnop\x00", "abcdefghijklmnopq", "abcdefghz", "b", "\xff"}
	for i := range words {
		for j := range words {
			a, b := entryOf(words[i]), entryOf(words[j])
			if lessWord(a, b) != (words[i] < words[j]) {
				t.Errorf("lessWord(%q, %q) = %v", words[i], words[j], lessWord(a, b))
			}
		}
	}
}

// T13: intersecting postings by merge (lists of similar lengths) and by
// lookup (a much shorter list) gives the numbers in both.
func TestIntersect(t *testing.T) {
	list := func(n, step int) []uint32 {
		var l []uint32
		for i := range n {
			l = append(l, uint32(i*step+i%min(step, 3))) // ascending
		}
		return l
	}
	for _, c := range []struct{ a, b []uint32 }{
		{list(100, 3), list(150, 2)}, // merged
		{list(5, 97), list(2000, 1)}, // looked up
		{nil, list(10, 1)},           // empty
		{list(40, 7), list(40, 7)},   // equal
	} {
		var want []uint32
		for _, n := range c.a {
			if slices.Contains(c.b, n) {
				want = append(want, n)
			}
		}
		if got := intersect(c.a, c.b); !slices.Equal(got, want) {
			t.Errorf("intersect(%v, %v) = %v, want %v", c.a, c.b, got, want)
		}
	}
}

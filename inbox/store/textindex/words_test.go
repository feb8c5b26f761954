package textindex_test

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley/inbox/store/textindex"
)

// T13, T14: the Splitter finds exactly the words MessageWords finds, on
// ASCII, Latin, other scripts and invalid UTF-8.
func TestSplitterMatchesMessageWords(t *testing.T) {
	var s textindex.Splitter
	texts := []string{"", "Bonjour, est-ce que je peux déplacer mon cours de yoga à demain soir ? Merci beaucoup",
		"HÉLÈNE hélène Helene", "Straße STRASSE œuvre Œuvre", "Ωmega ΣΊΣΥΦΟΣ", "日本語 テキスト", "bad \xff\xfe bytes",
		"İstanbul ı", "x", "a-b_c.d", "ǅemal Ǆ", "ﬁne ﬂow", "ĳssel Ŀl", "naïve café 123 ½"}
	for _, text := range texts {
		want := textindex.MessageWords(text)
		var got []string
		for _, w := range s.Split(text) {
			got = append(got, string(w))
		}
		if !slices.Equal(got, want) {
			t.Errorf("Split(%q) = %q, want %q", text, got, want)
		}
	}
	for r := rune(0); r < 0x3000; r++ {
		text := "a" + string(r) + "B " + string(r)
		want := textindex.MessageWords(text)
		var got []string
		for _, w := range s.Split(text) {
			got = append(got, string(w))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Split(%q) = %q, want %q", text, got, want)
		}
	}
}

// T13: splitting accented Latin text allocates nothing once warm.
func TestSplitterAllocs(t *testing.T) {
	var s textindex.Splitter
	text := "Bonjour, est-ce que je peux déplacer mon cours de yoga à demain soir ? Merci beaucoup"
	s.Split(text)
	if n := testing.AllocsPerRun(100, func() { s.Split(text) }); n != 0 {
		t.Fatalf("Split allocates %v times per call, want 0", n)
	}
}

func FuzzSplitter(f *testing.F) {
	for _, seed := range []string{"", "Hélène", "a\xffb", "Straße ﬁ", "x-y z"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var s textindex.Splitter
		want := textindex.MessageWords(text)
		got := s.Split(text)
		if len(got) != len(want) {
			t.Fatalf("Split(%q): %d words, want %d", text, len(got), len(want))
		}
		for i := range got {
			if string(got[i]) != want[i] {
				t.Fatalf("Split(%q)[%d] = %q, want %q", text, i, got[i], want[i])
			}
		}
	})
}

// BenchmarkSplitter splits a French text (accents, punctuation) and an
// English one (ASCII) as memstore does for every message it stores.
func BenchmarkSplitter(b *testing.B) {
	for _, tc := range []struct{ name, text string }{
		{"french", "Bonjour Hélène, votre cours de yoga de demain à 10h est confirmé. Pensez à apporter votre tapis !"},
		{"ascii", "Is there parking near the studio?"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var sp textindex.Splitter
			b.ReportAllocs()
			for b.Loop() {
				sp.Split(tc.text)
			}
		})
	}
}

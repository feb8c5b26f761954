package textindex_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// maxEntry bounds the bytes of any word or form the tokenisers return,
// whatever the input: far below what an index keeps in one entry
// (PostgreSQL refuses GIN entries over about 2,700 bytes), so that a store
// indexing every prefix of a word stays small too.
const maxEntry = 256

// T13: a word of any length is indexed by its first MaxWordBytes bytes, cut
// at a character boundary, and still found by its first characters; no
// index entry grows with the input.
func TestWordsAreCapped_T13(t *testing.T) {
	long := strings.Repeat("é", 1500) + "@example.com" // 3,000+ bytes, one chunk
	snap := store.Snapshot{Email: long, FirstName: strings.Repeat("ab", 1500)}
	for _, w := range textindex.SubjectWords(snap) {
		if len(w) > maxEntry || !utf8.ValidString(w) {
			t.Fatalf("subject word of %d bytes (valid UTF-8: %v), want at most %d", len(w), utf8.ValidString(w), maxEntry)
		}
	}
	for _, q := range []string{strings.Repeat("e", 10), strings.Repeat("É", 200), "abab", strings.Repeat("ab", 1500), "example"} {
		if !textindex.MatchSubject(snap, textindex.ParseQuery(q)) {
			t.Errorf("the long snapshot is not found by %.20q… (%d bytes)", q, len(q))
		}
	}
	if textindex.MatchSubject(snap, textindex.ParseQuery("abc")) {
		t.Error("a term that is no prefix matched")
	}

	text := "début " + strings.Repeat("x", 3000) + " fin"
	words := textindex.MessageWords(text)
	for _, w := range words {
		if len(w) > maxEntry {
			t.Fatalf("message word of %d bytes", len(w))
		}
	}
	if !textindex.MatchMessage(text, []string{strings.Repeat("x", 3000)}) || !textindex.MatchMessage(text, []string{"fin"}) {
		t.Error("a message with a 3,000-byte word is not found by it")
	}
	var sp textindex.Splitter
	if got := sp.Split(text); len(got) != len(words) || string(got[1]) != words[1] {
		t.Errorf("Splitter words %q differ from MessageWords %q", got, words)
	}

	for _, f := range textindex.PhoneForms("+" + strings.Repeat("3", 3000)) {
		if len(f) > maxEntry {
			t.Fatalf("phone form of %d bytes", len(f))
		}
	}
	if q := textindex.ParseQuery(strings.Repeat("1", 3000)); len(q.Phone) > maxEntry {
		t.Fatalf("phone query of %d bytes", len(q.Phone))
	}
}

// T13: phone search matches a number typed with the international prefix
// "00" or with the trunk prefix "(0)" after the country code.
func TestParseQuery_internationalForms_T13(t *testing.T) {
	helene := store.Snapshot{Phone: "+33612345678"}
	for q, want := range map[string]string{
		"0033 6 12 34 56 78":    "33612345678",
		"+33 (0)6 12 34 56 78":  "33612345678",
		"+33 (0)6 12":           "33612",
		"0033 (0)6 12 34 56 78": "33612345678",
		"+330612345678":         "33612345678",
		"00 1 201 555 0123":     "12015550123",
		"06 12 34 56 78":        "0612345678",
		"001":                   "001",
	} {
		got := textindex.ParseQuery(q)
		if got.Phone != want {
			t.Errorf("ParseQuery(%q).Phone = %q, want %q", q, got.Phone, want)
		}
		if strings.HasPrefix(want, "336") && !textindex.MatchSubject(helene, got) {
			t.Errorf("%q does not find +33612345678", q)
		}
	}
}

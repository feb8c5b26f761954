package textindex_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
	"github.com/parleyhq/parley/internal/fold"
)

// T13: the query box gives either folded terms or a phone search.
func TestParseQuery_T13(t *testing.T) {
	tests := []struct {
		q    string
		want store.Search
	}{
		{"", store.Search{}},
		{"   ", store.Search{}},
		{"Hélène", store.Search{Terms: []string{"helene"}}},
		{"  Jean-Pierre  DUPONT jean-pierre ", store.Search{Terms: []string{"jean-pierre", "dupont"}}},
		{"06 12 34 56 78", store.Search{Phone: "0612345678"}},
		{"+33 (6) 12.34.56-78", store.Search{Phone: "33612345678"}},
		{"+33612345678", store.Search{Phone: "33612345678"}},
		{"06", store.Search{Terms: []string{"06"}}},
		{"612", store.Search{Phone: "612"}},
		{"06 12 ab", store.Search{Terms: []string{"06", "12", "ab"}}},
		{"marie@example.com", store.Search{Terms: []string{"marie@example.com"}}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, textindex.ParseQuery(tt.q), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseQuery(%q) (-want +got):\n%s", tt.q, diff)
			}
		})
	}
}

// T13: subject words are folded words plus whole whitespace chunks.
func TestSubjectWords_T13(t *testing.T) {
	got := textindex.SubjectWords(store.Snapshot{
		FirstName: "Jean-Pierre",
		LastName:  "Lefèvre",
		Email:     "JP.Lefevre@Example.com",
	})
	want := []string{"jean-pierre", "jean", "pierre", "lefevre", "jp.lefevre@example.com", "jp", "example", "com"}
	sameSet(t, want, got)
	sameSet(t, []string{"yoga", "du", "matin", "yoga-du-matin"},
		textindex.SubjectWords(store.Snapshot{Name: "Yoga du matin yoga-du-matin"}))
	if got := textindex.SubjectWords(store.Snapshot{Phone: "+33612345678"}); len(got) != 0 {
		t.Errorf("the phone is searched through PhoneForms, got subject words %q", got)
	}
}

// T13: "helene" finds "Hélène", prefixes match, and every term must match.
func TestMatchSubject_T13(t *testing.T) {
	helene := store.Snapshot{FirstName: "Hélène", LastName: "Dubois-Martin", Email: "helene.dubois@example.fr", Phone: "+33612345678"}
	tests := []struct {
		q    string
		want bool
	}{
		{"helene", true},
		{"HÉLÈNE", true},
		{"hel", true},
		{"martin", true},
		{"dubois-martin", true},
		{"helene.dubois@example.fr", true},
		{"helene martin", true},
		{"helene durand", false},
		{"lene", false},
		{"06 12 34 56 78", true},
		{"+33612345678", true},
		{"+33 6 12", true},
		{"612345678", true},
		{"0612345679", false},
		{"", true},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if got := textindex.MatchSubject(helene, textindex.ParseQuery(tt.q)); got != tt.want {
				t.Errorf("MatchSubject(Hélène, %q) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

// T13: "06 12 34 56 78" and "+33612345678" find the same contact; NANP
// numbers are found by their ten digits.
func TestPhoneForms_T13(t *testing.T) {
	sameSet(t, []string{"33612345678", "612345678", "0612345678"}, textindex.PhoneForms("+33612345678"))
	sameSet(t, []string{"12015550123", "2015550123"}, textindex.PhoneForms("+12015550123"))
	sameSet(t, []string{"123"}, textindex.PhoneForms("abc123"))
	if got := textindex.PhoneForms(""); got != nil {
		t.Errorf("PhoneForms(\"\") = %q, want nil", got)
	}

	fr := store.Snapshot{Phone: "+33612345678"}
	for _, q := range []string{"06 12 34 56 78", "+33612345678", "33 6 12", "612345678", "06.12.34"} {
		if !textindex.MatchSubject(fr, textindex.ParseQuery(q)) {
			t.Errorf("%q does not find +33612345678", q)
		}
	}
}

// T13, T14: message terms match whole words, folded.
func TestMatchMessage_T14(t *testing.T) {
	text := "Bonjour Hélène, votre rendez-vous de demain 10h est confirmé !"
	tests := []struct {
		terms []string
		want  bool
	}{
		{nil, true},
		{[]string{"helene"}, true},
		{[]string{"confirme", "demain"}, true},
		{[]string{"rendez-vous"}, true},
		{[]string{"rendez"}, true},
		{[]string{"rende"}, false},
		{[]string{"10h", "annule"}, false},
		{[]string{"!"}, true},
	}
	for _, tt := range tests {
		if got := textindex.MatchMessage(text, tt.terms); got != tt.want {
			t.Errorf("MatchMessage(%q) = %v, want %v", tt.terms, got, tt.want)
		}
	}
	if diff := cmp.Diff([]string{"a", "b"}, textindex.MessageWords("A b a B")); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"rendez", "vous"}, textindex.MessageTerms([]string{"rendez-vous", "vous"})); diff != "" {
		t.Error(diff)
	}
}

func TestAppendMessageWords_reusesBuffer(t *testing.T) {
	buf := make([]string, 0, 16)
	allocs := testing.AllocsPerRun(100, func() {
		buf = textindex.AppendMessageWords(buf[:0], "bonjour a demain pour le cours de yoga")
	})
	if allocs != 0 || len(buf) != 8 {
		t.Errorf("allocs = %v, words = %q; want 0 allocations and 8 words", allocs, buf)
	}
}

func FuzzTokenisers(f *testing.F) {
	for _, s := range []string{"", "Hélène", "06 12 34 56 78", "+33612345678", "jean-pierre@x.fr", "ÆØ ß", "\xff\xfe", "+1 (201) 555-0123",
		"marie.martin12@gmail.com", "é\u0301x-y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := textindex.ParseQuery(s)
		if q.Phone != "" && (len(q.Terms) != 0 || q.Phone != fold.Digits(q.Phone) || len(q.Phone) < 3) {
			t.Fatalf("ParseQuery(%q) = %+v: a phone search is 3+ digits and no terms", s, q)
		}
		for _, term := range q.Terms {
			if term == "" || fold.String(term) != term || strings.ContainsAny(term, " \t\n") {
				t.Fatalf("ParseQuery(%q): term %q is not a folded chunk", s, term)
			}
		}
		words := textindex.MessageWords(s)
		for i, w := range words {
			if !utf8.ValidString(w) || slices.Contains(words[:i], w) {
				t.Fatalf("MessageWords(%q) = %q: invalid or repeated word %q", s, words, w)
			}
		}
		if !textindex.MatchMessage(s, words) {
			t.Fatalf("%q does not match its own words %q", s, words)
		}
		snap := store.Snapshot{FirstName: s, Phone: s}
		if len(q.Terms) > 0 && !textindex.MatchSubject(snap, q) {
			t.Fatalf("name %q does not match a query made of itself", s)
		}
		for _, form := range textindex.PhoneForms(s) {
			if form != fold.Digits(form) || !textindex.MatchSubject(snap, store.Search{Phone: form}) {
				t.Fatalf("phone %q: form %q is not digits or does not match", s, form)
			}
		}
		if !slices.Equal(words, textindex.AppendMessageWords(nil, s)) {
			t.Fatal("AppendMessageWords(nil) differs from MessageWords")
		}
		// T13: a term that is a word matches a subject exactly when it
		// prefixes one of the subject's words that are words.
		for _, w := range words {
			if !textindex.IsWord(w) {
				t.Fatalf("MessageWords(%q): %q is not a word", s, w)
			}
		}
		email := store.Snapshot{FirstName: s, Email: s + "@x.fr"}
		subj := textindex.SubjectWords(email)
		for _, term := range append(q.Terms, words...) {
			if !textindex.IsWord(term) {
				continue
			}
			onlyWords := slices.ContainsFunc(subj, func(w string) bool { return textindex.IsWord(w) && strings.HasPrefix(w, term) })
			if got := textindex.MatchSubject(email, store.Search{Terms: []string{term}}); got != onlyWords {
				t.Fatalf("term %q on %q: MatchSubject %v, prefix of a word %v", term, subj, got, onlyWords)
			}
		}
	})
}

func BenchmarkMessageWords(b *testing.B) {
	text := "Bonjour Hélène, votre cours de yoga de demain à 10h est confirmé. Pensez à apporter votre tapis !"
	buf := make([]string, 0, 32)
	b.ReportAllocs()
	for b.Loop() {
		buf = textindex.AppendMessageWords(buf[:0], text)
	}
}

func BenchmarkSubjectWords(b *testing.B) {
	s := store.Snapshot{FirstName: "Jean-Pierre", LastName: "Lefèvre", Email: "jp.lefevre@example.com"}
	b.ReportAllocs()
	for b.Loop() {
		textindex.SubjectWords(s)
	}
}

func BenchmarkPhoneForms(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		textindex.PhoneForms("+33612345678")
	}
}

func sameSet(t *testing.T, want, got []string) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// The E.164 fast path gives the same forms as the full parser.
func TestPhoneForms_fastPathMatchesParser(t *testing.T) {
	for _, p := range []string{"+33612345678", "+12015550123", "+390612345678", "+447911123456", "+4915123456789", "+85212345678", "+5511912345678", "+9999"} {
		slow := textindex.PhoneForms(p + " ") // not E.164 as given: full parser
		fast := textindex.PhoneForms(p)
		sameSet(t, slow, fast)
	}
}

// T13: a thread matches by its subject, or for terms by one of its
// messages holding every word; a phone query and punctuation-only terms
// never match by message.
func TestMatchThread_T13(t *testing.T) {
	snap := store.Snapshot{FirstName: "Hélène", LastName: "Dupont", Phone: "+33612345678"}
	texts := slices.Values([]string{"Bonjour, le parking est-il gratuit ?", "Merci 0612 fois"})
	for q, want := range map[string]bool{
		"helene":          true,  // subject
		"parking gratuit": true,  // one message holds both words
		"parking merci":   false, // two messages, not one
		"est-il":          true,  // the words of a punctuated term
		"06 12":           true,  // phone forms
		"0612 merci":      true,  // digits among terms: words of a message
		"0612 parking":    false, // neither the subject nor one message
		"martin":          false,
		"-":               false, // requires no message word
		"":                true,
	} {
		if got := textindex.MatchThread(snap, textindex.ParseQuery(q), texts); got != want {
			t.Errorf("MatchThread(%q) = %v, want %v", q, got, want)
		}
	}
}

// T13: IsWord accepts exactly the words the tokenisers produce.
func TestIsWord_T13(t *testing.T) {
	for s, want := range map[string]bool{"": false, "marie": true, "hélène": true, "e\u0301": true, "jean-pierre": false,
		"a@b": false, "42": true, "h\xc3": false, "a b": false, "ß": true} {
		if got := textindex.IsWord(s); got != want {
			t.Errorf("IsWord(%q) = %v, want %v", s, got, want)
		}
	}
}

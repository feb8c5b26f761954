package sms

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"
)

// TestNormalizeC6 checks the smart encoding of SPEC C6: look-alikes are
// replaced by GSM-7 characters and every replacement is reported.
func TestNormalizeC6(t *testing.T) {
	in := "“Hi” – it’s\u00a0done…\u200b"
	out, reps := Normalize(in)
	if want := `"Hi" - it's done...`; out != want {
		t.Errorf("Normalize(%q) = %q, want %q", in, out, want)
	}
	want := []Replacement{
		{0, '“', `"`}, {5, '”', `"`}, {9, '–', "-"}, {15, '’', "'"},
		{19, '\u00a0', " "}, {25, '…', "..."}, {28, '\u200b', ""},
	}
	if !slices.Equal(reps, want) {
		t.Errorf("replacements\n got %+v\nwant %+v", reps, want)
	}
	if m := Measure(in); m.Encoding != UCS2 || !m.SmartGSM7 {
		t.Errorf("Measure(input) = %+v, want UCS-2 with SmartGSM7", m)
	}
	if m := Measure(out); m.Encoding != GSM7 {
		t.Errorf("Measure(output) = %+v, want GSM-7", m)
	}
}

func TestNormalizeTableC6(t *testing.T) {
	tests := []struct{ in, out string }{
		{"„Guten Tag“ ‚ja‘", `"Guten Tag" 'ja'`},
		{"«\u202fBonjour\u202f»", `" Bonjour "`},
		{"‹ok› ″ ′ `x´", `'ok' " ' 'x'`},
		{"a—b―c‒d−e • f", "a-b-c-d-e - f"},
		{"wait\u2026 ‼", "wait... !!"},
		{"tab\there", "tab here"},
		{"line\u2028next\u2029para", "line\nnext\npara"},
		{"soft\u00adhyphen\ufeff", "softhyphen"},
		{"ＦＵＬＬ（ｗｉｄｔｈ）＄１０｀", "FULL(width)$10'"},
		{"１⁄２ ∗", "1/2 *"},
		{"ˆ˜", "^~"},
	}
	for _, tt := range tests {
		out, reps := Normalize(tt.in)
		if out != tt.out {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, out, tt.out)
		}
		if len(reps) == 0 {
			t.Errorf("Normalize(%q) reported no replacement", tt.in)
		}
		if m := Measure(out); m.Encoding != GSM7 {
			t.Errorf("Normalize(%q) = %q is %v, want GSM-7", tt.in, out, m.Encoding)
		}
	}
}

// TestNormalizeKeepsMeaningC6: characters that are GSM-7 already, letters
// outside GSM-7, emoji and invalid bytes are left alone.
func TestNormalizeKeepsMeaningC6(t *testing.T) {
	for _, in := range []string{"", "plain text", "Ça coûte 5€ {ok} [x]", "ça, œuvre, ½", "👍🏽 👨\u200d👩", "a\xffb\xe2\x82"} {
		out, reps := Normalize(in)
		if out != in || reps != nil {
			t.Errorf("Normalize(%q) = %q, %v; want the input unchanged and no replacements", in, out, reps)
		}
	}
	in := "“ok” 😀 \xff"
	out, reps := Normalize(in)
	if want := "\"ok\" 😀 \xff"; out != want || len(reps) != 2 {
		t.Errorf("Normalize(%q) = %q, %v; want %q and 2 replacements", in, out, reps, want)
	}
	if m := Measure(out); m.Encoding != UCS2 {
		t.Errorf("an emoji keeps the body UCS-2, got %v", m.Encoding)
	}
	if Measure(in).SmartGSM7 {
		t.Error("SmartGSM7 is true for a body with an emoji")
	}
}

// TestReplacementsAreGSM7 checks the whole replacement table: only
// characters outside GSM-7 are replaced, always by GSM-7 text, and the ASCII
// fast path of Normalize sees every ASCII entry.
func TestReplacementsAreGSM7(t *testing.T) {
	count := 0
	for r := rune(0); r <= utf8.MaxRune; r++ {
		to, ok := replacement(r)
		if !ok {
			if to != "" {
				t.Errorf("replacement(%U) = %q without ok", r, to)
			}
			continue
		}
		count++
		if septets(r) != 0 {
			t.Errorf("replacement(%U %q): the character is GSM-7 already", r, r)
		}
		if to != "" && Measure(to).Encoding != GSM7 {
			t.Errorf("replacement(%U) = %q is not GSM-7", r, to)
		}
		if r < utf8.RuneSelf && r != '\t' && r != '`' {
			t.Errorf("replacement(%U): ASCII entry missed by Normalize's fast path", r)
		}
	}
	if count < 100 {
		t.Errorf("replacement table has %d entries, want the full table", count)
	}
}

// TestSmartGSM7MatchesNormalizeC6: Measurement.SmartGSM7 is true exactly
// when a UCS-2 body becomes GSM-7 after Normalize.
func TestSmartGSM7MatchesNormalizeC6(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 38))
	for range 5000 {
		body := randomBody(rng)
		m := Measure(body)
		out, _ := Normalize(body)
		want := m.Encoding == UCS2 && Measure(out).Encoding == GSM7
		if m.SmartGSM7 != want {
			t.Fatalf("Measure(%q).SmartGSM7 = %v, want %v", body, m.SmartGSM7, want)
		}
	}
}

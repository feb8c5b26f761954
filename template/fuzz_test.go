package template

import (
	"context"
	"errors"
	"testing"
	"time"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"Hi {{ .Contact.FirstName }}, see you at {{ .Event.Name }}",
	"{{ .GiftCard.Value | default \"none\" }}",
	"{{ with .Booking }}{{ .CheckIn }}{{ else }}no booking{{ end }}",
	"{{ range until 1000000000 }}{{ end }}",
	"{{ range $i, $v := list 1 2 3 }}{{ $i }}={{ $v }} {{ end }}",
	"{{ $s := \"x\" }}{{ range until 40 }}{{ $s = cat $s $s }}{{ end }}",
	"{{ printf \"%*d\" 9999999 1 }}",
	"{{ .Contact.X",
	"{{ define \"a\" }}{{ template \"a\" }}{{ end }}",
	"<p>{{ .Contact.FirstName }}</p><a href=\"{{ .Account.Website }}\">x</a>",
	"{{ if and .Contact .Contact.FirstName }}{{ .Contact.FirstName | upper | repeat 3 }}{{ end }}",
	"{{ $.Contact.FirstName }}{{ break }}",
	"{{ range 5 }}{{ continue }}{{ end }}",
	"{{ toJson (dict \"a\" (list 1 2)) }}",
}

// FuzzParseCheck: parsing and checking any text never panics, and every problem has a
// position inside the text.
func FuzzParseCheck(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	cat := NewCatalog()
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := Parse(cat, Source{Subject: src, Text: src}, Options{})
		if err != nil {
			var ce *CheckError
			if errors.As(err, &ce) {
				checkPositions(t, src, ce)
			} else if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error of unexpected type: %v", err)
			}
			return
		}
		var ce *CheckError
		if err := tpl.Check(ScopeEvent); errors.As(err, &ce) {
			checkPositions(t, src, ce)
		}
	})
}

func checkPositions(t *testing.T, src string, ce *CheckError) {
	t.Helper()
	lines := 1
	for _, c := range src {
		if c == '\n' {
			lines++
		}
	}
	for _, p := range ce.Problems {
		if p.Line < 1 || p.Line > lines || p.Column < 1 || p.Column > utf8.RuneCountInString(src)+1 {
			t.Fatalf("problem out of the text: %+v in %q", p, src)
		}
	}
}

// FuzzRender: rendering any template never panics and respects the output limit and a
// bound on time.
func FuzzRender(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, "Ana {{ .Account }}")
	}
	cat := NewCatalog()
	const maxOut = 4096
	f.Fuzz(func(t *testing.T, src, name string) {
		tpl, err := Parse(cat, Source{Subject: src, Text: src, HTML: src}, Options{MaxOutput: maxOut, Timeout: 50 * time.Millisecond})
		if err != nil {
			return
		}
		data := Values{
			ScopeContact: map[string]any{"FirstName": name, "Tags": []string{name, name}},
			ScopeAccount: map[string]any{"Name": name},
			ScopeEvent:   struct{ Name string }{name},
		}
		start := time.Now()
		for _, format := range []Format{FormatText, FormatEmail, FormatAirbnb} {
			out, err := tpl.Render(context.Background(), format, data)
			if err != nil {
				var re *RenderError
				if !errors.As(err, &re) {
					t.Fatalf("Render error of unexpected type: %v", err)
				}
				continue
			}
			if len(out.Subject) > maxOut || len(out.HTML) > maxOut || len(out.Text) > maxOut {
				t.Fatalf("output beyond %d bytes: %d/%d/%d", maxOut, len(out.Subject), len(out.Text), len(out.HTML))
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("render took %v for %q", d, src)
		}
	})
}

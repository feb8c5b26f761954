package template

import (
	htmltemplate "html/template"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	texttemplate "text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
)

// The executor keeps text/template's semantics: every template of this corpus renders
// the same with Render as with text/template and Sprig (html/template for HTML bodies)
// given the same data.

type person struct {
	First, Last string
	Age         int
	Tags        []string
	Scores      map[string]int
	Friend      *person
	private     string
}

func (p person) Full() string              { return p.First + " " + p.Last }
func (p *person) Initials() string         { return p.First[:1] + p.Last[:1] }
func (p person) Greeting() (string, error) { return "hello " + p.First, nil }

var semanticsData = map[string]any{
	"Name":   "Hélène",
	"Empty":  "",
	"Zero":   0,
	"Num":    42,
	"Neg":    -7,
	"Big":    uint64(1 << 40),
	"Pi":     3.14159,
	"True":   true,
	"Nil":    nil,
	"Tags":   []string{"yoga", "barre", "pilates"},
	"Ints":   []int{5, 3, 9},
	"Mixed":  []any{"a", 1, 2.5, true, nil},
	"Map":    map[string]any{"b": 2, "a": 1, "c": map[string]any{"d": "deep"}},
	"IntMap": map[int]string{3: "three", 1: "one", 2: "two"},
	"Person": person{First: "Ana", Last: "Lopez", Age: 31, Tags: []string{"vip"}, Scores: map[string]int{"x": 1}, Friend: &person{First: "Bo", Last: "Li"}, private: "p"},
	"PPtr":   &person{First: "Cy", Last: "Ng", Age: 5},
	"Time":   time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC),
	"HTML":   htmltemplate.HTML("<b>trusted</b>"),
}

var semanticsCorpus = []string{
	`plain text`,
	`{{ .Name }} {{ .Num }} {{ .Neg }} {{ .Big }} {{ .Pi }} {{ .True }} {{ .Empty }}|`,
	`{{ .Tags }} {{ .Ints }} {{ .Mixed }} {{ .Map }} {{ .IntMap }}`,
	`{{ .Person }} {{ .PPtr }} {{ .Person.Friend }} {{ .Time }}`,
	`{{ .Person.First }} {{ .Person.Full }} {{ .PPtr.Initials }} {{ .Person.Greeting }} {{ .Person.Friend.First }}`,
	`{{ .Map.c.d }} {{ index .Map "b" }} {{ index .Tags 1 }} {{ index .IntMap 2 }}`,
	`{{ if .True }}yes{{ end }}{{ if .Empty }}no{{ else }}empty{{ end }}{{ if .Zero }}z{{ else if .Num }}n{{ end }}`,
	`{{ with .Map.c }}{{ .d }}{{ end }}{{ with .Empty }}x{{ else }}none{{ end }}{{ with .Tags }}{{ len . }}{{ end }}`,
	`{{ with $x := .Num }}{{ $x }}{{ end }}{{ if $y := .Name }}{{ $y }}{{ end }}`,
	`{{ range .Tags }}[{{ . }}]{{ end }}{{ range $i, $t := .Tags }}{{ $i }}={{ $t }};{{ end }}`,
	`{{ range $k, $v := .Map }}{{ $k }}:{{ $v }} {{ end }}{{ range $k, $v := .IntMap }}{{ $k }}{{ $v }}{{ end }}`,
	`{{ range .Nil }}x{{ else }}empty{{ end }}{{ range $i := 4 }}{{ $i }}{{ end }}{{ range 0 }}x{{ else }}zero{{ end }}`,
	`{{ range $i, $t := .Tags }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ if eq $i 2 }}{{ break }}{{ end }}{{ $t }}{{ end }}`,
	`{{ $x := 1 }}{{ range .Ints }}{{ $x = . }}{{ end }}{{ $x }}{{ if true }}{{ $x := 9 }}{{ $x }}{{ end }}{{ $x }}`,
	`{{ range .Ints }}{{ $.Name }}{{ . }}{{ end }}`,
	`{{ range $i, $e := .Mixed }}{{ printf "%d:%v " $i $e }}{{ end }}`,
	`{{ eq .Num 42 }} {{ eq .Name "x" "Hélène" }} {{ ne .Num 1 }} {{ lt .Neg .Num }} {{ le 2 2 }} {{ gt .Big 3 }} {{ ge .Pi 3.0 }} {{ lt "a" "b" }}`,
	`{{ and 1 0 2 }} {{ or 0 "" "x" }} {{ and .True .Name }} {{ or .Empty .Zero }} {{ not .Empty }}`,
	`{{ len .Tags }} {{ len .Map }} {{ len .Name }} {{ slice .Tags 1 }} {{ slice .Ints 0 2 }}`,
	`{{ print "a" 1 2 "b" }} {{ println .Tags .Num }} {{ printf "%05.1f|%-4s|%x|%q|%v|%T" .Pi "ab" 255 "q" .Map .Num }}`,
	`{{ html "<a&b>" }} {{ js "it's <x>" }} {{ urlquery "a b&c" }}`,
	`{{ .Name | upper }} {{ .Name | lower | title }} {{ "  x  " | trim }} {{ repeat 3 "ab" }} {{ .Tags | join "," }}`,
	`{{ default "d" .Empty }} {{ default "d" .Name }} {{ coalesce .Empty .Zero .Num }} {{ empty .Tags }} {{ ternary "y" "n" .True }}`,
	`{{ list 1 "a" 2.5 }} {{ dict "b" 1 "a" 2 }} {{ keys (dict "b" 1) }} {{ first .Tags }} {{ last .Ints }} {{ rest .Tags }} {{ initial .Tags }}`,
	`{{ sortAlpha .Tags }} {{ reverse .Tags }} {{ append .Tags "x" }} {{ prepend .Ints 0 }} {{ concat .Tags .Ints }} {{ compact .Mixed }}`,
	`{{ until 5 }} {{ untilStep 1 10 3 }} {{ seq 5 }} {{ seq 10 -3 1 }} {{ seq 2 6 }} {{ chunk 2 .Ints }}`,
	`{{ add 1 2 3 }} {{ sub 10 3 }} {{ mul 2 3 4 }} {{ div 9 2 }} {{ mod 9 4 }} {{ max 1 7 3 }} {{ min 4 2 }} {{ addf 1.5 2 }} {{ round 3.14159 2 }}`,
	`{{ atoi "12" }} {{ int64 "7" }} {{ float64 "2.5" }} {{ toString 12 }} {{ toStrings .Ints }} {{ toDecimal "777" }}`,
	`{{ quote "a" 1 }} {{ squote "b" }} {{ cat "a" 1 nil "b" }} {{ indent 2 "a\nb" }}|{{ nindent 2 "c" }}|{{ replace "a" "o" "banana" }}`,
	`{{ wrap 5 "the quick brown fox" }}|{{ wrapWith 3 "-" "abcdefgh" }}|{{ abbrev 6 "abcdefghij" }}|{{ trunc 3 "abcdef" }}|{{ substr 1 3 "abcdef" }}`,
	`{{ split "," "a,b,c" }} {{ splitList "," "a,b" }} {{ splitn "," 2 "a,b,c" }} {{ contains "an" "banana" }} {{ hasPrefix "ba" "banana" }}`,
	`{{ regexMatch "^a+$" "aaa" }} {{ regexFind "[0-9]+" "ab12cd34" }} {{ regexFindAll "[0-9]" "a1b2c3" -1 }} {{ regexReplaceAll "(a)(b)" "abab" "${2}x" }} {{ regexReplaceAllLiteral "a" "aba" "$0" }} {{ regexSplit "," "a,b,c" 2 }}`,
	`{{ toJson .Map }} {{ toRawJson (dict "h" "<b>") }} {{ toPrettyJson (list 1 2) }} {{ fromJson "{\"a\":[1,2]}" }} {{ (fromJson "[1,2]") | len }}`,
	`{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }} {{ b32enc "hi" }} {{ sha256sum "x" }} {{ adler32sum "x" }} {{ base "/a/b.txt" }} {{ ext "x.go" }}`,
	`{{ typeOf .Num }} {{ kindOf .Tags }} {{ typeIs "int" .Num }} {{ kindIs "map" .Map }} {{ deepEqual .Tags .Tags }} {{ has "yoga" .Tags }}`,
	`{{ get .Map "a" }} {{ hasKey .Map "b" }} {{ pick .Map "a" }} {{ omit .Map "c" }} {{ values (dict "k" "v") }} {{ pluck "a" .Map .Map }} {{ dig "c" "d" "none" .Map }}`,
	`{{ .Time | date "2006-01-02 15:04" }} {{ htmlDate .Time }} {{ unixEpoch .Time }} {{ dateModify "1h" .Time }} {{ duration "90" }}`,
	`{{ snakecase "HelloWorld" }} {{ camelcase "hello_world" }} {{ kebabcase "HelloWorld" }} {{ swapcase "Hello" }} {{ initials "Ana Lopez" }} {{ nospace "a b c" }} {{ plural "one" "many" 2 }}`,
	`{{ semverCompare ">=1.2" "1.3.0" }} {{ (semver "1.2.3").Major }} {{ urlParse "https://x.example/p?q=1" }} {{ urlJoin (dict "scheme" "https" "host" "y.example") }}`,
	`{{ $m := .Map }}{{ $m.c.d }} {{ $.Name }} {{ ($.Map).b }} {{ (index .Mixed 0) }}`,
	`{{ .Tags | len | printf "%d tags" }} {{ "x" | printf "%s-%s" "y" }} {{ 3 | add 4 | mul 2 }}`,
	`{{- " trimmed " -}} {{/* a comment */}} x`,
}

// rawFuncs are Sprig's functions for text/template, without the removed ones, and with
// a sortAlpha that sorts a copy: Sprig's sorts the data it is given (issue 13), which
// would change the data the comparisons share.
func rawFuncs() map[string]any {
	fm := sprig.TxtFuncMap()
	for _, name := range removedFuncs {
		delete(fm, name)
	}
	sortAlpha := fm["sortAlpha"].(func(any) []string)
	fm["sortAlpha"] = func(list any) []string {
		if l, ok := list.([]string); ok {
			list = slices.Clone(l)
		}
		return sortAlpha(list)
	}
	return fm
}

// TestSemanticsMatchTextTemplate: subjects and text bodies.
func TestSemanticsMatchTextTemplate(t *testing.T) {
	for _, src := range semanticsCorpus {
		raw, err := texttemplate.New("t").Option("missingkey=error").Funcs(rawFuncs()).Parse(src)
		if err != nil {
			t.Fatalf("text/template: %q: %v", src, err)
		}
		var want strings.Builder
		if err := raw.Execute(&want, semanticsData); err != nil {
			t.Fatalf("text/template: %q: %v", src, err)
		}
		got, err := renderWith(Source{Text: src})
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if got.Text != want.String() {
			t.Errorf("%q:\n got %q\nwant %q", src, got.Text, want.String())
		}
	}
}

// renderWith renders src with semanticsData: each of its keys is the root of a scope
// registered for the test, so the corpus reads `.Name` as text/template does.
func renderWith(src Source) (*Output, error) {
	cat := NewCatalog()
	values := Values{}
	for key, v := range semanticsData {
		scope := Scope("test:" + key)
		if err := cat.RegisterScope(ScopeInfo{Scope: scope, Root: key}); err != nil {
			return nil, err
		}
		values[scope] = v
	}
	tpl, err := Parse(cat, src, Options{Timeout: time.Hour})
	if err != nil {
		return nil, err
	}
	return tpl.Render(bg, FormatEmail, values)
}

var htmlCorpus = []string{
	`<p>{{ .Name }} &amp; {{ "<b>" }} {{ .HTML }} {{ .Num }}</p>`,
	`<a href="{{ .Map.c.d }}?q={{ .Name }}" title="{{ .Tags }}">{{ .Person.Full }}</a>`,
	`<a href="javascript:{{ .Name }}">x</a><a href="{{ "javascript:alert(1)" }}">y</a>`,
	`<script>var n = {{ .Num }}, s = {{ .Name }}, b = {{ .True }};</script>`,
	`<ul>{{ range $i, $t := .Tags }}<li class="{{ $t }}">{{ $i }}</li>{{ end }}</ul>`,
	`{{ if .True }}<b>{{ .Name | upper }}</b>{{ else }}<i>no</i>{{ end }}{{ with .Map }}<em>{{ .a }}</em>{{ end }}`,
	`<p style="color: {{ "red" }}">{{ printf "%05d" .Num }}</p><p>{{ .Name | html }}</p><a href="/x?y={{ .Name | urlquery }}">z</a>`,
	`<p>{{ html .Name "<x>" }}</p>{{ $x := .Num }}<p>{{ $x }}</p>`,
	`<textarea>{{ .Name }}</textarea><!-- comment {{ .Num }} --><p>{{ .Empty }}</p>`,
}

// TestSemanticsMatchHTMLTemplate: HTML bodies.
func TestSemanticsMatchHTMLTemplate(t *testing.T) {
	for _, src := range htmlCorpus {
		raw, err := htmltemplate.New("h").Option("missingkey=error").Funcs(rawFuncs()).Parse(src)
		if err != nil {
			t.Fatalf("html/template: %q: %v", src, err)
		}
		var want strings.Builder
		if err := raw.Execute(&want, semanticsData); err != nil {
			t.Fatalf("html/template: %q: %v", src, err)
		}
		got, err := renderWith(Source{HTML: src})
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if got.HTML != want.String() {
			t.Errorf("%q:\n got %q\nwant %q", src, got.HTML, want.String())
		}
	}
}

var docFuncListRE = regexp.MustCompile("(?s)# Functions\n(.*?)\n// #")

// The package documentation lists exactly the functions templates can call, and every
// Sprig function is either available or listed as removed.
func TestFunctionListDocumented(t *testing.T) {
	ft, _ := builtinFuncs()
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	m := docFuncListRE.FindSubmatch(src)
	if m == nil {
		t.Fatal("doc.go has no # Functions section")
	}
	section := string(m[1])
	available, _, _ := strings.Cut(section, "Not available")
	documented := map[string]bool{}
	for _, name := range regexp.MustCompile(`\b[a-z][A-Za-z0-9_]*\b`).FindAllString(available, -1) {
		if _, ok := ft[name]; ok {
			documented[name] = true
		}
	}
	for name := range ft {
		if !documented[name] {
			t.Errorf("%s is available but not in the package documentation's function list", name)
		}
	}
	for name := range sprig.TxtFuncMap() {
		if _, ok := ft[name]; !ok && !slices.Contains(removedFuncs[:], name) {
			t.Errorf("Sprig's %s is neither available nor removed", name)
		}
		if _, ok := ft[name]; ok && slices.Contains(removedFuncs[:], name) {
			t.Errorf("%s is removed and available", name)
		}
	}
	for _, name := range removedFuncs {
		if !strings.Contains(section, name) {
			t.Errorf("removed function %s is not listed in the package documentation", name)
		}
	}
	if _, ok := ft["call"]; ok {
		t.Error("call is available")
	}
	if len(ft) < 150 {
		t.Errorf("only %d functions: %v", len(ft), slices.Sorted(maps.Keys(ft)))
	}
}

// FuzzSemantics renders any template that the executor renders without an error with
// text/template and Sprig too (with missingkey=default, which gives the nil that default
// and if see here), on the same data and clock: the outputs must be the same, and
// text/template may fail only on a field lookup that this package tolerates.
func FuzzSemantics(f *testing.F) {
	for _, src := range semanticsCorpus {
		f.Add(src)
	}
	fixed := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return fixed }
	funcs := rawFuncs()
	funcs["now"] = clock
	funcs["date"] = func(layout string, d any) string {
		return timeOf(&renderState{now: clock}, d).In(time.Local).Format(layout)
	}
	funcs["htmlDate"] = func(d any) string { return timeOf(&renderState{now: clock}, d).In(time.Local).Format("2006-01-02") }
	cat := NewCatalog()
	values := Values{}
	for key, v := range semanticsData {
		scope := Scope("test:" + key)
		if err := cat.RegisterScope(ScopeInfo{Scope: scope, Root: key}); err != nil {
			f.Fatal(err)
		}
		values[scope] = v
	}
	tolerated := regexp.MustCompile(`can't evaluate field|nil pointer evaluating|is an unexported field|error calling [A-Z]`)
	// Functions whose results depend on map iteration order.
	unordered := regexp.MustCompile(`\b(keys|values|pluck)\b`)
	f.Fuzz(func(t *testing.T, src string) {
		if unordered.MatchString(src) {
			return
		}
		tpl, err := Parse(cat, Source{Text: src}, Options{Now: clock, MaxOutput: 4096, Timeout: time.Hour})
		if err != nil {
			return
		}
		out, err := tpl.Render(bg, FormatText, values)
		if err != nil {
			return
		}
		raw, err := texttemplate.New("t").Funcs(funcs).Parse(src)
		if err != nil {
			t.Fatalf("Parse accepted what text/template refuses: %v\n%q", err, src)
		}
		// A render's root holds the scopes the template names, and only those.
		data := map[string]any{}
		for _, r := range tpl.roots {
			data[r.root] = semanticsData[r.root]
		}
		var want strings.Builder
		if err := raw.Execute(&want, data); err != nil {
			// A field that cannot be read is missing, not an error, where a missing value
			// is tolerated (default, coalesce, empty, and, or, not, if, with).
			if tolerated.MatchString(err.Error()) {
				return
			}
			t.Fatalf("Render succeeded where text/template fails: %v\n%q\ngot %q", err, src, out.Text)
		}
		if out.Text != want.String() {
			t.Fatalf("%q:\n got %q\nwant %q", src, out.Text, want.String())
		}
	})
}

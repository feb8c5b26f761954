package template

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hostData is host data of every shape a function may receive: lists of strings, of
// mixed values and of numbers, a map, nested ones.
func hostData() map[string]any {
	return map[string]any{
		"Tags":   []string{"yoga", "pilates", "barre"},
		"Mixed":  []any{"b", 2, "a", nil, []string{"z", "y"}},
		"Ints":   []int{3, 1, 2},
		"Attrs":  map[string]any{"b": "2", "a": []any{"x", "w"}, "c": map[string]any{"k": "v"}},
		"Name":   "Zoé",
		"Nested": []any{[]any{"c", "b"}, map[string]any{"z": 1, "a": 2}},
	}
}

// SPEC C5, issue 13: host data is read-only to templates. Every function the sandbox
// exposes is called with every shape of host data as its arguments; afterwards the data
// is what it was.
func TestFunctionsDoNotMutateArgumentsC5(t *testing.T) {
	data := hostData()
	want := hostData()
	args := []string{".Account.Tags", ".Account.Mixed", ".Account.Ints", ".Account.Attrs", ".Account.Nested", ".Account.Name", "1", `"x"`}
	cat := NewCatalog()
	calls := 0
	for _, fn := range pipelineFuncs {
		for _, a := range args {
			for _, b := range args {
				for _, src := range []string{
					fmt.Sprintf("{{ $x := %s %s }}", fn, a),
					fmt.Sprintf("{{ $x := %s %s %s }}", fn, a, b),
					fmt.Sprintf("{{ $x := %s %s %s %s }}", fn, b, a, a),
				} {
					tpl, err := Parse(cat, Source{Text: src}, Options{})
					if err != nil {
						t.Fatalf("%s: %v", src, err)
					}
					_, _ = tpl.Render(bg, FormatText, Values{ScopeAccount: data})
					calls++
				}
			}
		}
	}
	if diff := cmp.Diff(want, data); diff != "" {
		t.Errorf("host data changed by %d calls (-want +got):\n%s", calls, diff)
	}
}

// Issue 13: sortAlpha sorted the host's list in place, changing shared Options.Account
// data and racing with concurrent renders (run with -race).
func TestSortAlphaCopiesSharedDataC5(t *testing.T) {
	shared := Values{ScopeAccount: map[string]any{"Tags": []string{"yoga", "barre", "pilates"}}}
	tpl := mustParse(t, Source{Text: `{{ sortAlpha .Account.Tags }} {{ .Account.Tags }}`})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			out, err := tpl.Render(bg, FormatText, shared)
			if err != nil || out.Text != "[barre pilates yoga] [yoga barre pilates]" {
				t.Errorf("out = %+v, %v", out, err)
			}
		})
	}
	wg.Wait()
	if got := shared[ScopeAccount].(map[string]any)["Tags"]; !slices.Equal(got.([]string), []string{"yoga", "barre", "pilates"}) {
		t.Errorf("shared list changed: %v", got)
	}
}

// hostObject has methods with and without arguments.
type hostObject struct{ calls *int }

func (o hostObject) Name() string                 { return "obj" }
func (o hostObject) Exec(cmd string) string       { *o.calls++; return "ran " + cmd }
func (o hostObject) Run(args ...string) string    { *o.calls++; return "ran" }
func (o hostObject) Pair() (string, string)       { *o.calls++; return "a", "b" }
func (o hostObject) Checked() (string, error)     { return "", errors.New("host says no") }
func (o hostObject) Nothing()                     { *o.calls++ }
func (o *hostObject) Pointer() (string, error)    { return "pointer", nil }
func (o hostObject) Panics() string               { panic("boom") }
func (o hostObject) Stringish(n int) fmt.Stringer { *o.calls++; return nil }

// Issue 13: only methods without arguments are reachable. A call with arguments is
// refused when the template is parsed, in every form; a method that takes arguments is
// refused at render when a template names it without any.
func TestMethodCallsC5(t *testing.T) {
	calls := 0
	obj := hostObject{calls: &calls}
	data := Values{ScopeContact: map[string]any{"Obj": obj, "Ptr": &obj}}
	for _, src := range []Source{
		{Text: `{{ .Contact.Obj.Exec "rm -rf /" }}`},
		{Text: `{{ "rm -rf /" | .Contact.Obj.Exec }}`},
		{Text: `{{ $o := .Contact.Obj }}{{ $o.Exec "rm -rf /" }}`},
		{Text: `{{ (.Contact.Obj).Exec "rm -rf /" }}`},
		{Text: `{{ with .Contact.Obj }}{{ .Exec "x" }}{{ end }}`},
		{Text: `{{ upper (.Contact.Obj.Exec "x") }}`},
		{Subject: `{{ .Contact.Obj.Run "x" }}`, Text: "x"},
		{HTML: `<p>{{ .Contact.Obj.Exec "rm -rf /" }}</p>`},
		{HTML: `<a href="{{ "x" | .Contact.Obj.Exec }}">x</a>`},
	} {
		_, err := Parse(NewCatalog(), src, Options{})
		if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "method calls with arguments are not available") {
			t.Errorf("%+v: err = %v, want a syntax error", src, err)
		}
	}
	for _, tt := range []struct {
		text, want string
		err        error
	}{
		{`{{ .Contact.Obj.Name }}`, "obj", nil},
		{`{{ .Contact.Ptr.Pointer }}`, "pointer", nil},
		{`{{ .Contact.Obj.Exec }}`, "", ErrRender},
		{`{{ .Contact.Obj.Run }}`, "", ErrRender},
		{`{{ with .Contact.Obj }}{{ .Run }}{{ end }}`, "", ErrRender},
		{`{{ .Contact.Obj.Pair }}`, "", ErrRender},
		{`{{ .Contact.Obj.Nothing }}`, "", ErrRender},
		{`{{ .Contact.Obj.Stringish }}`, "", ErrRender},
		{`{{ .Contact.Obj.Checked }}`, "", ErrRender},
		{`{{ .Contact.Obj.Panics }}`, "", ErrRender},
		{`{{ .Contact.Obj.Run | default "refused" }}`, "refused", nil},
		{`{{ if .Contact.Obj.Exec }}yes{{ else }}no{{ end }}`, "no", nil},
	} {
		for _, src := range []Source{{Text: tt.text}, {HTML: tt.text}} {
			out, err := mustParse(t, src).Render(bg, FormatEmail, data)
			switch {
			case tt.err != nil && !errors.Is(err, tt.err):
				t.Errorf("%+v: err = %v, want %v", src, err, tt.err)
			case tt.err == nil && (err != nil || out.Text != tt.want):
				t.Errorf("%+v: %+v, %v, want %q", src, out, err, tt.want)
			}
		}
	}
	if calls != 0 {
		t.Errorf("methods with arguments or without a single result ran %d times", calls)
	}
}

// Issue 13: printing or walking host data that refers to itself is an error, never a
// crash; data nested deeper than MaxDataDepth too; data that shares a value without a
// cycle prints.
func TestCyclesAndDepthC5(t *testing.T) {
	self := map[string]any{"Name": "x"}
	self["Self"] = self
	loop := []any{"x", nil}
	loop[1] = loop
	deep := map[string]any{}
	for m, i := deep, 0; i < MaxDataDepth+5; i++ {
		next := map[string]any{}
		m["In"] = next
		m = next
	}
	shared := []string{"s"}
	dag := map[string]any{"a": shared, "b": shared, "c": []any{shared, shared}}
	prefix := make([]any, 2) // holds a shorter slice of itself: not a cycle
	prefix[0], prefix[1] = "p", prefix[:1]
	type node struct {
		Name string
		Next *node
	}
	ring := &node{Name: "ring"}
	ring.Next = ring
	data := Values{ScopeContact: map[string]any{"Self": self, "Loop": loop, "Deep": deep, "DAG": dag, "Ring": ring, "Prefix": prefix}}
	for _, tt := range []struct {
		text  string
		fn    string
		limit Limit
	}{
		{`{{ .Contact.Self }}`, "print", LimitCycle},
		{`{{ .Contact.Loop }}`, "print", LimitCycle},
		{`{{ .Contact.Deep }}`, "print", LimitDepth},
		{`{{ printf "%+v" .Contact.Deep }}`, "printf", LimitDepth},
		{`{{ toJson .Contact.Self }}`, "toJson", LimitCycle},
		{`{{ toJson .Contact.Ring }}`, "toJson", LimitCycle},
		{`{{ toPrettyJson .Contact.Deep }}`, "toPrettyJson", LimitDepth},
		{`{{ deepEqual .Contact.Self .Contact.Self }}`, "deepEqual", LimitCycle},
		{`{{ has 1 .Contact.Loop }}`, "has", LimitCycle},
		{`{{ toString .Contact.Loop }}`, "toString", LimitCycle},
		{`{{ quote .Contact.Self }}`, "quote", LimitCycle},
		{`{{ squote .Contact.Self }}`, "squote", LimitCycle},
		{`{{ dict .Contact.Self 1 }}`, "dict", LimitCycle},
		{`{{ add .Contact.Self 1 }}`, "add", LimitCycle},
		{`{{ js .Contact.Loop }}`, "js", LimitCycle},
		{`{{ toDecimal .Contact.Self }}`, "toDecimal", LimitCycle},
	} {
		for _, src := range []Source{{Text: tt.text}, {HTML: "<p>" + tt.text + "</p>"}} {
			_, err := mustParse(t, src).Render(bg, FormatEmail, data)
			var le *LimitError
			if !errors.As(err, &le) || le.Func != tt.fn || le.Limit != tt.limit || !errors.Is(err, ErrLimit) {
				t.Errorf("%+v: err = %v, want %s refused with %s", src, err, tt.fn, tt.limit)
			}
		}
	}
	out, err := mustParse(t, Source{Text: `{{ .Contact.DAG }} {{ toJson .Contact.DAG }} {{ .Contact.Ring.Name }} {{ .Contact.Prefix }}`}).Render(bg, FormatText, data)
	if want := `map[a:[s] b:[s] c:[[s] [s]]] {"a":["s"],"b":["s"],"c":[["s"],["s"]]} ring [p [p]]`; err != nil || out.Text != want {
		t.Errorf("shared values: %+v, %v, want %q", out, err, want)
	}
}

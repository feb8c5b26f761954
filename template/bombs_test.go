package template

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A bomb is a template that would exhaust the host's memory, time or stack without the
// sandbox's limits (SPEC C5: templates cannot exhaust memory or CPU). Each must fail with
// a typed error naming what stopped it. bombs lists the ones the package guarded before
// the allocation budget and the ones found since (issue 13).
type bomb struct {
	name  string
	src   Source
	want  error  // the sentinel the error wraps
	fn    string // the function or construct a *LimitError names ("" when none)
	limit Limit  // the limit it reports
}

func text(name, src string, want error, fn string, limit Limit) bomb {
	return bomb{name: name, src: Source{Text: src}, want: want, fn: fn, limit: limit}
}

var bombs = []bomb{
	// Guarded before the budget: loops, lists, sizes.
	text("until", `{{ range until 1000000000 }}{{ end }}`, ErrLimit, "until", LimitList),
	text("untilStep", `{{ range untilStep 0 1000000000000 1 }}{{ end }}`, ErrLimit, "untilStep", LimitList),
	text("seq", `{{ seq 1 1000000000 }}`, ErrLimit, "seq", LimitList),
	text("range int", `{{ range 1000000000 }}{{ end }}`, ErrLimit, "range", LimitIterations),
	text("nested loops", `{{ range until 1000 }}{{ range until 1000 }}{{ end }}{{ end }}`, ErrLimit, "range", LimitIterations),
	text("repeat", `{{ "ab" | repeat 1000000000 }}`, ErrLimit, "repeat", LimitAlloc),
	text("printf width", `{{ printf "%999999999d" 1 }}`, ErrLimit, "printf", LimitAlloc),
	text("printf star", `{{ printf "%*d" 999999999 1 }}`, ErrLimit, "", ""),
	text("indent", `{{ indent 1000000000 "a" }}`, ErrLimit, "indent", LimitAlloc),
	text("replace empty", `{{ $s := repeat 60000 "a" }}{{ $x := replace "" "xxxxxxxxxxxxxxxxxxxx" $s }}`, ErrLimit, "replace", LimitAlloc),
	text("regex empty match", `{{ $s := repeat 60000 "a" }}{{ $x := regexReplaceAll "" $s "xxxxxxxxxxxxxxxxxxxx" }}`, ErrLimit, "regexReplaceAll", LimitAlloc),
	text("string doubling", `{{ $s := "x" }}{{ range until 40 }}{{ $s = cat $s $s }}{{ end }}`, ErrLimit, "cat", LimitAlloc),
	text("list doubling", `{{ $l := list 1 }}{{ range until 40 }}{{ $l = concat $l $l }}{{ end }}`, ErrLimit, "concat", LimitAlloc),
	text("output", `{{ range until 1000 }}{{ repeat 100 "x" }}{{ end }}`, ErrOutputTooLarge, "", ""),
	text("join separator", `{{ $x := join (repeat 60000 "s") (until 100) }}`, ErrLimit, "join", LimitAlloc),
	text("wrapWith", `{{ $x := wrapWith 1 (repeat 5000 "x") (repeat 60000 "y") }}`, ErrLimit, "wrapWith", LimitAlloc),
	text("b64enc growth", `{{ $s := repeat 60000 "x" }}{{ range until 30 }}{{ $s = b64enc $s }}{{ end }}`, ErrLimit, "b64enc", LimitAlloc),
	text("html escaping", `{{ $s := repeat 60000 "\"" }}{{ $x := html $s $s $s }}`, ErrLimit, "html", LimitAlloc),

	// Found by probes (issue 13): single calls that overshot every limit.
	text("printf total width", `{{ range until 1000 }}{{ $x := printf "%60000d" 1 }}{{ end }}`, ErrLimit, "printf", LimitAlloc),
	text("printf kept in a list", `{{ $l := list }}{{ range until 100 }}{{ range until 70 }}{{ $l = append $l (printf "%60000d" 1) }}{{ end }}{{ end }}`, ErrLimit, "printf", LimitAlloc),
	text("printf width per item", `{{ $x := printf "%60000v" (until 1000) }}`, ErrLimit, "printf", LimitAlloc),
	text("printf repeated operand", `{{ $s := repeat 60000 "x" }}{{ $x := printf (repeat 20 "%[1]s") $s }}`, ErrLimit, "printf", LimitAlloc),
	text("regexReplaceAll expansion", `{{ $s := repeat 60000 "a" }}{{ $r := repeat 5000 "$0" }}{{ $x := regexReplaceAll "a+" $s $r }}`, ErrLimit, "regexReplaceAll", LimitAlloc),
	// (?:a{700}|a{701}|…|a{1000}) eight times: two million instructions from 22 KB.
	text("regex program size", `{{ $g := print "(?:a{" (replace " " "}|a{" (seq 700 1000)) "})" }}{{ regexMatch (repeat 8 $g) "x" }}`,
		ErrLimit, "regexMatch", LimitAlloc),
	text("nested lists printed", nestedChunks+`{{ $x := toString $d }}`, ErrLimit, "toString", LimitAlloc),
	text("nested lists printed by an action", nestedChunks+`{{ $d }}`, ErrLimit, "print", LimitAlloc),
	text("nested lists in JSON", nestedChunks+`{{ $x := toJson $d }}`, ErrLimit, "toJson", LimitAlloc),
	text("nested lists joined", nestedChunks+`{{ $x := join "," $d }}`, ErrLimit, "join", LimitAlloc),
	text("deep JSON indented", `{{ toPrettyJson (fromJson (cat (repeat 5000 "[") (repeat 5000 "]"))) }}`, ErrLimit, "toPrettyJson", LimitDepth),
	text("fromJson expansion", `{{ $j := fromJson (print "[" (repeat 20000 "[],") "[]]") }}`, ErrLimit, "fromJson", LimitAlloc),
	text("split into a map", `{{ $m := split "" (repeat 60000 "x") }}`, ErrLimit, "split", LimitList),

	// CPU: one call whose work grows faster than its input (a non-ASCII cutset is
	// searched for each rune trimmed: 3.6 billion steps).
	text("trimAll cutset", `{{ $x := trimAll (repeat 30000 "é") (print "a" (repeat 30000 "é")) }}`, ErrLimit, "trimAll", LimitWork),
	text("regex work", `{{ regexMatch "(?:a|aa|aaa|b)*c(?:a|b){200}" (repeat 60000 "a") }}`, ErrLimit, "regexMatch", LimitWork),

	// Host data that refers to itself (a fatal stack overflow when printed).
	text("cyclic map printed", `{{ .Contact.Self }}`, ErrLimit, "print", LimitCycle),
	text("cyclic list printed", `{{ .Contact.Loop }}`, ErrLimit, "print", LimitCycle),
	text("cyclic map in printf", `{{ printf "%v" .Contact.Self }}`, ErrLimit, "printf", LimitCycle),
	text("cyclic map in toJson", `{{ toJson .Contact.Self }}`, ErrLimit, "toJson", LimitCycle),
	text("cyclic map joined", `{{ join "," (list .Contact.Self) }}`, ErrLimit, "join", LimitCycle),
	text("cyclic list in cat", `{{ cat .Contact.Loop }}`, ErrLimit, "cat", LimitCycle),
	{name: "cyclic map in HTML", src: Source{HTML: `<p>{{ .Contact.Self }}</p>`}, want: ErrLimit, fn: "print", limit: LimitCycle},
	{name: "cyclic map in an HTML attribute", src: Source{HTML: `<a title="{{ printf "%v" .Contact.Self }}">x</a>`}, want: ErrLimit, fn: "printf", limit: LimitCycle},

	// Large host data.
	text("range over a large host map", `{{ range .Contact.Big }}{{ end }}`, ErrLimit, "range", LimitIterations),
	text("printf of a large host list", `{{ printf "%60000v" .Contact.Ints }}`, ErrLimit, "printf", LimitAlloc),
}

// nestedChunks builds 20×20×20 references to one 60,000-byte string in four levels of
// chunk (which the old size checks counted as 8 bytes each): 480 MB once printed.
const nestedChunks = `{{ $s := repeat 60000 "x" }}{{ $a := chunk 1 (list $s) }}` +
	`{{ $b := chunk 1 (list $a $a $a $a $a $a $a $a $a $a $a $a $a $a $a $a $a $a $a $a) }}` +
	`{{ $c := chunk 1 (list $b $b $b $b $b $b $b $b $b $b $b $b $b $b $b $b $b $b $b $b) }}` +
	`{{ $d := chunk 1 (list $c $c $c $c $c $c $c $c $c $c $c $c $c $c $c $c $c $c $c $c) }}`

// bombData is the host data the bombs read: maps and lists that contain themselves, a
// large map and a large list.
func bombData() Values {
	self := map[string]any{"Name": "loop"}
	self["Self"] = self
	loop := make([]any, 2)
	loop[0], loop[1] = "x", loop
	big := make(map[string]int, 20000)
	for i := range 20000 {
		big[fmt.Sprint(i)] = i
	}
	ints := make([]int, 1000)
	return Values{ScopeContact: map[string]any{"Self": self, "Loop": loop, "Big": big, "Ints": ints, "Name": "Ana"}}
}

// checkBomb asserts the typed error of a bomb's render: a *RenderError wrapping the
// sentinel, and the *LimitError naming the function and the limit.
func checkBomb(b bomb, err error) error {
	var re *RenderError
	if !errors.As(err, &re) || !errors.Is(err, b.want) {
		return fmt.Errorf("err = %v, want a *RenderError wrapping %v", err, b.want)
	}
	if b.fn == "" {
		return nil
	}
	var le *LimitError
	if !errors.As(err, &le) || le.Func != b.fn || le.Limit != b.limit {
		return fmt.Errorf("err = %v (%#v), want a *LimitError for %s, %s", err, le, b.fn, b.limit)
	}
	if le.Limit == LimitAlloc && le.Want <= le.Left {
		return fmt.Errorf("refused %d bytes with %d left: %v", le.Want, le.Left, err)
	}
	return nil
}

// SPEC C5: every bomb fails with its typed error, in process. A long time budget, so
// that only the limit under test can stop a render (the race detector slows loops).
// TestBombsUnderMemoryCap runs the same bombs in a child process with a memory cap.
func TestSafetyLimitsC5(t *testing.T) {
	for _, b := range bombs {
		t.Run(b.name, func(t *testing.T) {
			tpl, err := Parse(NewCatalog(), b.src, Options{Timeout: 1 << 40})
			if err != nil {
				t.Fatal(err)
			}
			_, err = tpl.Render(bg, FormatEmail, bombData())
			if err := checkBomb(b, err); err != nil {
				t.Error(err)
			}
		})
	}
}

// The budget counts every call of a render, not one call: a function allowed alone is
// refused when earlier calls used the budget (printf total width, issue 13).
func TestAllocBudgetIsPerRenderC5(t *testing.T) {
	one := `{{ $x := printf "%60000d" 1 }}`
	tpl, err := Parse(NewCatalog(), Source{Text: one + "ok"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := tpl.Render(bg, FormatText, nil)
	if err != nil || out.Text != "ok" {
		t.Fatalf("one printf: %v, %v", out, err)
	}
	if out.Alloc < 60000 || out.Alloc > DefaultMaxAlloc {
		t.Errorf("one printf charged %d bytes, want at least its width and at most the budget", out.Alloc)
	}
	perCall := out.Alloc
	calls := DefaultMaxAlloc/perCall + 1
	tpl, _ = Parse(NewCatalog(), Source{Text: strings.Repeat(one, calls)}, Options{})
	_, err = tpl.Render(bg, FormatText, nil)
	var le *LimitError
	if !errors.As(err, &le) || le.Func != "printf" || le.Limit != LimitAlloc {
		t.Fatalf("%d printfs: err = %v, want the budget to refuse one", calls, err)
	}
	// The refused call was charged nothing: what was used is a whole number of calls.
	if used := int64(DefaultMaxAlloc) - le.Left; used%int64(perCall) != 0 {
		t.Errorf("used %d bytes, not a multiple of %d", used, perCall)
	}
	// A larger budget lets the same template through.
	tpl, _ = Parse(NewCatalog(), Source{Text: strings.Repeat(one, calls)}, Options{MaxAlloc: calls * perCall})
	if out, err := tpl.Render(bg, FormatText, nil); err != nil || out.Alloc != calls*perCall {
		t.Errorf("MaxAlloc %d: %v, %v", calls*perCall, out, err)
	}
	if _, err := Parse(NewCatalog(), Source{Text: "x"}, Options{MaxAlloc: -1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative MaxAlloc: %v", err)
	}
}

package template

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
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

// FuzzRender: rendering any template never panics, returns only typed errors, and stays
// within the output limit and the allocation and iteration budgets (issue 12: no
// wall-clock assertion; the counters are asserted instead).
func FuzzRender(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, "Ana {{ .Account }}")
	}
	cat := NewCatalog()
	const maxOut = 4096
	f.Fuzz(func(t *testing.T, src, name string) {
		capFuzzWorker(t)
		opts := Options{MaxOutput: maxOut, Timeout: 50 * time.Millisecond}
		tpl, err := Parse(cat, Source{Subject: src, Text: src, HTML: src}, opts)
		if err != nil {
			return
		}
		self := map[string]any{"Name": name}
		self["Self"] = self
		data := Values{
			ScopeContact: map[string]any{"FirstName": name, "Tags": []string{name, name}, "Self": self},
			ScopeAccount: map[string]any{"Name": name},
			ScopeEvent:   struct{ Name string }{name},
		}
		for _, format := range []Format{FormatText, FormatEmail, FormatAirbnb} {
			before := heapAllocated()
			out, err := tpl.Render(context.Background(), format, data)
			if used := heapAllocated() - before; used > renderAllocBound {
				t.Fatalf("render allocated %d bytes, more than %d, for %q", used, renderAllocBound, src)
			}
			if err != nil {
				var re *RenderError
				if !errors.As(err, &re) || !isOwnError(err) {
					t.Fatalf("Render error of unexpected type: %v", err)
				}
				continue
			}
			if len(out.Subject) > maxOut || len(out.HTML) > maxOut || len(out.Text) > maxOut {
				t.Fatalf("output beyond %d bytes: %d/%d/%d", maxOut, len(out.Subject), len(out.Text), len(out.HTML))
			}
			if out.Alloc > DefaultMaxAlloc || out.Iterations > DefaultMaxIterations {
				t.Fatalf("budgets overrun: %d bytes, %d iterations", out.Alloc, out.Iterations)
			}
		}
	})
}

// FuzzPipelines composes random pipelines of the functions templates can call, on
// arguments chosen to hurt (a 60,000-byte string, lists and maps that contain
// themselves, widths, repetition counts, regular expressions, earlier results), some in
// loops, and renders them under the same checks as the bombs: a typed error or a
// result, the budgets respected, and no render allocating more than renderAllocBound
// (measured with runtime.ReadMemStats). Its seeds also run in the memory-capped child of
// TestBombsUnderMemoryCapC5. When fuzzing on Linux, the worker process is capped too,
// with room for the fuzzing engine's own buffers (it allocates 100 MB per mutation).
func FuzzPipelines(f *testing.F) {
	for _, seed := range pipelineSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, program []byte) {
		capFuzzWorker(t)
		if _, err := renderPipeline(pipelineSource(program)); err != nil {
			t.Fatal(err)
		}
	})
}

var capOnce sync.Once

// sharedBombData is bombData built once: renders never change it (see
// TestFunctionsDoNotMutateArgumentsC5).
var sharedBombData = sync.OnceValue(bombData)

// capFuzzWorker caps the address space of a fuzzing worker (not of a plain test run,
// whose other tests and child processes need their room) at fuzzWorkerCap beyond its
// start, and sets a soft memory limit below it for the garbage collector.
func capFuzzWorker(t *testing.T) {
	if fl := flag.Lookup("test.fuzz"); fl == nil || fl.Value.String() == "" || raceEnabled {
		return
	}
	capOnce.Do(func() {
		debug.SetMemoryLimit(fuzzWorkerCap / 2)
		if err := capAddressSpace(fuzzWorkerCap); err != nil {
			t.Logf("no address-space cap: %v", err)
		}
	})
}

// fuzzWorkerCap is the address space a fuzzing worker may map beyond its start: the
// renders need a few MiB, the fuzzing engine several hundred.
const fuzzWorkerCap = 1 << 30

// pipelineFuncs are the functions the pipeline fuzzer calls: all of them.
var pipelineFuncs = func() []string {
	ft, _ := builtinFuncs()
	names := make([]string, 0, len(ft))
	for name := range ft {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}()

// pipelineAtoms are the arguments the pipeline fuzzer chooses from, besides the results
// of earlier steps.
var pipelineAtoms = []string{
	"$s", "$t", "$n", "$l", "$m", ".Contact.Self", ".Contact.Loop", ".Contact.Tags", ".Contact.Ints",
	".Contact.Name", ".Contact.Big", ".", "0", "1", "-1", "3", "60000", "1000000000", `"x"`, `"$0$0$0$0$0$0$0$0"`,
	`"%60000d"`, `"%v%v%v"`, `"(a{100}){10}"`, `"a*"`, `""`, `","`, `"[[[[[[]]]]]]"`, "nil", "true", "2.5",
}

// pipelineSource turns fuzz bytes into a template: per step three bytes choose a
// function, how many arguments (some of them calls themselves) and whether the step runs
// in a loop; each step stores its result in a variable later steps may use; the last
// result is printed.
func pipelineSource(program []byte) string {
	const maxSteps = 12
	var b strings.Builder
	b.WriteString(pipelinePrelude)
	steps := min(len(program)/3, maxSteps)
	for i := range steps {
		fmt.Fprintf(&b, "{{ $v%d := 0 }}", i)
	}
	next := 0
	pick := func() byte {
		if len(program) == 0 {
			return 0
		}
		c := program[next%len(program)]
		next++
		return c
	}
	arg := func(step int) string {
		c := int(pick())
		if step > 0 && c%5 == 0 {
			return fmt.Sprintf("$v%d", c%step)
		}
		if c%7 == 0 {
			return fmt.Sprintf("(%s %s)", pipelineFuncs[int(pick())*7%len(pipelineFuncs)], pipelineAtoms[int(pick())%len(pipelineAtoms)])
		}
		return pipelineAtoms[c%len(pipelineAtoms)]
	}
	for i := range steps {
		fn := pipelineFuncs[(int(program[3*i])<<8|int(program[3*i+1]))%len(pipelineFuncs)]
		shape := program[3*i+2]
		args := make([]string, int(shape%4))
		for j := range args {
			args[j] = arg(i)
		}
		call := strings.TrimSpace(fn + " " + strings.Join(args, " "))
		if shape&0x80 != 0 {
			fmt.Fprintf(&b, "{{ range until %d }}{{ $v%d = %s }}{{ end }}", 1+int(shape>>4&7)*40, i, call)
		} else {
			fmt.Fprintf(&b, "{{ $v%d = %s }}", i, call)
		}
	}
	if steps > 0 {
		fmt.Fprintf(&b, "{{ $v%d }}", steps-1)
	}
	return b.String()
}

// pipelinePrelude declares the variables the pipeline fuzzer's steps use.
const pipelinePrelude = `{{ $s := repeat 30000 "ab" }}{{ $t := "a,b,c" }}{{ $n := 7 }}{{ $l := list $s $t $n }}{{ $m := dict "k" $s "l" $l }}`

// fuzzFindings are templates FuzzPipelines found: calls whose cost was underestimated
// or that walked host data without the guards. Each runs under the same checks.
var fuzzFindings = []string{
	// spf13/cast prints a value it cannot convert into its error: a list that contains
	// itself overflowed the stack.
	`{{ $x := ceil .Contact.Loop }}`,
	`{{ $x := add .Contact.Self 1 }}`,
	// strconv copies, and cast quotes, a string that is not a number into their errors.
	pipelinePrelude + `{{ range until 241 }}{{ $x := add $s }}{{ end }}`,
	pipelinePrelude + `{{ range until 41 }}{{ $x := duration $s }}{{ end }}`,
	// typeIsLike concatenates "*" and its first argument.
	pipelinePrelude + `{{ range until 201 }}{{ $x := typeIsLike $s "a*" }}{{ end }}`,
}

// Regression tests for what FuzzPipelines found (issue 13).
func TestFuzzFindingsC5(t *testing.T) {
	for _, src := range fuzzFindings {
		if _, err := renderPipeline(src); err != nil {
			t.Error(err)
		}
	}
}

// pipelineSeeds are programs the fuzzer starts from (see pipelineSource).
var pipelineSeeds = [][]byte{
	{},
	[]byte("printf"),
	{0, 1, 0x83, 0, 40, 3, 0, 90, 2},
	{0, 153, 0x83, 0, 160, 3, 0, 20, 2, 0, 7, 0x81},
	[]byte("regexReplaceAll some text $0$0"),
	[]byte("\x00\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0\xd0\xe0\xf0"),
	[]byte("chunk chunk chunk toString toJson join"),
	[]byte("the quick brown fox jumps over the lazy dog 0123456789"),
}

// renderPipeline renders src as the text and the HTML body of a template and checks
// the outcome; it returns the bytes the render allocated.
func renderPipeline(src string) (uint64, error) {
	tpl, err := Parse(NewCatalog(), Source{Text: src, HTML: "<p>" + src + "</p>"}, Options{})
	if err != nil {
		return 0, fmt.Errorf("generated template does not parse: %v\n%s", err, src)
	}
	data := sharedBombData()
	before := heapAllocated()
	out, err := tpl.Render(context.Background(), FormatEmail, data)
	used := heapAllocated() - before
	if used > renderAllocBound {
		return used, fmt.Errorf("render allocated %d bytes, more than %d\n%s", used, renderAllocBound, src)
	}
	if err != nil {
		var re *RenderError
		if !errors.As(err, &re) || !isOwnError(err) {
			return used, fmt.Errorf("Render error of unexpected type: %v\n%s", err, src)
		}
		return used, nil
	}
	if out.Alloc > DefaultMaxAlloc || out.Iterations > DefaultMaxIterations {
		return used, fmt.Errorf("budgets overrun: %d bytes, %d iterations\n%s", out.Alloc, out.Iterations, src)
	}
	return used, nil
}

package template

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// Issue 13: each call is charged, before it runs, at least what it allocates. Every
// function is called on arguments that make its allocations grow (a 20 KB string with
// characters that escape, a long list, a dict, numbers, patterns); whenever the render
// succeeds, the bytes it allocated stay within what it was charged, plus the render's
// fixed cost and a few hundred bytes per call for boxing results.
func TestChargesCoverAllocationsC5(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates for its own bookkeeping")
	}
	if testing.Short() {
		t.Skip("renders every function on every argument: 20–40 s")
	}
	prelude := `{{ $s := repeat 2000 "aé<\"\x01 %v$0" }}{{ $l := splitList " " (repeat 300 "word ") }}` +
		`{{ $m := dict "k" $s "l" $l "n" 7 }}{{ $n := 20000 }}{{ $j := toJson $l }}`
	atoms := []string{"$s", "$l", "$m", "$n", "$j", "3", `"%v%q%x"`, `"(a|é)+"`, `"$0$0$0$0"`, `" "`, `"a"`}
	data := Values{ScopeContact: map[string]any{"Tags": []string{"b", "a"}}}
	// Pools (fmt's printers, encoding/json's buffers, regexp's matchers) are emptied by
	// each garbage collection, and refilled by the next call: collect only between
	// measurements, which render twice and keep the second, warm, one.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	// Those pools are also per processor (P): a goroutine moved to another P between the
	// warm-up and the measured renders finds that P's pool empty and allocates a regexp
	// machine (about 6 KB) the charge rightly does not cover. One P makes every render
	// after the warm-up find what the warm-up left.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	base := measureRender(t, prelude+`{{ $x := 0 }}`, data)
	const perCall = 512
	calls, worst, worstSrc := 0, int64(0), ""
	worstBy := map[string]int64{}
	worstCall := map[string]string{}
	defer func() {
		for fn, over := range worstBy {
			t.Logf("OVER %s %d: %s", fn, over, worstCall[fn])
		}
	}()
	for _, fn := range pipelineFuncs {
		for _, a := range atoms {
			for _, b := range atoms {
				for _, call := range []string{fn + " " + a, fn + " " + a + " " + b, fn + " " + b + " " + a + " " + a} {
					src := prelude + "{{ $x := " + call + " }}"
					tpl, err := Parse(NewCatalog(), Source{Text: src}, Options{})
					if err != nil {
						t.Fatal(err)
					}
					used, out, err := renderWarm(tpl, data)
					if err != nil {
						continue
					}
					if calls++; calls%64 == 0 {
						runtime.GC()
					}
					over := used - base.used - int64(out.Alloc-base.charged)
					if over > perCall {
						if over > worstBy[fn] {
							worstBy[fn] = over
							worstCall[fn] = call
						}
						t.Errorf("%s: allocated %d bytes more than it was charged (%d)", call, over, out.Alloc-base.charged)
					}
					if over > worst {
						worst, worstSrc = over, call
					}
				}
			}
		}
	}
	t.Logf("%d calls; the largest allocation beyond the charge: %d bytes (%s)", calls, worst, worstSrc)
}

// renderWarm renders once to warm caches and pools up (the first call of a function
// may fill them), then twice more, and returns the smaller allocation of these two.
func renderWarm(tpl *Template, data Values) (int64, *Output, error) {
	if _, err := tpl.Render(bg, FormatText, data); err != nil {
		return 0, nil, err
	}
	var used int64 = 1 << 62
	var out *Output
	var err error
	for range 2 {
		before := heapAllocated()
		out, err = tpl.Render(bg, FormatText, data)
		used = min(used, int64(heapAllocated()-before))
	}
	return used, out, err
}

type renderCost struct {
	used    int64
	charged int
}

func measureRender(t *testing.T, src string, data Values) renderCost {
	t.Helper()
	tpl, err := Parse(NewCatalog(), Source{Text: src}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	best := renderCost{used: 1 << 62}
	for range 5 {
		before := heapAllocated()
		out, err := tpl.Render(bg, FormatText, data)
		used := int64(heapAllocated() - before)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if used < best.used {
			best = renderCost{used: used, charged: out.Alloc}
		}
	}
	return best
}

package template

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// The bombs and the pipeline fuzz seeds run in a child process (this test binary run
// again) whose address space is capped at memCap beyond what it maps at start: a bomb
// that got through would end the child with "out of memory" rather than pass. Each
// render's heap allocation is measured too (runtime/metrics), which works under the race
// detector as well, where the cap cannot be set (its shadow memory needs the room).

const (
	childEnv = "PARLEY_TEMPLATE_MEMCAP_CHILD"
	memCap   = 256 << 20
	// renderAllocBound bounds what one render allocates in all, with the default
	// options: its allocation budget, plus what the executor itself needs for its
	// iterations and calls (a few bytes each) and the output (64 KiB per field).
	renderAllocBound = DefaultMaxAlloc + 2<<20
)

// heapAllocated returns the bytes the process has allocated on the heap so far, exactly
// (runtime/metrics counts small objects by the span, which is too coarse for one render).
func heapAllocated() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

func childReport(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "memcap: "+format+"\n", args...)
}

func runChild(t *testing.T, mode string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryCapChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// SPEC C5, issue 13: every bomb fails with its typed error in a process capped at 256
// MiB, and no render allocates more than renderAllocBound.
func TestBombsUnderMemoryCapC5(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child process")
	}
	out, err := runChild(t, "bombs")
	var started string
	results := map[string]uint64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "memcap: ")
		if !ok {
			continue
		}
		kind, rest, _ := strings.Cut(line, "\t")
		switch kind {
		case "cap":
			t.Logf("child: %s", rest)
		case "start":
			started = rest
		case "ok":
			name, used, _ := strings.Cut(rest, "\t")
			n, _ := strconv.ParseUint(used, 10, 64)
			results[name] = n
		case "FAIL":
			t.Errorf("child: %s", rest)
		case "peak":
			t.Logf("child peak resident memory: %s bytes", rest)
		}
	}
	if err != nil {
		t.Fatalf("the child process died while rendering %q: %v: %s\n%s", started, err, crashReason(out), tail(out, 20))
	}
	var largest string
	var report strings.Builder
	for _, b := range bombs {
		fmt.Fprintf(&report, "\n\t%-36s %9d", b.name, results[b.name])
		used, ok := results[b.name]
		if !ok {
			t.Errorf("%s: no result from the child", b.name)
			continue
		}
		if used > renderAllocBound {
			t.Errorf("%s: the render allocated %d bytes, more than %d", b.name, used, renderAllocBound)
		}
		if largest == "" || used > results[largest] {
			largest = b.name
		}
	}
	for i := range pipelineSeeds {
		if _, ok := results[fmt.Sprintf("pipeline seed %d", i)]; !ok {
			t.Errorf("pipeline seed %d: no result from the child", i)
		}
	}
	for i := range fuzzFindings {
		if _, ok := results[fmt.Sprintf("fuzz finding %d", i)]; !ok {
			t.Errorf("fuzz finding %d: no result from the child", i)
		}
	}
	t.Logf("bytes allocated by each render:%s", report.String())
	t.Logf("%d bombs and %d pipeline seeds; the largest render allocation: %s, %d bytes", len(bombs), len(pipelineSeeds), largest, results[largest])
}

// The cap works: a child that allocates 1 GiB outside any template dies. This is what
// a bomb that got past the guards does in TestBombsUnderMemoryCapC5.
func TestMemoryCapCatchesBlowup(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child process")
	}
	if raceEnabled {
		t.Skip("the address-space cap cannot be set under the race detector")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the address-space cap is set on Linux only")
	}
	out, err := runChild(t, "blowup")
	if err == nil || strings.Contains(out, "memcap: survived") || !strings.Contains(out, "out of memory") {
		t.Fatalf("a 1 GiB allocation under a %d MiB cap: err = %v\n%s", memCap>>20, err, tail(out, 20))
	}
}

// TestMemoryCapChild is the child process of the tests above.
func TestMemoryCapChild(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("run by TestBombsUnderMemoryCapC5 in a child process")
	}
	switch err := capAddressSpace(memCap); {
	case raceEnabled:
		childReport("cap\tnone: the race detector needs the address space; allocations are measured")
	case err != nil:
		childReport("cap\tnone: %v", err)
	default:
		childReport("cap\taddress space capped at %d MiB beyond the start", memCap>>20)
	}
	switch mode {
	case "blowup":
		var keep [][]byte
		for range 1024 {
			b := make([]byte, 1<<20)
			for i := range b {
				b[i] = 1
			}
			keep = append(keep, b)
		}
		childReport("survived\t%d MiB", len(keep))
	case "bombs":
		data := bombData()
		for _, b := range bombs {
			childReport("start\t%s", b.name)
			tpl, err := Parse(NewCatalog(), b.src, Options{Timeout: 1 << 40})
			if err != nil {
				childReport("FAIL\t%s: %v", b.name, err)
				continue
			}
			before := heapAllocated()
			_, err = tpl.Render(bg, FormatEmail, data)
			used := heapAllocated() - before
			if err := checkBomb(b, err); err != nil {
				childReport("FAIL\t%s: %v", b.name, err)
				continue
			}
			childReport("ok\t%s\t%d", b.name, used)
		}
		for i, seed := range pipelineSeeds {
			name := fmt.Sprintf("pipeline seed %d", i)
			childReport("start\t%s", name)
			used, err := renderPipeline(pipelineSource(seed))
			if err != nil {
				childReport("FAIL\t%s: %v", name, err)
				continue
			}
			childReport("ok\t%s\t%d", name, used)
		}
		for i, src := range fuzzFindings {
			name := fmt.Sprintf("fuzz finding %d", i)
			childReport("start\t%s", name)
			used, err := renderPipeline(src)
			if err != nil {
				childReport("FAIL\t%s: %v", name, err)
				continue
			}
			childReport("ok\t%s\t%d", name, used)
		}
		childReport("peak\t%d", peakRSS())
	}
}

// crashReason returns the runtime's reason for a crash in a child's output.
func crashReason(out string) string {
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "runtime: out of memory") ||
			strings.HasPrefix(line, "runtime: goroutine stack exceeds") {
			return strings.TrimSpace(line)
		}
	}
	return "no reason in its output"
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

package sms

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var (
	// gsmBody160 is 160 characters of plain ASCII GSM-7 text.
	gsmBody160 = strings.Repeat("Your class starts at 18:00, see you soon! ", 4)[:160]
	// latinBody160 is 160 GSM-7 characters with accents and an extension
	// character, as French text has (161 septets: 2 segments).
	latinBody160 = string([]rune(strings.Repeat("Séance à 18h: n'oubliez pas! ", 6))[:153]) + " Prix 5€"
	// emojiBody70 is 70 emoji runes: UCS-2, 140 code units, 3 segments.
	emojiBody70 = strings.Repeat("😀🎉👍🔥💪", 14)
)

// BenchmarkMeasure measures the speed target of SPEC C6: under 300 ns and 0
// allocations on a 160-character GSM-7 body and on a 70-rune emoji body. Each
// sub-benchmark reports the baselines beside it, as benchMeasure describes.
func BenchmarkMeasure(b *testing.B) {
	for _, bc := range []struct{ name, body string }{
		{"GSM7-160", gsmBody160},
		{"GSM7-Latin-160", latinBody160},
		{"Emoji-70", emojiBody70},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			benchMeasure(b, []string{bc.body})
		})
	}
}

// BenchmarkMeasureCorpus measures Measure over the corpus of corpus_test.go:
// 362 bodies, 107 characters on average, 159 of them (44 %) UCS-2 (issue 18:
// target ≤ 250 ns per body and 0 allocations). ns/op and allocs/op are for
// one pass over the whole corpus; ns/body is the figure to read.
func BenchmarkMeasureCorpus(b *testing.B) {
	bodies := corpusBodies()
	chars := 0
	for _, s := range bodies {
		chars += utf8.RuneCountInString(s)
	}
	b.ReportMetric(float64(chars)/float64(len(bodies)), "chars/body")
	benchMeasure(b, bodies)
}

// benchMeasure measures Measure over bodies, one pass per iteration (ns/op,
// allocs/op), then compares it in the same run with the previous
// implementation and the naive per-rune model (both in baseline_test.go): the
// three take 40 turns each, in rotation, of about half a millisecond of
// Measure's passes, and the median turns are compared, so that neither a
// change in the machine's load nor a turn cut short by the scheduler skews
// the figures. ns/body, previous-ns/body and naive-ns/body are the median
// turns per body (ns/op, a mean, includes every interruption); x-vs-previous
// and x-vs-naive are Measure's speed-ups (higher is better).
func benchMeasure(b *testing.B, bodies []string) {
	pass := func(measure func(string) Measurement) int {
		units := 0
		for _, s := range bodies {
			units += measure(s).Units
		}
		return units
	}
	want := pass(measureNaive)
	b.ReportAllocs()
	got := 0
	for b.Loop() {
		got = pass(Measure)
	}
	if got != want {
		b.Fatalf("Measure counts %d units, the naive model %d", got, want)
	}

	const turns = 40
	passes := max(1, int(500*time.Microsecond/(b.Elapsed()/time.Duration(b.N))))
	impls := []struct {
		name    string
		measure func(string) Measurement
		turns   []time.Duration
	}{{"Measure", Measure, nil}, {"previous", measurePrevious, nil}, {"naive", measureNaive, nil}}
	for range turns {
		for i := range impls {
			start := time.Now()
			for range passes {
				got = pass(impls[i].measure)
			}
			impls[i].turns = append(impls[i].turns, time.Since(start))
			if got != want {
				b.Fatalf("%s counts %d units, the naive model %d", impls[i].name, got, want)
			}
		}
	}
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2].Nanoseconds())
	}
	ours := median(impls[0].turns)
	b.ReportMetric(ours/float64(passes*len(bodies)), "ns/body")
	for _, base := range impls[1:] {
		m := median(base.turns)
		b.ReportMetric(m/float64(passes*len(bodies)), base.name+"-ns/body")
		b.ReportMetric(m/ours, "x-vs-"+base.name)
	}
}

func BenchmarkSplit(b *testing.B) {
	body := strings.Repeat(gsmBody160, 3)
	b.ReportAllocs()
	for b.Loop() {
		Split(body)
	}
}

func BenchmarkNormalize(b *testing.B) {
	body := strings.Repeat("“Hi” – it’s… ", 10)
	b.ReportAllocs()
	for b.Loop() {
		Normalize(body)
	}
}

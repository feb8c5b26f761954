package sms

import (
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

// benchMeasure measures Measure over bodies, one pass per iteration, and
// reports the time per body. In the same run it then times as many passes of
// the previous implementation and of the naive per-rune model (both in
// baseline_test.go) and reports their time per body and Measure's speed-up
// over each (x-vs-previous, x-vs-naive: higher is better).
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
	perBody := func(d time.Duration) float64 {
		return float64(d.Nanoseconds()) / float64(b.N*len(bodies))
	}
	ns := perBody(b.Elapsed())
	b.ReportMetric(ns, "ns/body")
	for _, base := range []struct {
		name    string
		measure func(string) Measurement
	}{{"previous", measurePrevious}, {"naive", measureNaive}} {
		start := time.Now()
		for range b.N {
			got = pass(base.measure)
		}
		el := time.Since(start)
		if got != want {
			b.Fatalf("%s counts %d units, the naive model %d", base.name, got, want)
		}
		b.ReportMetric(perBody(el), base.name+"-ns/body")
		b.ReportMetric(perBody(el)/ns, "x-vs-"+base.name)
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

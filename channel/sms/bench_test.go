package sms

import (
	"strings"
	"testing"
)

var (
	// gsmBody160 is 160 characters of plain ASCII GSM-7 text.
	gsmBody160 = strings.Repeat("Your class starts at 18:00, see you soon! ", 4)[:160]
	// latinBody160 is 160 GSM-7 characters with accents and an extension
	// character, as French text has.
	latinBody160 = strings.Repeat("Séance à 18h: n'oubliez pas! ", 6)[:154] + "Prix 5€"[:6]
	// emojiBody70 is 70 emoji runes: UCS-2, 140 code units, 3 segments.
	emojiBody70 = strings.Repeat("😀🎉👍🔥💪", 14)
)

// BenchmarkMeasure measures the speed target of SPEC C6: under 300 ns and 0
// allocations on a 160-character GSM-7 body and on a 70-rune emoji body.
func BenchmarkMeasure(b *testing.B) {
	for _, bc := range []struct{ name, body string }{
		{"GSM7-160", gsmBody160},
		{"GSM7-Latin-160", latinBody160},
		{"Emoji-70", emojiBody70},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				Measure(bc.body)
			}
		})
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

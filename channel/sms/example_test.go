package sms_test

import (
	"fmt"
	"strings"

	"github.com/parleyhq/parley/channel/sms"
)

func ExampleMeasure() {
	m := sms.Measure("Your class starts at 18:00 {room 2}")
	fmt.Println(m.Encoding, m.Units, "septets,", m.Segments, "segment,", m.Remaining, "left")

	m = sms.Measure("See you there 👋")
	fmt.Println(m.Encoding, m.Units, "code units,", m.Segments, "segment,", m.Remaining, "left")

	m = sms.Measure(strings.Repeat("a", 161))
	fmt.Println(m.Encoding, m.Segments, "segments of", m.PerSegment, "septets,", m.Remaining, "left")
	// Output:
	// GSM-7 37 septets, 1 segment, 123 left
	// UCS-2 16 code units, 1 segment, 54 left
	// GSM-7 2 segments of 153 septets, 145 left
}

func ExampleSplit() {
	// 152 septets fill the first segment but one; the extension character €
	// (an escape sequence of two septets) cannot straddle the boundary, so it
	// starts the second segment.
	body := strings.Repeat("a", 152) + "€" + strings.Repeat("b", 20)
	for i, part := range sms.Split(body) {
		fmt.Printf("segment %d: %d septets, starts %q\n", i+1, sms.Measure(part).Units, []rune(part)[0])
	}
	m := sms.Measure(body)
	fmt.Println(m.Units, "septets,", m.Remaining, "left in the last segment")
	// Output:
	// segment 1: 152 septets, starts 'a'
	// segment 2: 22 septets, starts '€'
	// 174 septets, 131 left in the last segment
}

func ExampleNormalize() {
	body := "“Yoga” at 9 – don’t be late…"
	m := sms.Measure(body)
	fmt.Println(m.Encoding, m.Segments, "segment, smart encoding fits GSM-7:", m.SmartGSM7)

	out, reps := sms.Normalize(body)
	fmt.Println(out)
	for _, r := range reps {
		fmt.Printf("%d: %q → %q\n", r.Offset, r.From, r.To)
	}
	fmt.Println(sms.Measure(out).Encoding)
	// Output:
	// UCS-2 1 segment, smart encoding fits GSM-7: true
	// "Yoga" at 9 - don't be late...
	// 0: '“' → "\""
	// 7: '”' → "\""
	// 16: '–' → "-"
	// 23: '’' → "'"
	// 35: '…' → "..."
	// GSM-7
}

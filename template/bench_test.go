package template

import (
	"context"
	"strings"
	"testing"
	texttemplate "text/template"
	"time"
)

// smsBench is a typical 300-character SMS template with four variables.
const smsBench = `Hi {{ .Contact.FirstName }}, this is a reminder from {{ .Account.Name }}: your booking is ` +
	`confirmed for {{ .Booking.CheckIn }}. Your room, {{ .Booking.Room }}, will be ready from 3 pm. ` +
	`Reception is open around the clock; reply to this message if you need anything before you ` +
	`arrive. We look forward to welcoming you. Reply STOP to opt out.`

func benchData() Values {
	return Values{
		ScopeContact: map[string]any{"FirstName": "Hélène", "LastName": "Martin"},
		ScopeAccount: map[string]any{"Name": "Hôtel du Parc"},
		ScopeBooking: map[string]any{"CheckIn": "Fri 14 March", "Room": "Room 12"},
	}
}

// BenchmarkRenderSMS compares Render with a plain text/template Execute of the same
// template and the same data in one run: each iteration times a batch of each, in turn,
// so both see the same machine state. It reports both costs and their ratio (target: ratio
// ≤ 1.3).
func BenchmarkRenderSMS(b *testing.B) {
	data := benchData()
	plainData := map[string]any{
		"Contact": data[ScopeContact], "Account": data[ScopeAccount], "Booking": data[ScopeBooking],
	}
	plain := texttemplate.Must(texttemplate.New("sms").Parse(smsBench))
	tpl, err := Parse(NewCatalog(), Source{Text: smsBench}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	const batch = 32
	var plainTime, parleyTime time.Duration
	var sb strings.Builder
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		for range batch {
			sb.Reset()
			if err := plain.Execute(&sb, plainData); err != nil {
				b.Fatal(err)
			}
			_ = sb.String()
		}
		mid := time.Now()
		for range batch {
			if _, err := tpl.Render(ctx, FormatText, data); err != nil {
				b.Fatal(err)
			}
		}
		parleyTime += time.Since(mid)
		plainTime += mid.Sub(start)
	}
	n := float64(b.N * batch)
	b.ReportMetric(float64(plainTime.Nanoseconds())/n, "text/template-ns/op")
	b.ReportMetric(float64(parleyTime.Nanoseconds())/n, "parley-ns/op")
	b.ReportMetric(float64(parleyTime)/float64(plainTime), "ratio")
}

// BenchmarkCheck measures a static check (target < 20 µs).
func BenchmarkCheck(b *testing.B) {
	tpl, err := Parse(NewCatalog(), Source{Subject: "Your stay at {{ .Account.Name }}", Text: smsBench}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = tpl.Check(ScopeEvent, ScopeAccount, ScopeAgent)
	}
}

// BenchmarkParse measures parsing a template.
func BenchmarkParse(b *testing.B) {
	cat := NewCatalog()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(cat, Source{Text: smsBench}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

package recipient

import (
	"fmt"
	"testing"

	"github.com/parleyhq/parley/channel"
)

// contacts returns n contacts for SMS marketing: 90 % eligible, then a
// consent warning, a missing phone, an opt-out every tenth.
func contacts(n int) []Contact {
	out := make([]Contact, n)
	for i := range out {
		c := Contact{
			ID:        fmt.Sprintf("c%06d", i),
			FirstName: "Hélène", LastName: "Dupont",
			Email:   fmt.Sprintf("c%06d@example.fr", i),
			Phone:   fmt.Sprintf("+336%08d", i),
			Consent: NewKindSet(channel.SMS, channel.Email),
		}
		switch i % 30 {
		case 7:
			c.Consent = 0
		case 17:
			c.Phone = ""
		case 27:
			c.OptedOut = NewKindSet(channel.SMS)
		}
		out[i] = c
	}
	return out
}

// R2 speed target: 100,000 contacts for one channel in under 50 ms.
func BenchmarkCheck100k(b *testing.B) {
	rules := newTestRules(b, Options{})
	cs := contacts(100_000)
	b.ReportAllocs()
	for b.Loop() {
		for i := range cs {
			_ = rules.Check(cs[i], channel.SMS, Marketing, Facts{})
		}
	}
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(len(cs))
	b.ReportMetric(per, "ns/contact")
	b.ReportMetric(float64(testing.AllocsPerRun(1, func() {
		for i := range cs {
			_ = rules.Check(cs[i], channel.SMS, Marketing, Facts{})
		}
	}))/float64(len(cs)), "allocs/contact")
}

// R2: the eligible path alone.
func BenchmarkCheckEligible(b *testing.B) {
	rules := newTestRules(b, Options{})
	c := contacts(1)[0]
	b.ReportAllocs()
	for b.Loop() {
		_ = rules.Check(c, channel.SMS, Marketing, Facts{})
	}
}

// R4 speed target: an event selection of 10,000 attendees in under 5 ms.
func BenchmarkEventSelection10k(b *testing.B) {
	rules := newTestRules(b, Options{})
	cs := contacts(10_000)
	attendees := make([]Attendee, len(cs))
	groups := []Group{Booked, Booked, Booked, Waitlisted, Cancelled}
	for i, c := range cs {
		attendees[i] = Attendee{Contact: c, Group: groups[i%len(groups)]}
	}
	t := Target{Kind: channel.SMS, Purpose: Marketing}
	b.ReportAllocs()
	for b.Loop() {
		s, err := rules.Event(attendees, t)
		if err != nil {
			b.Fatal(err)
		}
		_ = s.SelectGroup(Booked)
	}
}

func BenchmarkClassify(b *testing.B) {
	c := defaultClassifier(b)
	for _, text := range []string{"STOP", "arrêt", "See you at the 6pm class, thanks!"} {
		b.Run(text, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = c.Classify(text)
			}
		})
	}
}

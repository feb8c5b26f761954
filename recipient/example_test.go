package recipient_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/recipient"
)

func ExampleParsePhone() {
	e164, err := recipient.ParsePhone("06 12 34 56 78", "FR")
	fmt.Println(e164, err)

	// Valid in France only: read as a US number it is not a valid number.
	_, err = recipient.ParsePhone("06 12 34 56 78", "US")
	fmt.Println(errors.Is(err, recipient.ErrInvalidPhone))
	// Output:
	// +33612345678 <nil>
	// true
}

// A smartlist (audience) selection for a marketing email: one member cannot
// be selected and one is selected with a consent warning (R2, R3).
func ExampleRules_Audience() {
	rules, err := recipient.NewRules(recipient.Options{DefaultRegion: "FR"})
	if err != nil {
		fmt.Println(err)
		return
	}
	email := recipient.NewKindSet(channel.Email)
	members := []recipient.Contact{
		{ID: "m1", FirstName: "Hélène", Email: "helene@example.fr", Consent: email},
		{ID: "m2", FirstName: "Marc", Phone: "+33612345678", Consent: email}, // no email
		{ID: "m3", FirstName: "Léa", Email: "lea@example.fr"},                // no marketing consent
	}
	sel, err := rules.Audience(members, recipient.Target{Kind: channel.Email, Purpose: recipient.Marketing})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("selected:", sel.Selected(), "count:", sel.Count())
	for _, is := range sel.NotSelectable() {
		fmt.Println("not selectable:", is.ContactID, errors.Is(is.Reason, recipient.ErrNoAddress))
	}
	for _, is := range sel.Warnings() {
		fmt.Println("warning:", is.ContactID, is.Reason)
	}
	if err := sel.Deselect("m2"); errors.Is(err, recipient.ErrNotSelectable) {
		fmt.Println("m2 cannot be deselected: it is not selectable")
	}
	_ = sel.Deselect("m3")
	fmt.Println("after deselecting m3:", sel.Selected())
	// Output:
	// selected: [m1 m3] count: 2
	// not selectable: m2 true
	// warning: m3 recipient: no marketing consent for email
	// m2 cannot be deselected: it is not selectable
	// after deselecting m3: [m1]
}

// An event's attendees: nothing is selected until a group is chosen; a
// person in two groups counts once (R4).
func ExampleRules_Event() {
	rules, _ := recipient.NewRules(recipient.Options{})
	ana := recipient.Contact{ID: "ana", Phone: "+33612345678"}
	bob := recipient.Contact{ID: "bob", Phone: "+12125550123"}
	cyd := recipient.Contact{ID: "cyd"} // no phone
	sel, _ := rules.Event([]recipient.Attendee{
		{Contact: ana, Group: recipient.Booked},
		{Contact: bob, Group: recipient.Booked},
		{Contact: cyd, Group: recipient.Waitlisted},
		{Contact: bob, Group: recipient.Cancelled},
	}, recipient.Target{Kind: channel.SMS, Purpose: recipient.Transactional})
	fmt.Println(sel.Count())
	_ = sel.SelectGroup(recipient.Booked)
	_ = sel.SelectGroup(recipient.Cancelled)
	_ = sel.SelectGroup(recipient.Waitlisted)
	fmt.Println(sel.Selected(), sel.Count())
	fmt.Println(len(sel.NotSelectable()), sel.NotSelectable()[0].ContactID)
	// Output:
	// 0
	// [ana bob] 2
	// 1 cyd
}

func ExampleRules_Check() {
	rules, _ := recipient.NewRules(recipient.Options{})
	c := recipient.Contact{ID: "c1", Phone: "+33612345678", OptedOut: recipient.NewKindSet(channel.SMS)}

	v := rules.Check(c, channel.SMS, recipient.Transactional, recipient.Facts{})
	fmt.Println(v.Level, errors.Is(v.Err(), channel.ErrOptedOut))

	// WhatsApp, last inbound message 30 hours before the check: free text
	// is blocked, an approved template is allowed (C10).
	facts := recipient.Facts{LastInboundWhatsApp: time.Date(2026, 6, 14, 6, 0, 0, 0, time.UTC),
		Now: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)}
	v = rules.Check(c, channel.WhatsApp, recipient.Transactional, facts)
	fmt.Println(v.Level, errors.Is(v.Err(), channel.ErrWindowClosed))
	facts.ApprovedTemplate = true
	fmt.Println(rules.Check(c, channel.WhatsApp, recipient.Transactional, facts).Level)
	// Output:
	// blocked true
	// blocked true
	// eligible
}

func ExampleClassifier_Classify() {
	c, _ := recipient.NewClassifier(recipient.KeywordSet{}) // the defaults
	for _, text := range []string{"Stop", " arrêt ", "START", "help?", "please stop"} {
		fmt.Printf("%q %v\n", text, c.Classify(text))
	}
	// Output:
	// "Stop" stop
	// " arrêt " stop
	// "START" start
	// "help?" help
	// "please stop" none
}

func ExampleQuietHours_Allowed() {
	paris, _ := time.LoadLocation("Europe/Paris")
	q := recipient.QuietHours{Start: recipient.Clock{Hour: 21}, End: recipient.Clock{Hour: 8}}
	due := time.Date(2026, 3, 28, 23, 0, 0, 0, paris) // the night clocks go forward
	fmt.Println(q.Allowed(due, paris, recipient.Marketing))
	fmt.Println(q.Allowed(due, paris, recipient.Transactional))
	// Output:
	// 2026-03-29 08:00:00 +0200 CEST
	// 2026-03-28 23:00:00 +0100 CET
}

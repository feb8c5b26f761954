package recipient

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
)

func person(id, email, phone string) Contact {
	return Contact{ID: id, FirstName: id, Email: email, Phone: phone, Consent: NewKindSet(channel.Email, channel.SMS)}
}

// R3: every member is listed; those with a valid address for the channel are
// selected by default and can be deselected one by one; the others are
// listed but not selectable, with the reason and the contact to fix.
func TestAudienceSelection_R3(t *testing.T) {
	rules := newTestRules(t, Options{})
	members := []Contact{
		person("ana", "ana@example.com", "+33612345678"),
		person("bob", "", "+33612345679"),  // no email
		person("cyd", "cyd@localhost", ""), // invalid email
		person("dan", "dan@example.com", ""),
		with(func(c *Contact) { c.ID = "eve"; c.Consent = 0 }), // marketing without consent: warning
		person("ana", "ana@example.com", ""),                   // repeated: kept once
	}
	s, err := rules.Audience(members, Target{Kind: channel.Email, Purpose: Marketing})
	if err != nil {
		t.Fatalf("Audience: %v", err)
	}

	// Every member listed once, in order.
	var ids []string
	for _, m := range s.Members() {
		ids = append(ids, m.Contact.ID)
	}
	if want := []string{"ana", "bob", "cyd", "dan", "eve"}; !slices.Equal(ids, want) {
		t.Fatalf("Members = %v, want %v", ids, want)
	}
	if got := s.Groups(); !slices.Equal(got, []Group{AudienceMembers}) {
		t.Errorf("Groups = %v", got)
	}
	// Valid addresses selected by default, including the consent warning.
	if got, want := s.Selected(), []string{"ana", "dan", "eve"}; !slices.Equal(got, want) {
		t.Fatalf("default Selected = %v, want %v", got, want)
	}
	if s.Count() != 3 || !s.GroupSelected(AudienceMembers) {
		t.Errorf("Count = %d, GroupSelected = %v", s.Count(), s.GroupSelected(AudienceMembers))
	}
	// The others: listed, not selectable, with reason and contact.
	ns := s.NotSelectable()
	if len(ns) != 2 || ns[0].ContactID != "bob" || !errors.Is(ns[0].Reason, ErrNoAddress) ||
		ns[1].ContactID != "cyd" || !errors.Is(ns[1].Reason, ErrInvalidAddress) {
		t.Fatalf("NotSelectable = %v", ns)
	}
	if w := s.Warnings(); len(w) != 1 || w[0].ContactID != "eve" || !errors.Is(w[0].Reason, ErrNoConsent) {
		t.Fatalf("Warnings = %v", w)
	}

	// Deselect one by one.
	if err := s.Deselect("dan"); err != nil {
		t.Fatalf("Deselect(dan): %v", err)
	}
	if got := s.Selected(); !slices.Equal(got, []string{"ana", "eve"}) || s.Count() != 2 || s.IsSelected("dan") {
		t.Fatalf("after Deselect(dan): %v, count %d", got, s.Count())
	}
	if err := s.Deselect("dan"); err != nil || s.Count() != 2 {
		t.Errorf("deselecting twice: %v, count %d", err, s.Count())
	}
	if w := s.Warnings(); len(w) != 1 {
		t.Errorf("Warnings after deselecting dan = %v", w)
	}
	if err := s.Deselect("eve"); err != nil || len(s.Warnings()) != 0 {
		t.Errorf("deselected eve still warned about: %v, %v", err, s.Warnings())
	}
	if err := s.Select("dan"); err != nil || !s.IsSelected("dan") || s.Count() != 2 {
		t.Errorf("Select(dan): %v, count %d", err, s.Count())
	}

	// Deselecting or selecting someone not selectable, or unknown, is an error.
	err = s.Deselect("bob")
	if !errors.Is(err, ErrNotSelectable) || !errors.Is(err, ErrNoAddress) {
		t.Errorf("Deselect(bob) = %v, want ErrNotSelectable and ErrNoAddress", err)
	}
	if err := s.Select("cyd"); !errors.Is(err, ErrNotSelectable) || !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("Select(cyd) = %v, want ErrNotSelectable and ErrInvalidAddress", err)
	}
	if err := s.Deselect("zoe"); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("Deselect(zoe) = %v, want ErrUnknownMember", err)
	}
	if err := s.Select("zoe"); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("Select(zoe) = %v, want ErrUnknownMember", err)
	}

	// The whole group off and on again.
	if err := s.DeselectGroup(AudienceMembers); err != nil || s.Count() != 0 || s.GroupSelected(AudienceMembers) {
		t.Fatalf("DeselectGroup: %v, count %d", err, s.Count())
	}
	if err := s.SelectGroup(AudienceMembers); err != nil || !slices.Equal(s.Selected(), []string{"ana", "dan", "eve"}) {
		t.Fatalf("SelectGroup: %v, %v", err, s.Selected())
	}
	if err := s.SelectGroup(Booked); !errors.Is(err, ErrUnknownGroup) {
		t.Errorf("SelectGroup(Booked) on an audience = %v, want ErrUnknownGroup", err)
	}
}

// R3: what is selectable depends on the channel: an SMS audience selects by
// phone, and opted-out contacts are not selectable.
func TestAudienceSelectionDependsOnChannel_R3(t *testing.T) {
	rules := newTestRules(t, Options{})
	members := []Contact{
		person("ana", "ana@example.com", "+33612345678"),
		person("bob", "bob@example.com", ""),
		with(func(c *Contact) { c.ID = "cat"; c.OptedOut = NewKindSet(channel.SMS) }),
	}
	s, err := rules.Audience(members, Target{Kind: channel.SMS, Purpose: Transactional})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Selected(); !slices.Equal(got, []string{"ana"}) {
		t.Errorf("Selected = %v, want [ana]", got)
	}
	ns := s.NotSelectable()
	if len(ns) != 2 || !errors.Is(ns[0].Reason, ErrNoAddress) || !errors.Is(ns[1].Reason, channel.ErrOptedOut) {
		t.Errorf("NotSelectable = %v", ns)
	}
}

// R4: attendees grouped as booked, waitlisted and cancelled; nothing selected
// by default; choosing groups selects their valid attendees, who can then be
// deselected one by one; invalid ones are listed but not selectable; a person
// is counted once.
func TestEventSelection_R4(t *testing.T) {
	rules := newTestRules(t, Options{})
	attendees := []Attendee{
		{person("ana", "ana@example.com", ""), Booked},
		{person("bob", "bob@example.com", ""), Booked},
		{person("cyd", "", ""), Booked}, // no email: not selectable
		{person("dan", "dan@example.com", ""), Waitlisted},
		{person("eve", "eve@example.com", ""), Cancelled},
		{person("bob", "bob@example.com", ""), Cancelled}, // cancelled, then booked again
	}
	s, err := rules.Event(attendees, Target{Kind: channel.Email, Purpose: Transactional})
	if err != nil {
		t.Fatalf("Event: %v", err)
	}
	if got := s.Groups(); !slices.Equal(got, []Group{Booked, Waitlisted, Cancelled}) {
		t.Errorf("Groups = %v", got)
	}
	if got := len(s.Members()); got != 5 {
		t.Errorf("%d members listed, want 5 (bob once)", got)
	}
	groupIDs := func(g Group) []string {
		var ids []string
		for _, m := range s.Group(g) {
			ids = append(ids, m.Contact.ID)
		}
		return ids
	}
	if got := groupIDs(Booked); !slices.Equal(got, []string{"ana", "bob", "cyd"}) {
		t.Errorf("Booked = %v", got)
	}
	if got := groupIDs(Cancelled); !slices.Equal(got, []string{"bob", "eve"}) {
		t.Errorf("Cancelled = %v", got)
	}
	// Nothing selected by default.
	if s.Count() != 0 || len(s.Selected()) != 0 || s.GroupSelected(Booked) {
		t.Fatalf("default selection: %v", s.Selected())
	}
	// Not-selectable attendees are listed from the start.
	if ns := s.NotSelectable(); len(ns) != 1 || ns[0].ContactID != "cyd" || !errors.Is(ns[0].Reason, ErrNoAddress) {
		t.Errorf("NotSelectable = %v", ns)
	}

	// Choose booked and cancelled: bob is in both and counted once.
	if err := s.SelectGroup(Booked); err != nil {
		t.Fatal(err)
	}
	if err := s.SelectGroup(Cancelled); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Selected(), []string{"ana", "bob", "eve"}; !slices.Equal(got, want) || s.Count() != 3 {
		t.Fatalf("Selected = %v (count %d), want %v", got, s.Count(), want)
	}
	// Deselect one by one.
	if err := s.Deselect("ana"); err != nil || s.Count() != 2 {
		t.Fatalf("Deselect(ana): %v, count %d", err, s.Count())
	}
	// Unticking cancelled keeps bob, who is booked and booked is still chosen.
	if err := s.DeselectGroup(Cancelled); err != nil {
		t.Fatal(err)
	}
	if got := s.Selected(); !slices.Equal(got, []string{"bob"}) {
		t.Fatalf("after DeselectGroup(Cancelled) = %v, want [bob]", got)
	}
	if err := s.DeselectGroup(Booked); err != nil || s.Count() != 0 {
		t.Fatalf("DeselectGroup(Booked): %v, %v", err, s.Selected())
	}
	// Individual selection without any group.
	if err := s.Select("dan"); err != nil || !slices.Equal(s.Selected(), []string{"dan"}) {
		t.Fatalf("Select(dan): %v, %v", err, s.Selected())
	}
	if err := s.Deselect("cyd"); !errors.Is(err, ErrNotSelectable) {
		t.Errorf("Deselect(cyd) = %v, want ErrNotSelectable", err)
	}
	if err := s.Deselect("nobody"); !errors.Is(err, ErrUnknownMember) {
		t.Errorf("Deselect(nobody) = %v, want ErrUnknownMember", err)
	}
	if err := s.SelectGroup(AudienceMembers); !errors.Is(err, ErrUnknownGroup) {
		t.Errorf("SelectGroup(AudienceMembers) on an event = %v", err)
	}
	if err := s.DeselectGroup(Group(42)); !errors.Is(err, ErrUnknownGroup) {
		t.Errorf("DeselectGroup(42) = %v", err)
	}
	m := s.Members()[1]
	if !m.In(Booked) || !m.In(Cancelled) || m.In(Waitlisted) || !slices.Equal(m.Groups(), []Group{Booked, Cancelled}) {
		t.Errorf("bob's groups = %v", m.Groups())
	}
}

// C10, R4: per-contact facts decide per-contact verdicts.
func TestSelectionContactFacts_C10(t *testing.T) {
	rules := newTestRules(t, Options{})
	lastInbound := map[string]bool{"ana": true}
	attendees := []Attendee{
		{person("ana", "", "+33612345678"), Booked},
		{person("bob", "", "+33612345679"), Booked},
	}
	s, err := rules.Event(attendees, Target{
		Kind: channel.WhatsApp, Purpose: Transactional, Facts: Facts{Now: now},
		ContactFacts: func(c Contact, f Facts) Facts {
			if lastInbound[c.ID] {
				f.LastInboundWhatsApp = now.Add(-time.Hour)
			}
			return f
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SelectGroup(Booked); err != nil {
		t.Fatal(err)
	}
	if got := s.Selected(); !slices.Equal(got, []string{"ana"}) {
		t.Errorf("Selected = %v, want [ana]", got)
	}
	if ns := s.NotSelectable(); len(ns) != 1 || !errors.Is(ns[0].Reason, channel.ErrWindowClosed) {
		t.Errorf("NotSelectable = %v", ns)
	}
}

func TestSelectionRejectsBadInput(t *testing.T) {
	rules := newTestRules(t, Options{})
	if _, err := rules.Audience([]Contact{{FirstName: "no id"}}, Target{Kind: channel.Email, Purpose: Marketing}); !errors.Is(err, ErrInvalidContact) {
		t.Errorf("contact without ID: %v", err)
	}
	if _, err := rules.Audience(nil, Target{Kind: 0, Purpose: Marketing}); !errors.Is(err, channel.ErrUnknownKind) {
		t.Errorf("invalid kind: %v", err)
	}
	if _, err := rules.Event(nil, Target{Kind: channel.SMS}); !errors.Is(err, ErrInvalidPurpose) {
		t.Errorf("invalid purpose: %v", err)
	}
	if _, err := rules.Event([]Attendee{{person("a", "a@example.com", ""), AudienceMembers}}, Target{Kind: channel.Email, Purpose: Marketing}); !errors.Is(err, ErrUnknownGroup) {
		t.Errorf("audience group in an event: %v", err)
	}
	empty, err := rules.Audience(nil, Target{Kind: channel.Email, Purpose: Marketing})
	if err != nil || empty.Count() != 0 || len(empty.Selected()) != 0 {
		t.Errorf("empty audience: %v", err)
	}
}

// R3: IsSelectedAt says, for each position of MemberView, what IsSelected
// says of that member, as the selection changes; a position out of range is
// not selected.
func TestIsSelectedAt_R3(t *testing.T) {
	rules := newTestRules(t, Options{})
	s, err := rules.Audience([]Contact{
		person("ana", "ana@example.com", ""), person("bob", "", ""), person("dan", "dan@example.com", ""),
	}, Target{Kind: channel.Email, Purpose: Transactional})
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, want ...bool) {
		t.Helper()
		for i, m := range s.MemberView() {
			if got := s.IsSelectedAt(i); got != want[i] || got != s.IsSelected(m.Contact.ID) {
				t.Errorf("%s: IsSelectedAt(%d) (%s) = %v, want %v", when, i, m.Contact.ID, got, want[i])
			}
		}
		if s.IsSelectedAt(-1) || s.IsSelectedAt(len(want)) {
			t.Errorf("%s: a position out of range is selected", when)
		}
	}
	check("default", true, false, true)
	if err := s.Deselect("dan"); err != nil {
		t.Fatal(err)
	}
	check("dan deselected", true, false, false)
}

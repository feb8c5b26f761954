package recipient

import (
	"fmt"

	"github.com/parleyhq/parley/channel"
)

// Group is a group of members of a selection: the members of an audience,
// or the attendees of an event by booking status (R4).
type Group uint8

const (
	// AudienceMembers is the one group of an audience selection (R3).
	AudienceMembers Group = iota + 1
	// Booked attendees of an event.
	Booked
	// Waitlisted attendees of an event.
	Waitlisted
	// Cancelled attendees of an event: their booking was cancelled.
	Cancelled
)

// String returns "members", "booked", "waitlisted", "cancelled" or
// "group(N)".
func (g Group) String() string {
	switch g {
	case AudienceMembers:
		return "members"
	case Booked:
		return "booked"
	case Waitlisted:
		return "waitlisted"
	case Cancelled:
		return "cancelled"
	}
	return fmt.Sprintf("group(%d)", uint8(g))
}

func (g Group) valid() bool { return g >= AudienceMembers && g <= Cancelled }

// Attendee is a contact in one group of an event. A person in several groups
// (cancelled, then booked again) is given once per group.
type Attendee struct {
	Contact Contact
	Group   Group
}

// Target is what a selection is built for: the channel kind, the purpose and
// the facts of the send.
type Target struct {
	Kind    channel.Kind
	Purpose Purpose
	// Facts are the facts shared by every member (template, identity, …).
	Facts Facts
	// ContactFacts, if set, returns the facts for one member, given the
	// shared ones: to add the member's latest inbound WhatsApp time, say.
	ContactFacts func(c Contact, shared Facts) Facts
}

// Member is one person of a selection with their eligibility.
type Member struct {
	Contact Contact
	// Verdict is the eligibility of the member for the selection's target.
	// A Blocked member is listed but not selectable; a Warning member is
	// selectable and its reasons are shown (R2).
	Verdict Verdict
	groups  uint8 // bit g set: member of group g
}

// In reports whether the member is in group g.
func (m Member) In(g Group) bool { return g.valid() && m.groups&(1<<g) != 0 }

// Groups returns the member's groups in the order AudienceMembers, Booked,
// Waitlisted, Cancelled.
func (m Member) Groups() []Group {
	var out []Group
	for g := AudienceMembers; g <= Cancelled; g++ {
		if m.In(g) {
			out = append(out, g)
		}
	}
	return out
}

// Selectable reports whether the member can be selected: not Blocked.
func (m Member) Selectable() bool { return m.Verdict.Allowed() }

// Issue is a member that needs attention, with the reason: the contact to
// fix when it is not selectable, or a warning to show.
type Issue struct {
	ContactID string
	// Reason matches the verdict's reasons with errors.Is (ErrNoAddress,
	// channel.ErrOptedOut, ErrNoConsent, …).
	Reason error
}

// Selection is the set of recipients a composer holds while the user clicks
// (R3, R4): every member is listed once, grouped; selectable members can be
// selected and deselected one by one or by group; blocked members are listed
// with their reason but cannot be selected.
//
// A Selection is not safe for concurrent use: it belongs to one composer.
type Selection struct {
	target  Target
	members []Member
	index   map[string]int // contact ID → position in members
	picked  []bool         // by position
	chosen  uint8          // bit g set: group g was selected as a whole
	has     uint8          // bit g set: the selection has group g
	count   int
}

// Audience builds the selection of a saved audience ("smartlist") for t
// (R3). Every member is listed once, in the order given (a repeated contact
// ID is kept once, with its first data); those who may receive the message
// (Eligible or Warning) are selected by default. A contact without ID or an
// invalid target kind is an error.
func (r *Rules) Audience(members []Contact, t Target) (*Selection, error) {
	s, err := r.newSelection(len(members), t)
	if err != nil {
		return nil, err
	}
	s.has = 1 << AudienceMembers
	for _, c := range members {
		if err := s.add(r, c, AudienceMembers); err != nil {
			return nil, err
		}
	}
	s.selectGroup(AudienceMembers)
	return s, nil
}

// Event builds the selection of an event's attendees for t (R4). Attendees
// are grouped as given (Booked, Waitlisted, Cancelled); a person in several
// groups is listed and counted once, in the order of first appearance, with
// the data of their first entry. Nothing is selected. A contact without ID,
// a group that is not an event group, or an invalid target kind is an error.
func (r *Rules) Event(attendees []Attendee, t Target) (*Selection, error) {
	s, err := r.newSelection(len(attendees), t)
	if err != nil {
		return nil, err
	}
	s.has = 1<<Booked | 1<<Waitlisted | 1<<Cancelled
	for _, a := range attendees {
		if a.Group != Booked && a.Group != Waitlisted && a.Group != Cancelled {
			return nil, fmt.Errorf("%w %v for attendee %q", ErrUnknownGroup, a.Group, a.Contact.ID)
		}
		if err := s.add(r, a.Contact, a.Group); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (r *Rules) newSelection(n int, t Target) (*Selection, error) {
	if !t.Kind.Valid() {
		return nil, fmt.Errorf("recipient: selection: %w: %v", channel.ErrUnknownKind, t.Kind)
	}
	if t.Purpose != Transactional && t.Purpose != Marketing {
		return nil, fmt.Errorf("recipient: selection: %w: %v", ErrInvalidPurpose, t.Purpose)
	}
	return &Selection{
		target:  t,
		members: make([]Member, 0, n),
		index:   make(map[string]int, n),
		picked:  make([]bool, 0, n),
	}, nil
}

// add lists c in group g, checking its eligibility when it is new.
func (s *Selection) add(r *Rules, c Contact, g Group) error {
	if c.ID == "" {
		return fmt.Errorf("%w: contact without ID (%q) in group %v", ErrInvalidContact, c.Name(), g)
	}
	if i, ok := s.index[c.ID]; ok {
		s.members[i].groups |= 1 << g
		return nil
	}
	facts := s.target.Facts
	if s.target.ContactFacts != nil {
		facts = s.target.ContactFacts(c, facts)
	}
	s.index[c.ID] = len(s.members)
	s.members = append(s.members, Member{Contact: c, groups: 1 << g})
	m := &s.members[len(s.members)-1]
	m.Verdict = r.Check(m.Contact, s.target.Kind, s.target.Purpose, facts)
	s.picked = append(s.picked, false)
	return nil
}

// Target returns what the selection was built for.
func (s *Selection) Target() Target { return s.target }

// Members returns every member once, in order of first appearance.
func (s *Selection) Members() []Member {
	return append([]Member(nil), s.members...)
}

// MemberView returns the selection's own slice of members, as Members
// returns a copy of: every member once, in order of first appearance. The
// caller must not change it. A selection never changes its members once
// built (Select, Deselect and their group forms change only which members
// are selected), so the slice stays valid, and the same, for as long as
// the selection: a send to 100,000 members reads them without copying
// them.
func (s *Selection) MemberView() []Member { return s.members[:len(s.members):len(s.members)] }

// Groups returns the groups the selection has: AudienceMembers for an
// audience; Booked, Waitlisted and Cancelled for an event, even when empty.
func (s *Selection) Groups() []Group {
	var out []Group
	for g := AudienceMembers; g <= Cancelled; g++ {
		if s.has&(1<<g) != 0 {
			out = append(out, g)
		}
	}
	return out
}

// Group returns the members of group g, in order of first appearance.
func (s *Selection) Group(g Group) []Member {
	var out []Member
	for _, m := range s.members {
		if m.In(g) {
			out = append(out, m)
		}
	}
	return out
}

// GroupSelected reports whether group g was selected as a whole and not
// deselected since (the state of a group checkbox). Members of the group may
// have been deselected one by one.
func (s *Selection) GroupSelected(g Group) bool {
	return g.valid() && s.chosen&(1<<g) != 0
}

// Selected returns the contact IDs of the selected members, in order of
// first appearance; each person once.
func (s *Selection) Selected() []string {
	out := make([]string, 0, s.count)
	for i, m := range s.members {
		if s.picked[i] {
			out = append(out, m.Contact.ID)
		}
	}
	return out
}

// Count returns the number of selected people; a person in several groups
// counts once.
func (s *Selection) Count() int { return s.count }

// IsSelected reports whether the contact is selected.
func (s *Selection) IsSelected(contactID string) bool {
	i, ok := s.index[contactID]
	return ok && s.picked[i]
}

// IsSelectedAt reports whether the member at position i of MemberView (and
// of Members) is selected: IsSelected without looking the contact up, for
// a caller that walks the members. A position out of range is not
// selected.
func (s *Selection) IsSelectedAt(i int) bool {
	return i >= 0 && i < len(s.picked) && s.picked[i]
}

// NotSelectable lists the members that cannot be selected, with the reason
// (Verdict.Err, matching ErrNoAddress, ErrInvalidAddress, channel.ErrOptedOut
// …) and the contact to fix (R3, R4).
func (s *Selection) NotSelectable() []Issue {
	var out []Issue
	for _, m := range s.members {
		if !m.Selectable() {
			out = append(out, Issue{ContactID: m.Contact.ID, Reason: m.Verdict.Err()})
		}
	}
	return out
}

// Warnings lists the selected members whose verdict is a Warning, with the
// reason (ErrNoConsent): the message may go to them, but the sender must see
// why it is flagged (R2).
func (s *Selection) Warnings() []Issue {
	var out []Issue
	for i, m := range s.members {
		if s.picked[i] && m.Verdict.Level == Warning {
			out = append(out, Issue{ContactID: m.Contact.ID, Reason: m.Verdict.Reasons[0]})
		}
	}
	return out
}

// Select selects one member. Selecting a selected member changes nothing.
// An unknown contact ID is an error matching ErrUnknownMember; a member who
// is not selectable, one matching ErrNotSelectable and the member's reasons.
func (s *Selection) Select(contactID string) error {
	i, err := s.lookup("select", contactID)
	if err != nil {
		return err
	}
	s.set(i, true)
	return nil
}

// Deselect deselects one member. Deselecting a member who is not selected
// changes nothing. An unknown contact ID is an error matching
// ErrUnknownMember; a member who is not selectable, one matching
// ErrNotSelectable and the member's reasons.
func (s *Selection) Deselect(contactID string) error {
	i, err := s.lookup("deselect", contactID)
	if err != nil {
		return err
	}
	s.set(i, false)
	return nil
}

// SelectGroup selects every selectable member of group g and marks the
// group selected; not-selectable members stay listed and unselected. A group
// the selection does not have is an error matching ErrUnknownGroup.
func (s *Selection) SelectGroup(g Group) error {
	if err := s.checkGroup(g); err != nil {
		return err
	}
	s.selectGroup(g)
	return nil
}

func (s *Selection) selectGroup(g Group) {
	s.chosen |= 1 << g
	for i, m := range s.members {
		if m.In(g) && m.Selectable() {
			s.set(i, true)
		}
	}
}

// DeselectGroup marks group g not selected and deselects its members, except
// those who are also in another group that is still selected: a person
// booked after cancelling stays selected when the cancelled group is
// deselected while the booked group is selected. A group the selection does
// not have is an error matching ErrUnknownGroup.
func (s *Selection) DeselectGroup(g Group) error {
	if err := s.checkGroup(g); err != nil {
		return err
	}
	s.chosen &^= 1 << g
	for i, m := range s.members {
		if m.In(g) && m.groups&s.chosen == 0 {
			s.set(i, false)
		}
	}
	return nil
}

func (s *Selection) checkGroup(g Group) error {
	if !g.valid() || s.has&(1<<g) == 0 {
		return fmt.Errorf("%w %v: the selection has %v", ErrUnknownGroup, g, s.Groups())
	}
	return nil
}

func (s *Selection) lookup(op, contactID string) (int, error) {
	i, ok := s.index[contactID]
	if !ok {
		return 0, fmt.Errorf("recipient: %s %q: %w", op, contactID, ErrUnknownMember)
	}
	if m := s.members[i]; !m.Selectable() {
		return 0, fmt.Errorf("recipient: %s %q: %w: %w", op, contactID, ErrNotSelectable, m.Verdict.Err())
	}
	return i, nil
}

func (s *Selection) set(i int, on bool) {
	if s.picked[i] == on {
		return
	}
	s.picked[i] = on
	if on {
		s.count++
	} else {
		s.count--
	}
}

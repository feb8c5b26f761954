package recipient

import (
	"reflect"
	"testing"

	"github.com/parleyhq/parley/channel"
)

// R3, R4: MemberView lists what Members lists, without a copy, and stays
// the same while members are selected and deselected; an append to it does
// not reach the selection.
func TestMemberView_R3(t *testing.T) {
	rules := newTestRules(t, Options{})
	s, err := rules.Event([]Attendee{
		{Contact: person("ana", "ana@example.com", ""), Group: Booked},
		{Contact: person("bob", "", ""), Group: Waitlisted},
		{Contact: person("ana", "ana@example.com", ""), Group: Cancelled},
		{Contact: person("cyd", "cyd@example.com", ""), Group: Cancelled},
	}, Target{Kind: channel.Email, Purpose: Transactional})
	if err != nil {
		t.Fatal(err)
	}
	view := s.MemberView()
	if !reflect.DeepEqual(view, s.Members()) {
		t.Fatalf("MemberView = %v, Members = %v", view, s.Members())
	}
	if err := s.SelectGroup(Booked); err != nil {
		t.Fatal(err)
	}
	if err := s.Select("cyd"); err != nil {
		t.Fatal(err)
	}
	if err := s.Deselect("ana"); err != nil {
		t.Fatal(err)
	}
	again := s.MemberView()
	if len(again) != 3 || &again[0] != &view[0] || !reflect.DeepEqual(again, s.Members()) {
		t.Fatalf("MemberView after selecting = %v, want the same members as before", again)
	}
	_ = append(view, Member{Contact: person("dan", "dan@example.com", "")})
	if got := len(s.Members()); got != 3 {
		t.Fatalf("%d members after an append to the view", got)
	}
}

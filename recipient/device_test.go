package recipient

import (
	"errors"
	"testing"

	"github.com/parleyhq/parley/channel"
)

// R2: a push token the provider retired is never the contact's push address;
// the next device is used, and a contact whose tokens are all retired has no
// valid device: blocked with ErrNoValidDevice, which is also ErrNoDevice.
func TestRetiredPushTokens_R2(t *testing.T) {
	rules, err := NewRules(Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := Contact{ID: "m1", PushTokens: []string{"phone-old", "tablet"}, RetiredPushTokens: []string{"phone-old"}}
	if got := c.Address(channel.Push); got != "tablet" {
		t.Errorf("Address(push) = %q, want the device that is not retired", got)
	}
	if v := rules.Check(c, channel.Push, Transactional, Facts{}); v.Level != Eligible {
		t.Errorf("one valid device left: verdict %v %v", v.Level, v.Reasons)
	}

	c.RetiredPushTokens = []string{"tablet", "phone-old"}
	if got := c.Address(channel.Push); got != "" {
		t.Errorf("Address(push) = %q with every token retired", got)
	}
	v := rules.Check(c, channel.Push, Transactional, Facts{})
	if v.Level != Blocked || len(v.Reasons) != 1 || !errors.Is(v.Reasons[0], ErrNoValidDevice) || !errors.Is(v.Reasons[0], ErrNoDevice) {
		t.Fatalf("every token retired: verdict %v %v, want blocked by ErrNoValidDevice (and ErrNoDevice)", v.Level, v.Reasons)
	}

	// no token at all is still the plain "no device", not "no valid device"
	v = rules.Check(Contact{ID: "m2"}, channel.Push, Transactional, Facts{})
	if len(v.Reasons) != 1 || !errors.Is(v.Reasons[0], ErrNoDevice) || errors.Is(v.Reasons[0], ErrNoValidDevice) {
		t.Errorf("no token: reasons %v", v.Reasons)
	}

	// R3: the member with only retired tokens is listed, not selectable,
	// with the reason
	sel, err := rules.Audience([]Contact{c, {ID: "m3", PushTokens: []string{"ok"}}}, Target{Kind: channel.Push, Purpose: Transactional})
	if err != nil {
		t.Fatal(err)
	}
	if got := sel.Selected(); len(got) != 1 || got[0] != "m3" {
		t.Errorf("selected %v, want [m3]", got)
	}
	ns := sel.NotSelectable()
	if len(ns) != 1 || ns[0].ContactID != "m1" || !errors.Is(ns[0].Reason, ErrNoValidDevice) {
		t.Errorf("not selectable %+v", ns)
	}
}

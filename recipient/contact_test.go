package recipient

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/parleyhq/parley/channel"
)

// R1: one address per channel kind.
func TestContactAddress_R1(t *testing.T) {
	c := Contact{Email: "h@example.fr", Phone: "+33612345678", PushTokens: []string{" ", "tok-2"}, AirbnbID: "th-1"}
	want := map[channel.Kind]string{
		channel.Email: "h@example.fr", channel.SMS: "+33612345678", channel.MMS: "+33612345678",
		channel.WhatsApp: "+33612345678", channel.Push: "tok-2", channel.Airbnb: "th-1", channel.Kind(0): "",
	}
	for k, w := range want {
		if got := c.Address(k); got != w {
			t.Errorf("Address(%v) = %q, want %q", k, got, w)
		}
	}
	if got := (Contact{FirstName: " Hélène ", LastName: "Dupont"}).Name(); got != "Hélène Dupont" {
		t.Errorf("Name = %q", got)
	}
	if got := (Contact{LastName: "Dupont"}).Name(); got != "Dupont" {
		t.Errorf("Name = %q", got)
	}
}

// R1: per-channel consent and opt-out sets.
func TestKindSet_R1(t *testing.T) {
	s := NewKindSet(channel.SMS, channel.Email, channel.Kind(0), channel.Kind(99))
	if !s.Has(channel.SMS) || !s.Has(channel.Email) || s.Has(channel.Push) || s.Has(channel.Kind(0)) {
		t.Fatalf("set %v", s)
	}
	if got := s.Kinds(); !slices.Equal(got, []channel.Kind{channel.Email, channel.SMS}) {
		t.Errorf("Kinds = %v", got)
	}
	if s.Without(channel.SMS).Has(channel.SMS) || !s.With(channel.Push).Has(channel.Push) {
		t.Error("With/Without")
	}
	if s.With(channel.Kind(99)) != s || s.Without(channel.Kind(99)) != s {
		t.Error("invalid kinds change the set")
	}
	b, err := json.Marshal(struct{ Consent KindSet }{s})
	if err != nil || string(b) != `{"Consent":"email,sms"}` {
		t.Fatalf("json = %s, %v", b, err)
	}
	var back struct{ Consent KindSet }
	if err := json.Unmarshal(b, &back); err != nil || back.Consent != s {
		t.Errorf("round trip = %v, %v", back.Consent, err)
	}
	var bad KindSet
	if err := bad.UnmarshalText([]byte("email,fax")); !errors.Is(err, channel.ErrUnknownKind) {
		t.Errorf("unknown kind: %v", err)
	}
	if err := bad.UnmarshalText([]byte("")); err != nil || bad != 0 {
		t.Errorf("empty text: %v, %v", bad, err)
	}
}

package memstore_test

import (
	"errors"
	"testing"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
)

// T2: the directory finds a contact by any of its addresses (SMS, MMS and
// WhatsApp share the phone), as it was last put; a contact put again
// leaves the addresses it no longer has, but not one another contact took
// meanwhile; what a caller does with a returned contact changes nothing
// kept.
func TestDirectoryContactByAddress(t *testing.T) {
	d := memstore.NewDirectory()
	put := func(c recipient.Contact) {
		t.Helper()
		if err := d.PutContact(c); err != nil {
			t.Fatal(err)
		}
	}
	find := func(kind channel.Kind, addr string) string {
		t.Helper()
		c, err := d.ContactByAddress(ctx, kind, addr)
		// ContactIDByAddress (inbox.ContactIDFinder) names the same contact
		id, idErr := d.ContactIDByAddress(ctx, kind, addr)
		if errors.Is(err, store.ErrNotFound) {
			if !errors.Is(idErr, store.ErrNotFound) {
				t.Errorf("%s %s: ContactIDByAddress = %q, %v; want ErrNotFound as ContactByAddress", kind, addr, id, idErr)
			}
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		if idErr != nil || id != c.ID {
			t.Errorf("%s %s: ContactIDByAddress = %q, %v; want %q", kind, addr, id, idErr, c.ID)
		}
		return c.ID + " " + c.FirstName
	}
	put(recipient.Contact{ID: "x", FirstName: "Marie", Phone: "+33611111111", Email: "marie@example.fr", PushTokens: []string{"tok"}})
	put(recipient.Contact{ID: "y", FirstName: "Paul", Email: "marie@example.fr"}) // takes x's e-mail
	for _, k := range []channel.Kind{channel.SMS, channel.MMS, channel.WhatsApp} {
		if got := find(k, "+33611111111"); got != "x Marie" {
			t.Errorf("%s +33611111111: %q, want x Marie", k, got)
		}
	}
	if got := find(channel.Email, "marie@example.fr"); got != "y Paul" {
		t.Errorf("marie@example.fr: %q, want y Paul", got)
	}
	if got := find(channel.Push, "tok"); got != "x Marie" {
		t.Errorf("push token: %q, want x Marie", got)
	}

	put(recipient.Contact{ID: "x", FirstName: "Marion", Phone: "+33622222222", Email: "marie@example.fr"})
	for addr, want := range map[string]string{"+33611111111": "", "+33622222222": "x Marion"} {
		if got := find(channel.SMS, addr); got != want {
			t.Errorf("after x changed, %s: %q, want %q", addr, got, want)
		}
	}
	if got := find(channel.Push, "tok"); got != "" {
		t.Errorf("after x changed, its old push token finds %q", got)
	}
	// x took the e-mail back when put again
	if got := find(channel.Email, "marie@example.fr"); got != "x Marion" {
		t.Errorf("after x changed, marie@example.fr: %q, want x Marion", got)
	}

	c, err := d.ContactByAddress(ctx, channel.SMS, "+33622222222")
	if err != nil {
		t.Fatal(err)
	}
	c.FirstName = "changed"
	if got := find(channel.SMS, "+33622222222"); got != "x Marion" {
		t.Errorf("a caller's change to a returned contact shows: %q", got)
	}
	if byID, err := d.Contact(ctx, "x"); err != nil || byID.FirstName != "Marion" || byID.Phone != "+33622222222" {
		t.Errorf("Contact(x) = %+v, %v", byID, err)
	}
	if _, err := d.ContactByAddress(ctx, channel.SMS, "+33699999999"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown address: %v, want ErrNotFound", err)
	}
}

// R3: an audience's members are served as a view of the directory's own,
// not copied for each send; an append to them copies, so the directory's
// members stay as put, and a PutAudience replaces them without changing
// what an earlier caller holds.
func TestDirectoryAudienceView(t *testing.T) {
	d := memstore.NewDirectory()
	ctx := t.Context()
	d.PutAudience(store.AudienceInfo{ID: "yoga", Name: "Yoga", Members: []recipient.Contact{{ID: "ana"}, {ID: "ben"}}})
	a, err := d.Audience(ctx, "yoga")
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Audience(ctx, "yoga")
	if err != nil {
		t.Fatal(err)
	}
	if &a.Members[0] != &b.Members[0] {
		t.Fatal("R3: each call copied the members")
	}
	_ = append(a.Members, recipient.Contact{ID: "cleo"})
	d.PutAudience(store.AudienceInfo{ID: "yoga", Name: "Yoga", Members: []recipient.Contact{{ID: "dan"}}})
	c, err := d.Audience(ctx, "yoga")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Members) != 2 || b.Members[0].ID != "ana" || b.Members[1].ID != "ben" || len(c.Members) != 1 || c.Members[0].ID != "dan" {
		t.Fatalf("R3: members %v then %v", b.Members, c.Members)
	}
}

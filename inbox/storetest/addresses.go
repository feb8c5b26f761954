package storetest

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
)

// testAddressForms: every address entering the inbox — a conversation
// started with an address, an inbound sender, a recorded recipient — is
// normalised with the recipient rules' phone parsing and default region, so
// that one person is one subject (T2, R6) and one opt-out (R5): with region
// FR, "06 12 34 56 78" is Hélène's +33612345678; without a region a
// national number keeps its digits and never becomes "+0612345678".
func testAddressForms(t *testing.T, ns func(*testing.T) store.Store) {
	rules, err := recipient.NewRules(recipient.Options{DefaultRegion: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, ns, inbox.Options{Rules: rules})
	h := e.start(contactSubject(helene))
	for _, a := range []string{"06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "0033 6 12 34 56 78", "+33 (0)6 12 34 56 78", "06.12.34.56.78"} {
		th, err := e.in.StartWithAddress(e.ctx, channel.SMS, a)
		e.must(err)
		if th.ID != h.ID {
			t.Errorf("T2: StartWithAddress(SMS, %q) started %v, want Hélène's thread", a, th.Subject)
		}
	}
	if th, err := e.in.StartWithAddress(e.ctx, channel.WhatsApp, "33612345678"); err != nil || th.ID != h.ID {
		t.Errorf("T2: WhatsApp digits without '+': %v, %v", th.Subject, err)
	}
	// an unknown sender writing in national format is the same subject as in E.164
	m1, err := e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.SMS, From: "06 11 22 33 99", Text: "STOP", ProviderID: "SMn1"})
	e.must(err)
	m2, err := e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.SMS, From: "+33611223399", Text: "oups", ProviderID: "SMn2"})
	e.must(err)
	th := e.thread(m1.ThreadID)
	if m2.ThreadID != m1.ThreadID || th.Subject != inbox.AddressSubject(channel.SMS, "+33611223399") || m1.Address != "+33611223399" {
		t.Errorf("T2: national and E.164 senders: threads %s and %s, subject %v, address %q", m1.ThreadID, m2.ThreadID, th.Subject, m1.Address)
	}
	for _, a := range []string{"+33611223399", "06 11 22 33 99"} {
		if out, err := e.in.OptedOut(e.ctx, channel.SMS, a); err != nil || !out {
			t.Errorf("R5: the STOP from 06 11 22 33 99 is not found as %q: %v, %v", a, out, err)
		}
	}
	// a recipient recorded in national format is stored in E.164, as the
	// sent-messages query (M7) looks it up
	_, ds, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: h.ID, Message: inbox.Message{Kind: channel.SMS, Text: "hello"},
		Deliveries: []inbox.Delivery{{ContactID: helene.ID, Address: "06 12 34 56 78", ProviderID: "SMo1"}}})
	e.must(err)
	if d, err := e.store.Delivery(e.ctx, ds[0].ID); err != nil || d.Address != helene.Phone {
		t.Errorf("R6: recorded recipient %q (%v), want %s", d.Address, err, helene.Phone)
	}

	// without a default region, national numbers keep their digits
	e2 := newEnv(t, ns, inbox.Options{})
	nat, err := e2.in.StartWithAddress(e2.ctx, channel.SMS, "0612345678")
	e2.must(err)
	if nat.Subject.ID != "tel:0612345678" {
		t.Errorf("T2: without a region 0612345678 is subject %q, want tel:0612345678", nat.Subject.ID)
	}
	if again, err := e2.in.StartWithAddress(e2.ctx, channel.SMS, "06 12 34 56 78"); err != nil || again.ID != nat.ID {
		t.Errorf("T2: without a region, 06 12 34 56 78 and 0612345678 are two subjects")
	}
	if intl, err := e2.in.StartWithAddress(e2.ctx, channel.SMS, "+33 6 12 34 56 78"); err != nil || intl.Subject != contactSubject(helene) {
		t.Errorf("T2: an international number with spaces, without a region: %v, %v", intl.Subject, err)
	}
}

// testPhoneSearchForms: search by phone (T13) also matches a number typed
// with the international prefix "00" or the trunk prefix "(0)" after the
// country code.
func testPhoneSearchForms(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	h := e.start(contactSubject(helene))
	e.start(contactSubject(marc))
	for _, q := range []string{"0033 6 12 34 56 78", "+33 (0)6 12 34 56 78", "0033612345678", "+33 (0)6 12 34", "+330612345678"} {
		if got := e.list(inbox.ThreadQuery{Search: q}, 10); !slices.Equal(got, []string{h.ID}) {
			t.Errorf("T13: search %q = %v, want [%s]", q, got, h.ID)
		}
	}
}

// testDuplicateKeyword: a duplicate STOP webhook that arrives after a START
// does not opt the contact out again: keywords are applied only for a
// message that was not stored yet (M5 before R5).
func testDuplicateKeyword(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	stop := channel.Inbound{Kind: channel.SMS, From: helene.Phone, Text: "STOP", ProviderID: "SM-stop"}
	start := channel.Inbound{Kind: channel.SMS, From: helene.Phone, Text: "START", ProviderID: "SM-start"}
	for i, step := range []struct {
		in      channel.Inbound
		wantOut bool
	}{{stop, true}, {start, false}, {stop, false}, {start, false}} {
		_, err := e.in.ReceiveMessage(e.ctx, step.in)
		e.must(err)
		out, err := e.in.OptedOut(e.ctx, channel.SMS, helene.Phone)
		e.must(err)
		if out != step.wantOut {
			t.Fatalf("R5/M5: after webhook %d (%s), opted out = %v, want %v", i+1, step.in.Text, out, step.wantOut)
		}
	}
	live, err := e.store.LiveThread(e.ctx, contactSubject(helene))
	e.must(err)
	if live.Messages != 2 {
		t.Fatalf("M5: %d messages stored, want 2", live.Messages)
	}
}

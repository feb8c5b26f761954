package inbox_test

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
)

// M4: a reply to a broadcast, simulated with the fake's Reply naming the
// message it answers, lands in the replier's own thread and keeps what it
// answers.
func TestReplyToBroadcast_M4(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Yoga moved to 19:00", Broadcast: "move"}); err != nil {
		t.Fatal(err)
	}
	fake := r.fakes[channel.SMS]
	var got inbox.Message
	fake.OnInbound(func(in channel.Inbound) {
		m, err := r.in.ReceiveMessage(r.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		got = m
	})
	var toBen string
	for _, s := range fake.Sent() {
		if s.Message.To == ben.Phone {
			toBen = s.Receipt.ProviderID
		}
	}
	fake.Reply(ben.Phone, "+33757000001", "OK pour 19h", toBen)
	own, err := r.in.Thread(r.ctx, got.ThreadID)
	if err != nil {
		t.Fatal(err)
	}
	if own.Subject != contactT("ben") || !slices.Equal(got.InReplyTo, []string{toBen}) {
		t.Fatalf("M4: reply in %v answering %v, want Ben's own thread answering %s", own.Subject, got.InReplyTo, toBen)
	}
}

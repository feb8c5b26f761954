package inbox_test

import (
	"context"
	"slices"
	"testing"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
)

// sharedDirectory is a directory whose Audience returns the members it
// keeps, not a copy (as memstore.Directory does): a send that marked its
// facts on them would change the host's records.
type sharedDirectory struct {
	inbox.Directory
	members []recipient.Contact
}

func (d *sharedDirectory) Audience(ctx context.Context, id string) (store.AudienceInfo, error) {
	return store.AudienceInfo{ID: id, Name: "Yoga", Members: d.members}, nil
}

// R5, C10: a send reads an audience's members without changing them: the
// recorded opt-out and the facts of each member's own thread are marked on
// the send's copy, so the directory's members stay as the host gave them,
// and the opted-out member is still not sent to.
func TestAudienceMembersUnchanged_R5_C10(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	members := []recipient.Contact{ana, ben}
	want := slices.Clone(members)
	dir := &sharedDirectory{Directory: r.dir, members: members}
	in, err := inbox.New(r.store, inbox.Options{Now: r.clock.Now, Directory: dir, Channels: r.reg})
	if err != nil {
		t.Fatal(err)
	}
	yoga, err := in.Start(r.ctx, store.Subject{Kind: store.Audience, ID: "yoga"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.ReceiveMessage(r.ctx, channel.Inbound{Kind: channel.SMS, From: ben.Phone, Text: "STOP", ProviderID: "stop-1"}); err != nil {
		t.Fatal(err)
	}
	res, err := in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Cours annulé ce soir"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deliveries) != 1 || res.Deliveries[0].ContactID != ana.ID {
		t.Fatalf("R5: %d deliveries, want Ana's only (Ben opted out)", len(res.Deliveries))
	}
	// C10: a WhatsApp preflight marks each member's own thread's facts
	if _, err := in.Preflight(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: yoga.ID, Text: "Bonjour"}); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		got := members[i]
		if got.OptedOut != want[i].OptedOut || got.Attributes != nil {
			t.Errorf("R5, C10: the directory's member %s changed: opted out of %v, attributes %v", got.ID, got.OptedOut, got.Attributes)
		}
	}
}

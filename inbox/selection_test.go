package inbox_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
)

// R3, R4, R5: the composer's selection comes from the inbox with the
// opt-outs it recorded applied, so a member who replied STOP shows as not
// selectable, and Send sends to exactly whom the selection shows selected.
func TestSelectionAppliesRecordedOptOuts_R3_R4_R5(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	if _, err := r.in.ReceiveMessage(r.ctx, channel.Inbound{Kind: channel.SMS, From: ben.Phone, Text: "STOP", ProviderID: "stop-1"}); err != nil {
		t.Fatal(err)
	}
	// the host's records do not know about the STOP: a selection built from
	// them alone would select Ben
	rules, err := recipient.NewRules(recipient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	naive, err := rules.Audience([]recipient.Contact{ana, ben, cleo}, recipient.Target{Kind: channel.SMS, Purpose: recipient.Transactional})
	if err != nil {
		t.Fatal(err)
	}
	if !naive.IsSelected(ben.ID) {
		t.Fatal("the host's records alone should select Ben")
	}

	d := inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Cours de yoga annulé ce soir"}
	sel, err := r.in.Selection(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if got := sel.Selected(); !slices.Equal(got, []string{ana.ID}) {
		t.Fatalf("R3, R5: selected %v, want [ana] (Ben opted out, Cléo has no phone)", got)
	}
	var benReason error
	for _, is := range sel.NotSelectable() {
		if is.ContactID == ben.ID {
			benReason = is.Reason
		}
	}
	var ke *recipient.KindError
	if !errors.Is(benReason, channel.ErrOptedOut) || !errors.As(benReason, &ke) || ke.Kind != channel.SMS {
		t.Fatalf("R5: Ben's reason %v, want opted out of sms", benReason)
	}
	if err := sel.Select(ben.ID); !errors.Is(err, recipient.ErrNotSelectable) {
		t.Fatalf("R5: selecting Ben: %v, want ErrNotSelectable", err)
	}

	d.Selection = sel
	p, err := r.in.Preflight(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.in.Send(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	var sentTo []string
	for _, dl := range res.Deliveries {
		sentTo = append(sentTo, dl.ContactID)
	}
	if !slices.Equal(sentTo, sel.Selected()) || p.Selected != sel.Count() {
		t.Fatalf("what the composer shows (%v) is not what preflight counts (%d) or Send sends to (%v)", sel.Selected(), p.Selected, sentTo)
	}

	// R4: an event selects nothing until a group is chosen
	pilates := r.thread(store.Subject{Kind: store.Event, ID: "pilates"})
	ev, err := r.in.Selection(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: pilates.ID})
	if err != nil || ev.Count() != 0 {
		t.Fatalf("R4: event selection without groups selects %d (%v)", ev.Count(), err)
	}
	ev, err = r.in.Selection(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: pilates.ID, Groups: []recipient.Group{recipient.Booked, recipient.Waitlisted}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.Selected(); !slices.Equal(got, []string{ana.ID}) {
		t.Fatalf("R4, R5: booked and waitlisted select %v, want [ana] (Ben, waitlisted, opted out)", got)
	}
	if _, err := r.in.Selection(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: "nope"}); !errors.Is(err, inbox.ErrNotFound) {
		t.Errorf("unknown thread: %v", err)
	}
}

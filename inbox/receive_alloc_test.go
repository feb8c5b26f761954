package inbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/recipient"
)

// T4, T5, R5, T20: receiving an SMS into a contact's existing thread
// stores it unread, moves the thread up and publishes its event with two
// allocations per message on average (the message's ID, and the sender's
// contact ID, which memstore's Directory copies out of the slot that holds
// it beside the address; the store's growth is a fraction of one, which
// AllocsPerRun's whole count drops): the message handed to the store and
// the feed event are reused buffers and the stop-keyword check folds on
// the stack.
func TestReceiveAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under the race detector are not the program's")
	}
	ctx := context.Background()
	dir := memstore.NewDirectory()
	const contacts = 50
	for i := range contacts {
		if err := dir.PutContact(recipient.Contact{ID: fmt.Sprintf("c%d", i), FirstName: "Marie", Phone: phone(i)}); err != nil {
			t.Fatal(err)
		}
	}
	clock := t0
	in, err := inbox.New(memstore.New(), inbox.Options{Directory: dir, Now: func() time.Time { return clock },
		NewID: countingIDs()})
	if err != nil {
		t.Fatal(err)
	}
	const runs = 2000
	pids := make([]string, runs+1) // AllocsPerRun calls once more first
	for i := range pids {
		pids[i] = fmt.Sprintf("SM%d", i)
	}
	froms := make([]string, contacts)
	for i := range froms {
		froms[i] = phone(i)
		if _, err := in.ReceiveMessage(ctx, channel.Inbound{Kind: channel.SMS, From: froms[i], Text: "Bonjour", ProviderID: fmt.Sprintf("seed%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	k := 0
	var last inbox.Message
	allocs := testing.AllocsPerRun(runs, func() {
		clock = clock.Add(time.Second)
		m, err := in.ReceiveMessage(ctx, channel.Inbound{Kind: channel.SMS, From: froms[k%contacts], Text: "Is there parking near the studio?", ProviderID: pids[k]})
		if err != nil {
			t.Fatal(err)
		}
		last = m
		k++
	})
	th, err := in.Thread(ctx, last.ThreadID)
	if err != nil {
		t.Fatal(err)
	}
	if !last.Unread || th.Unread == 0 || !th.SortTime.Equal(clock) {
		t.Errorf("last message unread %v, thread unread %d, sort time %v (want %v)", last.Unread, th.Unread, th.SortTime, clock)
	}
	if allocs > 2 {
		t.Errorf("a receive allocates %v times on average, want at most 2", allocs)
	}
}

package inbox_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// M1, S1: a send to one contact records its message and delivery, sends
// and records the outcome (validated, with the provider's ID) with 40
// allocations (ID generation included), as it did before a fan-out could
// batch its store writes: a fan-out whose workers take one delivery each
// does not batch, and a send's deliveries are built and cleaned without a
// closure unless in parts. The first batched fan-out made this send
// allocate 50 times (and 83 KB more).
func TestSendToOneContactAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under the race detector are not the program's")
	}
	ctx := context.Background()
	dir := memstore.NewDirectory()
	if err := dir.PutContact(recipient.Contact{ID: "c1", FirstName: "Marie", Phone: phone(1)}); err != nil {
		t.Fatal(err)
	}
	var sent int
	sender := channel.SenderFunc(func(ctx context.Context, m *channel.Message) (channel.Receipt, error) {
		sent++
		return channel.Receipt{ProviderID: "P" + strconv.Itoa(sent), Status: status.Validated}, nil
	})
	reg := channel.NewRegistry()
	if err := reg.Register(channel.SMS, sender, channel.Config{}); err != nil {
		t.Fatal(err)
	}
	clock := t0
	in, err := inbox.New(memstore.New(), inbox.Options{Directory: dir, Channels: reg, Now: func() time.Time { return clock },
		NewID: countingIDs()})
	if err != nil {
		t.Fatal(err)
	}
	th, err := in.Start(ctx, store.Subject{Kind: store.Contact, ID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	var last inbox.SendResult
	allocs := testing.AllocsPerRun(500, func() {
		clock = clock.Add(time.Second)
		res, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Your class starts at 6pm."})
		if err != nil {
			t.Fatal(err)
		}
		last = res
	})
	if len(last.Deliveries) != 1 || last.Deliveries[0].ProviderID != "P"+strconv.Itoa(sent) || last.Deliveries[0].Status.Current != status.Validated {
		t.Fatalf("last send: %+v", last.Deliveries)
	}
	if allocs > 44 {
		t.Errorf("a send to one contact allocates %v times, want at most 44 (40 measured)", allocs)
	}
}

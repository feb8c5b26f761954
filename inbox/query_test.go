package inbox_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
)

// T3, M2, M7: every paged query takes a query struct and pages with an
// opaque cursor that only its own query accepts; a Limit above MaxPageSize
// is clamped, a negative one refused; each has an All iterator.
func TestPagedQueries(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	th := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	ds := make([]inbox.Delivery, inbox.MaxPageSize+1)
	for i := range ds {
		ds[i] = inbox.Delivery{ContactID: fmt.Sprintf("c%03d", i), Address: fmt.Sprintf("+336%08d", i)}
	}
	m, _, err := r.in.RecordOutbound(r.ctx, inbox.Outgoing{ThreadID: th.ID,
		Message: inbox.Message{Kind: channel.SMS, Origin: inbox.Manual, Text: "Cours annulé", Broadcast: "annulation"}, Deliveries: ds})
	if err != nil {
		t.Fatal(err)
	}

	page, err := r.in.Deliveries(r.ctx, inbox.DeliveryQuery{MessageID: m.ID, Limit: 10 * inbox.MaxPageSize})
	if err != nil || len(page.Deliveries) != inbox.MaxPageSize || page.Next == "" {
		t.Fatalf("a limit above the maximum gives %d deliveries (%v), want %d and a next page", len(page.Deliveries), err, inbox.MaxPageSize)
	}
	if page.Next == page.Deliveries[len(page.Deliveries)-1].ID {
		t.Error("the deliveries cursor is the raw delivery ID, want an opaque cursor")
	}
	rest, err := r.in.Deliveries(r.ctx, inbox.DeliveryQuery{MessageID: m.ID, Cursor: page.Next})
	if err != nil || len(rest.Deliveries) != 1 || rest.Next != "" {
		t.Fatalf("second page: %d deliveries, next %q (%v)", len(rest.Deliveries), rest.Next, err)
	}
	sent, err := r.in.Sent(r.ctx, inbox.SentQuery{Campaign: "annulation", Limit: 2})
	if err != nil || len(sent.Deliveries) != 2 {
		t.Fatalf("M7: sent page %d (%v)", len(sent.Deliveries), err)
	}

	// a cursor of one query is refused by another, and a raw ID everywhere
	bad := map[string]func() error{
		"deliveries cursor to Sent": func() error {
			_, err := r.in.Sent(r.ctx, inbox.SentQuery{Cursor: page.Next})
			return err
		},
		"sent cursor to Deliveries": func() error {
			_, err := r.in.Deliveries(r.ctx, inbox.DeliveryQuery{MessageID: m.ID, Cursor: sent.Next})
			return err
		},
		"deliveries cursor to Messages": func() error {
			_, err := r.in.Messages(r.ctx, inbox.MessageQuery{ThreadID: th.ID, Cursor: page.Next})
			return err
		},
		"deliveries cursor to Threads": func() error {
			_, err := r.in.Threads(r.ctx, inbox.ThreadQuery{Cursor: page.Next})
			return err
		},
		"raw delivery ID": func() error {
			_, err := r.in.Deliveries(r.ctx, inbox.DeliveryQuery{MessageID: m.ID, Cursor: page.Deliveries[0].ID})
			return err
		},
		"negative limit": func() error {
			_, err := r.in.Messages(r.ctx, inbox.MessageQuery{ThreadID: th.ID, Limit: -1})
			return err
		},
		"no message ID": func() error {
			_, err := r.in.Deliveries(r.ctx, inbox.DeliveryQuery{})
			return err
		},
	}
	for name, call := range bad {
		if err := call(); !errors.Is(err, inbox.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
	if _, err := r.in.Deliveries(r.ctx, inbox.DeliveryQuery{MessageID: "nope"}); !errors.Is(err, inbox.ErrNotFound) {
		t.Errorf("deliveries of an unknown message: %v, want ErrNotFound", err)
	}

	// the iterators walk every page
	count := func(seq func(func(inbox.Delivery, error) bool)) int {
		n := 0
		for _, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	if n := count(r.in.AllDeliveries(r.ctx, inbox.DeliveryQuery{MessageID: m.ID, Limit: 100})); n != len(ds) {
		t.Errorf("AllDeliveries: %d, want %d", n, len(ds))
	}
	if n := count(r.in.AllSent(r.ctx, inbox.SentQuery{Campaign: "annulation", Limit: 100})); n != len(ds) {
		t.Errorf("AllSent: %d, want %d", n, len(ds))
	}
	for i := range 3 {
		r.clock.Advance(time.Minute)
		if _, err := r.in.ReceiveMessage(r.ctx, channel.Inbound{Kind: channel.SMS, From: ana.Phone, Text: fmt.Sprint("msg ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	own := r.thread(contactT("ana"))
	var texts []string
	for msg, err := range r.in.AllMessages(r.ctx, inbox.MessageQuery{ThreadID: own.ID, Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, msg.Text)
	}
	if fmt.Sprint(texts) != "[msg 0 msg 1 msg 2]" {
		t.Errorf("AllMessages = %q", texts)
	}
	for _, err := range r.in.AllMessages(r.ctx, inbox.MessageQuery{ThreadID: own.ID, Cursor: "garbage"}) {
		if !errors.Is(err, inbox.ErrInvalidArgument) {
			t.Errorf("AllMessages with a bad cursor yields %v", err)
		}
	}
}

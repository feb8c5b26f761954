package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// strictDeliveries is strictStore refusing a delivery write with text
// PostgreSQL refuses too.
type strictDeliveries struct{ *strictStore }

func (s strictDeliveries) WriteDelivery(ctx context.Context, d store.Delivery, events ...store.FeedEvent) error {
	texts := []string{d.ContactID, d.Address, d.Identity, d.Reason, d.Campaign, d.Anchor, d.AnchorRule}
	for _, c := range d.Status.History {
		texts = append(texts, c.Raw, c.ErrorCode, c.ErrorMessage)
	}
	if err := s.check(texts, d.ProviderID); err != nil {
		return err
	}
	return s.strictStore.WriteDelivery(ctx, d, events...)
}

// S1, M2: what a provider answers a send with (its message ID, its error
// text) is recorded on the delivery as clean text, however it comes: a
// store that refuses invalid UTF-8 and NUL (as PostgreSQL does) records
// every outcome, the accepted and the failed.
func TestOutcomeTextsCleaned_S1(t *testing.T) {
	st := strictDeliveries{&strictStore{Store: memstore.New()}}
	dir := memstore.NewDirectory()
	dir.PutAudience(store.AudienceInfo{ID: "yoga", Name: "Yoga", Members: []recipient.Contact{ana, ben}})
	var n atomic.Int64
	sender := channel.SenderFunc(func(ctx context.Context, m *channel.Message) (channel.Receipt, error) {
		if m.To == ben.Phone {
			return channel.Receipt{}, errors.New("no route to \xff\x00 number")
		}
		return channel.Receipt{ProviderID: fmt.Sprintf("P\xff\x00%d", n.Add(1)), Status: status.Validated}, nil
	})
	reg := channel.NewRegistry()
	if err := reg.Register(channel.SMS, sender, channel.Config{}); err != nil {
		t.Fatal(err)
	}
	in, err := inbox.New(st, inbox.Options{Directory: dir, Channels: reg, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	th, err := in.Start(ctx, store.Subject{Kind: store.Audience, ID: "yoga"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Cours annulé"})
	if err != nil {
		t.Fatalf("S1: send: %v", err)
	}
	for _, sent := range res.Deliveries {
		d, err := st.Delivery(ctx, sent.ID)
		if err != nil {
			t.Fatal(err)
		}
		clean := func(s string) bool { return utf8.ValidString(s) && !strings.Contains(s, "\x00") }
		switch d.ContactID {
		case ana.ID:
			if d.Status.Current != status.Validated || d.ProviderID == "" || !clean(d.ProviderID) || !d.Sending.IsZero() {
				t.Errorf("S1: Ana's delivery %s, provider ID %q, sending %v", d.Status.Current, d.ProviderID, d.Sending)
			}
		case ben.ID:
			last := d.Status.History[len(d.Status.History)-1]
			if d.Status.Current != status.Failed || !strings.HasPrefix(d.Reason, "no route") || !clean(d.Reason) ||
				!clean(last.ErrorMessage) || !strings.HasPrefix(last.ErrorMessage, "no route") || !d.Sending.IsZero() {
				t.Errorf("S1: Ben's delivery %s, reason %q, last change %+v", d.Status.Current, d.Reason, last)
			}
		}
	}
}

package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// textOnlyStore refuses to look up a delivery ID that is not clean text, as
// PostgreSQL refuses invalid UTF-8 and NUL in a text parameter: an error a
// retry cannot fix, which an uncleaned reference would surface.
type textOnlyStore struct{ *memstore.Store }

func (s textOnlyStore) Delivery(ctx context.Context, id string) (store.Delivery, error) {
	if !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
		return store.Delivery{}, fmt.Errorf("textOnlyStore: delivery ID %q is not text", id)
	}
	return s.Store.Delivery(ctx, id)
}

// S4: the recipient and reference of a status update are cleaned where
// they are read, for an update whose provider ID no delivery has: a
// reference that is not clean text names no delivery (the store is not
// asked for it), and the unknown-status event carries the recipient as
// clean text.
func TestStatusRefsCleaned_S4(t *testing.T) {
	ctx := context.Background()
	s := textOnlyStore{memstore.New()}
	in, err := inbox.New(s, inbox.Options{Logger: quiet, StatusWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub := in.Subscribe(subCtx)
	ds := recordPendingSMS(t, ctx, in, sub)
	// the delivery's ID with a byte that is not text: no delivery has it
	err = in.ApplyStatus(ctx, channel.StatusUpdate{Kind: channel.SMS, ProviderID: "SM-1", Status: status.Delivered,
		Reference: ds[0].ID + "\xff", Recipient: "+3361234\xff5678"})
	if !errors.Is(err, channel.ErrUnknownMessage) {
		t.Fatalf("ApplyStatus = %v, want ErrUnknownMessage", err)
	}
	d, err := s.Delivery(ctx, ds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.ProviderID != "" || d.Status.Current != status.Pending {
		t.Fatalf("delivery %+v took the update of another reference", d)
	}
	e := <-sub.C()
	if e.Type != inbox.EventUnknownStatus || !utf8.ValidString(e.Address) || e.Address == "" {
		t.Fatalf("event %v %q, want an unknown status with a clean address", e.Type, e.Address)
	}
}

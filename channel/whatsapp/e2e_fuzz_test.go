package whatsapp_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/whatsapp"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	istore "github.com/parleyhq/parley/inbox/store"
)

// errStoreDown is what failingStore returns while it is failing.
var errStoreDown = errors.New("store: connection refused")

// failingStore is the in-memory store, failing every read and write the
// inbox makes to take a webhook while failing is set: the one case in which
// the Handler may answer 5xx.
type failingStore struct {
	*memstore.Store
	failing atomic.Bool
}

func (s *failingStore) fail() error {
	if s.failing.Load() {
		return errStoreDown
	}
	return nil
}

func (s *failingStore) Thread(ctx context.Context, id string) (istore.Thread, error) {
	if err := s.fail(); err != nil {
		return istore.Thread{}, err
	}
	return s.Store.Thread(ctx, id)
}

func (s *failingStore) LiveThread(ctx context.Context, sub istore.Subject) (istore.Thread, error) {
	if err := s.fail(); err != nil {
		return istore.Thread{}, err
	}
	return s.Store.LiveThread(ctx, sub)
}

func (s *failingStore) MessageByProviderID(ctx context.Context, id string) (istore.Message, error) {
	if err := s.fail(); err != nil {
		return istore.Message{}, err
	}
	return s.Store.MessageByProviderID(ctx, id)
}

func (s *failingStore) DeliveryByProviderID(ctx context.Context, id string) (istore.Delivery, error) {
	if err := s.fail(); err != nil {
		return istore.Delivery{}, err
	}
	return s.Store.DeliveryByProviderID(ctx, id)
}

func (s *failingStore) WriteThread(ctx context.Context, w istore.ThreadWrite) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.WriteThread(ctx, w)
}

func (s *failingStore) WriteDelivery(ctx context.Context, d istore.Delivery) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.WriteDelivery(ctx, d)
}

func (s *failingStore) SetOptOut(ctx context.Context, k channel.Kind, addr string, out bool) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.SetOptOut(ctx, k, addr, out)
}

// refusals records the errors the inbox returned, by provider ID.
type refusals struct {
	channel.Receiver
	errs map[string]error
}

func (r *refusals) Receive(ctx context.Context, in channel.Inbound) error {
	err := r.Receiver.Receive(ctx, in)
	if err != nil {
		r.errs[in.ProviderID] = err
	}
	return err
}

// FuzzHandlerEndToEnd: any signed notification goes through the Handler
// into a real inbox on the in-memory store and is answered 200, 400 or 413;
// 5xx only when the store fails. Statuses of messages the inbox never sent
// (every status here) never fail their batch, and a notification answered
// 200 has every message it carries in the store, but those the inbox
// refused for good (a typed permanent error, logged).
func FuzzHandlerEndToEnd(f *testing.F) {
	for _, b := range seedBodies(f) {
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, body []byte, storeDown bool) {
		st := &failingStore{Store: memstore.New()}
		// StatusWait -1: the inbox sends nothing here, so no status can race
		// its send's outcome; the default wait (5 s for each unknown
		// status) would only slow every input down.
		ib, err := inbox.New(st, inbox.Options{Now: func() time.Time { return testNow }, StatusWait: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer ib.Close()
		rec := &refusals{Receiver: ib, errs: map[string]error{}}
		h := newTestHandler(t, rec, nil)
		st.failing.Store(storeDown)
		w := post(h, body, "")
		st.failing.Store(false)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		case http.StatusInternalServerError:
			if !storeDown {
				t.Fatalf("5xx without a store failure: %s", w.Body)
			}
			return
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if w.Code != http.StatusOK {
			return
		}
		n, err := whatsapp.ParseNotification(body)
		if err != nil {
			t.Fatalf("answered 200 for a body that does not parse: %v", err)
		}
		ctx := context.Background()
		for _, in := range n.Inbound {
			if _, err := st.Store.MessageByProviderID(ctx, in.ProviderID); err != nil {
				if refused := rec.errs[in.ProviderID]; !errors.Is(refused, channel.ErrInvalidMessage) && !errors.Is(refused, channel.ErrPermanent) {
					t.Fatalf("message %q answered 200 but not stored: %v (inbox: %v)", in.ProviderID, err, refused)
				}
			}
		}
		if len(n.Statuses) > 0 && !storeDown {
			// every status was of an unknown message: acknowledged, and the
			// same notification again is answered 200 too (M5, S2)
			if again := post(h, body, ""); again.Code != http.StatusOK {
				t.Fatalf("redelivery: %d %s", again.Code, again.Body)
			}
		}
	})
}

package twilio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/channel/twilio"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
)

// errStoreDown is what failingStore returns while it is failing.
var errStoreDown = errors.New("store: connection refused")

// failingStore is the in-memory store, failing every read and write the
// inbox makes to take a webhook while failing is set: the one case in which
// a handler may answer 5xx.
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

func (s *failingStore) Thread(ctx context.Context, id string) (store.Thread, error) {
	if err := s.fail(); err != nil {
		return store.Thread{}, err
	}
	return s.Store.Thread(ctx, id)
}

func (s *failingStore) LiveThread(ctx context.Context, sub store.Subject) (store.Thread, error) {
	if err := s.fail(); err != nil {
		return store.Thread{}, err
	}
	return s.Store.LiveThread(ctx, sub)
}

func (s *failingStore) MessageByProviderID(ctx context.Context, id string) (store.Message, error) {
	if err := s.fail(); err != nil {
		return store.Message{}, err
	}
	return s.Store.MessageByProviderID(ctx, id)
}

func (s *failingStore) DeliveryByProviderID(ctx context.Context, id string) (store.Delivery, error) {
	if err := s.fail(); err != nil {
		return store.Delivery{}, err
	}
	return s.Store.DeliveryByProviderID(ctx, id)
}

func (s *failingStore) WriteThread(ctx context.Context, w store.ThreadWrite) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.WriteThread(ctx, w)
}

func (s *failingStore) WriteDelivery(ctx context.Context, d store.Delivery) error {
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

// e2e is a Twilio Handler in front of a real inbox on the in-memory store,
// which has sent one SMS (sentSID) so that status callbacks can find it.
type e2e struct {
	h       *twilio.Handler
	ib      *inbox.Inbox
	st      *failingStore
	sentSID string
}

// sentSIDPrefix makes the fake's provider IDs message SIDs, apart from
// those of the inbound seeds (sid(n)).
const sentSIDPrefix = "SMffffffffffffffffffffffffff"

func newE2E(t testing.TB) *e2e {
	t.Helper()
	now := func() time.Time { return clock }
	sms := channeltest.NewFake(channel.SMS, channeltest.Options{Now: now, IDPrefix: sentSIDPrefix})
	reg := channel.NewRegistry()
	if err := reg.Register(channel.SMS, sms, channel.Config{Identities: []channel.Identity{{ID: "desk", Address: "+33757000001", TwoWay: true}}}); err != nil {
		t.Fatal(err)
	}
	st := &failingStore{Store: memstore.New()}
	// StatusWait -1: the one message sent is recorded before any input
	// arrives, so no status can race its send's outcome; the default wait
	// (5 s for each status of another SID) would only slow every input
	// down.
	ib, err := inbox.New(st, inbox.Options{Now: now, Channels: reg, StatusWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ib.Close() })
	ctx := context.Background()
	th, err := ib.StartWithAddress(ctx, channel.SMS, "+33612345678")
	if err != nil {
		t.Fatal(err)
	}
	res, err := ib.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Your class is at 6pm", Author: inbox.Author{Agent: "lea"}})
	if err != nil || len(res.Deliveries) != 1 {
		t.Fatalf("send: %v %+v", err, res)
	}
	h, err := twilio.NewHandler(twilio.HandlerConfig{AccountSID: accountSID, AuthToken: hookToken, BaseURL: hookBase, Now: now}, ib)
	if err != nil {
		t.Fatal(err)
	}
	return &e2e{h: h, ib: ib, st: st, sentSID: res.Deliveries[0].ProviderID}
}

// post signs params as Twilio does, form-encoded or as a JSON object, and
// posts them to the Handler.
func (e *e2e) post(t testing.TB, params url.Values, asJSON bool) *httptest.ResponseRecorder {
	t.Helper()
	var r *http.Request
	if asJSON {
		obj := map[string]string{}
		for k := range params {
			obj[k] = params.Get(k)
		}
		body, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		target := hookPath + "&bodySHA256=" + twilio.BodySHA256(body)
		r = httptest.NewRequest(http.MethodPost, target, strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(twilio.SignatureHeader, twilio.Signature(hookToken, hookBase+target, nil))
	} else {
		r = httptest.NewRequest(http.MethodPost, hookPath, strings.NewReader(params.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set(twilio.SignatureHeader, twilio.Signature(hookToken, hookBase+hookPath, params))
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// FuzzHandlerEndToEnd: any signed webhook, form-encoded or JSON, inbound or
// status, goes through the Handler into a real inbox on the in-memory store
// and is answered with one of the Handler's codes; 5xx only when the store
// fails. An inbound message answered 200 is in the store (M5: once), and a
// status answered 200 is a status of the sent message or one the inbox did
// not know (acknowledged).
func FuzzHandlerEndToEnd(f *testing.F) {
	sent := sentSIDPrefix + "000001"
	seeds := []url.Values{
		inboundSMS(sid(1), "Can I move my class to 6pm?"),
		inboundSMS(sid(2), "STOP"),
		inboundSMS(sid(3), "bad \xff\xfe utf-8 and a NUL \x00 byte"),
		inboundSMS(sid(4), strings.Repeat("longword", 400)),
		statusCallback(sent, "delivered"),
		statusCallback(sent, "undelivered"),
		statusCallback(sid(99), "delivered"), // a message sent outside Parley
		statusCallback(sent+"NumMedia0", "sent"),
	}
	mms := inboundSMS(mmSID, "")
	mms.Set("NumMedia", "1")
	mms.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/"+accountSID+"/Messages/"+mmSID+"/Media/ME1")
	mms.Set("MediaContentType0", "image/jpeg")
	wa := inboundSMS(sid(5), "")
	wa.Set("From", "whatsapp:+33612345678")
	wa.Set("To", "whatsapp:+33757000001")
	wa.Set("ButtonText", "Confirm")
	wa.Set("OriginalRepliedMessageSid", sent)
	seeds = append(seeds, mms, wa)
	for _, p := range seeds {
		f.Add(p.Encode(), false, false)
		f.Add(p.Encode(), true, false)
		f.Add(p.Encode(), false, true)
	}
	f.Fuzz(func(t *testing.T, form string, asJSON, storeDown bool) {
		params, err := url.ParseQuery(form)
		if err != nil {
			return // the handler refuses it before anything; FuzzHandler covers it
		}
		e := newE2E(t)
		e.st.failing.Store(storeDown)
		w := e.post(t, params, asJSON)
		e.st.failing.Store(false)
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
		sid := params.Get("MessageSid")
		if sid == "" {
			sid = params.Get("SmsSid")
		}
		raw := params.Get("MessageStatus")
		if raw == "" {
			raw = params.Get("SmsStatus")
		}
		ctx := context.Background()
		if raw == "" || raw == "received" || raw == "receiving" {
			if _, err := e.st.Store.MessageByProviderID(ctx, sid); err != nil {
				t.Fatalf("inbound %s answered 200 but not stored: %v", sid, err)
			}
			// M5: the same webhook again stores nothing new.
			if again := e.post(t, params, asJSON); again.Code != http.StatusOK {
				t.Fatalf("duplicate: %d %s", again.Code, again.Body)
			}
			return
		}
		if sid != e.sentSID {
			if _, err := e.st.Store.DeliveryByProviderID(ctx, sid); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("status of unknown %s: %v", sid, err)
			}
		}
	})
}

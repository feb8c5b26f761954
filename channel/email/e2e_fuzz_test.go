package email_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/email"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
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

func (s *failingStore) WriteThread(ctx context.Context, w store.ThreadWrite) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.WriteThread(ctx, w)
}

// e2eSecrets are the relay's and the reply addresses' secrets.
var (
	e2eRelaySecret = []byte("relay-secret-0123456789abcdef")
	e2eReplySecret = []byte("reply-secret-0123456789abcdef")
	e2eNow         = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
)

// FuzzHandlerEndToEnd: any raw message the relay signs goes through the
// Handler into a real inbox on the in-memory store and is answered 200, 400
// or 413; 5xx only when the store fails. A message answered 200 is in the
// store (once, M5), with its text or marked truncated.
func FuzzHandlerEndToEnd(f *testing.F) {
	reply, err := email.ReplyAddress(e2eReplySecret, "reply@in.hotel.example", "id0001")
	if err != nil {
		f.Fatal(err)
	}
	for _, raw := range []string{
		"From: Jane <jane@example.org>\r\nTo: front@hotel.example\r\nSubject: Re: stay\r\nMessage-ID: <r1@example.org>\r\n" +
			"In-Reply-To: <out-1@hotel.example>\r\n\r\nSee you!\r\n\r\nOn Sat, Mar 14, 2026 at 9:30 AM Hotel <front@hotel.example> wrote:\r\n> Hi\r\n",
		"From: a@example.com\r\nTo: " + reply + "\r\nSubject: invoice\r\n\r\nPlease send the invoice.\r\n",
		"From: a@example.com\r\nMessage-ID: <nul@example.com>\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nbad \xff bytes and \x00 NUL\r\n",
		"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nbroken",
		"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: multipart/alternative; boundary=C\r\n\r\n" +
			"--C\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>desk</b></p>\r\n--C--\r\n--B\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=a.png\r\n\r\npng\r\n--B--\r\n",
		"Subject: no sender\r\n\r\nbody",
		"From: " + strings.Repeat("x", 3000) + "@example.com\r\n\r\n" + strings.Repeat("word ", 100),
	} {
		f.Add([]byte(raw), false)
		f.Add([]byte(raw), true)
	}
	f.Fuzz(func(t *testing.T, raw []byte, storeDown bool) {
		st := &failingStore{Store: memstore.New()}
		ib, err := inbox.New(st, inbox.Options{Now: func() time.Time { return e2eNow }})
		if err != nil {
			t.Fatal(err)
		}
		defer ib.Close()
		h, err := email.NewHandler(email.HandlerConfig{Secret: e2eRelaySecret, ReplySecrets: [][]byte{e2eReplySecret},
			MaxBytes: 1 << 20, Now: func() time.Time { return e2eNow }}, ib)
		if err != nil {
			t.Fatal(err)
		}
		post := func() *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodPost, "/webhooks/email", bytes.NewReader(raw))
			r.Header.Set("Content-Type", "message/rfc822")
			r.Header.Set(email.SignatureHeader, email.Sign(e2eRelaySecret, e2eNow, raw))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
		st.failing.Store(storeDown)
		w := post()
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
		p := email.Parser{ReplySecrets: [][]byte{e2eReplySecret}, MaxBytes: 1 << 20, Now: func() time.Time { return e2eNow }}
		in, err := p.Parse(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("answered 200 for a message that does not parse: %v", err)
		}
		m, err := st.Store.MessageByProviderID(context.Background(), in.ProviderID)
		if err != nil {
			t.Fatalf("message %q answered 200 but not stored: %v", in.ProviderID, err)
		}
		if m.Direction != store.Inbound || m.Kind != channel.Email {
			t.Fatalf("stored %+v", m)
		}
		// M5: the relay's retry of the same message is answered 200.
		if again := post(); again.Code != http.StatusOK {
			t.Fatalf("redelivery: %d %s", again.Code, again.Body)
		}
	})
}

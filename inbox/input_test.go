package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
	"github.com/parleyhq/parley/recipient"
)

// strictStore is memstore refusing, with store.ErrInvalid, what PostgreSQL
// refuses: text that is not valid UTF-8 or holds NUL, keys and index
// entries over maxEntry bytes, times outside years 1 to 9999. failing, when
// set, makes every call fail with a transient error.
type strictStore struct {
	*memstore.Store
	failing bool
}

// maxEntry is below PostgreSQL's largest index entry (about 2,700 bytes)
// with room for the keys' prefixes.
const maxEntry = 2000

var errOutage = errors.New("strict store: connection refused")

func (s *strictStore) check(texts []string, keys ...string) error {
	if s.failing {
		return errOutage
	}
	for _, t := range append(texts, keys...) {
		if !utf8.ValidString(t) || strings.Contains(t, "\x00") {
			return fmt.Errorf("%w: text %q", store.ErrInvalid, t)
		}
	}
	for _, k := range keys {
		if len(k) > maxEntry {
			return fmt.Errorf("%w: key of %d bytes", store.ErrInvalid, len(k))
		}
	}
	return nil
}

func okTime(t time.Time) bool { return t.IsZero() || t.Year() >= 1 && t.Year() <= 9999 }

func (s *strictStore) WriteThread(ctx context.Context, w store.ThreadWrite) error {
	t := w.Thread
	sn := t.Snapshot
	texts := []string{sn.FirstName, sn.LastName, sn.Name, sn.Email, sn.Phone, t.Preview, t.Assignee}
	var keys []string
	keys = append(keys, t.ID, t.Subject.ID)
	keys = append(keys, textindex.SubjectWords(sn)...)
	keys = append(keys, textindex.PhoneForms(sn.Phone)...)
	if m := w.Message; m != nil {
		texts = append(texts, m.Subject, m.Text, m.HTML, m.Identity, m.Address)
		texts = append(texts, m.InReplyTo...)
		for _, a := range m.Attachments {
			texts = append(texts, a.Name, a.ContentType, a.URL)
		}
		keys = append(keys, m.ProviderID)
		keys = append(keys, textindex.MessageWords(m.Text)...)
		if !okTime(m.CreatedAt) || !okTime(m.SentAt) {
			return fmt.Errorf("%w: time out of range", store.ErrInvalid)
		}
	}
	if err := s.check(texts, keys...); err != nil {
		return err
	}
	return s.Store.WriteThread(ctx, w)
}

func (s *strictStore) LiveThread(ctx context.Context, sub store.Subject) (store.Thread, error) {
	if err := s.check(nil, sub.ID); err != nil {
		return store.Thread{}, err
	}
	return s.Store.LiveThread(ctx, sub)
}

func (s *strictStore) Thread(ctx context.Context, id string) (store.Thread, error) {
	if err := s.check(nil, id); err != nil {
		return store.Thread{}, err
	}
	return s.Store.Thread(ctx, id)
}

func (s *strictStore) MessageByProviderID(ctx context.Context, pid string) (store.Message, error) {
	if err := s.check(nil, pid); err != nil {
		return store.Message{}, err
	}
	return s.Store.MessageByProviderID(ctx, pid)
}

func (s *strictStore) SetOptOut(ctx context.Context, kind channel.Kind, addr string, out bool) error {
	if err := s.check(nil, addr); err != nil {
		return err
	}
	return s.Store.SetOptOut(ctx, kind, addr, out)
}

// FuzzReceiveMessage feeds ReceiveMessage any input a webhook could carry,
// on a store that refuses what PostgreSQL refuses: the inbox makes every
// message storable, so it is stored (or, with no kind or no sender, refused
// as channel.ErrInvalidMessage), stored once however often it comes (M5),
// and nothing but a failing store gives a retryable error.
func FuzzReceiveMessage(f *testing.F) {
	f.Add(uint8(channel.SMS), "+33612345678", "+33757000001", "", "STOP", "", "SM1", "", "", "", false, int64(0))
	f.Add(uint8(channel.Email), "Marc@Example.FR\x00", "hello@studio\xff", "Re\x00: r\xe9s", "Bonjour\x00 \xff", "<p>\x00</p>",
		"<bad\xff\x00id@mail>", "plan\x00.pdf", "application/pdf\x00", "\xff\x00tok", true, int64(1e12))
	f.Add(uint8(channel.WhatsApp), "33612345678", "", "", strings.Repeat("x", 3000), "", strings.Repeat("w", 3000), "", "", "", false, int64(-1e12))
	f.Add(uint8(channel.SMS), "06 12 34 56 78", "", "", "arrêt", "", "", "", "", "", false, int64(0))
	f.Add(uint8(channel.Email), strings.Repeat("é", 1500)+"@x.fr", "", strings.Repeat("\xff", 100), "", "", "<a@b>", "", "", "", false, int64(0))
	f.Add(uint8(0), "x", "", "", "", "", "", "", "", "", false, int64(0))
	f.Fuzz(func(t *testing.T, kind uint8, from, to, subject, text, html, pid, attName, attType, token string, truncated bool, unix int64) {
		dir := memstore.NewDirectory()
		if err := dir.PutContact(recipient.Contact{ID: "c-ana", FirstName: "Ana", Phone: "+33612345678", Email: "ana@example.fr"}); err != nil {
			t.Fatal(err)
		}
		s := &strictStore{Store: memstore.New()}
		rules, err := recipient.NewRules(recipient.Options{DefaultRegion: "FR"})
		if err != nil {
			t.Fatal(err)
		}
		in, err := inbox.New(s, inbox.Options{Directory: dir, Rules: rules, Logger: quiet, Now: func() time.Time { return t0 }})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		msg := channel.Inbound{Kind: channel.Kind(kind), From: from, To: to, Subject: subject, Text: text, HTML: html, ProviderID: pid,
			ThreadToken: token, Truncated: truncated, ReceivedAt: time.Unix(unix, 0),
			Attachments: []channel.Attachment{{Name: attName, ContentType: attType}}}
		ctx := context.Background()
		m, err := in.ReceiveMessage(ctx, msg)
		switch {
		case errors.Is(err, inbox.ErrUnstorable):
			t.Fatalf("the store refused what the inbox let through: %v", err)
		case errors.Is(err, channel.ErrInvalidMessage):
			return // no kind, or no sender: refused for good, as it should be
		case err != nil:
			t.Fatalf("a retryable error with a working store: %v", err)
		}
		if m.Truncated != truncated || m.Direction != inbox.Inbound {
			t.Fatalf("stored %+v", m)
		}
		again, err := in.ReceiveMessage(ctx, msg)
		if err != nil {
			t.Fatalf("the same webhook again: %v", err)
		}
		if m.ProviderID != "" && again.ID != m.ID {
			t.Fatalf("M5: the same webhook twice stored %s and %s", m.ID, again.ID)
		}
		s.failing = true
		if _, err := in.ReceiveMessage(ctx, msg); err == nil || errors.Is(err, channel.ErrInvalidMessage) {
			t.Fatalf("a failing store: err = %v, want a retryable error", err)
		}
	})
}

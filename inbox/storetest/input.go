package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// noise returns n characters of [a-z0-9] that compress badly, the same for
// a seed.
func noise(seed uint64, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	rng := rand.New(rand.NewPCG(seed, 99))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// clean reports whether s is what every store keeps: valid UTF-8 without
// NUL.
func clean(s string) bool { return utf8.ValidString(s) && !strings.Contains(s, "\x00") }

// refusing is a store whose thread writes fail with err.
type refusing struct {
	store.Store
	err error
}

func (s refusing) WriteThread(context.Context, store.ThreadWrite) error { return s.err }

// testInput: input that can never be stored as it came (poison messages)
// is made storable by the inbox, the same way on every store: invalid UTF-8
// becomes U+FFFD and NUL bytes are dropped in every text that enters the
// inbox (inbound body, subject, HTML, provider IDs, attachment names and
// types, addresses, the host's directory records, outbound drafts, status
// reports); over-long identifiers, addresses and words are stored and still
// found (T13, T14, M5, R5); a provider time out of range becomes the
// arrival time; and what the store still refuses is a permanent error
// (inbox.ErrUnstorable, channel.ErrInvalidMessage), never a retryable one.
func testInput(t *testing.T, ns func(*testing.T) store.Store) {
	const fffd = "\uFFFD"
	cases := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"invalid UTF-8 and NUL in an inbound email", func(t *testing.T, e *env) {
			raw := channel.Inbound{Kind: channel.Email, From: "Marc@Example.FR\x00", To: "hello@studio\xff.example", Subject: "Re\x00: r\xe9servation",
				Text: "Bonjour\x00 \xff\xfe h\xe9l\xe8ne", HTML: "<p>\x00\xff</p>", ProviderID: "<bad\xff\x00id@mail>",
				InReplyTo:   []string{"<out\x00@parley>"},
				Attachments: []channel.Attachment{{Name: "plan\x00\xff.pdf", ContentType: "application/pdf\x00", URL: "https://cdn.example/\xff", Size: 12}}}
			m, err := e.in.ReceiveMessage(e.ctx, raw)
			e.must(err)
			got, err := e.store.Message(e.ctx, m.ID)
			e.must(err)
			want := map[string][2]string{
				"subject": {got.Subject, "Re: r" + fffd + "servation"},
				"text":    {got.Text, "Bonjour " + fffd + fffd + " h" + fffd + "l" + fffd + "ne"},
				"html":    {got.HTML, "<p>" + fffd + "</p>"},
				"pid":     {got.ProviderID, "<bad" + fffd + "id@mail>"},
				"address": {got.Address, "marc@example.fr"},
				"to":      {got.Identity, "hello@studio" + fffd + ".example"},
				"reply":   {strings.Join(got.InReplyTo, ","), "<out@parley>"},
			}
			if len(got.Attachments) == 1 {
				a := got.Attachments[0]
				want["attachment name"] = [2]string{a.Name, "plan" + fffd + ".pdf"}
				want["attachment type"] = [2]string{a.ContentType, "application/pdf"}
				want["attachment URL"] = [2]string{a.URL, "https://cdn.example/" + fffd}
			} else {
				t.Errorf("attachments %+v", got.Attachments)
			}
			for field, gw := range want {
				if gw[0] != gw[1] {
					t.Errorf("stored %s %q, want %q", field, gw[0], gw[1])
				}
			}
			if th := e.thread(m.ThreadID); th.Subject != contactSubject(marc) {
				t.Errorf("T2: the cleaned sender went to %v, want Marc's thread", th.Subject)
			}
			again, err := e.in.ReceiveMessage(e.ctx, raw)
			e.must(err)
			if again.ID != m.ID {
				t.Errorf("M5: the same poison webhook twice stored %s and %s", m.ID, again.ID)
			}
		}},
		{"provider ID of 3,000 bytes", func(t *testing.T, e *env) {
			pid := "SM" + noise(1, 2998)
			raw := channel.Inbound{Kind: channel.SMS, From: helene.Phone, Text: "long id", ProviderID: pid}
			m, err := e.in.ReceiveMessage(e.ctx, raw)
			e.must(err)
			again, err := e.in.ReceiveMessage(e.ctx, raw)
			e.must(err)
			if again.ID != m.ID || e.thread(m.ThreadID).Messages != 1 {
				t.Fatalf("M5: a 3,000-byte provider ID delivered twice stored %s and %s", m.ID, again.ID)
			}
			if !strings.HasPrefix(m.ProviderID, pid[:100]) || len(m.ProviderID) >= len(pid) {
				t.Errorf("stored provider ID %.120q… (%d bytes): want its beginning, shorter", m.ProviderID, len(m.ProviderID))
			}
			other, err := e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.SMS, From: helene.Phone, Text: "another", ProviderID: pid[:2999] + "x"})
			e.must(err)
			if other.ID == m.ID {
				t.Error("M5: two long provider IDs that differ at the end were taken as one")
			}
		}},
		{"email address of 3,000 characters", func(t *testing.T, e *env) {
			addr := "x" + noise(2, 2987) + "@example.com"
			m, err := e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.Email, From: addr, Subject: "Hello", Text: "from far away", ProviderID: "<far@mail>"})
			e.must(err)
			got, err := e.store.Message(e.ctx, m.ID)
			e.must(err)
			if got.Address != addr {
				t.Errorf("stored address of %d bytes, want the 3,000 characters", len(got.Address))
			}
			for _, n := range []int{12, 30, 100} {
				if ids := e.list(inbox.ThreadQuery{Search: addr[:n]}, 10); !slices.Equal(ids, []string{m.ThreadID}) {
					t.Errorf("T13: search by the address's first %d characters = %v, want [%s]", n, ids, m.ThreadID)
				}
			}
			m2, err := e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.Email, From: strings.ToUpper(addr), Text: "again", ProviderID: "<far2@mail>"})
			e.must(err)
			if m2.ThreadID != m.ThreadID {
				t.Errorf("T2: the same long address started another thread")
			}
		}},
		{"word of 3,000 bytes in a body", func(t *testing.T, e *env) {
			word := noise(3, 3000)
			m := e.receive(channel.SMS, helene.Phone, "voici "+word+" fin")
			page, err := e.in.Messages(e.ctx, inbox.MessageQuery{ThreadID: m.ThreadID, Search: word})
			e.must(err)
			if len(page.Messages) != 1 || page.Messages[0].ID != m.ID {
				t.Errorf("T14: search by the 3,000-byte word found %d messages", len(page.Messages))
			}
			if ids := e.list(inbox.ThreadQuery{Search: "fin " + word}, 10); !slices.Equal(ids, []string{m.ThreadID}) {
				t.Errorf("T13: search by the 3,000-byte word = %v", ids)
			}
		}},
		{"STOP from a sender of 3,000 digits", func(t *testing.T, e *env) {
			from := "+" + strings.Map(func(r rune) rune { return '0' + (r % 10) }, noise(4, 3000))
			m := e.receive(channel.SMS, from, "STOP")
			if th := e.thread(m.ThreadID); th.Messages != 1 {
				t.Fatalf("the keyword message is stored: %d messages", th.Messages)
			}
			out, err := e.in.OptedOut(e.ctx, channel.SMS, from)
			e.must(err)
			if !out {
				t.Error("R5: STOP from a 3,000-digit sender did not opt it out")
			}
		}},
		{"provider time out of range", func(t *testing.T, e *env) {
			e.clock.Advance(time.Minute)
			for i, at := range []time.Time{time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)} {
				m, err := e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.SMS, From: helene.Phone, Text: "when?", ProviderID: fmt.Sprintf("SMtime%d", i), ReceivedAt: at})
				e.must(err)
				got, err := e.store.Message(e.ctx, m.ID)
				e.must(err)
				if !got.SentAt.Equal(e.clock.Now()) {
					t.Errorf("a message received at %v is stored at %v, want its arrival %v", at, got.SentAt, e.clock.Now())
				}
			}
		}},
		{"directory records with NUL and invalid bytes", func(t *testing.T, e *env) {
			e.dir.contacts["c-jose"] = recipient.Contact{ID: "c-jose", FirstName: "Jo\x00sé", LastName: "Pa\xffz", Email: "jose@example.es\x00"}
			th := e.start(store.Subject{Kind: store.Contact, ID: "c-jose"})
			if s := th.Snapshot; s.FirstName != "José" || s.LastName != "Pa"+fffd+"z" || s.Email != "jose@example.es" {
				t.Errorf("snapshot %+v", s)
			}
			if ids := e.list(inbox.ThreadQuery{Search: "jose"}, 10); !slices.Equal(ids, []string{th.ID}) {
				t.Errorf("T13: search jose = %v", ids)
			}
			if _, err := e.in.Start(e.ctx, store.Subject{Kind: store.Contact, ID: "c-\x00\xff"}); !errors.Is(err, inbox.ErrInvalidArgument) {
				t.Errorf("a subject ID that is not text: err = %v, want ErrInvalidArgument", err)
			}
		}},
		{"outbound draft and status reports", func(t *testing.T, e *env) {
			th := e.start(contactSubject(helene))
			m, ds, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.Email,
				Subject: "Vo\x00tre s\xe9jour", Text: "ok\x00\xff", HTML: "<b>\x00</b>", Broadcast: "\xffEté",
				Attachments: []channel.Attachment{{Name: "a\x00.pdf", ContentType: "application/pdf"}}},
				Deliveries: []inbox.Delivery{{ContactID: helene.ID, Address: helene.Email, ProviderID: "<out\x00@parley>", Reason: "r\xff",
					Status: status.Record{Current: status.Validated, History: []status.Change{{Status: status.Validated, At: t0, Raw: "queued\x00"}}}}}})
			e.must(err)
			got, err := e.store.Message(e.ctx, m.ID)
			e.must(err)
			if got.Subject != "Votre s"+fffd+"jour" || got.Text != "ok"+fffd || got.HTML != "<b></b>" || got.Broadcast != fffd+"Eté" ||
				got.Attachments[0].Name != "a.pdf" {
				t.Errorf("stored outbound message %q %q %q %q %q", got.Subject, got.Text, got.HTML, got.Broadcast, got.Attachments[0].Name)
			}
			err = e.in.ApplyStatus(e.ctx, channel.StatusUpdate{Kind: channel.Email, ProviderID: "<out\x00@parley>", Status: status.Delivered,
				Raw: "deliv\x00ered\xff", ErrorMessage: "\x00", At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
			e.must(err)
			d, err := e.store.Delivery(e.ctx, ds[0].ID)
			e.must(err)
			if d.ProviderID != "<out@parley>" || d.Reason != "r"+fffd || d.Status.Current != status.Delivered {
				t.Fatalf("stored delivery %q %q %s", d.ProviderID, d.Reason, d.Status.Current)
			}
			for _, c := range d.Status.History {
				if !clean(c.Raw) || !clean(c.ErrorMessage) || c.At.Year() > 9999 {
					t.Errorf("history entry %+v", c)
				}
			}
		}},
		{"thread token that is not text", func(t *testing.T, e *env) {
			th := e.start(contactSubject(helene))
			m, err := e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.Email, From: helene.Email, ThreadToken: "\xff\x00tok", Text: "re", ProviderID: "<tok@mail>"})
			e.must(err)
			if m.ThreadID != th.ID {
				t.Errorf("M4: a reply with a garbled token landed in %s, want the sender's thread %s", m.ThreadID, th.ID)
			}
		}},
		{"what the store still refuses is permanent", func(t *testing.T, e *env) {
			e.start(contactSubject(helene)) // the thread exists: the refused write is the message's
			for _, tc := range []struct {
				err       error
				permanent bool
			}{
				{fmt.Errorf("store: %w: index row too large", store.ErrInvalid), true},
				{errors.New("store: connection reset"), false},
			} {
				in, err := inbox.New(refusing{e.store, tc.err}, inbox.Options{Now: e.clock.Now, NewID: ids("r"), Directory: e.dir, Logger: quietLogger})
				e.must(err)
				_, err = in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.SMS, From: helene.Phone, Text: "x", ProviderID: "SMrefused"})
				perm := errors.Is(err, inbox.ErrUnstorable) && errors.Is(err, channel.ErrInvalidMessage)
				if err == nil || perm != tc.permanent {
					t.Errorf("store error %v: receive err = %v, permanent %v, want %v", tc.err, err, perm, tc.permanent)
				}
				_ = in.Close()
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ns, inbox.Options{})
			tc.run(t, e)
			// whatever went in, every message and thread the store holds is clean text
			for th, err := range e.in.AllThreads(e.ctx, inbox.ThreadQuery{}) {
				e.must(err)
				if !clean(th.Subject.ID) || !clean(th.Preview) || !clean(th.Snapshot.FirstName) || !clean(th.Snapshot.Email) {
					t.Errorf("thread %s holds text that is not clean: %+v", th.ID, th)
				}
				page, err := e.in.Messages(e.ctx, inbox.MessageQuery{ThreadID: th.ID, Limit: inbox.MaxPageSize})
				e.must(err)
				for _, m := range page.Messages {
					if !clean(m.Text) || !clean(m.Subject) || !clean(m.HTML) || !clean(m.ProviderID) || !clean(m.Address) {
						t.Errorf("message %s holds text that is not clean", m.ID)
					}
				}
			}
		})
	}
}

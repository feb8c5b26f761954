package fcm_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/fcm"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// studio is an inbox whose push channel is the FCM Sender talking to the
// fake Google.
type studio struct {
	ib     *inbox.Inbox
	dir    *memstore.Directory
	google *fakeGoogle
	clk    *clock
}

func newStudio(t *testing.T, opts inbox.Options, members ...recipient.Contact) *studio {
	t.Helper()
	clk := &clock{t: t0}
	g := newFake(t, clk.Now)
	s := newSender(t, g, clk, nil)
	reg := channel.NewRegistry()
	if err := reg.Register(channel.Push, s, channel.Config{}); err != nil {
		t.Fatal(err)
	}
	dir := memstore.NewDirectory()
	for _, c := range members {
		if err := dir.PutContact(c); err != nil {
			t.Fatal(err)
		}
	}
	dir.PutAudience(inbox.AudienceInfo{ID: "members", Name: "Members", Members: members})
	opts.Now, opts.Directory, opts.Channels = clk.Now, dir, reg
	ib, err := inbox.New(memstore.New(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ib.Close() })
	return &studio{ib: ib, dir: dir, google: g, clk: clk}
}

func (s *studio) sendTo(t *testing.T, contactID, text string) inbox.Delivery {
	t.Helper()
	ctx := context.Background()
	th, err := s.ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: contactID})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.ib.Send(ctx, inbox.Draft{Kind: channel.Push, ThreadID: th.ID, Subject: "Studio Lumière", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.ib.Store().Delivery(ctx, res.Deliveries[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (s *studio) sentTo(token string) int {
	n := 0
	for _, m := range s.google.Sent() {
		if m.Message.Token == token {
			n++
		}
	}
	return n
}

// S1, R2 end to end: a push FCM accepts is sent; the app's "opened" makes it
// read; a token FCM reports UNREGISTERED fails its delivery, is reported to
// the host, is never sent to again, the next device gets the pushes, and a
// member whose only device died is blocked with "no valid device".
func TestInboxThroughFCMS1R2(t *testing.T) {
	mia := recipient.Contact{ID: "mia", FirstName: "Mia", PushTokens: []string{"tok-mia-old", "tok-mia-new"}}
	noe := recipient.Contact{ID: "noe", FirstName: "Noé", PushTokens: []string{"tok-noe"}}
	s := newStudio(t, inbox.Options{}, mia, noe)
	s.google.ReplyFor("tok-mia-old", replyUnregistered)
	s.google.ReplyFor("tok-noe", replyInvalidToken)
	ctx := context.Background()
	sub := s.ib.Subscribe(ctx)

	d := s.sendTo(t, "mia", "Class moved to 19:00")
	if d.Status.Current != status.Failed || d.Address != "tok-mia-old" || !strings.Contains(d.Reason, "UNREGISTERED") || d.Attempts != 1 {
		t.Fatalf("push to the uninstalled app: %+v", d)
	}
	var retired []string
	for len(sub.C()) > 0 {
		if e := <-sub.C(); e.Type == inbox.EventDeviceRetired {
			retired = append(retired, e.Address)
		}
	}
	if len(retired) != 1 || retired[0] != "tok-mia-old" {
		t.Fatalf("devices reported retired: %v", retired)
	}

	d = s.sendTo(t, "mia", "See you tonight")
	if d.Status.Current != status.Sent || d.Address != "tok-mia-new" || !strings.HasPrefix(d.ProviderID, "projects/"+testProject+"/messages/") {
		t.Fatalf("push to the new device: %+v", d)
	}
	if n := s.sentTo("tok-mia-old"); n != 1 {
		t.Fatalf("the dead token reached FCM %d times, want 1", n)
	}
	// the app opens the notification, reporting the delivery ID from its data
	last := s.google.Sent()[len(s.google.Sent())-1].Message
	if last.Data[fcm.DataDeliveryID] != d.ID || last.Data[fcm.DataThreadID] != d.ThreadID || last.Data[fcm.DataMessageID] != d.MessageID {
		t.Fatalf("data payload %v", last.Data)
	}
	read, err := s.ib.MarkPushOpened(ctx, last.Data[fcm.DataDeliveryID], s.clk.Now())
	if err != nil || read.Status.Current != status.Read {
		t.Fatalf("opened: %+v %v", read.Status, err)
	}

	// Noé's only token is not a token: afterwards he has no valid device
	if d := s.sendTo(t, "noe", "Hello"); d.Status.Current != status.Failed {
		t.Fatalf("invalid token: %+v", d)
	}
	th, _ := s.ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: "noe"})
	_, err = s.ib.Send(ctx, inbox.Draft{Kind: channel.Push, ThreadID: th.ID, Subject: "S", Text: "again"})
	if !errors.Is(err, recipient.ErrNoValidDevice) {
		t.Fatalf("R2: %v", err)
	}
	if n := s.sentTo("tok-noe"); n != 1 {
		t.Fatalf("the invalid token reached FCM %d times", n)
	}
}

// A group push through FCM respects the inbox's concurrency bound and shares
// one access token; transient FCM errors are retried, dead tokens are not.
func TestInboxBroadcastThroughFCM(t *testing.T) {
	var members []recipient.Contact
	for i := range 30 {
		members = append(members, recipient.Contact{ID: fmt.Sprintf("m%02d", i), PushTokens: []string{fmt.Sprintf("tok-%02d", i)}})
	}
	members = append(members, recipient.Contact{ID: "no-app"})
	s := newStudio(t, inbox.Options{Concurrency: 4, Retry: inbox.Retry{Attempts: 3, Backoff: 1, MaxBackoff: 2}}, members...)
	s.google.ReplyFor("tok-07", replyUnregistered)
	s.google.ReplyNext(replyInternal, replyUnavailable)
	ctx := context.Background()
	th, err := s.ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectAudience, ID: "members"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.ib.Send(ctx, inbox.Draft{Kind: channel.Push, ThreadID: th.ID, Subject: "Studio Lumière", Text: "Open day on Sunday"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Preflight.Selected != 30 || len(res.Deliveries) != 30 {
		t.Fatalf("selected %d: members without the app are left out", res.Preflight.Selected)
	}
	m, err := s.ib.Message(ctx, res.Message.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Counts[status.Sent] != 29 || m.Counts[status.Failed] != 1 {
		t.Fatalf("S5 counts %v", m.Counts)
	}
	if got := s.google.MaxInflight(); got > 4 {
		t.Fatalf("%d sends in flight at once, over the inbox's Concurrency of 4", got)
	}
	if s.google.Issued() != 1 {
		t.Fatalf("issued %d access tokens for one broadcast", s.google.Issued())
	}
	if n := s.sentTo("tok-07"); n != 1 {
		t.Fatalf("the dead token was sent %d times", n)
	}
	if n := len(s.google.Sent()); n != 32 {
		t.Fatalf("%d requests, want 32 (30 + 2 retried after INTERNAL and UNAVAILABLE)", n)
	}
}

package inbox_test

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// pushRig is the test rig with a fake push channel and two members who have
// the app: Mia on two devices (an old phone first), Noé on one.
func pushRig(t *testing.T, opts inbox.Options) (*rig, *channeltest.Fake) {
	t.Helper()
	r := newRig(t, opts, nil)
	fake := channeltest.NewFake(channel.Push, channeltest.Options{})
	if err := r.reg.Register(channel.Push, fake, channel.Config{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []recipient.Contact{
		{ID: "mia", FirstName: "Mia", PushTokens: []string{"tok-mia-old-phone", "tok-mia-tablet"}},
		{ID: "noe", FirstName: "Noé", PushTokens: []string{"tok-noe"}},
	} {
		if err := r.dir.PutContact(c); err != nil {
			t.Fatal(err)
		}
	}
	return r, fake
}

// unregistered is what a push adapter returns for a dead device token.
func unregistered() error {
	return fmt.Errorf("push: UNREGISTERED: %w: %w", channel.ErrAddressRetired, channel.ErrPermanent)
}

// S1, R2: a push goes to the contact's first device; a token the provider
// reports dead fails that delivery with the reason (one delivery per contact,
// to one device, so its status is that device's), is recorded as retired,
// reported to the host (EventDeviceRetired) and never sent to again: the next
// push goes to the next device, and a contact left with retired tokens only
// is blocked with "no valid device".
func TestPushRetiredTokenS1R2(t *testing.T) {
	r, fake := pushRig(t, inbox.Options{})
	var deadTries atomic.Int32
	fake.FailWhen(func(m *channel.Message) error {
		if m.To == "tok-mia-old-phone" || m.To == "tok-noe" {
			deadTries.Add(1)
			return unregistered()
		}
		return nil
	})
	sub := r.in.Subscribe(r.ctx)
	mia := r.thread(contactT("mia"))
	draft := inbox.Draft{Kind: channel.Push, ThreadID: mia.ID, Subject: "Studio Lumière", Text: "Your class moved to 19:00"}

	res, err := r.in.Send(r.ctx, draft)
	if err != nil {
		t.Fatal(err)
	}
	d := r.delivery(res.Deliveries[0].ID)
	if d.Address != "tok-mia-old-phone" || d.Status.Current != status.Failed || !strings.Contains(d.Reason, "UNREGISTERED") {
		t.Fatalf("first push: delivery %+v, want failed to the old phone with the provider's reason", d)
	}
	var retired *inbox.Event
	for len(sub.C()) > 0 {
		if e := <-sub.C(); e.Type == inbox.EventDeviceRetired {
			retired = &e
		}
	}
	if retired == nil || retired.Address != "tok-mia-old-phone" || retired.Kind != channel.Push || retired.DeliveryID != d.ID {
		t.Fatalf("the host is told which token died: %+v", retired)
	}
	if retired.Type.String() != "device-retired" {
		t.Errorf("event name %q", retired.Type)
	}

	// the next push goes to the tablet, and the old phone is not tried again
	res, err = r.in.Send(r.ctx, draft)
	if err != nil {
		t.Fatal(err)
	}
	d = r.delivery(res.Deliveries[0].ID)
	if d.Address != "tok-mia-tablet" || d.Status.Current != status.Validated {
		t.Fatalf("second push: %+v, want accepted for the tablet", d)
	}
	if n := deadTries.Load(); n != 1 {
		t.Fatalf("the retired token was tried %d times, want 1", n)
	}
	// the app gets the conversation it belongs to (the data payload)
	sent := fake.Sent()
	m := sent[len(sent)-1].Message
	if m.Metadata[channel.MetaThreadID] != mia.ID || m.Metadata[channel.MetaMessageID] != res.Message.ID ||
		m.Metadata[channel.MetaContactID] != "mia" || m.Reference != d.ID || m.Subject != draft.Subject {
		t.Errorf("push message %+v", m)
	}

	// Noé's only device dies: afterwards R2 says "no valid device"
	noe := r.thread(contactT("noe"))
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.Push, ThreadID: noe.ID, Subject: "S", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	pre, err := r.in.Preflight(r.ctx, inbox.Draft{Kind: channel.Push, ThreadID: noe.ID, Subject: "S", Text: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if pre.Selected != 0 || len(pre.Recipients) != 1 || !errors.Is(pre.Recipients[0].Verdict.Err(), recipient.ErrNoValidDevice) {
		t.Fatalf("R2 after the last device died: %+v", pre.Recipients)
	}
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.Push, ThreadID: noe.ID, Subject: "S", Text: "y"}); !errors.Is(err, recipient.ErrNoValidDevice) {
		t.Fatalf("send to a contact without a valid device: %v", err)
	}
	if n := deadTries.Load(); n != 2 {
		t.Fatalf("dead tokens tried %d times, want once each", n)
	}
}

// C8, R2: a scheduled push whose token died before it was due is not sent to
// the dead device; with no device left it is cancelled with the reason.
func TestScheduledPushRetiredTokenR2(t *testing.T) {
	r, fake := pushRig(t, inbox.Options{})
	fake.FailWhen(func(m *channel.Message) error {
		if m.To == "tok-noe" {
			return unregistered()
		}
		return nil
	})
	noe := r.thread(contactT("noe"))
	later, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.Push, ThreadID: noe.ID, Subject: "S", Text: "tomorrow",
		ScheduledFor: t0.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.Push, ThreadID: noe.ID, Subject: "S", Text: "now"}); err != nil {
		t.Fatal(err)
	}
	tries := fake.Attempts()
	r.clock.Advance(25 * time.Hour)
	if _, err := r.in.Dispatch(r.ctx, 10); err != nil {
		t.Fatal(err)
	}
	d := r.delivery(later.Deliveries[0].ID)
	if d.Status.Current != status.Cancelled || !strings.Contains(d.Reason, "no valid push device") {
		t.Fatalf("scheduled push to a dead device: %+v", d)
	}
	if fake.Attempts() != tries {
		t.Fatal("the dead device was tried again")
	}
}

// S1, S2: push has no delivery reports; the host's app reports an opened
// notification and the delivery becomes read, once, with "opened" in its
// history.
func TestMarkPushOpenedS1S2(t *testing.T) {
	r, _ := pushRig(t, inbox.Options{})
	mia := r.thread(contactT("mia"))
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.Push, ThreadID: mia.ID, Subject: "S", Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Deliveries[0].ID
	sub := r.in.Subscribe(r.ctx)
	opened := t0.Add(3 * time.Minute)
	d, err := r.in.MarkPushOpened(r.ctx, id, opened)
	if err != nil {
		t.Fatal(err)
	}
	last := d.Status.History[len(d.Status.History)-1]
	if d.Status.Current != status.Read || last.Raw != "opened" || !last.At.Equal(opened) {
		t.Fatalf("opened: %+v", d.Status)
	}
	if e := <-sub.C(); e.Type != inbox.EventStatusChanged || e.DeliveryID != id || e.Status != status.Read {
		t.Fatalf("event %+v", e)
	}
	if m, _ := r.in.Message(r.ctx, res.Message.ID); m.Counts[status.Read] != 1 {
		t.Errorf("S5 counts %v", m.Counts)
	}
	again, err := r.in.MarkPushOpened(r.ctx, id, opened.Add(time.Minute))
	if err != nil || len(again.Status.History) != len(d.Status.History) || len(sub.C()) != 0 {
		t.Fatalf("a second report changes nothing: %v, %+v", err, again.Status)
	}

	if _, err := r.in.MarkPushOpened(r.ctx, "nope", time.Time{}); !errors.Is(err, inbox.ErrNotFound) {
		t.Errorf("unknown delivery: %v", err)
	}
	if _, err := r.in.MarkPushOpened(r.ctx, " ", time.Time{}); !errors.Is(err, inbox.ErrInvalidArgument) {
		t.Errorf("empty ID: %v", err)
	}
	ana := r.thread(contactT("ana"))
	sms, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: ana.ID, Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.in.MarkPushOpened(r.ctx, sms.Deliveries[0].ID, time.Time{}); !errors.Is(err, inbox.ErrInvalidArgument) {
		t.Errorf("an SMS is not a push: %v", err)
	}
	later, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.Push, ThreadID: mia.ID, Subject: "S", Text: "x", ScheduledFor: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.in.MarkPushOpened(r.ctx, later.Deliveries[0].ID, time.Time{}); !errors.Is(err, inbox.ErrInvalidArgument) {
		t.Errorf("a push not sent yet cannot be opened: %v", err)
	}
}

// busy is a transient provider error that asks for a wait (Retry-After).
type busy struct{ wait time.Duration }

func (e busy) Error() string             { return fmt.Sprintf("busy, retry after %s", e.wait) }
func (e busy) RetryAfter() time.Duration { return e.wait }
func (e busy) Unwrap() error             { return channel.ErrTransient }

// A provider's Retry-After is honoured: the retry waits at least that long,
// and a wait longer than the retry policy's MaxBackoff is not waited for:
// the delivery fails at once with the provider's error.
func TestRetryAfterHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, inbox.Options{Retry: inbox.Retry{Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 10 * time.Second}}, nil)
		fake := r.fakes[channel.SMS]
		ana := r.thread(contactT("ana"))
		fake.FailNext(busy{wait: 7 * time.Second})
		start := time.Now()
		res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: ana.ID, Text: "x"})
		if err != nil {
			t.Fatal(err)
		}
		// the bubble's clock (synctest): the send took exactly the wait the
		// provider asked for, neither less nor the retry policy's backoff
		if waited := time.Since(start); waited != 7*time.Second {
			t.Fatalf("retried after %s, want the provider's Retry-After of 7s", waited)
		}
		if d := r.delivery(res.Deliveries[0].ID); d.Status.Current != status.Validated || d.Attempts != 2 {
			t.Fatalf("retried once then accepted: %+v", d)
		}

		fake.Reset()
		fake.FailNext(busy{wait: time.Minute})
		res, err = r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: ana.ID, Text: "y"})
		if err != nil {
			t.Fatal(err)
		}
		d := r.delivery(res.Deliveries[0].ID)
		if d.Status.Current != status.Failed || d.Attempts != 1 || !strings.Contains(d.Reason, "retry after 1m0s") || fake.Attempts() != 1 {
			t.Fatalf("a Retry-After beyond MaxBackoff: %+v after %d attempts", d, fake.Attempts())
		}
	})
}

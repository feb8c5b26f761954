package channeltest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/status"
)

var t0 = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

func clock() func() time.Time { return func() time.Time { return t0 } }

func msg(to string) *channel.Message {
	return &channel.Message{Kind: channel.SMS, To: to, Text: "See you at 18:00"}
}

func TestSendRecordsAndScripts(t *testing.T) {
	f := channeltest.NewFake(channel.SMS, channeltest.Options{Now: clock(), IDPrefix: "SM"})
	ctx := context.Background()
	r, err := f.Send(ctx, msg("+33612345678"))
	if err != nil {
		t.Fatal(err)
	}
	if r.ProviderID != "SM000001" || r.Status != status.Validated || !r.At.Equal(t0) {
		t.Fatalf("receipt = %+v", r)
	}
	f.FailNext(nil, channeltest.Permanent("invalid number"))
	if _, err := f.Send(ctx, msg("+1")); !errors.Is(err, channel.ErrTransient) || !channel.Retryable(err) {
		t.Fatalf("first scripted failure = %v, want transient", err)
	}
	if _, err := f.Send(ctx, msg("+1")); !errors.Is(err, channel.ErrPermanent) || channel.Retryable(err) {
		t.Fatalf("second scripted failure = %v, want permanent", err)
	}
	f.FailWhen(func(m *channel.Message) error {
		if m.To == "+33600000000" {
			return channeltest.Permanent("blocked")
		}
		return nil
	})
	if _, err := f.Send(ctx, msg("+33600000000")); !errors.Is(err, channel.ErrPermanent) {
		t.Fatalf("FailWhen = %v", err)
	}
	if _, err := f.Send(ctx, msg("+33611111111")); err != nil {
		t.Fatalf("FailWhen other recipient = %v", err)
	}
	f.FailAlways(channeltest.Transient("outage"))
	if _, err := f.Send(ctx, msg("+33611111111")); !errors.Is(err, channel.ErrTransient) {
		t.Fatalf("FailAlways = %v", err)
	}
	f.FailAlways(nil)
	sent := f.Sent()
	if len(sent) != 2 || f.Attempts() != 6 {
		t.Fatalf("sent %d, attempts %d; want 2 and 6", len(sent), f.Attempts())
	}
	sent[0].Message.Text = "changed"
	if f.Sent()[0].Message.Text != "See you at 18:00" {
		t.Fatal("Sent shares messages with the caller")
	}
	if _, err := f.Send(ctx, nil); !errors.Is(err, channel.ErrInvalidMessage) {
		t.Fatalf("nil message = %v", err)
	}
	if _, err := f.Send(ctx, &channel.Message{Kind: channel.Email}); !errors.Is(err, channel.ErrInvalidMessage) {
		t.Fatalf("wrong kind = %v", err)
	}
	f.Reset()
	if len(f.Sent()) != 0 || f.Attempts() != 0 || len(f.Pending()) != 0 {
		t.Fatal("Reset kept state")
	}
}

// The input message is not kept: changing it after Send does not change the
// record.
func TestSendDoesNotKeepInput(t *testing.T) {
	f := channeltest.NewFake(channel.SMS, channeltest.Options{})
	m := msg("+33612345678")
	if _, err := f.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	m.Text = "mutated"
	if f.Sent()[0].Message.Text == "mutated" {
		t.Fatal("fake kept a reference to the input")
	}
}

func TestHangUntilContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := channeltest.NewFake(channel.SMS, channeltest.Options{})
		f.Hang(true)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		_, err := f.Send(ctx, msg("+33612345678"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if time.Since(start) != 30*time.Second {
			t.Fatalf("returned after %v", time.Since(start))
		}
		if len(f.Sent()) != 0 {
			t.Fatal("a hung send was recorded as sent")
		}
	})
}

func TestLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := channeltest.NewFake(channel.SMS, channeltest.Options{})
		f.SetLatency(2 * time.Second)
		start := time.Now()
		if _, err := f.Send(context.Background(), msg("+33612345678")); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("latency %v", d)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := f.Send(ctx, msg("+33612345678")); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
}

// S2: the fake emits duplicated and out-of-order statuses; merging them gives
// the in-order result.
func TestStatusesShuffledAndDuplicated(t *testing.T) {
	f := channeltest.NewFake(channel.WhatsApp, channeltest.Options{
		Now: clock(), Statuses: []status.Status{status.Sent, status.Delivered, status.Read}})
	var mu sync.Mutex
	got := map[string]status.Status{}
	f.OnStatus(func(u channel.StatusUpdate) {
		mu.Lock()
		got[u.ProviderID] = status.Merge(got[u.ProviderID], u.Status)
		mu.Unlock()
	})
	for _, to := range []string{"+33612345678", "+33687654321"} {
		if _, err := f.Send(context.Background(), &channel.Message{Kind: channel.WhatsApp, To: to, Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.Pending()) != 6 {
		t.Fatalf("pending = %d, want 6", len(f.Pending()))
	}
	out := f.FlushShuffled(7, true)
	if len(out) != 12 {
		t.Fatalf("delivered %d updates, want 12", len(out))
	}
	inOrder := true
	for i := 1; i < len(out); i++ {
		if out[i].ProviderID == out[i-1].ProviderID && out[i].Status < out[i-1].Status {
			inOrder = false
		}
	}
	if inOrder {
		t.Log("seed gave an ordered sequence; statuses still merged")
	}
	for id, s := range got {
		if s != status.Read {
			t.Errorf("%s merged to %s, want read", id, s)
		}
	}
	if len(f.Pending()) != 0 || len(f.Flush()) != 0 {
		t.Fatal("flush left updates queued")
	}
	f.Emit("unknown-id", status.Failed, "30008")
	if u := f.Flush(); len(u) != 1 || u[0].ErrorCode != "30008" || u[0].ProviderID != "unknown-id" {
		t.Fatalf("Emit = %+v", u)
	}
}

// C8: a provider-scheduled message can be cancelled until sent.
func TestCancelScheduled(t *testing.T) {
	f := channeltest.NewFake(channel.SMS, channeltest.Options{Now: clock()})
	ctx := context.Background()
	m := msg("+33612345678")
	m.SendAt = t0.Add(time.Hour)
	r, err := f.Send(ctx, m)
	if err != nil || r.Status != status.Scheduled {
		t.Fatalf("scheduled send = %+v, %v", r, err)
	}
	if err := f.Cancel(ctx, r.ProviderID); err != nil {
		t.Fatal(err)
	}
	if err := f.Cancel(ctx, r.ProviderID); !errors.Is(err, channel.ErrPermanent) {
		t.Fatalf("second cancel = %v", err)
	}
	if err := f.Cancel(ctx, "nope"); !errors.Is(err, channel.ErrPermanent) {
		t.Fatalf("unknown cancel = %v", err)
	}
	u := f.Flush()
	if len(u) != 1 || u[0].Status != status.Cancelled {
		t.Fatalf("after cancel, statuses = %+v", u)
	}
}

func TestReply(t *testing.T) {
	f := channeltest.NewFake(channel.SMS, channeltest.Options{Now: clock(), IDPrefix: "SM"})
	var got []channel.Inbound
	f.OnInbound(func(in channel.Inbound) { got = append(got, in) })
	in := f.Reply("+33612345678", "+33757000001", "STOP")
	if len(got) != 1 || got[0].ProviderID != in.ProviderID || in.Text != "STOP" || !in.ReceivedAt.Equal(t0) || in.Kind != channel.SMS {
		t.Fatalf("reply = %+v, callback got %+v", in, got)
	}
}

// The fake is safe for concurrent use (run with -race).
func TestConcurrentSends(t *testing.T) {
	f := channeltest.NewFake(channel.SMS, channeltest.Options{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				_, _ = f.Send(context.Background(), msg("+33612345678"))
				_ = f.Sent()
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, s := range f.Sent() {
		if seen[s.Receipt.ProviderID] {
			t.Fatalf("provider ID %s given twice", s.Receipt.ProviderID)
		}
		seen[s.Receipt.ProviderID] = true
	}
	if len(seen) != 400 {
		t.Fatalf("sent %d, want 400", len(seen))
	}
}

// A message's Reference comes back with its statuses, and Find answers by
// it: the receipt of the message accepted with it, ErrUnknownMessage for a
// reference never accepted (a send that failed or never reached the fake).
func TestFindByReference(t *testing.T) {
	f := channeltest.NewFake(channel.SMS, channeltest.Options{Now: clock(), IDPrefix: "SM"})
	ctx := context.Background()
	m := msg("+33612345678")
	m.Reference = "delivery-1"
	r, err := f.Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range f.Pending() {
		if u.Reference != "delivery-1" {
			t.Fatalf("status without the message's reference: %+v", u)
		}
	}
	got, err := f.Find(ctx, &channel.Message{Kind: channel.SMS, To: m.To, Reference: "delivery-1"})
	if err != nil || got != r {
		t.Fatalf("Find = %+v, %v; want the receipt %+v", got, err, r)
	}
	f.FailNext(channeltest.Permanent("invalid number"))
	m2 := msg("+33612345679")
	m2.Reference = "delivery-2"
	if _, err := f.Send(ctx, m2); err == nil {
		t.Fatal("scripted failure did not fail")
	}
	for _, ref := range []string{"delivery-2", "never-sent", ""} {
		if _, err := f.Find(ctx, &channel.Message{Kind: channel.SMS, Reference: ref}); !errors.Is(err, channel.ErrUnknownMessage) {
			t.Fatalf("Find(%q) = %v, want ErrUnknownMessage", ref, err)
		}
	}
	if _, err := f.Find(ctx, &channel.Message{Kind: channel.Email, Reference: "delivery-1"}); !errors.Is(err, channel.ErrInvalidMessage) {
		t.Fatalf("Find of another kind = %v, want ErrInvalidMessage", err)
	}
}

// Without Options.Now the fake reads no clock: its receipts, statuses and
// replies carry no time, so whoever receives them stamps them with its own
// clock (one clock for a test: the inbox's).
func TestNoClockByDefault(t *testing.T) {
	f := channeltest.NewFake(channel.SMS, channeltest.Options{})
	r, err := f.Send(context.Background(), msg("+33612345678"))
	if err != nil {
		t.Fatal(err)
	}
	if !r.At.IsZero() {
		t.Errorf("receipt at %v, want no time", r.At)
	}
	for _, u := range f.Flush() {
		if !u.At.IsZero() {
			t.Errorf("status %s at %v, want no time", u.Status, u.At)
		}
	}
	if in := f.Reply("+33612345678", "+33757000001", "ok"); !in.ReceivedAt.IsZero() {
		t.Errorf("reply received at %v, want no time", in.ReceivedAt)
	}
}

// M4: a reply says which message it answers, without building a
// channel.Inbound by hand.
func TestReplyInReplyTo(t *testing.T) {
	f := channeltest.NewFake(channel.SMS, channeltest.Options{IDPrefix: "SM"})
	r, err := f.Send(context.Background(), msg("+33612345678"))
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{r.ProviderID}
	in := f.Reply("+33612345678", "+33757000001", "Je viens", ids...)
	ids[0] = "changed"
	if len(in.InReplyTo) != 1 || in.InReplyTo[0] != r.ProviderID {
		t.Fatalf("InReplyTo = %v, want [%s]", in.InReplyTo, r.ProviderID)
	}
	if plain := f.Reply("+33612345678", "+33757000001", "?"); plain.InReplyTo != nil {
		t.Fatalf("a reply to nothing in particular answers %v", plain.InReplyTo)
	}
}

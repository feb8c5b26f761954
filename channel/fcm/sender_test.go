package fcm_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/fcm"
	"github.com/parleyhq/parley/status"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const devToken = "fGw3bT9kQ1m:APA91bH-mia-pixel-7"

func newSender(t testing.TB, f *fakeGoogle, clk *clock, edit func(*fcm.Config)) *fcm.Sender {
	t.Helper()
	cfg := f.config(clk.Now)
	if edit != nil {
		edit(&cfg)
	}
	s, err := fcm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func push(to string) *channel.Message {
	return &channel.Message{Kind: channel.Push, To: to, Subject: "Studio Lumière", Text: "Your Pilates class moves to 19:00",
		Reference: "dlv-1", Metadata: map[string]string{channel.MetaThreadID: "thr-1", channel.MetaMessageID: "msg-1",
			channel.MetaContactID: "m-mia", fcm.MetaDataPrefix + "screen": "inbox"}}
}

// S1, C2: a push goes out as FCM expects it: title from the subject, body from
// the text, the thread, message and delivery IDs in the data, Android and
// APNs options; FCM's acceptance is "sent".
func TestSendShapeS1(t *testing.T) {
	clk := &clock{t: t0}
	f := newFake(t, clk.Now)
	var badgeFor string
	s := newSender(t, f, clk, func(c *fcm.Config) {
		c.AndroidChannelID = "messages"
		c.Badge = func(ctx context.Context, m *channel.Message) (int, bool) {
			badgeFor = m.Metadata[channel.MetaContactID]
			return 3, true
		}
	})
	rc, err := s.Send(context.Background(), push(devToken))
	if err != nil {
		t.Fatal(err)
	}
	if rc.Status != status.Sent || !rc.At.Equal(t0) || !strings.HasPrefix(rc.ProviderID, "projects/"+testProject+"/messages/0:") {
		t.Fatalf("receipt %+v", rc)
	}
	got := f.Sent()
	if len(got) != 1 || got[0].Bearer != "ya29.fake-access-1" {
		t.Fatalf("sent %+v", got)
	}
	m := got[0].Message
	if m.Token != devToken || m.Notification == nil || m.Notification.Title != "Studio Lumière" || m.Notification.Body != "Your Pilates class moves to 19:00" {
		t.Errorf("target and notification: %+v %+v", m.Token, m.Notification)
	}
	want := map[string]string{fcm.DataThreadID: "thr-1", fcm.DataMessageID: "msg-1", fcm.DataDeliveryID: "dlv-1", "screen": "inbox"}
	if len(m.Data) != len(want) {
		t.Errorf("data %v", m.Data)
	}
	for k, v := range want {
		if m.Data[k] != v {
			t.Errorf("data[%s] = %q, want %q", k, m.Data[k], v)
		}
	}
	a := m.Android
	if a == nil || a.Priority != "high" || a.TTL != "" || a.CollapseKey != "" || a.Notification == nil ||
		a.Notification.Sound != "default" || a.Notification.ChannelID != "messages" || a.Notification.NotificationCount == nil || *a.Notification.NotificationCount != 3 {
		t.Errorf("android %+v %+v", a, a.Notification)
	}
	h := m.APNs.Headers
	if h["apns-priority"] != "10" || h["apns-push-type"] != "alert" || h["apns-collapse-id"] != "" || h["apns-expiration"] != "" {
		t.Errorf("apns headers %v", h)
	}
	aps := m.APNs.Payload["aps"].(map[string]any)
	if aps["badge"] != float64(3) || aps["sound"] != "default" || aps["thread-id"] != "thr-1" {
		t.Errorf("aps %v", aps)
	}
	if badgeFor != "m-mia" {
		t.Errorf("the badge callback saw contact %q", badgeFor)
	}
}

// Normal priority, a TTL, collapsing by thread and no sound.
func TestSendOptions(t *testing.T) {
	clk := &clock{t: t0}
	f := newFake(t, clk.Now)
	s := newSender(t, f, clk, func(c *fcm.Config) {
		c.Priority, c.TTL, c.CollapseByThread, c.Silent = fcm.Normal, 2*time.Hour, true, true
	})
	msg := push(devToken)
	msg.Metadata = map[string]string{channel.MetaThreadID: "thr-9"}
	msg.Reference = ""
	if _, err := s.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	m := f.Sent()[0].Message
	if a := m.Android; a.Priority != "normal" || a.TTL != "7200s" || a.CollapseKey != "thr-9" || a.Notification.Tag != "thr-9" || a.Notification.Sound != "" || a.Notification.NotificationCount != nil {
		t.Errorf("android %+v %+v", a, a.Notification)
	}
	h := m.APNs.Headers
	if h["apns-priority"] != "5" || h["apns-collapse-id"] != "thr-9" || h["apns-expiration"] != "1772449200" {
		t.Errorf("apns headers %v", h)
	}
	if aps := m.APNs.Payload["aps"].(map[string]any); aps["sound"] != nil || aps["badge"] != nil {
		t.Errorf("aps %v", aps)
	}
	if len(m.Data) != 1 || m.Data[fcm.DataThreadID] != "thr-9" {
		t.Errorf("data %v", m.Data)
	}
}

// Every error class of FCM maps to the channel contract: dead tokens are
// permanent and retired, quota and outages transient with the server's
// Retry-After, the project's APNs key and foreign tokens permanent, refused
// credentials typed. The device token never appears in an error.
func TestErrorClasses(t *testing.T) {
	date := t0.Add(90 * time.Second).Format(http.TimeFormat)
	cases := []struct {
		name        string
		rep         reply
		retired     bool
		transient   bool
		retryAfter  time.Duration
		sentinel    error
		code        string
		credentials bool
	}{
		{"UNREGISTERED", replyUnregistered, true, false, 0, nil, fcm.CodeUnregistered, false},
		{"INVALID_ARGUMENT: not a token", replyInvalidToken, true, false, 0, nil, fcm.CodeInvalidArgument, false},
		{"INVALID_ARGUMENT: field message.token", replyTokenField, true, false, 0, nil, fcm.CodeInvalidArgument, false},
		{"INVALID_ARGUMENT: bad data value", replyBadData, false, false, 0, nil, "", false},
		{"INVALID_ARGUMENT: recipient not set", replyNoRecipient, false, false, 0, nil, fcm.CodeInvalidArgument, false},
		{"INVALID_ARGUMENT: payload too big", replyTooBig, false, false, 0, nil, "", false},
		{"QUOTA_EXCEEDED with Retry-After", withHeader(replyQuota, "Retry-After", "30"), false, true, 30 * time.Second, nil, fcm.CodeQuotaExceeded, false},
		{"QUOTA_EXCEEDED without Retry-After: FCM's one minute", replyQuota, false, true, time.Minute, nil, fcm.CodeQuotaExceeded, false},
		{"UNAVAILABLE with an HTTP-date Retry-After", withHeader(replyUnavailable, "Retry-After", date), false, true, 90 * time.Second, nil, fcm.CodeUnavailable, false},
		{"INTERNAL", replyInternal, false, true, 0, nil, fcm.CodeInternal, false},
		{"502 from the front end", replyBadGateway, false, true, 0, nil, "", false},
		{"SENDER_ID_MISMATCH", replyMismatch, false, false, 0, fcm.ErrSenderMismatch, fcm.CodeSenderIDMismatch, false},
		{"THIRD_PARTY_AUTH_ERROR", replyThirdParty, false, false, 0, fcm.ErrThirdPartyAuth, fcm.CodeThirdPartyAuth, false},
		{"PERMISSION_DENIED", replyDenied, false, false, 0, fcm.ErrCredentials, "", true},
		{"NOT_FOUND without an FCM code (wrong project)", replyNoProject, false, false, 0, nil, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := &clock{t: t0}
			f := newFake(t, clk.Now)
			s := newSender(t, f, clk, nil)
			f.ReplyNext(c.rep)
			_, err := s.Send(context.Background(), push(devToken))
			if err == nil {
				t.Fatal("no error")
			}
			var fe *fcm.Error
			if !errors.As(err, &fe) || fe.StatusCode != c.rep.status || fe.Code != c.code {
				t.Fatalf("err %v: *fcm.Error %+v, want HTTP %d code %q", err, fe, c.rep.status, c.code)
			}
			if got := errors.Is(err, channel.ErrAddressRetired); got != c.retired || fe.TokenInvalid() != c.retired {
				t.Errorf("retired = %v, want %v (%v)", got, c.retired, err)
			}
			if channel.Retryable(err) != c.transient || errors.Is(err, channel.ErrTransient) != c.transient || errors.Is(err, channel.ErrPermanent) == c.transient {
				t.Errorf("transient = %v, want %v (%v)", channel.Retryable(err), c.transient, err)
			}
			if got := channel.RetryAfter(err); got != c.retryAfter || fe.RetryAfter() != c.retryAfter {
				t.Errorf("RetryAfter = %s, want %s", got, c.retryAfter)
			}
			if c.sentinel != nil && !errors.Is(err, c.sentinel) {
				t.Errorf("err %v does not match %v", err, c.sentinel)
			}
			var ce *fcm.CredentialsError
			if errors.As(err, &ce) != c.credentials || errors.Is(err, fcm.ErrCredentials) != c.credentials {
				t.Errorf("credentials error = %v, want %v", errors.As(err, &ce), c.credentials)
			}
			if c.credentials && (ce.Op != "send" || ce.Account != testAccount || ce.StatusCode != 403) {
				t.Errorf("credentials error %+v", ce)
			}
			if strings.Contains(err.Error(), devToken) || strings.Contains(err.Error(), "ya29.") {
				t.Errorf("the error shows the device or access token: %v", err)
			}
			if f.Issued() != 1 {
				t.Errorf("%d access tokens fetched, want 1: only a refused bearer token is replaced", f.Issued())
			}
		})
	}
}

func withHeader(r reply, k, v string) reply {
	r.header = map[string]string{k: v}
	return r
}

// The access token is cached and replaced RefreshMargin before it expires,
// on the Sender's clock; sends after that carry the new token.
func TestTokenRefresh(t *testing.T) {
	clk := &clock{t: t0}
	f := newFake(t, clk.Now)
	s := newSender(t, f, clk, nil)
	ctx := context.Background()
	send := func() {
		t.Helper()
		if _, err := s.Send(ctx, push(devToken)); err != nil {
			t.Fatal(err)
		}
	}
	send()
	clk.Advance(time.Hour - fcm.RefreshMargin - time.Second)
	send()
	if f.Issued() != 1 {
		t.Fatalf("issued %d tokens before the refresh margin, want 1", f.Issued())
	}
	clk.Advance(time.Second)
	send()
	send()
	if f.Issued() != 2 {
		t.Fatalf("issued %d tokens, want 2: refreshed %s before expiry", f.Issued(), fcm.RefreshMargin)
	}
	var bearers []string
	for _, m := range f.Sent() {
		bearers = append(bearers, m.Bearer)
	}
	if strings.Join(bearers, " ") != "ya29.fake-access-1 ya29.fake-access-1 ya29.fake-access-2 ya29.fake-access-2" {
		t.Fatalf("bearer tokens per send: %v", bearers)
	}
}

// A token FCM refuses before its time (revoked, rotated) is replaced once;
// when the fresh one is refused too, the credentials are wrong.
func TestUnauthenticatedRefreshesOnce(t *testing.T) {
	clk := &clock{t: t0}
	f := newFake(t, clk.Now)
	s := newSender(t, f, clk, nil)
	ctx := context.Background()
	if _, err := s.Send(ctx, push(devToken)); err != nil {
		t.Fatal(err)
	}
	f.Revoke()
	if _, err := s.Send(ctx, push(devToken)); err != nil {
		t.Fatalf("after a revoked token: %v", err)
	}
	if f.Issued() != 2 {
		t.Fatalf("issued %d, want 2", f.Issued())
	}
	f.RejectAll(true)
	_, err := s.Send(ctx, push(devToken))
	var ce *fcm.CredentialsError
	if !errors.As(err, &ce) || !errors.Is(err, fcm.ErrCredentials) || !errors.Is(err, channel.ErrPermanent) || ce.Op != "send" || ce.StatusCode != 401 {
		t.Fatalf("every token refused: %v", err)
	}
	if f.Issued() != 3 {
		t.Fatalf("issued %d, want 3: one fresh token, then give up", f.Issued())
	}
	if !strings.Contains(err.Error(), testAccount) || strings.Contains(err.Error(), "ya29.") {
		t.Errorf("the error names the account, never a token: %v", err)
	}
}

// A key the account does not have is refused by the token endpoint: a typed
// error that says the credentials are wrong, and FCM is never called. A token
// endpoint that is down is transient.
func TestCredentialsRefusedAtTokenExchange(t *testing.T) {
	clk := &clock{t: t0}
	f := newFake(t, clk.Now)
	cfg := f.config(clk.Now)
	cfg.CredentialsJSON = credentials(f.srv.URL+"/token", otherKey())
	s, err := fcm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), push(devToken))
	var ce *fcm.CredentialsError
	if !errors.As(err, &ce) || !errors.Is(err, fcm.ErrCredentials) || !errors.Is(err, channel.ErrPermanent) || channel.Retryable(err) {
		t.Fatalf("err = %v", err)
	}
	if ce.Op != "token exchange" || ce.StatusCode != 400 || ce.Reason != "invalid_grant: Invalid JWT Signature." || ce.Account != testAccount {
		t.Errorf("credentials error %+v", ce)
	}
	if len(f.Sent()) != 0 {
		t.Error("FCM was called without a token")
	}

	good := newSender(t, f, clk, nil)
	f.TokenReplyNext(reply{status: 503, body: `{"error":"backend_error"}`})
	if _, err := good.Send(context.Background(), push(devToken)); !channel.Retryable(err) || errors.Is(err, fcm.ErrCredentials) {
		t.Fatalf("token endpoint down: %v", err)
	}
	if _, err := good.Send(context.Background(), push(devToken)); err != nil {
		t.Fatalf("once it is back: %v", err)
	}
}

// Concurrent sends share one access token: one fetch, every send carries it.
func TestConcurrentSendsShareOneToken(t *testing.T) {
	clk := &clock{t: t0}
	f := newFake(t, clk.Now)
	s := newSender(t, f, clk, nil)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			m := push(devToken)
			m.Reference = "dlv-" + string(rune('a'+i%26))
			if _, err := s.Send(context.Background(), m); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if f.Issued() != 1 || len(f.Sent()) != n {
		t.Fatalf("issued %d tokens for %d sends (want 1 for %d)", f.Issued(), len(f.Sent()), n)
	}
}

// A send whose context ends returns the context's error, while it waits for
// another caller's token fetch or during the request.
func TestContextEnds(t *testing.T) {
	clk := &clock{t: t0}
	f := newFake(t, clk.Now)
	s := newSender(t, f, clk, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Send(ctx, push(devToken)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	hang := make(chan struct{})
	defer close(hang)
	blocked := newFake(t, clk.Now)
	blocked.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang })
	bs := newSender(t, blocked, clk, nil)
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := bs.Send(ctx, push(devToken)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a token endpoint that never answers: %v", err)
	}
}

// A message that cannot be a push is refused before any request.
func TestInvalidMessages(t *testing.T) {
	clk := &clock{t: t0}
	f := newFake(t, clk.Now)
	s := newSender(t, f, clk, nil)
	edit := func(fn func(*channel.Message)) *channel.Message {
		m := push(devToken)
		fn(m)
		return m
	}
	cases := map[string]*channel.Message{
		"nil":           nil,
		"sms kind":      edit(func(m *channel.Message) { m.Kind = channel.SMS }),
		"no token":      edit(func(m *channel.Message) { m.To = "  " }),
		"scheduled":     edit(func(m *channel.Message) { m.SendAt = t0.Add(time.Hour) }),
		"attachment":    edit(func(m *channel.Message) { m.Attachments = []channel.Attachment{{URL: "https://x.example/a.png"}} }),
		"template":      edit(func(m *channel.Message) { m.Template = &channel.TemplateRef{Name: "t"} }),
		"empty":         edit(func(m *channel.Message) { m.Subject, m.Text = " ", "" }),
		"reserved key":  edit(func(m *channel.Message) { m.Metadata[fcm.MetaDataPrefix+"google.sent_time"] = "1" }),
		"from key":      edit(func(m *channel.Message) { m.Metadata[fcm.MetaDataPrefix+"from"] = "x" }),
		"over 4096 B":   edit(func(m *channel.Message) { m.Text = strings.Repeat("é", 2100) }),
		"empty data ky": edit(func(m *channel.Message) { m.Metadata[fcm.MetaDataPrefix] = "x" }),
	}
	for name, m := range cases {
		_, err := s.Send(context.Background(), m)
		if !errors.Is(err, channel.ErrInvalidMessage) || !errors.Is(err, channel.ErrPermanent) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if f.Issued() != 0 || len(f.Sent()) != 0 {
		t.Error("an invalid message reached Google")
	}
}

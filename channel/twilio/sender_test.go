package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/twilio"
	"github.com/parleyhq/parley/status"
)

const (
	accountSID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	authToken  = "0123456789abcdef0123456789abcdef"
	serviceSID = "MGbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	msgSID     = "SMcccccccccccccccccccccccccccccccc"
)

var clock = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// recorded is one request the fake Twilio API received.
type recorded struct {
	Method, Path, User, Pass, ContentType string
	Form                                  url.Values
}

// fakeTwilio speaks the Messages resource of Twilio's REST API: it records
// each request and answers with the scripted status and body.
type fakeTwilio struct {
	mu   sync.Mutex
	reqs []recorded
	code int
	body string
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(b))
	user, pass, _ := r.BasicAuth()
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{r.Method, r.URL.Path, user, pass, r.Header.Get("Content-Type"), form})
	code, body := f.code, f.body
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

func (f *fakeTwilio) last(t *testing.T) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("no request reached Twilio")
	}
	return f.reqs[len(f.reqs)-1]
}

func (f *fakeTwilio) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// messageJSON is a Message resource as Twilio returns it on creation.
func messageJSON(st, from, to string) string {
	return fmt.Sprintf(`{"account_sid": %q, "api_version": "2010-04-01", "body": "Hello", "date_created": "Mon, 02 Mar 2026 09:00:01 +0000",
 "date_sent": null, "date_updated": "Mon, 02 Mar 2026 09:00:01 +0000", "direction": "outbound-api", "error_code": null, "error_message": null,
 "from": %q, "messaging_service_sid": null, "num_media": "0", "num_segments": "2", "price": "-0.01580", "price_unit": "USD",
 "sid": %q, "status": %q, "subresource_uris": {"media": "/2010-04-01/Accounts/%s/Messages/%s/Media.json"}, "to": %q,
 "uri": "/2010-04-01/Accounts/%s/Messages/%s.json"}`, accountSID, from, msgSID, st, accountSID, msgSID, to, accountSID, msgSID)
}

func errorJSON(status, code int, msg string) string {
	return fmt.Sprintf(`{"code": %d, "message": %q, "more_info": "https://www.twilio.com/docs/errors/%d", "status": %d}`, code, msg, code, status)
}

func newFake(t *testing.T, code int, body string) (*fakeTwilio, *twilio.Sender) {
	t.Helper()
	f := &fakeTwilio{code: code, body: body}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	s, err := twilio.New(twilio.Config{
		AccountSID: accountSID, AuthToken: authToken, From: "+15005550006",
		StatusCallback: "https://hooks.example.com/twilio",
		BaseURL:        srv.URL, HTTPClient: srv.Client(), Now: func() time.Time { return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, s
}

func TestSendSMS(t *testing.T) {
	f, s := newFake(t, http.StatusCreated, messageJSON("queued", "+15005550006", "+33612345678"))
	rc, err := s.Send(context.Background(), &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "Hello"})
	if err != nil {
		t.Fatal(err)
	}
	r := f.last(t)
	if r.Method != http.MethodPost || r.Path != "/2010-04-01/Accounts/"+accountSID+"/Messages.json" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if r.User != accountSID || r.Pass != authToken {
		t.Errorf("basic auth %q:%q", r.User, r.Pass)
	}
	if r.ContentType != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", r.ContentType)
	}
	want := url.Values{"To": {"+33612345678"}, "From": {"+15005550006"}, "Body": {"Hello"},
		"StatusCallback": {"https://hooks.example.com/twilio"}}
	if r.Form.Encode() != want.Encode() {
		t.Errorf("form = %v, want %v", r.Form, want)
	}
	wantAt := time.Date(2026, 3, 2, 9, 0, 1, 0, time.UTC)
	if rc.ProviderID != msgSID || rc.Status != status.Validated || !rc.At.Equal(wantAt) || rc.Segments != 2 ||
		rc.Cost != (channel.Cost{Micros: 15800, Currency: "USD"}) {
		t.Errorf("receipt = %+v", rc)
	}
}

func TestSendMMSMediaURLs(t *testing.T) {
	f, s := newFake(t, http.StatusCreated, messageJSON("queued", "+15005550006", "+15558675310"))
	msg := &channel.Message{Kind: channel.MMS, To: "+15558675310", Text: "Your class pass",
		From: channel.Identity{Address: "+15005550007"},
		Attachments: []channel.Attachment{
			{Name: "pass.png", URL: "https://cdn.example.com/pass.png", ContentType: "image/png"},
			{Name: "map.jpg", URL: "https://cdn.example.com/map.jpg", ContentType: "image/jpeg"},
		}}
	orig := msg.Clone()
	if _, err := s.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	r := f.last(t)
	if got := r.Form["MediaUrl"]; len(got) != 2 || got[0] != "https://cdn.example.com/pass.png" || got[1] != "https://cdn.example.com/map.jpg" {
		t.Errorf("MediaUrl = %v", got)
	}
	if r.Form.Get("From") != "+15005550007" {
		t.Errorf("From = %q, want the message's identity", r.Form.Get("From"))
	}
	if msg.Attachments[0].URL != orig.Attachments[0].URL || len(msg.Attachments) != 2 || msg.From != orig.From {
		t.Error("Send modified its input")
	}
}

// C10: free text inside the window, a Content API template outside it; both
// with whatsapp: addresses.
func TestSendWhatsApp(t *testing.T) {
	f, s := newFake(t, http.StatusCreated, messageJSON("queued", "whatsapp:+15005550006", "whatsapp:+33612345678"))
	if _, err := s.Send(context.Background(), &channel.Message{Kind: channel.WhatsApp, To: "+33612345678", Text: "See you at 6"}); err != nil {
		t.Fatal(err)
	}
	r := f.last(t)
	if r.Form.Get("To") != "whatsapp:+33612345678" || r.Form.Get("From") != "whatsapp:+15005550006" || r.Form.Get("Body") != "See you at 6" {
		t.Errorf("free text form = %v", r.Form)
	}
	_, err := s.Send(context.Background(), &channel.Message{Kind: channel.WhatsApp, To: "whatsapp:+33612345678",
		Text: "ignored", Template: &channel.TemplateRef{Name: "class_reminder", Language: "fr",
			ProviderID: "HXdddddddddddddddddddddddddddddddd", Params: []string{"Hélène", "Yoga \"flow\""}}})
	if err != nil {
		t.Fatal(err)
	}
	r = f.last(t)
	if r.Form.Get("To") != "whatsapp:+33612345678" || r.Form.Get("ContentSid") != "HXdddddddddddddddddddddddddddddddd" ||
		r.Form.Get("ContentVariables") != `{"1":"Hélène","2":"Yoga \"flow\""}` || r.Form.Has("Body") {
		t.Errorf("template form = %v", r.Form)
	}
}

// C8: SendAt with ScheduleType=fixed through a Messaging Service, inside
// Twilio's window; outside it, or without a service, refused before any
// request.
func TestSendScheduled(t *testing.T) {
	f, s := newFake(t, http.StatusCreated, messageJSON("scheduled", "", "+33612345678"))
	at := clock.Add(2 * time.Hour)
	rc, err := s.Send(context.Background(), &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "Reminder",
		SendAt: at, Metadata: map[string]string{twilio.MetaMessagingServiceSID: serviceSID}})
	if err != nil {
		t.Fatal(err)
	}
	r := f.last(t)
	if r.Form.Get("ScheduleType") != "fixed" || r.Form.Get("SendAt") != "2026-03-02T11:00:00Z" || r.Form.Get("MessagingServiceSid") != serviceSID {
		t.Errorf("form = %v", r.Form)
	}
	if rc.Status != status.Scheduled {
		t.Errorf("receipt status %v", rc.Status)
	}
	n := f.count()
	for _, c := range []struct {
		name string
		at   time.Time
		meta map[string]string
	}{
		{"too soon", clock.Add(14 * time.Minute), map[string]string{twilio.MetaMessagingServiceSID: serviceSID}},
		{"too far", clock.Add(35*24*time.Hour + time.Second), map[string]string{twilio.MetaMessagingServiceSID: serviceSID}},
		{"no service", clock.Add(time.Hour), nil},
	} {
		_, err := s.Send(context.Background(), &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "x", SendAt: c.at, Metadata: c.meta})
		if !errors.Is(err, twilio.ErrSchedule) || !errors.Is(err, channel.ErrPermanent) || channel.Retryable(err) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if f.count() != n {
		t.Error("a refused schedule reached Twilio")
	}
	// The window bounds themselves are accepted.
	for _, lead := range []time.Duration{twilio.MinScheduleLead, twilio.MaxScheduleLead} {
		_, err := s.Send(context.Background(), &channel.Message{Kind: channel.SMS, To: "+1", Text: "x", SendAt: clock.Add(lead),
			From: channel.Identity{Address: serviceSID}})
		if err != nil {
			t.Errorf("lead %s: %v", lead, err)
		}
	}
	if r := f.last(t); r.Form.Get("MessagingServiceSid") != serviceSID || r.Form.Has("From") {
		t.Errorf("service identity form = %v", r.Form)
	}
}

func TestCancel(t *testing.T) {
	f, s := newFake(t, http.StatusOK, messageJSON("canceled", "", "+33612345678"))
	if err := s.Cancel(context.Background(), msgSID); err != nil {
		t.Fatal(err)
	}
	r := f.last(t)
	if r.Path != "/2010-04-01/Accounts/"+accountSID+"/Messages/"+msgSID+".json" || r.Form.Encode() != "Status=canceled" {
		t.Errorf("cancel request %s %v", r.Path, r.Form)
	}
	f.code, f.body = http.StatusNotFound, errorJSON(404, 20404, "The requested resource /2010-04-01/Accounts/"+accountSID+"/Messages/SMx.json was not found")
	err := s.Cancel(context.Background(), "SMx")
	if !errors.Is(err, channel.ErrPermanent) || !errors.Is(err, channel.ErrUnknownMessage) {
		t.Errorf("unknown SID: %v", err)
	}
	if _, err := s.Send(context.Background(), &channel.Message{Kind: channel.SMS, To: "+1", Text: "x"}); errors.Is(err, channel.ErrUnknownMessage) || !errors.Is(err, channel.ErrPermanent) {
		t.Errorf("send answered 404: %v", err)
	}
	f.code, f.body = http.StatusOK, messageJSON("sent", "", "+33612345678")
	if err := s.Cancel(context.Background(), msgSID); !errors.Is(err, channel.ErrPermanent) {
		t.Errorf("already sent: %v", err)
	}
	if err := s.Cancel(context.Background(), "../x"); !errors.Is(err, channel.ErrInvalidMessage) {
		t.Errorf("bad SID: %v", err)
	}
}

// Error responses become *twilio.Error, classified so that Retryable tells a
// retry that can help from one that cannot; 21610 is an opt-out (R5).
func TestSendErrors(t *testing.T) {
	cases := []struct {
		name      string
		code      int
		body      string
		retryable bool
		is        error
		twCode    int
	}{
		{"unsubscribed", 400, errorJSON(400, 21610, "Attempt to send to unsubscribed recipient"), false, channel.ErrOptedOut, 21610},
		{"window closed", 400, errorJSON(400, 63016, "Failed to send freeform message because you are outside the allowed window."), false, channel.ErrWindowClosed, 63016},
		{"invalid number", 400, errorJSON(400, 21211, "The 'To' number +1555 is not a valid phone number."), false, channel.ErrPermanent, 21211},
		{"auth", 401, errorJSON(401, 20003, "Authenticate"), false, channel.ErrPermanent, 20003},
		{"rate limited", 429, errorJSON(429, 20429, "Too Many Requests"), true, channel.ErrTransient, 20429},
		{"queue full", 400, errorJSON(400, 21611, "This 'From' number has exceeded the maximum number of queued messages"), true, channel.ErrTransient, 21611},
		{"server error", 500, errorJSON(500, 20500, "Internal Server Error"), true, channel.ErrTransient, 20500},
		{"gateway html", 502, "<html><body>Bad Gateway</body></html>", true, channel.ErrTransient, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, s := newFake(t, c.code, c.body)
			_, err := s.Send(context.Background(), &channel.Message{Kind: channel.SMS, To: "+15558675310", Text: "Hi"})
			var te *twilio.Error
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, not a *twilio.Error", err)
			}
			if te.Status != c.code || te.Code != c.twCode {
				t.Errorf("Error = %+v", te)
			}
			if c.twCode != 0 && te.MoreInfo != fmt.Sprintf("https://www.twilio.com/docs/errors/%d", c.twCode) {
				t.Errorf("MoreInfo = %q", te.MoreInfo)
			}
			if !errors.Is(err, c.is) || channel.Retryable(err) != c.retryable {
				t.Errorf("err = %v: Is(%v) = %v, Retryable = %v", err, c.is, errors.Is(err, c.is), channel.Retryable(err))
			}
			if !strings.HasPrefix(err.Error(), "twilio: ") {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestSendNetworkAndContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	base := srv.URL
	srv.Close() // nothing listens any more
	s, err := twilio.New(twilio.Config{AccountSID: accountSID, AuthToken: authToken, From: "+15005550006", BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	msg := &channel.Message{Kind: channel.SMS, To: "+15558675310", Text: "Hi"}
	if _, err := s.Send(context.Background(), msg); !channel.Retryable(err) {
		t.Errorf("connection refused: %v, want transient", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Send(ctx, msg); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	// A context that ends while Twilio is slow to answer.
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer slow.Close()
	defer close(block)
	s, _ = twilio.New(twilio.Config{AccountSID: accountSID, AuthToken: authToken, From: "+15005550006", BaseURL: slow.URL})
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Send(ctx, msg); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
}

func TestSendInvalidMessages(t *testing.T) {
	f, s := newFake(t, http.StatusCreated, messageJSON("queued", "+15005550006", "+1"))
	cases := map[string]*channel.Message{
		"nil":             nil,
		"no recipient":    {Kind: channel.SMS, Text: "x"},
		"no body":         {Kind: channel.SMS, To: "+1", Text: "  "},
		"email kind":      {Kind: channel.Email, To: "a@example.com", Text: "x"},
		"sms with media":  {Kind: channel.SMS, To: "+1", Text: "x", Attachments: []channel.Attachment{{URL: "https://e.example/a.png"}}},
		"media no url":    {Kind: channel.MMS, To: "+1", Attachments: []channel.Attachment{{Name: "a.png", Data: []byte{1}}}},
		"media bad url":   {Kind: channel.MMS, To: "+1", Attachments: []channel.Attachment{{URL: "ftp://e.example/a.png"}}},
		"template no sid": {Kind: channel.WhatsApp, To: "+1", Template: &channel.TemplateRef{Name: "reminder"}},
		"bad service":     {Kind: channel.SMS, To: "+1", Text: "x", Metadata: map[string]string{twilio.MetaMessagingServiceSID: "nope"}},
	}
	for name, m := range cases {
		_, err := s.Send(context.Background(), m)
		if !errors.Is(err, channel.ErrInvalidMessage) || !errors.Is(err, channel.ErrPermanent) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if f.count() != 0 {
		t.Errorf("%d invalid messages reached Twilio", f.count())
	}
}

func TestSendAPIKeyAndOverrides(t *testing.T) {
	f := &fakeTwilio{code: http.StatusCreated, body: messageJSON("accepted", "", "+1")}
	srv := httptest.NewServer(f)
	defer srv.Close()
	s, err := twilio.New(twilio.Config{AccountSID: accountSID, APIKeySID: "SKeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", APIKeySecret: "secret",
		MessagingServiceSID: serviceSID, BaseURL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), &channel.Message{Kind: channel.SMS, To: "+15558675310", Text: "Hi",
		Metadata: map[string]string{twilio.MetaStatusCallback: "https://other.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	r := f.last(t)
	if r.User != "SKeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee" || r.Pass != "secret" || r.Path != "/2010-04-01/Accounts/"+accountSID+"/Messages.json" {
		t.Errorf("auth %q:%q path %s", r.User, r.Pass, r.Path)
	}
	if r.Form.Get("MessagingServiceSid") != serviceSID || r.Form.Has("From") || r.Form.Get("StatusCallback") != "https://other.example.com/cb" {
		t.Errorf("form %v", r.Form)
	}
}

func TestNewValidates(t *testing.T) {
	bad := []twilio.Config{
		{},
		{AccountSID: "XX1", AuthToken: "t"},
		{AccountSID: accountSID},
		{AccountSID: accountSID, APIKeySID: "SK1"},
		{AccountSID: accountSID, AuthToken: "t", BaseURL: "ftp://x"},
		{AccountSID: accountSID, AuthToken: "t", MessagingServiceSID: "MG1"},
		{AccountSID: accountSID, AuthToken: "t", StatusCallback: "/relative"},
	}
	for i, c := range bad {
		if _, err := twilio.New(c); !errors.Is(err, twilio.ErrConfig) {
			t.Errorf("config %d: %v", i, err)
		}
	}
}

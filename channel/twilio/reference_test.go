package twilio_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/twilio"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/status"
)

// S4, lost outcomes: Twilio's Messages resource has no field for the
// caller's reference, so the Sender puts msg.Reference in the status
// callback URL (ReferenceParam), keeping the URL's own query and its
// fragment (Twilio's connection overrides "#rc=…&rp=…" stay last and
// unchanged). No reference, or one longer than MaxReferenceBytes, leaves the
// URL as configured.
func TestSendStatusCallbackCarriesReference(t *testing.T) {
	long := strings.Repeat("r", twilio.MaxReferenceBytes+1)
	edge := strings.Repeat("r", twilio.MaxReferenceBytes)
	cases := []struct {
		name, callback, override, ref, want string
	}{
		{"plain", "https://hooks.example.com/twilio", "", "dlv-1",
			"https://hooks.example.com/twilio?parley_ref=dlv-1"},
		{"escaped", "https://hooks.example.com/twilio", "", "a b&c=d#e/é",
			"https://hooks.example.com/twilio?parley_ref=a+b%26c%3Dd%23e%2F%C3%A9"},
		{"existing query", "https://hooks.example.com/twilio?tenant=7&x=a%20b", "", "dlv-1",
			"https://hooks.example.com/twilio?tenant=7&x=a%20b&parley_ref=dlv-1"},
		{"empty query", "https://hooks.example.com/twilio?", "", "dlv-1",
			"https://hooks.example.com/twilio?parley_ref=dlv-1"},
		{"connection overrides", "https://hooks.example.com/twilio?tenant=7#rc=2&rp=all", "", "dlv-1",
			"https://hooks.example.com/twilio?tenant=7&parley_ref=dlv-1#rc=2&rp=all"},
		{"overrides, no query", "https://hooks.example.com/twilio#rc=5&rp=ct,rt&ct=1000", "", "dlv-1",
			"https://hooks.example.com/twilio?parley_ref=dlv-1#rc=5&rp=ct,rt&ct=1000"},
		{"no reference", "https://hooks.example.com/twilio?tenant=7#rc=2", "", "",
			"https://hooks.example.com/twilio?tenant=7#rc=2"},
		{"reference too long", "https://hooks.example.com/twilio", "", long,
			"https://hooks.example.com/twilio"},
		{"longest reference", "https://hooks.example.com/twilio", "", edge,
			"https://hooks.example.com/twilio?parley_ref=" + edge},
		{"metadata override", "https://hooks.example.com/twilio", "https://other.example.com/cb?t=9#rp=all", "dlv-2",
			"https://other.example.com/cb?t=9&parley_ref=dlv-2#rp=all"},
		{"override, no config", "", "https://other.example.com/cb", "dlv-3",
			"https://other.example.com/cb?parley_ref=dlv-3"},
		{"no callback", "", "", "dlv-4", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeTwilio{code: http.StatusCreated, body: messageJSON("queued", "+15005550006", "+33612345678")}
			srv := httptest.NewServer(f)
			defer srv.Close()
			s, err := twilio.New(twilio.Config{AccountSID: accountSID, AuthToken: authToken, From: "+15005550006",
				StatusCallback: c.callback, BaseURL: srv.URL, HTTPClient: srv.Client(), Now: func() time.Time { return clock }})
			if err != nil {
				t.Fatal(err)
			}
			msg := &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "Hello", Reference: c.ref}
			if c.override != "" {
				msg.Metadata = map[string]string{twilio.MetaStatusCallback: c.override}
			}
			if _, err := s.Send(context.Background(), msg); err != nil {
				t.Fatal(err)
			}
			form := f.last(t).Form
			if got := form.Get("StatusCallback"); got != c.want || form.Has("StatusCallback") != (c.want != "") {
				t.Fatalf("StatusCallback = %q, want %q", got, c.want)
			}
			if c.want == "" || c.ref == "" || len(c.ref) > twilio.MaxReferenceBytes {
				return
			}
			u, err := url.Parse(c.want)
			if err != nil || u.Query().Get(twilio.ReferenceParam) != c.ref {
				t.Fatalf("the URL does not give the reference back: %v %q", err, u.Query().Get(twilio.ReferenceParam))
			}
		})
	}
}

// A StatusCallback that already has a ReferenceParam parameter is refused:
// callbacks would otherwise report a reference no delivery has.
func TestStatusCallbackWithReferenceParamRefused(t *testing.T) {
	_, err := twilio.New(twilio.Config{AccountSID: accountSID, AuthToken: authToken, From: "+15005550006",
		StatusCallback: "https://hooks.example.com/twilio?parley_ref=x"})
	if !errors.Is(err, twilio.ErrConfig) {
		t.Fatalf("New: %v, want ErrConfig", err)
	}
	f, s := newFake(t, http.StatusCreated, messageJSON("queued", "+15005550006", "+33612345678"))
	for _, cb := range []string{"https://other.example.com/cb?parley_ref=x", "/relative"} {
		_, err = s.Send(context.Background(), &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "Hello",
			Reference: "dlv-1", Metadata: map[string]string{twilio.MetaStatusCallback: cb}})
		if !errors.Is(err, channel.ErrInvalidMessage) || !errors.Is(err, channel.ErrPermanent) {
			t.Fatalf("override %q: %v, want ErrInvalidMessage", cb, err)
		}
	}
	if n := f.count(); n != 0 {
		t.Fatalf("%d requests reached Twilio", n)
	}
}

// S4, lost outcomes: a signed status callback whose URL carries
// ReferenceParam gives a StatusUpdate with that Reference; the signature
// covers the URL, so a reference changed after signing is refused (403) and
// the Receiver never sees it. Inbound messages ignore the parameter, and a
// callback without it has no Reference, as before.
func TestHandlerStatusCallbackReference(t *testing.T) {
	e := newHook(t, nil)
	target := hookPath + "&" + twilio.ReferenceParam + "=dlv+7%2Fa"
	if w := e.do(signedRequest(target, hookBase+target, statusCallback(msgSID, "delivered"))); w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if w := e.do(signedRequest(hookPath, hookBase+hookPath, statusCallback(msgSID, "read"))); w.Code != http.StatusOK {
		t.Fatalf("without a reference: status %d: %s", w.Code, w.Body)
	}
	if w := e.do(signedRequest(target, hookBase+target, inboundSMS(sid(1), "hello"))); w.Code != http.StatusOK {
		t.Fatalf("inbound: status %d: %s", w.Code, w.Body)
	}
	// signed for target, requested with another reference
	other := hookPath + "&" + twilio.ReferenceParam + "=dlv-8"
	tampered := signedRequest(other, hookBase+target, statusCallback(msgSID, "failed"))
	if w := e.do(tampered); w.Code != http.StatusForbidden {
		t.Fatalf("reference changed after signing: status %d, want 403", w.Code)
	}
	twice := hookPath + "&" + twilio.ReferenceParam + "=a&" + twilio.ReferenceParam + "=b"
	if w := e.do(signedRequest(twice, hookBase+twice, statusCallback(msgSID, "failed"))); w.Code != http.StatusBadRequest {
		t.Fatalf("two different references: status %d, want 400", w.Code)
	}
	in, got, _ := e.rec.snapshot()
	want := []channel.StatusUpdate{
		{Kind: channel.SMS, ProviderID: msgSID, Recipient: "+33612345678", Reference: "dlv 7/a", Status: status.Delivered, Raw: "delivered"},
		{Kind: channel.SMS, ProviderID: msgSID, Recipient: "+33612345678", Status: status.Read, Raw: "read"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("statuses (-want +got):\n%s", d)
	}
	if len(in) != 1 || in[0].ProviderID != sid(1) {
		t.Fatalf("inbound = %+v", in)
	}
}

// lostAnswer is an http.RoundTripper whose requests reach Twilio but whose
// answers are lost on the way back (a connection reset after Twilio
// accepted the message): the send's outcome is never known.
type lostAnswer struct{ next http.RoundTripper }

func (l lostAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	_ = resp.Body.Close()
	return nil, errors.New("read: connection reset by peer")
}

// S4, lost outcomes, end to end: the inbox sends through the Sender, Twilio
// accepts the message but its answer is lost, so the inbox never records
// the message SID; Twilio's status callback, posted to the URL the Sender
// gave (with the delivery's reference) and signed over it, reaches that
// delivery through the Handler and records its SID and status.
func TestLostSendAnswerRecoveredByCallbackReference(t *testing.T) {
	f := &fakeTwilio{code: http.StatusCreated, body: messageJSON("queued", "+15005550006", "+33612345678")}
	srv := httptest.NewServer(f)
	defer srv.Close()
	now := func() time.Time { return clock }
	client := &http.Client{Transport: lostAnswer{srv.Client().Transport}}
	tw, err := twilio.New(twilio.Config{AccountSID: accountSID, AuthToken: authToken, From: "+15005550006",
		StatusCallback: hookBase + hookPath + "#rc=2&rp=all", BaseURL: srv.URL, HTTPClient: client, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	reg := channel.NewRegistry()
	if err := reg.Register(channel.SMS, tw, channel.Config{Identities: []channel.Identity{{ID: "desk", Address: "+15005550006", TwoWay: true}}}); err != nil {
		t.Fatal(err)
	}
	st := memstore.New()
	ib, err := inbox.New(st, inbox.Options{Now: now, Channels: reg, StatusWait: -1, Retry: inbox.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ib.Close() })
	ctx := context.Background()
	th, err := ib.StartWithAddress(ctx, channel.SMS, "+33612345678")
	if err != nil {
		t.Fatal(err)
	}
	res, _ := ib.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Your class is at 6pm", Author: inbox.Author{Agent: "lea"}})
	if len(res.Deliveries) != 1 || res.Deliveries[0].ProviderID != "" {
		t.Fatalf("send: %+v, want one delivery without a provider ID", res)
	}
	id := res.Deliveries[0].ID
	if n := f.count(); n != 1 {
		t.Fatalf("Twilio got %d requests, want 1", n)
	}
	cb, err := url.Parse(f.last(t).Form.Get("StatusCallback"))
	if err != nil || cb.Query().Get(twilio.ReferenceParam) != id || cb.Fragment != "rc=2&rp=all" {
		t.Fatalf("StatusCallback %v (%v), want the delivery's reference %s and the overrides kept", cb, err, id)
	}
	h, err := twilio.NewHandler(twilio.HandlerConfig{AccountSID: accountSID, AuthToken: hookToken, BaseURL: hookBase, Now: now}, ib)
	if err != nil {
		t.Fatal(err)
	}
	// Twilio calls the URL without the fragment and signs what it calls.
	cb.Fragment = ""
	target := cb.RequestURI()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, signedRequest(target, hookBase+target, statusCallback(msgSID, "delivered")))
	if w.Code != http.StatusOK {
		t.Fatalf("callback: %d %s", w.Code, w.Body)
	}
	d, err := st.DeliveryByProviderID(ctx, msgSID)
	if err != nil || d.ID != id || d.Status.Current != status.Delivered {
		t.Fatalf("delivery by SID %s: %+v, %v; want delivery %s, delivered", msgSID, d, err, id)
	}
}

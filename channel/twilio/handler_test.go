package twilio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/twilio"
	"github.com/parleyhq/parley/status"
)

const (
	hookToken = "0123456789abcdef0123456789abcdef"
	hookBase  = "https://hooks.example.com"
	hookPath  = "/twilio/messages?tenant=7"
)

// receiver is a channel.Receiver that stores like the inbox does: an inbound
// message whose ProviderID it already has is not stored again (M5).
type receiver struct {
	mu       sync.Mutex
	inbound  []channel.Inbound
	statuses []channel.StatusUpdate
	calls    int
	seen     map[string]bool
	err      error // returned (once stored nothing) while set
}

func (r *receiver) Receive(ctx context.Context, in channel.Inbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.err != nil {
		return r.err
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen[in.ProviderID] {
		return nil
	}
	r.seen[in.ProviderID] = true
	r.inbound = append(r.inbound, in)
	return nil
}

func (r *receiver) ApplyStatus(ctx context.Context, u channel.StatusUpdate) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.err != nil {
		return r.err
	}
	r.statuses = append(r.statuses, u)
	return nil
}

func (r *receiver) snapshot() ([]channel.Inbound, []channel.StatusUpdate, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channel.Inbound(nil), r.inbound...), append([]channel.StatusUpdate(nil), r.statuses...), r.calls
}

func (r *receiver) setErr(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

type hookEnv struct {
	h   *twilio.Handler
	rec *receiver
	now *time.Time
	log *bytes.Buffer
}

func newHook(t *testing.T, mod func(*twilio.HandlerConfig)) hookEnv {
	t.Helper()
	now := clock
	env := hookEnv{rec: &receiver{}, now: &now, log: &bytes.Buffer{}}
	cfg := twilio.HandlerConfig{AccountSID: accountSID, AuthToken: hookToken, BaseURL: hookBase,
		Now: func() time.Time { return *env.now }, Logger: slog.New(slog.NewTextHandler(env.log, nil))}
	if mod != nil {
		mod(&cfg)
	}
	h, err := twilio.NewHandler(cfg, env.rec)
	if err != nil {
		t.Fatal(err)
	}
	env.h = h
	return env
}

// signedRequest builds the POST Twilio sends to hookBase+target with params,
// signed over signURL (the public URL Twilio requested).
func signedRequest(target, signURL string, params url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(params.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(twilio.SignatureHeader, twilio.Signature(hookToken, signURL, params))
	return r
}

func (e hookEnv) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// inboundSMS is the form Twilio posts for an incoming SMS.
func inboundSMS(sid, body string) url.Values {
	return url.Values{
		"ToCountry": {"FR"}, "ToState": {""}, "SmsMessageSid": {sid}, "NumMedia": {"0"}, "ToCity": {""},
		"FromZip": {""}, "SmsSid": {sid}, "FromState": {""}, "SmsStatus": {"received"}, "FromCity": {""},
		"Body": {body}, "FromCountry": {"FR"}, "To": {"+33757000001"}, "MessagingServiceSid": {serviceSID},
		"ToZip": {""}, "NumSegments": {"1"}, "MessageSid": {sid}, "AccountSid": {accountSID},
		"From": {"+33612345678"}, "ApiVersion": {"2010-04-01"},
	}
}

// sid returns a message SID ("SM" and 32 hex digits) made from n.
func sid(n int) string { return fmt.Sprintf("SM%032x", n) }

// statusCallback is the form Twilio posts for a status callback.
func statusCallback(sid, st string) url.Values {
	return url.Values{"SmsSid": {sid}, "SmsStatus": {st}, "MessageStatus": {st}, "To": {"+33612345678"},
		"MessageSid": {sid}, "AccountSid": {accountSID}, "From": {"+15005550006"}, "ApiVersion": {"2010-04-01"}}
}

func TestHandlerInboundSMS(t *testing.T) {
	e := newHook(t, nil)
	w := e.do(signedRequest(hookPath, hookBase+hookPath, inboundSMS(sid(1), "Can I move my class to 6pm?")))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<Response>") {
		t.Fatalf("status %d body %q", w.Code, w.Body)
	}
	in, _, _ := e.rec.snapshot()
	want := []channel.Inbound{{Kind: channel.SMS, From: "+33612345678", To: "+33757000001",
		Text: "Can I move my class to 6pm?", ProviderID: sid(1), ReceivedAt: clock}}
	if d := cmp.Diff(want, in); d != "" {
		t.Fatalf("inbound (-want +got):\n%s", d)
	}
}

const mmSID = "MMdddddddddddddddddddddddddddddddd"

func TestHandlerInboundMMSMedia(t *testing.T) {
	e := newHook(t, nil)
	p := inboundSMS(mmSID, "")
	p.Set("NumMedia", "2")
	p.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/"+accountSID+"/Messages/"+mmSID+"/Media/ME1")
	p.Set("MediaContentType0", "image/jpeg")
	p.Set("MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/"+accountSID+"/Messages/"+mmSID+"/Media/ME2")
	p.Set("MediaContentType1", "image/png")
	if w := e.do(signedRequest(hookPath, hookBase+hookPath, p)); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	in, _, _ := e.rec.snapshot()
	if len(in) != 1 || in[0].Kind != channel.MMS {
		t.Fatalf("inbound %+v", in)
	}
	want := []channel.Attachment{
		{URL: "https://api.twilio.com/2010-04-01/Accounts/" + accountSID + "/Messages/" + mmSID + "/Media/ME1", ContentType: "image/jpeg"},
		{URL: "https://api.twilio.com/2010-04-01/Accounts/" + accountSID + "/Messages/" + mmSID + "/Media/ME2", ContentType: "image/png"},
	}
	if d := cmp.Diff(want, in[0].Attachments); d != "" {
		t.Fatalf("attachments (-want +got):\n%s", d)
	}
}

func TestHandlerInboundWhatsApp(t *testing.T) {
	e := newHook(t, nil)
	p := url.Values{
		"SmsMessageSid": {sid(2)}, "NumMedia": {"0"}, "ProfileName": {"Hélène"}, "MessageType": {"button"},
		"SmsSid": {sid(2)}, "WaId": {"33612345678"}, "SmsStatus": {"received"}, "Body": {""}, "ButtonText": {"Confirm"},
		"ButtonPayload": {"confirm"}, "To": {"whatsapp:+33757000001"}, "NumSegments": {"1"}, "ReferralNumMedia": {"0"},
		"MessageSid": {sid(2)}, "AccountSid": {accountSID}, "OriginalRepliedMessageSid": {msgSID},
		"From": {"whatsapp:+33612345678"}, "ApiVersion": {"2010-04-01"},
	}
	if w := e.do(signedRequest(hookPath, hookBase+hookPath, p)); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	in, _, _ := e.rec.snapshot()
	want := []channel.Inbound{{Kind: channel.WhatsApp, From: "+33612345678", Name: "Hélène", To: "+33757000001",
		Text: "Confirm", ProviderID: sid(2), InReplyTo: []string{msgSID}, ReceivedAt: clock}}
	if d := cmp.Diff(want, in); d != "" {
		t.Fatalf("inbound (-want +got):\n%s", d)
	}
}

// S4: status callbacks map to S1 statuses with the raw value and error code
// kept (S3); Twilio gives no event time, so At stays zero and the inbox keeps
// the arrival time (a retried callback is then the same event).
func TestHandlerStatusCallback(t *testing.T) {
	e := newHook(t, nil)
	for _, p := range []url.Values{
		{"SmsSid": {msgSID}, "SmsStatus": {"sent"}, "MessageStatus": {"sent"}, "To": {"+33612345678"},
			"MessageSid": {msgSID}, "AccountSid": {accountSID}, "From": {"+15005550006"}, "ApiVersion": {"2010-04-01"}},
		{"ErrorCode": {"30007"}, "SmsSid": {msgSID}, "SmsStatus": {"undelivered"}, "MessageStatus": {"undelivered"},
			"To": {"whatsapp:+33612345678"}, "MessageSid": {msgSID}, "AccountSid": {accountSID},
			"From": {"whatsapp:+15005550006"}, "ApiVersion": {"2010-04-01"}, "ErrorMessage": {"Message filtered"}},
	} {
		if w := e.do(signedRequest(hookPath, hookBase+hookPath, p)); w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
	}
	_, got, _ := e.rec.snapshot()
	want := []channel.StatusUpdate{
		{Kind: channel.SMS, ProviderID: msgSID, Recipient: "+33612345678", Status: status.Sent, Raw: "sent"},
		{Kind: channel.WhatsApp, ProviderID: msgSID, Recipient: "+33612345678", Status: status.Undelivered, Raw: "undelivered",
			ErrorCode: "30007", ErrorMessage: "Message filtered"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("statuses (-want +got):\n%s", d)
	}
}

// A bad or missing signature gets 403 and the Receiver is never called.
func TestHandlerBadSignature(t *testing.T) {
	e := newHook(t, nil)
	p := inboundSMS(sid(1), "hello")
	tampered := signedRequest(hookPath, hookBase+hookPath, p)
	p.Set("Body", "STOP")
	tampered.Body = http.NoBody
	tampered = withBody(tampered, p.Encode())
	reqs := map[string]*http.Request{
		"tampered body":  tampered,
		"other URL":      signedRequest(hookPath, hookBase+"/twilio/messages?tenant=8", inboundSMS(sid(1), "hello")),
		"http scheme":    signedRequest(hookPath, "http://hooks.example.com"+hookPath, inboundSMS(sid(1), "hello")),
		"other port":     signedRequest(hookPath, "https://hooks.example.com:8443"+hookPath, inboundSMS(sid(1), "hello")),
		"no signature":   withHeader(signedRequest(hookPath, hookBase+hookPath, inboundSMS(sid(1), "hello")), twilio.SignatureHeader, ""),
		"garbage header": withHeader(signedRequest(hookPath, hookBase+hookPath, inboundSMS(sid(1), "hello")), twilio.SignatureHeader, "!!"),
	}
	for name, r := range reqs {
		if w := e.do(r); w.Code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, w.Code)
		}
	}
	if _, _, calls := e.rec.snapshot(); calls != 0 {
		t.Fatalf("Receiver called %d times", calls)
	}
	// Twilio signing with the default port is accepted.
	if w := e.do(signedRequest(hookPath, "https://hooks.example.com:443"+hookPath, inboundSMS(sid(1), "hello"))); w.Code != http.StatusOK {
		t.Fatalf("port 443 variant: %d", w.Code)
	}
}

func withBody(r *http.Request, body string) *http.Request {
	r2 := httptest.NewRequest(r.Method, r.RequestURI, strings.NewReader(body))
	r2.Header = r.Header.Clone()
	return r2
}

func withHeader(r *http.Request, k, v string) *http.Request {
	if v == "" {
		r.Header.Del(k)
	} else {
		r.Header.Set(k, v)
	}
	return r
}

// M5: a webhook delivered twice is answered 200 both times and stored once.
func TestHandlerDuplicateDelivery(t *testing.T) {
	e := newHook(t, nil)
	for range 2 {
		if w := e.do(signedRequest(hookPath, hookBase+hookPath, inboundSMS(sid(9), "hi"))); w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
	}
	if in, _, calls := e.rec.snapshot(); len(in) != 1 || calls != 2 {
		t.Fatalf("stored %d, calls %d", len(in), calls)
	}
}

// A store failure answers 5xx so that Twilio retries; a refusal as invalid
// answers 400 with its reason; a status for a message no delivery has is
// acknowledged with 200 and logged, since no retry would find it.
func TestHandlerReceiverErrors(t *testing.T) {
	cases := []struct {
		err  error
		code int
	}{
		{errors.New("db down"), http.StatusInternalServerError},
		{fmt.Errorf("inbox: %w", channel.ErrUnknownMessage), http.StatusOK},
		{fmt.Errorf("inbox: %w: no sender", channel.ErrInvalidMessage), http.StatusBadRequest},
		{fmt.Errorf("inbox: %w: NUL in body", channel.ErrPermanent), http.StatusBadRequest},
		{context.DeadlineExceeded, http.StatusInternalServerError},
	}
	for _, c := range cases {
		e := newHook(t, nil)
		e.rec.setErr(c.err)
		w := e.do(signedRequest(hookPath, hookBase+hookPath, statusCallback(msgSID, "delivered")))
		if w.Code != c.code {
			t.Errorf("%v: status %d, want %d", c.err, w.Code, c.code)
		}
		if c.code == http.StatusBadRequest && !strings.Contains(w.Body.String(), c.err.Error()) {
			t.Errorf("%v: 400 without the reason: %q", c.err, w.Body)
		}
		if c.code == http.StatusOK && !strings.Contains(e.log.String(), "unknown message") {
			t.Errorf("%v: acknowledged without a log record: %q", c.err, e.log)
		}
	}
}

func TestHandlerMalformed(t *testing.T) {
	e := newHook(t, nil)
	acct := url.Values{"AccountSid": {accountSID}}
	with := func(kv ...string) url.Values {
		p := url.Values{}
		for k, v := range acct {
			p[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			p.Add(kv[i], kv[i+1])
		}
		return p
	}
	cases := map[string]url.Values{
		"no sid":            with("Body", "hi", "From", "+33612345678"),
		"nothing":           with("MessageSid", sid(1)),
		"unknown status":    with("MessageSid", sid(1), "MessageStatus", "exploded"),
		"bad NumMedia":      with("MessageSid", sid(1), "From", "+33612345678", "NumMedia", "x"),
		"huge NumMedia":     with("MessageSid", sid(1), "From", "+33612345678", "NumMedia", "1000000000"),
		"negative NumMedia": with("MessageSid", sid(1), "From", "+33612345678", "NumMedia", "-1"),
		"missing MediaUrl":  with("MessageSid", sid(1), "From", "+33612345678", "NumMedia", "1"),
		"inbound no From":   with("MessageSid", sid(1), "SmsStatus", "received", "Body", "hi"),
	}
	for name, p := range cases {
		if w := e.do(signedRequest(hookPath, hookBase+hookPath, p)); w.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, w.Code)
		}
	}
	r := httptest.NewRequest(http.MethodPost, hookPath, strings.NewReader("Body=%zz"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(twilio.SignatureHeader, "x")
	if w := e.do(r); w.Code != http.StatusBadRequest {
		t.Errorf("bad encoding: %d", w.Code)
	}
	if _, _, calls := e.rec.snapshot(); calls != 0 {
		t.Fatalf("Receiver called %d times", calls)
	}
}

// Twilio signs names and values joined without separators, so a captured
// request can be re-split: moving "NumMedia0" into the MessageSid before it
// keeps the signature valid and, unchecked, stores the message again under
// a new provider ID (M5 defeated). Every field the Handler trusts is checked
// for its shape, and such requests are refused with 400.
func TestHandlerRefusesResplitRequests(t *testing.T) {
	e := newHook(t, nil)
	// An SMS to a number outside any Messaging Service: NumMedia follows
	// MessageSid in the signed string.
	captured := inboundSMS(sid(7), "See you at 6")
	captured.Del("MessagingServiceSid")
	if w := e.do(signedRequest(hookPath, hookBase+hookPath, captured)); w.Code != http.StatusOK {
		t.Fatalf("captured request: %d", w.Code)
	}
	sig := twilio.Signature(hookToken, hookBase+hookPath, captured)
	resplit := inboundSMS(sid(7), "See you at 6")
	resplit.Del("MessagingServiceSid")
	resplit.Del("NumMedia")
	resplit.Set("MessageSid", sid(7)+"NumMedia0")
	if err := twilio.VerifySignature(hookToken, hookBase+hookPath, resplit, sig); err != nil {
		t.Fatalf("the re-split request should still verify (that is the attack): %v", err)
	}
	r := httptest.NewRequest(http.MethodPost, hookPath, strings.NewReader(resplit.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(twilio.SignatureHeader, sig)
	if w := e.do(r); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "MessageSid") {
		t.Fatalf("re-split request: %d %q, want 400 naming MessageSid", w.Code, w.Body)
	}
	if in, _, calls := e.rec.snapshot(); len(in) != 1 || calls != 1 {
		t.Fatalf("stored %d messages after %d calls, want the captured one only", len(in), calls)
	}
}

// Every field the Handler uses has a shape; a webhook of another account, or
// a field repeated with different values, is refused with 400 and never
// reaches the Receiver.
func TestHandlerFieldShapes(t *testing.T) {
	e := newHook(t, nil)
	set := func(p url.Values, kv ...string) url.Values {
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				p.Del(kv[i])
			} else {
				p.Set(kv[i], kv[i+1])
			}
		}
		return p
	}
	in := func(kv ...string) url.Values { return set(inboundSMS(sid(3), "hi"), kv...) }
	st := func(kv ...string) url.Values { return set(statusCallback(msgSID, "delivered"), kv...) }
	cases := map[string]url.Values{
		"no AccountSid":           in("AccountSid", ""),
		"other account":           in("AccountSid", "AC"+strings.Repeat("e", 32)),
		"AccountSid too long":     in("AccountSid", accountSID+"0"),
		"AccountSid not hex":      in("AccountSid", "AC"+strings.Repeat("z", 32)),
		"MessageSid short":        in("MessageSid", "SM123", "SmsSid", "", "SmsMessageSid", ""),
		"MessageSid prefix":       in("MessageSid", "XX"+strings.Repeat("c", 32), "SmsSid", "", "SmsMessageSid", ""),
		"SmsSid differs":          in("SmsSid", sid(4)),
		"SmsMessageSid bad":       in("SmsMessageSid", sid(3)+"Body"),
		"From not a number":       in("From", "+33612345678FromCity"),
		"To not a number":         in("To", "hotel"),
		"replied SID bad":         in("OriginalRepliedMessageSid", "SM1"),
		"MediaUrl not a URL":      in("NumMedia", "1", "MediaUrl0", "javascript:alert(1)"),
		"MediaContentType bad":    in("NumMedia", "1", "MediaUrl0", "https://api.twilio.com/m", "MediaContentType0", "image/"),
		"statuses differ":         st("SmsStatus", "sent"),
		"ErrorCode not digits":    st("ErrorCode", "30007x"),
		"status To not a number":  st("To", "+33 6 12"),
		"status From bad":         st("From", "way too long sender id"),
		"status of another acct":  st("AccountSid", "AC"+strings.Repeat("f", 32)),
		"status MessageSid short": st("MessageSid", "SM1", "SmsSid", ""),
	}
	rep := inboundSMS(sid(3), "hi")
	rep["Body"] = []string{"hi", "STOP"}
	cases["Body repeated with another value"] = rep
	rep2 := inboundSMS(sid(3), "hi")
	rep2["MessageSid"] = []string{sid(3), sid(5)}
	cases["MessageSid repeated with another value"] = rep2
	for name, p := range cases {
		w := e.do(signedRequest(hookPath, hookBase+hookPath, p))
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, w.Code)
		}
	}
	if _, _, calls := e.rec.snapshot(); calls != 0 {
		t.Fatalf("Receiver called %d times", calls)
	}
	// Accepted shapes: a short code, an alphanumeric sender ID on a status
	// callback, an AccountSid in upper-case hex, a field repeated with the
	// same value.
	ok := map[string]url.Values{
		"short code To":            in("To", "36111"),
		"alphanumeric status From": st("From", "StudioZen"),
		"upper-case AccountSid":    in("AccountSid", strings.ToUpper(accountSID[:2])+strings.ToUpper(accountSID[2:])),
		"WhatsApp numbers":         in("From", "whatsapp:+33612345678", "To", "whatsapp:+33757000001"),
	}
	same := inboundSMS(sid(6), "hi")
	same["ToCountry"] = []string{"FR", "FR"}
	same["Body"] = []string{"hi", "hi"}
	ok["value repeated"] = same
	for name, p := range ok {
		if w := e.do(signedRequest(hookPath, hookBase+hookPath, p)); w.Code != http.StatusOK {
			t.Errorf("%s: status %d %q, want 200", name, w.Code, w.Body)
		}
	}
}

// A request in which a parameter repeats a value is signed with the value
// once (as Twilio's helper libraries sign it), and accepted.
func TestHandlerRepeatedValueSignedOnce(t *testing.T) {
	e := newHook(t, nil)
	p := inboundSMS(sid(8), "hi")
	p["ToCountry"] = []string{"FR", "FR"}
	once := inboundSMS(sid(8), "hi")
	body := p.Encode()
	r := httptest.NewRequest(http.MethodPost, hookPath, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(twilio.SignatureHeader, twilio.Signature(hookToken, hookBase+hookPath, once))
	if w := e.do(r); w.Code != http.StatusOK {
		t.Fatalf("status %d %q, want 200", w.Code, w.Body)
	}
}

// Auth-token rotation: webhooks signed with the current token or one of
// OldAuthTokens are accepted, others are refused.
func TestHandlerAuthTokenRotation(t *testing.T) {
	const oldToken, newToken = "old-token-0123456789abcdef012345", "new-token-0123456789abcdef012345"
	e := newHook(t, func(c *twilio.HandlerConfig) { c.AuthToken = newToken; c.OldAuthTokens = []string{oldToken} })
	post := func(token string, n int) int {
		p := inboundSMS(sid(n), "hi")
		r := httptest.NewRequest(http.MethodPost, hookPath, strings.NewReader(p.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set(twilio.SignatureHeader, twilio.Signature(token, hookBase+hookPath, p))
		return e.do(r).Code
	}
	if post(newToken, 1) != 200 || post(oldToken, 2) != 200 {
		t.Fatal("a token of the rotation refused")
	}
	if post(hookToken, 3) != http.StatusForbidden {
		t.Fatal("a token outside the rotation accepted")
	}
	body := `{"MessageSid":"` + msgSID + `","MessageStatus":"sent","AccountSid":"` + accountSID + `","To":"+33612345678"}`
	target := "/twilio/messages?bodySHA256=" + twilio.BodySHA256([]byte(body))
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(twilio.SignatureHeader, twilio.Signature(oldToken, hookBase+target, nil))
	if w := e.do(r); w.Code != http.StatusOK {
		t.Fatalf("JSON body signed with the old token: %d", w.Code)
	}
	if _, err := twilio.NewHandler(twilio.HandlerConfig{AccountSID: accountSID, AuthToken: "t", OldAuthTokens: []string{""},
		BaseURL: hookBase}, e.rec); !errors.Is(err, twilio.ErrConfig) {
		t.Fatalf("empty old token: %v", err)
	}
}

func TestHandlerLimitsAndMethod(t *testing.T) {
	e := newHook(t, func(c *twilio.HandlerConfig) { c.MaxBodyBytes = 512 })
	p := inboundSMS(sid(1), strings.Repeat("a", 600))
	if w := e.do(signedRequest(hookPath, hookBase+hookPath, p)); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("declared length: %d", w.Code)
	}
	r := signedRequest(hookPath, hookBase+hookPath, p)
	r.ContentLength = -1 // chunked: the limit applies while reading
	if w := e.do(r); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("unknown length: %d", w.Code)
	}
	g := httptest.NewRequest(http.MethodGet, hookPath, nil)
	w := e.do(g)
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != http.MethodPost {
		t.Errorf("GET: %d Allow=%q", w.Code, w.Header().Get("Allow"))
	}
	if _, _, calls := e.rec.snapshot(); calls != 0 {
		t.Fatalf("Receiver called %d times", calls)
	}
}

// Replay protection: a retried webhook carrying an idempotency token that was
// handled within the window is answered without calling the Receiver; a
// token whose first delivery failed is not remembered, so the retry stores.
func TestHandlerIdempotencyToken(t *testing.T) {
	e := newHook(t, func(c *twilio.HandlerConfig) {
		c.ReplayWindow = time.Hour
		c.ReplayMaxBytes = 2*twilio.ReplayEntryBytes + twilio.ReplayEntryBytes/2
	})
	send := func(token, id string) int {
		n := map[string]int{"SM1": 1, "SM2": 2, "SM3": 3, "SM4": 4}[id]
		r := signedRequest(hookPath, hookBase+hookPath, statusCallback(sid(n), "delivered"))
		r.Header.Set(twilio.IdempotencyHeader, token)
		return e.do(r).Code
	}
	calls := func() int { _, _, n := e.rec.snapshot(); return n }
	if send("tok-1", "SM1") != 200 || send("tok-1", "SM1") != 200 || calls() != 1 {
		t.Fatalf("replay reached the Receiver: %d calls", calls())
	}
	e.rec.setErr(errors.New("db down"))
	if send("tok-2", "SM2") != 500 {
		t.Fatal("failure not reported")
	}
	e.rec.setErr(nil)
	if send("tok-2", "SM2") != 200 || calls() != 3 {
		t.Fatalf("retry after failure not stored: %d calls", calls())
	}
	// After the window the token is forgotten.
	*e.now = e.now.Add(time.Hour)
	if send("tok-1", "SM1") != 200 || calls() != 4 {
		t.Fatalf("expired token still replayed: %d calls", calls())
	}
	// Capacity: tok-1 (just re-added), tok-3 and tok-4 cannot all be kept in 2.
	send("tok-3", "SM3")
	send("tok-4", "SM4")
	before := calls()
	send("tok-1", "SM1")
	if calls() != before+1 {
		t.Fatal("oldest token kept beyond capacity")
	}
	before = calls()
	send("tok-4", "SM4")
	if calls() != before {
		t.Fatal("recent token forgotten")
	}
}

// JSON bodies are checked with bodySHA256 and the URL-only signature.
func TestHandlerJSONBody(t *testing.T) {
	e := newHook(t, nil)
	body := `{"MessageSid":"` + msgSID + `","AccountSid":"` + accountSID + `","MessageStatus":"read","To":"whatsapp:+33612345678","From":"whatsapp:+15005550006","ErrorCode":null}`
	target := "/twilio/messages?bodySHA256=" + twilio.BodySHA256([]byte(body))
	mk := func(b string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(twilio.SignatureHeader, twilio.Signature(hookToken, hookBase+target, nil))
		return r
	}
	if w := e.do(mk(strings.Replace(body, "read", "sent", 1))); w.Code != http.StatusForbidden {
		t.Fatalf("tampered JSON: %d", w.Code)
	}
	if w := e.do(mk(body)); w.Code != http.StatusOK {
		t.Fatalf("JSON: %d %s", w.Code, w.Body)
	}
	_, st, _ := e.rec.snapshot()
	if len(st) != 1 || st[0].Status != status.Read || st[0].Kind != channel.WhatsApp || st[0].ErrorCode != "" {
		t.Fatalf("statuses %+v", st)
	}
	// A signed JSON body that is not an object is malformed.
	bad := `[1,2]`
	badTarget := "/twilio/messages?bodySHA256=" + twilio.BodySHA256([]byte(bad))
	r := httptest.NewRequest(http.MethodPost, badTarget, strings.NewReader(bad))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(twilio.SignatureHeader, twilio.Signature(hookToken, hookBase+badTarget, nil))
	if w := e.do(r); w.Code != http.StatusBadRequest {
		t.Fatalf("JSON array: %d", w.Code)
	}
}

// Behind a proxy the host gives the public URL: BaseURL with the original
// request-target (kept through http.StripPrefix), or a PublicURL function.
func TestHandlerPublicURL(t *testing.T) {
	e := newHook(t, nil)
	mux := http.NewServeMux()
	mux.Handle("/hooks/", http.StripPrefix("/hooks", e.h))
	r := signedRequest("/hooks/twilio", hookBase+"/hooks/twilio", inboundSMS(sid(1), "hi"))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("behind StripPrefix: %d", w.Code)
	}
	e2 := newHook(t, func(c *twilio.HandlerConfig) {
		c.BaseURL = ""
		c.PublicURL = func(r *http.Request) string { return "https://public.example.org/api/sms" + "?" + r.URL.RawQuery }
	})
	r = signedRequest("/internal/sms?x=1", "https://public.example.org/api/sms?x=1", inboundSMS(sid(1), "hi"))
	if w := e2.do(r); w.Code != http.StatusOK {
		t.Fatalf("PublicURL: %d", w.Code)
	}
}

func TestNewHandlerValidates(t *testing.T) {
	rec := &receiver{}
	bad := []twilio.HandlerConfig{
		{AccountSID: accountSID, BaseURL: hookBase},
		{AccountSID: accountSID, AuthToken: "t"},
		{AccountSID: accountSID, AuthToken: "t", BaseURL: "hooks.example.com"},
		{AccountSID: accountSID, AuthToken: "t", BaseURL: "https://hooks.example.com/path"},
		{AccountSID: accountSID, AuthToken: "t", BaseURL: hookBase, MaxBodyBytes: -1},
		{AccountSID: accountSID, AuthToken: "t", BaseURL: hookBase, ReplayMaxBytes: twilio.ReplayEntryBytes - 1},
		{AuthToken: "t", BaseURL: hookBase},
		{AccountSID: "AC123", AuthToken: "t", BaseURL: hookBase},
	}
	for i, c := range bad {
		if _, err := twilio.NewHandler(c, rec); !errors.Is(err, twilio.ErrConfig) {
			t.Errorf("config %d: %v", i, err)
		}
	}
	if _, err := twilio.NewHandler(twilio.HandlerConfig{AccountSID: accountSID, AuthToken: "t", BaseURL: hookBase}, nil); !errors.Is(err, twilio.ErrConfig) {
		t.Errorf("nil receiver: %v", err)
	}
}

// Handler and Sender are safe for concurrent use (run with -race).
func TestConcurrentUse(t *testing.T) {
	e := newHook(t, func(c *twilio.HandlerConfig) { c.ReplayMaxBytes = 8 * twilio.ReplayEntryBytes })
	_, s := newFake(t, http.StatusCreated, messageJSON("queued", "+15005550006", "+1"))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			id := sid(100 + i)
			r := signedRequest(hookPath, hookBase+hookPath, inboundSMS(id, "hi"))
			r.Header.Set(twilio.IdempotencyHeader, id)
			if w := e.do(r); w.Code != http.StatusOK {
				t.Errorf("status %d", w.Code)
			}
			if _, err := s.Send(context.Background(), &channel.Message{Kind: channel.SMS, To: "+1", Text: id}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if in, _, _ := e.rec.snapshot(); len(in) != 16 {
		t.Fatalf("stored %d", len(in))
	}
}

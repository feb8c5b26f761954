package twilio_test

import (
	"context"
	"errors"
	"fmt"
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
}

func newHook(t *testing.T, mod func(*twilio.HandlerConfig)) hookEnv {
	t.Helper()
	now := clock
	env := hookEnv{rec: &receiver{}, now: &now}
	cfg := twilio.HandlerConfig{AuthToken: hookToken, BaseURL: hookBase, Now: func() time.Time { return *env.now }}
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

func TestHandlerInboundSMS(t *testing.T) {
	e := newHook(t, nil)
	w := e.do(signedRequest(hookPath, hookBase+hookPath, inboundSMS("SM1", "Can I move my class to 6pm?")))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<Response>") {
		t.Fatalf("status %d body %q", w.Code, w.Body)
	}
	in, _, _ := e.rec.snapshot()
	want := []channel.Inbound{{Kind: channel.SMS, From: "+33612345678", To: "+33757000001",
		Text: "Can I move my class to 6pm?", ProviderID: "SM1", ReceivedAt: clock}}
	if d := cmp.Diff(want, in); d != "" {
		t.Fatalf("inbound (-want +got):\n%s", d)
	}
}

func TestHandlerInboundMMSMedia(t *testing.T) {
	e := newHook(t, nil)
	p := inboundSMS("MM1", "")
	p.Set("NumMedia", "2")
	p.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/"+accountSID+"/Messages/MM1/Media/ME1")
	p.Set("MediaContentType0", "image/jpeg")
	p.Set("MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/"+accountSID+"/Messages/MM1/Media/ME2")
	p.Set("MediaContentType1", "image/png")
	if w := e.do(signedRequest(hookPath, hookBase+hookPath, p)); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	in, _, _ := e.rec.snapshot()
	if len(in) != 1 || in[0].Kind != channel.MMS {
		t.Fatalf("inbound %+v", in)
	}
	want := []channel.Attachment{
		{URL: "https://api.twilio.com/2010-04-01/Accounts/" + accountSID + "/Messages/MM1/Media/ME1", ContentType: "image/jpeg"},
		{URL: "https://api.twilio.com/2010-04-01/Accounts/" + accountSID + "/Messages/MM1/Media/ME2", ContentType: "image/png"},
	}
	if d := cmp.Diff(want, in[0].Attachments); d != "" {
		t.Fatalf("attachments (-want +got):\n%s", d)
	}
}

func TestHandlerInboundWhatsApp(t *testing.T) {
	e := newHook(t, nil)
	p := url.Values{
		"SmsMessageSid": {"SM2"}, "NumMedia": {"0"}, "ProfileName": {"Hélène"}, "MessageType": {"button"},
		"SmsSid": {"SM2"}, "WaId": {"33612345678"}, "SmsStatus": {"received"}, "Body": {""}, "ButtonText": {"Confirm"},
		"ButtonPayload": {"confirm"}, "To": {"whatsapp:+33757000001"}, "NumSegments": {"1"}, "ReferralNumMedia": {"0"},
		"MessageSid": {"SM2"}, "AccountSid": {accountSID}, "OriginalRepliedMessageSid": {msgSID},
		"From": {"whatsapp:+33612345678"}, "ApiVersion": {"2010-04-01"},
	}
	if w := e.do(signedRequest(hookPath, hookBase+hookPath, p)); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	in, _, _ := e.rec.snapshot()
	want := []channel.Inbound{{Kind: channel.WhatsApp, From: "+33612345678", Name: "Hélène", To: "+33757000001",
		Text: "Confirm", ProviderID: "SM2", InReplyTo: []string{msgSID}, ReceivedAt: clock}}
	if d := cmp.Diff(want, in); d != "" {
		t.Fatalf("inbound (-want +got):\n%s", d)
	}
}

// S4: status callbacks map to S1 statuses with the raw value and error code
// kept (S3).
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
		{Kind: channel.SMS, ProviderID: msgSID, Recipient: "+33612345678", Status: status.Sent, Raw: "sent", At: clock},
		{Kind: channel.WhatsApp, ProviderID: msgSID, Recipient: "+33612345678", Status: status.Undelivered, Raw: "undelivered",
			ErrorCode: "30007", ErrorMessage: "Message filtered", At: clock},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("statuses (-want +got):\n%s", d)
	}
}

// A bad or missing signature gets 403 and the Receiver is never called.
func TestHandlerBadSignature(t *testing.T) {
	e := newHook(t, nil)
	p := inboundSMS("SM1", "hello")
	tampered := signedRequest(hookPath, hookBase+hookPath, p)
	p.Set("Body", "STOP")
	tampered.Body = http.NoBody
	tampered = withBody(tampered, p.Encode())
	reqs := map[string]*http.Request{
		"tampered body":  tampered,
		"other URL":      signedRequest(hookPath, hookBase+"/twilio/messages?tenant=8", inboundSMS("SM1", "hello")),
		"http scheme":    signedRequest(hookPath, "http://hooks.example.com"+hookPath, inboundSMS("SM1", "hello")),
		"other port":     signedRequest(hookPath, "https://hooks.example.com:8443"+hookPath, inboundSMS("SM1", "hello")),
		"no signature":   withHeader(signedRequest(hookPath, hookBase+hookPath, inboundSMS("SM1", "hello")), twilio.SignatureHeader, ""),
		"garbage header": withHeader(signedRequest(hookPath, hookBase+hookPath, inboundSMS("SM1", "hello")), twilio.SignatureHeader, "!!"),
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
	if w := e.do(signedRequest(hookPath, "https://hooks.example.com:443"+hookPath, inboundSMS("SM1", "hello"))); w.Code != http.StatusOK {
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
		if w := e.do(signedRequest(hookPath, hookBase+hookPath, inboundSMS("SM9", "hi"))); w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
	}
	if in, _, calls := e.rec.snapshot(); len(in) != 1 || calls != 2 {
		t.Fatalf("stored %d, calls %d", len(in), calls)
	}
}

// A store failure answers 5xx so that Twilio retries; a refusal as invalid
// answers 400.
func TestHandlerReceiverErrors(t *testing.T) {
	cases := []struct {
		err  error
		code int
	}{
		{errors.New("db down"), http.StatusInternalServerError},
		{fmt.Errorf("inbox: %w", channel.ErrUnknownMessage), http.StatusInternalServerError},
		{fmt.Errorf("inbox: %w", channel.ErrInvalidMessage), http.StatusBadRequest},
		{context.DeadlineExceeded, http.StatusInternalServerError},
	}
	for _, c := range cases {
		e := newHook(t, nil)
		e.rec.setErr(c.err)
		status := url.Values{"MessageSid": {msgSID}, "MessageStatus": {"delivered"}, "To": {"+1"}, "From": {"+2"}}
		if w := e.do(signedRequest(hookPath, hookBase+hookPath, status)); w.Code != c.code {
			t.Errorf("%v: status %d, want %d", c.err, w.Code, c.code)
		}
	}
}

func TestHandlerMalformed(t *testing.T) {
	e := newHook(t, nil)
	cases := map[string]url.Values{
		"no sid":            {"Body": {"hi"}, "From": {"+1"}},
		"nothing":           {"MessageSid": {"SM1"}},
		"unknown status":    {"MessageSid": {"SM1"}, "MessageStatus": {"exploded"}},
		"bad NumMedia":      {"MessageSid": {"SM1"}, "From": {"+1"}, "NumMedia": {"x"}},
		"huge NumMedia":     {"MessageSid": {"SM1"}, "From": {"+1"}, "NumMedia": {"1000000000"}},
		"negative NumMedia": {"MessageSid": {"SM1"}, "From": {"+1"}, "NumMedia": {"-1"}},
		"missing MediaUrl":  {"MessageSid": {"SM1"}, "From": {"+1"}, "NumMedia": {"1"}},
		"inbound no From":   {"MessageSid": {"SM1"}, "SmsStatus": {"received"}, "Body": {"hi"}},
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

func TestHandlerLimitsAndMethod(t *testing.T) {
	e := newHook(t, func(c *twilio.HandlerConfig) { c.MaxBodyBytes = 512 })
	p := inboundSMS("SM1", strings.Repeat("a", 600))
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
	e := newHook(t, func(c *twilio.HandlerConfig) { c.ReplayWindow = time.Hour; c.ReplayCapacity = 2 })
	send := func(token, sid string) int {
		st := url.Values{"MessageSid": {sid}, "MessageStatus": {"delivered"}, "To": {"+1"}, "From": {"+2"}}
		r := signedRequest(hookPath, hookBase+hookPath, st)
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
	body := `{"MessageSid":"` + msgSID + `","MessageStatus":"read","To":"whatsapp:+33612345678","From":"whatsapp:+15005550006","ErrorCode":null}`
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
	r := signedRequest("/hooks/twilio", hookBase+"/hooks/twilio", inboundSMS("SM1", "hi"))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("behind StripPrefix: %d", w.Code)
	}
	e2 := newHook(t, func(c *twilio.HandlerConfig) {
		c.BaseURL = ""
		c.PublicURL = func(r *http.Request) string { return "https://public.example.org/api/sms" + "?" + r.URL.RawQuery }
	})
	r = signedRequest("/internal/sms?x=1", "https://public.example.org/api/sms?x=1", inboundSMS("SM1", "hi"))
	if w := e2.do(r); w.Code != http.StatusOK {
		t.Fatalf("PublicURL: %d", w.Code)
	}
}

func TestNewHandlerValidates(t *testing.T) {
	rec := &receiver{}
	bad := []twilio.HandlerConfig{
		{BaseURL: hookBase},
		{AuthToken: "t"},
		{AuthToken: "t", BaseURL: "hooks.example.com"},
		{AuthToken: "t", BaseURL: "https://hooks.example.com/path"},
		{AuthToken: "t", BaseURL: hookBase, MaxBodyBytes: -1},
	}
	for i, c := range bad {
		if _, err := twilio.NewHandler(c, rec); !errors.Is(err, twilio.ErrConfig) {
			t.Errorf("config %d: %v", i, err)
		}
	}
	if _, err := twilio.NewHandler(twilio.HandlerConfig{AuthToken: "t", BaseURL: hookBase}, nil); !errors.Is(err, twilio.ErrConfig) {
		t.Errorf("nil receiver: %v", err)
	}
}

// Handler and Sender are safe for concurrent use (run with -race).
func TestConcurrentUse(t *testing.T) {
	e := newHook(t, func(c *twilio.HandlerConfig) { c.ReplayCapacity = 8 })
	_, s := newFake(t, http.StatusCreated, messageJSON("queued", "+15005550006", "+1"))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			sid := fmt.Sprintf("SM%d", i)
			r := signedRequest(hookPath, hookBase+hookPath, inboundSMS(sid, "hi"))
			r.Header.Set(twilio.IdempotencyHeader, sid)
			if w := e.do(r); w.Code != http.StatusOK {
				t.Errorf("status %d", w.Code)
			}
			if _, err := s.Send(context.Background(), &channel.Message{Kind: channel.SMS, To: "+1", Text: sid}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if in, _, _ := e.rec.snapshot(); len(in) != 16 {
		t.Fatalf("stored %d", len(in))
	}
}

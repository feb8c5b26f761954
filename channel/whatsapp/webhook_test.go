package whatsapp_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/whatsapp"
	"github.com/parleyhq/parley/status"
)

const (
	testSecret      = "3c1d0e9f2b7a4c5d8e6f1a2b3c4d5e6f"
	testVerifyToken = "parley-verify-4711"
)

// store is a channel.Receiver that behaves like the inbox: it deduplicates
// inbound messages by provider ID (M5), refuses statuses of unknown
// messages, and can be scripted to fail.
type store struct {
	mu       sync.Mutex
	inbound  []channel.Inbound
	statuses []channel.StatusUpdate
	seen     map[string]bool
	known    map[string]bool // provider IDs of sent messages; nil: all known
	failNext []error
	calls    int
}

func newStore() *store { return &store{seen: map[string]bool{}} }

func (s *store) fail() error {
	s.calls++
	if len(s.failNext) > 0 {
		err := s.failNext[0]
		s.failNext = s.failNext[1:]
		return err
	}
	return nil
}

func (s *store) Receive(ctx context.Context, in channel.Inbound) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(); err != nil {
		return err
	}
	if s.seen[in.ProviderID] {
		return nil
	}
	s.seen[in.ProviderID] = true
	s.inbound = append(s.inbound, in)
	return nil
}

func (s *store) ApplyStatus(ctx context.Context, u channel.StatusUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(); err != nil {
		return err
	}
	if s.known != nil && !s.known[u.ProviderID] {
		return fmt.Errorf("store: %w: %s", channel.ErrUnknownMessage, u.ProviderID)
	}
	s.statuses = append(s.statuses, u)
	return nil
}

func (s *store) snapshot() ([]channel.Inbound, []channel.StatusUpdate, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]channel.Inbound(nil), s.inbound...), append([]channel.StatusUpdate(nil), s.statuses...), s.calls
}

func newTestHandler(t testing.TB, r channel.Receiver, mod func(*whatsapp.HandlerConfig)) *whatsapp.Handler {
	t.Helper()
	cfg := whatsapp.HandlerConfig{AppSecret: testSecret, VerifyToken: testVerifyToken, Now: func() time.Time { return testNow }}
	if mod != nil {
		mod(&cfg)
	}
	h, err := whatsapp.NewHandler(cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post sends body to h signed with sig (Signature(testSecret, body) when
// sig is "") and returns the status code.
func post(h http.Handler, body []byte, sig string) *httptest.ResponseRecorder {
	if sig == "" {
		sig = whatsapp.Signature(testSecret, body)
	}
	req := httptest.NewRequest(http.MethodPost, "https://hooks.example.com/whatsapp", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, sig)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestHandshake(t *testing.T) {
	h := newTestHandler(t, newStore(), nil)
	get := func(q url.Values) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/whatsapp?"+q.Encode(), nil))
		return w
	}
	w := get(url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {testVerifyToken}, "hub.challenge": {"1158201444"}})
	if w.Code != 200 || w.Body.String() != "1158201444" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("handshake: %d %q %q", w.Code, w.Body, w.Header().Get("Content-Type"))
	}
	for name, q := range map[string]url.Values{
		"wrong token":  {"hub.mode": {"subscribe"}, "hub.verify_token": {"guess"}, "hub.challenge": {"1"}},
		"wrong mode":   {"hub.mode": {"unsubscribe"}, "hub.verify_token": {testVerifyToken}, "hub.challenge": {"1"}},
		"no token":     {"hub.mode": {"subscribe"}, "hub.challenge": {"1"}},
		"token prefix": {"hub.mode": {"subscribe"}, "hub.verify_token": {testVerifyToken[:5]}, "hub.challenge": {"1"}},
	} {
		if w := get(q); w.Code != http.StatusForbidden || strings.Contains(w.Body.String(), "1158") {
			t.Errorf("%s: %d %q, want 403", name, w.Code, w.Body)
		}
	}
}

// M5: a signed text notification is stored once, whatever the number of
// deliveries, and answered 200 after it is stored.
func TestWebhookTextM5(t *testing.T) {
	st := newStore()
	h := newTestHandler(t, st, nil)
	body := readTestdata(t, "text.json")
	for i := 0; i < 2; i++ {
		if w := post(h, body, ""); w.Code != http.StatusOK {
			t.Fatalf("delivery %d: %d %s", i, w.Code, w.Body)
		}
	}
	in, _, calls := st.snapshot()
	want := []channel.Inbound{{
		Kind: channel.WhatsApp, From: "+33612345678", Name: "Hélène Martin", To: "106540352242922",
		Text: "Is the 7pm yoga class still on?", ProviderID: "wamid.HBgLMzM2MTIzNDU2NzgVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
		ReceivedAt: time.Unix(1735689600, 0).UTC(),
	}}
	if diff := cmp.Diff(want, in); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	if calls != 2 {
		t.Errorf("Receive called %d times, want 2 (once per delivery)", calls)
	}
}

// A bad signature gets 403 and never reaches the Receiver.
func TestWebhookTamperedRefused(t *testing.T) {
	st := newStore()
	h := newTestHandler(t, st, nil)
	body := readTestdata(t, "text.json")
	good := whatsapp.Signature(testSecret, body)
	tampered := bytes.Replace(body, []byte("yoga"), []byte("yogi"), 1)
	cases := map[string]struct {
		body []byte
		sig  string
	}{
		"tampered body":      {tampered, good},
		"other secret":       {body, whatsapp.Signature("other", body)},
		"missing header":     {body, " "},
		"sha1 header":        {body, "sha1=" + strings.TrimPrefix(good, "sha256=")[:40]},
		"truncated digest":   {body, good[:len(good)-2]},
		"not hex":            {body, "sha256=" + strings.Repeat("zz", 32)},
		"signature of empty": {body, whatsapp.Signature(testSecret, nil)},
	}
	for name, tc := range cases {
		if w := post(h, tc.body, tc.sig); w.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, w.Code)
		}
	}
	if _, _, calls := st.snapshot(); calls != 0 {
		t.Errorf("Receiver called %d times for refused requests", calls)
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(body)
	good := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := whatsapp.Signature(testSecret, body); got != good {
		t.Fatalf("Signature = %q, want %q", got, good)
	}
	if err := whatsapp.VerifySignature(testSecret, body, good); err != nil {
		t.Errorf("good signature refused: %v", err)
	}
	upper := "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256="))
	if err := whatsapp.VerifySignature(testSecret, body, upper); err != nil {
		t.Errorf("upper-case hex refused: %v", err)
	}
	// Known answer: HMAC-SHA256("secret", "test").
	if got := whatsapp.Signature("secret", []byte("test")); got != "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914" {
		t.Errorf("known answer: %s", got)
	}
	for name, tc := range map[string]struct{ secret, header string }{
		"empty secret":  {"", whatsapp.Signature("", body)},
		"wrong secret":  {"x", good},
		"empty header":  {testSecret, ""},
		"no prefix":     {testSecret, strings.TrimPrefix(good, "sha256=")},
		"extra bytes":   {testSecret, good + "00"},
		"odd hex":       {testSecret, good[:len(good)-1]},
		"flipped digit": {testSecret, good[:len(good)-1] + flip(good[len(good)-1])},
	} {
		err := whatsapp.VerifySignature(tc.secret, body, tc.header)
		if !errors.Is(err, whatsapp.ErrBadSignature) {
			t.Errorf("%s: error %v, want ErrBadSignature", name, err)
		}
	}
}

func flip(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}

// S4: statuses map to Parley statuses with the provider's raw value and
// error; "deleted" is not a delivery status and is skipped.
func TestWebhookStatusesS4(t *testing.T) {
	st := newStore()
	h := newTestHandler(t, st, nil)
	if w := post(h, readTestdata(t, "statuses.json"), ""); w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	_, got, _ := st.snapshot()
	want := []channel.StatusUpdate{
		{Kind: channel.WhatsApp, ProviderID: "wamid.OUT1", Recipient: "+33612345678", Status: status.Delivered, Raw: "delivered", At: time.Unix(1735689660, 0).UTC()},
		{Kind: channel.WhatsApp, ProviderID: "wamid.OUT2", Recipient: "+33612345679", Status: status.Failed, Raw: "failed",
			ErrorCode:    "131047",
			ErrorMessage: "Re-engagement message: Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
			At:           time.Unix(1735689670, 0).UTC()},
		{Kind: channel.WhatsApp, ProviderID: "wamid.OUT3", Recipient: "+33612345678", Status: status.Read, Raw: "read", At: time.Unix(1735689680, 0).UTC()},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

// Media, button and interactive replies, reactions, locations, contacts
// and unsupported messages become inbound messages.
func TestWebhookMessageKinds(t *testing.T) {
	n, err := whatsapp.ParseNotification(readTestdata(t, "kinds.json"))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID, Text  string
		Reply     []string
		Att       []channel.Attachment
		Name, To  string
		FromPlusE bool
	}
	var got []row
	for _, in := range n.Inbound {
		got = append(got, row{ID: in.ProviderID, Text: in.Text, Reply: in.InReplyTo, Att: in.Attachments, Name: in.Name, To: in.To,
			FromPlusE: in.From == "+33612345678" && in.Kind == channel.WhatsApp})
	}
	att := func(name, typ, id string) []channel.Attachment {
		return []channel.Attachment{{Name: name, ContentType: typ, URL: whatsapp.MediaURL(id)}}
	}
	r := func(id, text string, reply []string, a []channel.Attachment) row {
		return row{ID: id, Text: text, Reply: reply, Att: a, Name: "Hélène", To: "106540352242922", FromPlusE: true}
	}
	want := []row{
		r("wamid.IMG", "my booking", nil, att("1003383421387256", "image/jpeg", "1003383421387256")),
		r("wamid.DOC", "", nil, att("certificate.pdf", "application/pdf", "1003383421387257")),
		r("wamid.AUD", "", nil, att("1003383421387258", "audio/ogg; codecs=opus", "1003383421387258")),
		r("wamid.STK", "", nil, att("1003383421387259", "image/webp", "1003383421387259")),
		r("wamid.BTN", "Confirm booking", []string{"wamid.TEMPLATE1"}, nil),
		r("wamid.IBR", "Yes", []string{"wamid.ASK1"}, nil),
		r("wamid.ILR", "Tuesday 18:00", nil, nil),
		r("wamid.REA", "👍", []string{"wamid.OUT1"}, nil),
		r("wamid.LOC", "Studio Bastille\n1 rue de la Roquette\n48.8566,2.3522", nil, nil),
		r("wamid.UNS", "[unsupported message: Message type unknown: Message type is currently not supported.]", nil, nil),
		r("wamid.CON", "Paul Durand +33 6 11 22 33 44", nil, nil),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inbound (-want +got):\n%s", diff)
	}
	if len(n.Skipped) != 1 || !strings.Contains(n.Skipped[0], "wamid.REA0") {
		t.Errorf("skipped %q, want the removed reaction", n.Skipped)
	}
}

// A body that is not a notification is answered 400; malformed items
// inside a notification are acknowledged (200), listed and logged, and
// the Receiver never sees them.
func TestWebhookMalformed(t *testing.T) {
	st := newStore()
	h := newTestHandler(t, st, nil)
	for name, body := range map[string]string{
		"not JSON":    `{"object":`,
		"wrong types": `{"object":"whatsapp_business_account","entry":{"id":1}}`,
		"changes":     `{"object":"whatsapp_business_account","entry":[{"changes":{"field":"messages"}}]}`,
	} {
		w := post(h, []byte(body), "")
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, w.Code)
		}
		if _, err := whatsapp.ParseNotification([]byte(body)); !errors.Is(err, whatsapp.ErrMalformed) {
			t.Errorf("%s: ParseNotification error %v, want ErrMalformed", name, err)
		}
	}
	for name, body := range map[string]string{
		"message without id":   `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"336","type":"text","text":{"body":"x"}}]}}]}]}`,
		"message without from": `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"w","type":"text","text":{"body":"x"}}]}}]}]}`,
		"status without id":    `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"status":"sent"}]}}]}]}`,
		"bad timestamp":        `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"w","from":"336","timestamp":"yesterday","type":"text"}]}}]}]}`,
		"message not object":   `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[42]}}]}]}`,
		"value not object":     `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":"x"}]}]}`,
	} {
		if w := post(h, []byte(body), ""); w.Code != http.StatusOK {
			t.Errorf("%s: %d, want 200 (acknowledged, Meta would retry it for 7 days)", name, w.Code)
		}
		n, err := whatsapp.ParseNotification([]byte(body))
		if err != nil || len(n.Malformed) != 1 || len(n.Inbound)+len(n.Statuses) != 0 {
			t.Errorf("%s: ParseNotification = %+v, %v; want one malformed item", name, n, err)
		}
	}
	if _, _, calls := st.snapshot(); calls != 0 {
		t.Errorf("Receiver called %d times for malformed items", calls)
	}
	// Other objects and fields are acknowledged without effect.
	for _, body := range []string{`{"object":"page","entry":[]}`,
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_name":"class_reminder"}}]}]}`} {
		if w := post(h, []byte(body), ""); w.Code != 200 {
			t.Errorf("%s: %d, want 200", body, w.Code)
		}
	}
}

// Bodies over the limit are refused with 413 before they are read whole,
// whether or not they declare their length.
func TestWebhookTooLarge(t *testing.T) {
	st := newStore()
	h := newTestHandler(t, st, func(c *whatsapp.HandlerConfig) { c.MaxBodyBytes = 1024 })
	body := []byte(`{"object":"whatsapp_business_account","entry":[],"pad":"` + strings.Repeat("x", 2048) + `"}`)
	if w := post(h, body, ""); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("declared length: %d, want 413", w.Code)
	}
	r := &countingReader{r: bytes.NewReader(body)}
	req := httptest.NewRequest(http.MethodPost, "/whatsapp", io.NopCloser(r))
	req.ContentLength = -1
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Signature(testSecret, body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked: %d, want 413", w.Code)
	}
	if r.n > 1024+512 {
		t.Errorf("read %d bytes of an oversized body", r.n)
	}
	if _, _, calls := st.snapshot(); calls != 0 {
		t.Errorf("Receiver called %d times", calls)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestWebhookMethodNotAllowed(t *testing.T) {
	h := newTestHandler(t, newStore(), nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPut, "/whatsapp", nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, POST" {
		t.Errorf("%d Allow=%q, want 405", w.Code, w.Header().Get("Allow"))
	}
}

// M5, S2: a store failure answers 500 so that Meta retries; every item is
// still offered, and the retry stores what was missing without duplicates.
func TestWebhookStoreFailureRetried(t *testing.T) {
	st := newStore()
	h := newTestHandler(t, st, nil)
	body := readTestdata(t, "kinds.json")
	st.failNext = []error{errors.New("db: connection reset")}
	if w := post(h, body, ""); w.Code != http.StatusInternalServerError {
		t.Fatalf("store failure: %d, want 500", w.Code)
	}
	in, _, calls := st.snapshot()
	if calls != 11 || len(in) != 10 {
		t.Errorf("first delivery: %d calls, %d stored; want every item offered", calls, len(in))
	}
	if w := post(h, body, ""); w.Code != 200 {
		t.Fatalf("retry: %d", w.Code)
	}
	if in, _, _ := st.snapshot(); len(in) != 11 {
		t.Errorf("after retry %d stored, want 11 exactly", len(in))
	}
}

// A status for a message Parley never sent (the Receiver answers
// channel.ErrUnknownMessage once it has waited for a send in flight) never
// fails its batch: the other statuses are stored, the notification is
// answered 200 so that Meta does not send it again for 7 days, and the
// unknown one is logged.
func TestWebhookUnknownStatusDoesNotFailBatch(t *testing.T) {
	st := newStore()
	st.known = map[string]bool{"wamid.OUT1": true, "wamid.OUT3": true}
	var log bytes.Buffer
	h := newTestHandler(t, st, func(c *whatsapp.HandlerConfig) { c.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
	if w := post(h, readTestdata(t, "statuses.json"), ""); w.Code != http.StatusOK {
		t.Fatalf("batch with an unknown status: %d, want 200", w.Code)
	}
	_, got, calls := st.snapshot()
	if calls != 3 || len(got) != 2 || got[0].ProviderID != "wamid.OUT1" || got[1].ProviderID != "wamid.OUT3" {
		t.Fatalf("%d calls, stored %+v; want OUT1 and OUT3 stored", calls, got)
	}
	if !strings.Contains(log.String(), "unknown message") || !strings.Contains(log.String(), "wamid.OUT2") {
		t.Fatalf("unknown status not logged: %s", log.String())
	}
}

// A notification whose batch holds malformed items (a message without an
// id or a sender, a status without an id) among valid ones: the valid ones
// are stored, the malformed ones logged and acknowledged, and the answer
// is 200 — unless the store failed, then 500 so that Meta retries.
func TestWebhookMalformedItemsInBatch(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[{"field":"messages","value":{
		"messaging_product":"whatsapp","metadata":{"phone_number_id":"PNID"},
		"contacts":[{"profile":{"name":"Ana"},"wa_id":"33612345678"}],
		"messages":[
			{"from":"33612345678","id":"wamid.A","timestamp":"1767254400","type":"text","text":{"body":"Bonjour"}},
			{"from":"33612345678","timestamp":"1767254401","type":"text","text":{"body":"sans id"}},
			{"id":"wamid.NOFROM","timestamp":"1767254402","type":"text","text":{"body":"sans expéditeur"}},
			{"from":"33612345678","id":"wamid.B","timestamp":"1767254403","type":"text","text":{"body":"À demain"}}],
		"statuses":[
			{"status":"delivered","timestamp":"1767254404","recipient_id":"33612345678"},
			{"id":"wamid.OUT1","status":"delivered","timestamp":"1767254405","recipient_id":"33612345678","biz_opaque_callback_data":"delivery-1"}]}}]}]}`)
	st := newStore()
	var log bytes.Buffer
	h := newTestHandler(t, st, func(c *whatsapp.HandlerConfig) { c.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
	if w := post(h, body, ""); w.Code != http.StatusOK {
		t.Fatalf("batch with malformed items: %d, want 200", w.Code)
	}
	in, statuses, _ := st.snapshot()
	if len(in) != 2 || in[0].ProviderID != "wamid.A" || in[1].ProviderID != "wamid.B" || in[0].Name != "Ana" || in[0].To != "PNID" {
		t.Fatalf("stored %+v, want wamid.A and wamid.B", in)
	}
	if len(statuses) != 1 || statuses[0].ProviderID != "wamid.OUT1" || statuses[0].Reference != "delivery-1" {
		t.Fatalf("statuses %+v, want wamid.OUT1 with its reference", statuses)
	}
	if got := strings.Count(log.String(), "malformed webhook item"); got != 3 {
		t.Fatalf("%d malformed items logged, want 3:\n%s", got, log.String())
	}
	st = newStore()
	st.failNext = []error{errors.New("db: connection reset")}
	h = newTestHandler(t, st, nil)
	if w := post(h, body, ""); w.Code != http.StatusInternalServerError {
		t.Fatalf("malformed items and a store failure: %d, want 500", w.Code)
	}
}

// An item the Receiver refuses for good (a typed permanent error) is logged
// and acknowledged: Meta retries 4xx answers too, for 7 days, and the
// other items of the notification must not wait for it. A store failure
// in the same notification still answers 500.
func TestWebhookInvalidItemAcknowledged(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("inbox: %w: empty text", channel.ErrInvalidMessage),
		fmt.Errorf("inbox: %w: cannot be stored", channel.ErrPermanent),
	} {
		st := newStore()
		st.failNext = []error{err}
		var log bytes.Buffer
		h := newTestHandler(t, st, func(c *whatsapp.HandlerConfig) { c.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
		if w := post(h, readTestdata(t, "kinds.json"), ""); w.Code != http.StatusOK {
			t.Errorf("%v: %d, want 200", err, w.Code)
		}
		if in, _, _ := st.snapshot(); len(in) != 10 {
			t.Errorf("%v: %d stored, want the 10 other messages", err, len(in))
		}
		if !strings.Contains(log.String(), "refused as invalid") {
			t.Errorf("%v: not logged: %s", err, log.String())
		}
	}
	st := newStore()
	st.failNext = []error{fmt.Errorf("inbox: %w", channel.ErrInvalidMessage), errors.New("db down")}
	h := newTestHandler(t, st, nil)
	if w := post(h, readTestdata(t, "kinds.json"), ""); w.Code != http.StatusInternalServerError {
		t.Errorf("invalid item and store failure: %d, want 500", w.Code)
	}
}

// App-secret rotation: notifications signed with the current secret or one
// of OldAppSecrets are accepted, others refused.
func TestWebhookAppSecretRotation(t *testing.T) {
	st := newStore()
	h := newTestHandler(t, st, func(c *whatsapp.HandlerConfig) {
		c.AppSecret = "new-app-secret"
		c.OldAppSecrets = []string{testSecret}
	})
	body := readTestdata(t, "text.json")
	for _, secret := range []string{"new-app-secret", testSecret} {
		if w := post(h, body, whatsapp.Signature(secret, body)); w.Code != http.StatusOK {
			t.Errorf("signed with %q: %d", secret, w.Code)
		}
	}
	if w := post(h, body, whatsapp.Signature("another-secret", body)); w.Code != http.StatusForbidden {
		t.Errorf("signed with another secret: %d", w.Code)
	}
	if _, err := whatsapp.NewHandler(whatsapp.HandlerConfig{AppSecret: "s", OldAppSecrets: []string{""}, VerifyToken: "t"}, st); !errors.Is(err, whatsapp.ErrConfig) {
		t.Errorf("empty old secret: %v", err)
	}
}

// Replay protection is opt-in: MaxAge leaves out items older than the limit.
func TestWebhookMaxAge(t *testing.T) {
	st := newStore()
	h := newTestHandler(t, st, func(c *whatsapp.HandlerConfig) {
		c.MaxAge = time.Hour
		c.Now = func() time.Time { return time.Unix(1735689600, 0).Add(90 * time.Minute) }
	})
	if w := post(h, readTestdata(t, "text.json"), ""); w.Code != 200 {
		t.Fatalf("%d", w.Code)
	}
	if in, _, calls := st.snapshot(); len(in) != 0 || calls != 0 {
		t.Errorf("stale message stored: %d", len(in))
	}
	st2 := newStore()
	h2 := newTestHandler(t, st2, nil) // default: no age limit
	if w := post(h2, readTestdata(t, "text.json"), ""); w.Code != 200 {
		t.Fatalf("%d", w.Code)
	}
	if in, _, _ := st2.snapshot(); len(in) != 1 {
		t.Errorf("default handler dropped an old message")
	}
}

// Items without a timestamp get the handler's clock.
func TestWebhookMissingTimestampUsesClock(t *testing.T) {
	st := newStore()
	h := newTestHandler(t, st, nil)
	body := `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"id":"w1","from":"336","type":"text","text":{"body":"hi"}}]}}]}]}`
	if w := post(h, []byte(body), ""); w.Code != 200 {
		t.Fatalf("%d", w.Code)
	}
	if in, _, _ := st.snapshot(); len(in) != 1 || !in[0].ReceivedAt.Equal(testNow) {
		t.Errorf("inbound %+v, want ReceivedAt from the clock", in)
	}
}

func TestNewHandlerValidates(t *testing.T) {
	for i, c := range []struct {
		cfg whatsapp.HandlerConfig
		r   channel.Receiver
	}{
		{whatsapp.HandlerConfig{AppSecret: "s", VerifyToken: "t"}, nil},
		{whatsapp.HandlerConfig{VerifyToken: "t"}, newStore()},
		{whatsapp.HandlerConfig{AppSecret: "s"}, newStore()},
		{whatsapp.HandlerConfig{AppSecret: "s", VerifyToken: "t", MaxBodyBytes: -1}, newStore()},
		{whatsapp.HandlerConfig{AppSecret: "s", VerifyToken: "t", MaxAge: -time.Second}, newStore()},
	} {
		if _, err := whatsapp.NewHandler(c.cfg, c.r); !errors.Is(err, whatsapp.ErrConfig) {
			t.Errorf("config %d: error %v, want ErrConfig", i, err)
		}
	}
}

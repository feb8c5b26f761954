package whatsapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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
	testToken   = "EAAJB-test-token"
	testPhoneID = "106540352242922"
)

var testNow = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// graphRequest is one request the fake Graph API received.
type graphRequest struct {
	Method, Path, Auth, ContentType string
	Body                            []byte
	Form                            map[string]string // multipart fields (uploads)
	File                            []byte
}

// fakeGraph speaks the documented wire format of the Cloud API: it records
// requests and answers with scripted responses, in order; after the script
// it answers a successful send.
type fakeGraph struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []graphRequest
	script []fakeResponse
}

type fakeResponse struct {
	status int
	body   string
}

const okSend = `{"messaging_product":"whatsapp","contacts":[{"input":"+33612345678","wa_id":"33612345678"}],"messages":[{"id":"wamid.HBgLMzM2MTIzNDU2NzgVAgARGBI1RjQ0QzM0RTVBMDk3NEI5QTMA","message_status":"accepted"}]}`

func newFakeGraph(t *testing.T, script ...fakeResponse) *fakeGraph {
	g := &fakeGraph{t: t, script: script}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	rec := graphRequest{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type")}
	if strings.HasPrefix(rec.ContentType, "multipart/form-data") {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			g.t.Errorf("upload is not multipart: %v", err)
		}
		rec.Form = map[string]string{}
		for k, v := range r.MultipartForm.Value {
			rec.Form[k] = v[0]
		}
		if fh := r.MultipartForm.File["file"]; len(fh) == 1 {
			f, _ := fh[0].Open()
			rec.File, _ = io.ReadAll(f)
			rec.Form["file.filename"] = fh[0].Filename
			rec.Form["file.type"] = fh[0].Header.Get("Content-Type")
		}
	} else {
		rec.Body, _ = io.ReadAll(r.Body)
	}
	g.mu.Lock()
	g.reqs = append(g.reqs, rec)
	resp := fakeResponse{200, okSend}
	if len(g.script) > 0 {
		resp, g.script = g.script[0], g.script[1:]
	}
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.status)
	_, _ = io.WriteString(w, resp.body)
}

func (g *fakeGraph) requests() []graphRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]graphRequest(nil), g.reqs...)
}

func (g *fakeGraph) sender(t *testing.T) *whatsapp.Sender {
	t.Helper()
	s, err := whatsapp.New(whatsapp.Config{AccessToken: testToken, PhoneNumberID: testPhoneID,
		BaseURL: g.srv.URL, HTTPClient: g.srv.Client(), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jsonOf decodes a request body for comparison with the documented shape.
func jsonOf(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, b)
	}
	return m
}

func wantJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	return jsonOf(t, []byte(s))
}

// C10: free text inside the service window goes out as a text message to
// /{phone-number-id}/messages with the bearer token.
func TestSendTextC10(t *testing.T) {
	g := newFakeGraph(t)
	r, err := g.sender(t).Send(context.Background(), &channel.Message{Kind: channel.WhatsApp, To: "+33612345678", Text: "See you at 7pm!"})
	if err != nil {
		t.Fatal(err)
	}
	want := channel.Receipt{ProviderID: "wamid.HBgLMzM2MTIzNDU2NzgVAgARGBI1RjQ0QzM0RTVBMDk3NEI5QTMA", Status: status.Validated, At: testNow}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("receipt (-want +got):\n%s", diff)
	}
	reqs := g.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	q := reqs[0]
	if q.Method != "POST" || q.Path != "/v23.0/"+testPhoneID+"/messages" || q.Auth != "Bearer "+testToken || q.ContentType != "application/json" {
		t.Errorf("request %s %s auth %q type %q", q.Method, q.Path, q.Auth, q.ContentType)
	}
	body := wantJSON(t, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+33612345678","type":"text","text":{"body":"See you at 7pm!"}}`)
	if diff := cmp.Diff(body, jsonOf(t, q.Body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

// C10: outside the window an approved template is sent by name and
// language, with the positional parameters as body parameters.
func TestSendTemplateC10(t *testing.T) {
	g := newFakeGraph(t)
	_, err := g.sender(t).Send(context.Background(), &channel.Message{Kind: channel.WhatsApp, To: "33612345678",
		Template: &channel.TemplateRef{Name: "class_reminder", Language: "fr", Params: []string{"Hélène", "Yoga", "19:00"}}})
	if err != nil {
		t.Fatal(err)
	}
	body := wantJSON(t, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"33612345678","type":"template",
		"template":{"name":"class_reminder","language":{"code":"fr"},"components":[{"type":"body","parameters":[
		{"type":"text","text":"Hélène"},{"type":"text","text":"Yoga"},{"type":"text","text":"19:00"}]}]}}`)
	if diff := cmp.Diff(body, jsonOf(t, g.requests()[0].Body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}

	g2 := newFakeGraph(t)
	_, err = g2.sender(t).Send(context.Background(), &channel.Message{To: "33612345678",
		Template: &channel.TemplateRef{Name: "hello_world", Language: "en_US"}})
	if err != nil {
		t.Fatal(err)
	}
	body = wantJSON(t, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"33612345678","type":"template",
		"template":{"name":"hello_world","language":{"code":"en_US"}}}`)
	if diff := cmp.Diff(body, jsonOf(t, g2.requests()[0].Body)); diff != "" {
		t.Errorf("template without parameters (-want +got):\n%s", diff)
	}
}

// C7, C9: media go by link, with the text as caption; a sender identity's
// address is the phone number ID to send from; InReplyTo becomes the reply
// context and Reference the callback data.
func TestSendMediaAndOptions(t *testing.T) {
	tests := []struct {
		name string
		msg  channel.Message
		path string
		want string
	}{
		{"image by link", channel.Message{To: "+33612345678", Text: "Your QR code",
			Attachments: []channel.Attachment{{URL: "https://cdn.example.com/qr.png", ContentType: "image/png"}}},
			"/v23.0/" + testPhoneID + "/messages",
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+33612345678","type":"image","image":{"link":"https://cdn.example.com/qr.png","caption":"Your QR code"}}`},
		{"document with file name", channel.Message{To: "+33612345678",
			Attachments: []channel.Attachment{{Name: "invoice-42.pdf", URL: "https://cdn.example.com/i42.pdf", ContentType: "application/pdf"}}},
			"/v23.0/" + testPhoneID + "/messages",
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+33612345678","type":"document","document":{"link":"https://cdn.example.com/i42.pdf","filename":"invoice-42.pdf"}}`},
		{"video", channel.Message{To: "+33612345678",
			Attachments: []channel.Attachment{{URL: "https://cdn.example.com/tour.mp4", ContentType: "video/mp4"}}},
			"/v23.0/" + testPhoneID + "/messages",
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+33612345678","type":"video","video":{"link":"https://cdn.example.com/tour.mp4"}}`},
		{"inbound media forwarded by ID", channel.Message{To: "+33612345678",
			Attachments: []channel.Attachment{{URL: whatsapp.MediaURL("1003383421387256"), ContentType: "audio/ogg"}}},
			"/v23.0/" + testPhoneID + "/messages",
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+33612345678","type":"audio","audio":{"id":"1003383421387256"}}`},
		{"identity, reply context and reference", channel.Message{To: "whatsapp:+33612345678", Text: "Yes, it is.",
			From: channel.Identity{Address: "107000000000001"}, InReplyTo: "wamid.IN1", Reference: "delivery-77"},
			"/v23.0/107000000000001/messages",
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+33612345678","type":"text","text":{"body":"Yes, it is."},
			  "context":{"message_id":"wamid.IN1"},"biz_opaque_callback_data":"delivery-77"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGraph(t)
			if _, err := g.sender(t).Send(context.Background(), &tc.msg); err != nil {
				t.Fatal(err)
			}
			q := g.requests()[0]
			if q.Path != tc.path {
				t.Errorf("path %s, want %s", q.Path, tc.path)
			}
			if diff := cmp.Diff(wantJSON(t, tc.want), jsonOf(t, q.Body)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

// C7: an attachment that carries its data is uploaded to /media first and
// sent by the returned media ID.
func TestSendUploadsDataC7(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	g := newFakeGraph(t, fakeResponse{200, `{"id":"4490709327384033"}`})
	_, err := g.sender(t).Send(context.Background(), &channel.Message{To: "+33612345678", Text: "Floor plan",
		Attachments: []channel.Attachment{{Name: "plan.png", Data: png}}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := g.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want upload and send", len(reqs))
	}
	up := reqs[0]
	if up.Method != "POST" || up.Path != "/v23.0/"+testPhoneID+"/media" || up.Auth != "Bearer "+testToken {
		t.Errorf("upload %s %s auth %q", up.Method, up.Path, up.Auth)
	}
	wantForm := map[string]string{"messaging_product": "whatsapp", "type": "image/png", "file.filename": "plan.png", "file.type": "image/png"}
	if diff := cmp.Diff(wantForm, up.Form); diff != "" {
		t.Errorf("upload form (-want +got):\n%s", diff)
	}
	if string(up.File) != string(png) {
		t.Errorf("uploaded %d bytes, want the attachment's %d", len(up.File), len(png))
	}
	want := wantJSON(t, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+33612345678","type":"image","image":{"id":"4490709327384033","caption":"Floor plan"}}`)
	if diff := cmp.Diff(want, jsonOf(t, reqs[1].Body)); diff != "" {
		t.Errorf("send body (-want +got):\n%s", diff)
	}
}

func graphError(code, sub int, typ, msg, details string, transient bool) string {
	e := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": "AbCdEf123"}
	if sub != 0 {
		e["error_subcode"] = sub
	}
	if details != "" {
		e["error_data"] = map[string]any{"messaging_product": "whatsapp", "details": details}
	}
	if transient {
		e["is_transient"] = true
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return string(b)
}

// C10, R5: error responses map to typed errors that say whether a retry can
// help; 131047 is the closed service window.
func TestSendErrorsClassified(t *testing.T) {
	tests := []struct {
		name      string
		resp      fakeResponse
		code      int
		retryable bool
		is        []error
	}{
		{"window closed", fakeResponse{400, graphError(131047, 2494010, "OAuthException", "(#131047) Re-engagement message",
			"Message failed to send because more than 24 hours have passed since the customer last replied to this number.", false)},
			131047, false, []error{channel.ErrWindowClosed, channel.ErrPermanent}},
		{"template missing", fakeResponse{404, graphError(132001, 2494073, "OAuthException", "(#132001) Template name does not exist in the translation",
			"template name (class_reminder) does not exist in fr", false)}, 132001, false, []error{whatsapp.ErrTemplate, channel.ErrPermanent}},
		{"template paused", fakeResponse{400, graphError(132015, 0, "OAuthException", "(#132015) Template is Paused", "", false)},
			132015, false, []error{whatsapp.ErrTemplate, channel.ErrPermanent}},
		{"throughput", fakeResponse{429, graphError(130429, 0, "OAuthException", "(#130429) Rate limit hit", "Cloud API message throughput has been reached.", false)},
			130429, true, []error{whatsapp.ErrRateLimited, channel.ErrTransient}},
		{"pair rate", fakeResponse{400, graphError(131056, 0, "OAuthException", "(#131056) (Business Account, Consumer Account) pair rate limit hit", "", false)},
			131056, true, []error{whatsapp.ErrRateLimited, channel.ErrTransient}},
		{"app rate", fakeResponse{400, graphError(4, 0, "OAuthException", "(#4) Application request limit reached", "", true)},
			4, true, []error{whatsapp.ErrRateLimited, channel.ErrTransient}},
		{"waba rate", fakeResponse{400, graphError(80007, 0, "OAuthException", "(#80007) Rate limit issues", "", false)},
			80007, true, []error{whatsapp.ErrRateLimited, channel.ErrTransient}},
		{"undeliverable", fakeResponse{400, graphError(131026, 0, "OAuthException", "(#131026) Message Undeliverable", "", false)},
			131026, false, []error{channel.ErrPermanent}},
		{"invalid parameter", fakeResponse{400, graphError(100, 2494102, "OAuthException", "(#100) Invalid parameter", "", false)},
			100, false, []error{channel.ErrPermanent}},
		{"expired token", fakeResponse{401, graphError(190, 463, "OAuthException", "Error validating access token: Session has expired", "", false)},
			190, false, []error{whatsapp.ErrAuth, channel.ErrPermanent}},
		{"service unavailable", fakeResponse{503, graphError(131016, 0, "OAuthException", "(#131016) Service unavailable", "", false)},
			131016, true, []error{channel.ErrTransient}},
		{"something went wrong", fakeResponse{500, graphError(131000, 0, "OAuthException", "(#131000) Something went wrong", "", false)},
			131000, true, []error{channel.ErrTransient}},
		{"is_transient", fakeResponse{400, graphError(9999, 0, "OAuthException", "(#9999) New error", "", true)},
			9999, true, []error{channel.ErrTransient}},
		{"gateway without JSON", fakeResponse{502, "<html><body>Bad Gateway</body></html>"},
			0, true, []error{channel.ErrTransient}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGraph(t, tc.resp)
			_, err := g.sender(t).Send(context.Background(), &channel.Message{To: "+33612345678", Text: "Hello"})
			if err == nil {
				t.Fatal("no error")
			}
			var we *whatsapp.Error
			if !errors.As(err, &we) {
				t.Fatalf("error %v is not a *whatsapp.Error", err)
			}
			if we.Code != tc.code || we.StatusCode != tc.resp.status {
				t.Errorf("code %d status %d, want %d %d", we.Code, we.StatusCode, tc.code, tc.resp.status)
			}
			if got := channel.Retryable(err); got != tc.retryable {
				t.Errorf("Retryable = %v, want %v (%v)", got, tc.retryable, err)
			}
			for _, target := range tc.is {
				if !errors.Is(err, target) {
					t.Errorf("error %v does not match %v", err, target)
				}
			}
			if !strings.HasPrefix(err.Error(), "whatsapp: ") {
				t.Errorf("message %q lacks the package prefix", err)
			}
		})
	}
	g := newFakeGraph(t, fakeResponse{400, graphError(131047, 2494010, "OAuthException", "(#131047) Re-engagement message", "more than 24 hours", false)})
	_, err := g.sender(t).Send(context.Background(), &channel.Message{To: "+33612345678", Text: "Hello"})
	var we *whatsapp.Error
	if !errors.As(err, &we) || we.Subcode != 2494010 || we.TraceID != "AbCdEf123" || we.Details != "more than 24 hours" || we.Type != "OAuthException" {
		t.Errorf("error fields not read from the body: %+v", we)
	}
}

// C2, C3, C8: messages that cannot be sent are refused before any request.
func TestSendInvalidMessage(t *testing.T) {
	tests := []struct {
		name string
		msg  *channel.Message
	}{
		{"nil", nil},
		{"other kind", &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "x"}},
		{"no recipient", &channel.Message{Text: "x"}},
		{"blank body", &channel.Message{To: "+33612345678", Text: "  "}},
		{"scheduled", &channel.Message{To: "+33612345678", Text: "x", SendAt: testNow.Add(time.Hour)}},
		{"template without language", &channel.Message{To: "+33612345678", Template: &channel.TemplateRef{Name: "t"}}},
		{"template without name", &channel.Message{To: "+33612345678", Template: &channel.TemplateRef{Language: "fr"}}},
		{"blank parameter", &channel.Message{To: "+33612345678", Template: &channel.TemplateRef{Name: "t", Language: "fr", Params: []string{"a", " "}}}},
		{"two attachments", &channel.Message{To: "+33612345678", Attachments: []channel.Attachment{
			{URL: "https://a.example/1.png"}, {URL: "https://a.example/2.png"}}}},
		{"audio with caption", &channel.Message{To: "+33612345678", Text: "listen", Attachments: []channel.Attachment{
			{URL: "https://a.example/1.mp3", ContentType: "audio/mpeg"}}}},
		{"attachment without content", &channel.Message{To: "+33612345678", Attachments: []channel.Attachment{{Name: "x"}}}},
		{"attachment with bad URL", &channel.Message{To: "+33612345678", Attachments: []channel.Attachment{{URL: "ftp://a.example/x"}}}},
		{"identity not a phone number ID", &channel.Message{To: "+33612345678", Text: "x", From: channel.Identity{Address: "+33757000001"}}},
	}
	g := newFakeGraph(t)
	s := g.sender(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Send(context.Background(), tc.msg)
			if !errors.Is(err, channel.ErrInvalidMessage) || !errors.Is(err, channel.ErrPermanent) || channel.Retryable(err) {
				t.Errorf("error %v, want invalid and permanent", err)
			}
		})
	}
	if n := len(g.requests()); n != 0 {
		t.Errorf("%d requests sent for invalid messages", n)
	}
}

// A response without a message ID leaves unknown whether the message was
// accepted, so the error is not retryable (no double send).
func TestSendNoMessageIDNotRetried(t *testing.T) {
	g := newFakeGraph(t, fakeResponse{200, `{"messaging_product":"whatsapp","contacts":[],"messages":[]}`})
	_, err := g.sender(t).Send(context.Background(), &channel.Message{To: "+33612345678", Text: "x"})
	if err == nil || channel.Retryable(err) {
		t.Errorf("error %v, want a non-retryable error", err)
	}
}

// The context ends the send; network failures are transient.
func TestSendContextAndNetwork(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-block:
		}
	}))
	defer srv.Close()
	defer close(block)
	s, err := whatsapp.New(whatsapp.Config{AccessToken: testToken, PhoneNumberID: testPhoneID, BaseURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { cancel() }()
	if _, err := s.Send(ctx, &channel.Message{To: "+33612345678", Text: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if _, err := s.Send(ctx, &channel.Message{To: "+33612345678", Text: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: error %v, want context.Canceled", err)
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	s, err = whatsapp.New(whatsapp.Config{AccessToken: testToken, PhoneNumberID: testPhoneID, BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), &channel.Message{To: "+33612345678", Text: "x"}); !channel.Retryable(err) {
		t.Errorf("connection refused: error %v, want transient", err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	bad := []whatsapp.Config{
		{PhoneNumberID: testPhoneID},
		{AccessToken: testToken},
		{AccessToken: testToken, PhoneNumberID: "+33757000001"},
		{AccessToken: testToken, PhoneNumberID: testPhoneID, GraphVersion: "23"},
		{AccessToken: testToken, PhoneNumberID: testPhoneID, BaseURL: "graph.facebook.com"},
		{AccessToken: testToken, PhoneNumberID: testPhoneID, MaxMediaBytes: -1},
	}
	for i, cfg := range bad {
		if _, err := whatsapp.New(cfg); !errors.Is(err, whatsapp.ErrConfig) {
			t.Errorf("config %d: error %v, want ErrConfig", i, err)
		}
	}
	g := newFakeGraph(t)
	s, err := whatsapp.New(whatsapp.Config{AccessToken: testToken, PhoneNumberID: testPhoneID, GraphVersion: "v21.0",
		BaseURL: g.srv.URL + "/", HTTPClient: g.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), &channel.Message{To: "+33612345678", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if p := g.requests()[0].Path; p != "/v21.0/"+testPhoneID+"/messages" {
		t.Errorf("configured version: path %s", p)
	}
}

// C7, C10: the Sender reports WhatsApp's capabilities: service window, read
// receipts, media limits.
func TestCapabilitiesC10(t *testing.T) {
	s, err := whatsapp.New(whatsapp.Config{AccessToken: testToken, PhoneNumberID: testPhoneID})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Capabilities()
	if c.ServiceWindow != 24*time.Hour || !c.ReadReceipts || c.Attachments.MaxBytes != channel.DefaultWhatsAppMaxBytes {
		t.Errorf("capabilities %+v", c)
	}
	custom := channel.Capabilities{FreeForm: true, ServiceWindow: 24 * time.Hour, Attachments: channel.AttachmentRules{MaxCount: 1, MaxBytes: 5 << 20}}
	s, _ = whatsapp.New(whatsapp.Config{AccessToken: testToken, PhoneNumberID: testPhoneID, Capabilities: &custom})
	if got := s.Capabilities(); got.Attachments.MaxBytes != 5<<20 {
		t.Errorf("configured capabilities not reported: %+v", got)
	}
}

func TestMediaURL(t *testing.T) {
	id, ok := whatsapp.MediaID(whatsapp.MediaURL("1003383421387256"))
	if !ok || id != "1003383421387256" {
		t.Errorf("MediaID(MediaURL) = %q, %v", id, ok)
	}
	for _, u := range []string{"https://example.com/1", "whatsapp-media:", "whatsapp-media:12/../x", ""} {
		if _, ok := whatsapp.MediaID(u); ok {
			t.Errorf("MediaID(%q) accepted", u)
		}
	}
}

// The Sender contract: Send leaves its message as it was; a reference too
// long for biz_opaque_callback_data is left out rather than refused.
func TestSendLeavesMessageUnchanged(t *testing.T) {
	g := newFakeGraph(t, fakeResponse{200, `{"id":"4490709327384033"}`})
	msg := &channel.Message{Kind: channel.WhatsApp, To: "+33612345678", Text: "plan", Reference: strings.Repeat("r", 513),
		Attachments: []channel.Attachment{{Name: "plan.png", Data: append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 16)...)}},
		Metadata:    map[string]string{"k": "v"}}
	before := msg.Clone()
	if _, err := g.sender(t).Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, msg); diff != "" {
		t.Errorf("message modified (-before +after):\n%s", diff)
	}
	if body := jsonOf(t, g.requests()[1].Body); body["biz_opaque_callback_data"] != nil {
		t.Errorf("oversized reference sent: %v", body["biz_opaque_callback_data"])
	}
}

package whatsapp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/whatsapp"
)

// A signature is checked against the raw body before anything is parsed.
func ExampleVerifySignature() {
	body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
	header := whatsapp.Signature("app-secret", body) // what Meta sends in X-Hub-Signature-256
	fmt.Println(whatsapp.VerifySignature("app-secret", body, header))
	err := whatsapp.VerifySignature("app-secret", []byte(`{"tampered":true}`), header)
	fmt.Println(errors.Is(err, whatsapp.ErrBadSignature))
	// Output:
	// <nil>
	// true
}

// printReceiver stands in for the inbox.
type printReceiver struct{}

func (printReceiver) Receive(_ context.Context, in channel.Inbound) error {
	fmt.Printf("inbound %s from %s (%s): %q\n", in.ProviderID, in.From, in.Name, in.Text)
	return nil
}

func (printReceiver) ApplyStatus(_ context.Context, u channel.StatusUpdate) error {
	fmt.Printf("status %s of %s\n", u.Status, u.ProviderID)
	return nil
}

// A host mounts the handler at the callback URL configured in the Meta app.
func ExampleNewHandler() {
	h, err := whatsapp.NewHandler(whatsapp.HandlerConfig{AppSecret: "app-secret", VerifyToken: "verify-me"}, printReceiver{})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/whatsapp", h)

	// Meta's verification handshake.
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=42", nil))
	fmt.Println(w.Code, w.Body.String())

	// A signed notification.
	body := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
		"messaging_product":"whatsapp","metadata":{"display_phone_number":"33757000001","phone_number_id":"1065"},
		"contacts":[{"profile":{"name":"Hélène"},"wa_id":"33612345678"}],
		"messages":[{"from":"33612345678","id":"wamid.A1","timestamp":"1735689600","type":"text","text":{"body":"Hi!"}}],
		"statuses":[{"id":"wamid.OUT1","status":"read","timestamp":"1735689601","recipient_id":"33612345678"}]}}]}]}`
	req := httptest.NewRequest("POST", "/webhooks/whatsapp", strings.NewReader(body))
	req.Header.Set(whatsapp.SignatureHeader, whatsapp.Signature("app-secret", []byte(body)))
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Println(w.Code)
	// Output:
	// 200 42
	// inbound wamid.A1 from +33612345678 (Hélène): "Hi!"
	// status read of wamid.OUT1
	// 200
}

// Sending against a stand-in for the Graph API; a real host leaves BaseURL
// and HTTPClient empty.
func ExampleSender_Send() {
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(body), `"type":"template"`) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"A1"}}`)
			return
		}
		fmt.Fprint(w, `{"messaging_product":"whatsapp","contacts":[{"input":"+33612345678","wa_id":"33612345678"}],"messages":[{"id":"wamid.T1"}]}`)
	}))
	defer graph.Close()
	s, err := whatsapp.New(whatsapp.Config{AccessToken: "token", PhoneNumberID: "1065", BaseURL: graph.URL})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	_, err = s.Send(ctx, &channel.Message{Kind: channel.WhatsApp, To: "+33612345678", Text: "Are you coming tonight?"})
	fmt.Println(errors.Is(err, channel.ErrWindowClosed), channel.Retryable(err))

	r, err := s.Send(ctx, &channel.Message{Kind: channel.WhatsApp, To: "+33612345678",
		Template: &channel.TemplateRef{Name: "class_reminder", Language: "en", Params: []string{"Yoga", "7pm"}}})
	fmt.Println(r.ProviderID, r.Status, err)
	// Output:
	// true false
	// wamid.T1 validated <nil>
}

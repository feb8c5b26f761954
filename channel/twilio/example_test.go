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

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/twilio"
)

// Twilio's documented validation example: auth token 12345, the URL Twilio
// requested and the POST parameters it sent.
func ExampleVerifySignature() {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
	u := "https://mycompany.com/myapp.php?foo=1&bar=2"
	fmt.Println(twilio.Signature("12345", u, params))
	fmt.Println(twilio.VerifySignature("12345", u, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="))
	params.Set("Digits", "9999")
	err := twilio.VerifySignature("12345", u, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
	fmt.Println(errors.Is(err, twilio.ErrBadSignature))
	// Output:
	// 0/KCTR6DLpKmkAf8muzZqo1nDgQ=
	// <nil>
	// true
}

func ExampleVerifySignatureWithBody() {
	body := []byte(`{"property": "value", "boolean": true}`)
	u := "https://mycompany.com/myapp.php?bodySHA256=" + twilio.BodySHA256(body)
	fmt.Println(twilio.VerifySignatureWithBody("12345", u, body, "y77kIzt2vzLz71DgmJGsen2scGs="))
	// Output: <nil>
}

// A Sender pointed at a stand-in for api.twilio.com; a host leaves BaseURL
// empty.
func ExampleSender_Send() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		fmt.Println(r.Method, r.URL.Path)
		fmt.Println("To:", r.PostForm.Get("To"), "ContentSid:", r.PostForm.Get("ContentSid"), "ContentVariables:", r.PostForm.Get("ContentVariables"))
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "num_segments": "1", "price": null}`)
	}))
	defer api.Close()

	s, err := twilio.New(twilio.Config{
		AccountSID: "AC0123456789abcdef0123456789abcdef",
		AuthToken:  "auth-token",
		From:       "+15005550006",
		BaseURL:    api.URL,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	rc, err := s.Send(context.Background(), &channel.Message{
		Kind: channel.WhatsApp,
		To:   "+33612345678",
		Template: &channel.TemplateRef{Name: "class_reminder", ProviderID: "HX0123456789abcdef0123456789abcdef",
			Params: []string{"Hélène", "18:00"}},
	})
	fmt.Println(rc.ProviderID, rc.Status, err)
	// Output:
	// POST /2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json
	// To: whatsapp:+33612345678 ContentSid: HX0123456789abcdef0123456789abcdef ContentVariables: {"1":"Hélène","2":"18:00"}
	// SM0123456789abcdef0123456789abcdef validated <nil>
}

// printReceiver stands in for the inbox.
type printReceiver struct{}

func (printReceiver) Receive(ctx context.Context, in channel.Inbound) error {
	fmt.Printf("inbound %s from %s: %q\n", in.Kind, in.From, in.Text)
	return nil
}

func (printReceiver) ApplyStatus(ctx context.Context, u channel.StatusUpdate) error {
	fmt.Printf("status of %s: %s (%s)\n", u.ProviderID, u.Status, u.Raw)
	return nil
}

// The host mounts the Handler on the URL it configured at Twilio and tells
// it the public origin Twilio calls.
func ExampleHandler() {
	h, err := twilio.NewHandler(twilio.HandlerConfig{
		AccountSID: "AC0123456789abcdef0123456789abcdef",
		AuthToken:  "auth-token",
		BaseURL:    "https://hooks.example.com",
	}, printReceiver{})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("POST /twilio", h)

	post := func(params url.Values, signature string) int {
		r := httptest.NewRequest(http.MethodPost, "/twilio", strings.NewReader(params.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set(twilio.SignatureHeader, signature)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	const account = "AC0123456789abcdef0123456789abcdef"
	in := url.Values{"AccountSid": {account}, "MessageSid": {"SM11111111111111111111111111111111"},
		"From": {"whatsapp:+33612345678"}, "To": {"whatsapp:+15005550006"},
		"Body": {"Can I come at 6?"}, "NumMedia": {"0"}, "SmsStatus": {"received"}}
	fmt.Println(post(in, twilio.Signature("auth-token", "https://hooks.example.com/twilio", in)))
	st := url.Values{"AccountSid": {account}, "MessageSid": {"SM22222222222222222222222222222222"},
		"MessageStatus": {"delivered"}, "To": {"+33612345678"}}
	fmt.Println(post(st, twilio.Signature("auth-token", "https://hooks.example.com/twilio", st)))
	fmt.Println(post(st, "forged"))
	// A signed request whose MessageSid is not a message SID: refused.
	bad := url.Values{"AccountSid": {account}, "MessageSid": {"SM2"}, "MessageStatus": {"delivered"}, "To": {"+33612345678"}}
	fmt.Println(post(bad, twilio.Signature("auth-token", "https://hooks.example.com/twilio", bad)))
	// Output:
	// inbound whatsapp from +33612345678: "Can I come at 6?"
	// 200
	// status of SM22222222222222222222222222222222: delivered (delivered)
	// 200
	// 403
	// 400
}

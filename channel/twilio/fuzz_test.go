package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
)

// FuzzSignature: Signature and VerifySignature never panic, a computed
// signature always verifies, and the port variants never include a URL that
// differs from the input other than by its port.
func FuzzSignature(f *testing.F) {
	f.Add("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", "CallSid=CA1234567890ABCDE&Digits=1234&To=%2B18005551212")
	f.Add("t", "http://[::1]:8080/x", "a=1&a=0&b=")
	f.Add("t", "https://user:pw@h.example:/p?q#f", "")
	f.Add("", "no-scheme", "%zz")
	f.Add("k", "https://h.example:99999999999999999999/", "x=%00")
	f.Fuzz(func(t *testing.T, token, rawURL, form string) {
		params, _ := url.ParseQuery(form)
		sig := Signature(token, rawURL, params)
		err := VerifySignature(token, rawURL, params, sig)
		if token != "" && err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		if err != nil && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("untyped error %v", err)
		}
		for _, v := range urlVariants(rawURL)[1:] {
			if a, ok := splitAuthority(rawURL); !ok || v[:a.hostEnd] != rawURL[:a.hostEnd] {
				t.Fatalf("variant %q of %q changes more than the port", v, rawURL)
			}
		}
	})
}

// FuzzVerifySignatureWithBody never panics and accepts its own signature.
func FuzzVerifySignatureWithBody(f *testing.F) {
	f.Add("12345", "https://mycompany.com/myapp.php?foo=1", []byte(`{"property": "value", "boolean": true}`), false)
	f.Add("t", "https://h.example/?bodySHA256=%zz", []byte{}, true)
	f.Add("t", "https://h.example/#?bodySHA256=x", []byte("x"), false)
	f.Fuzz(func(t *testing.T, token, rawURL string, body []byte, tamper bool) {
		u := rawURL
		if !strings.Contains(u, "bodySHA256") {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + "bodySHA256=" + BodySHA256(body)
		}
		sig := Signature(token, u, nil)
		if tamper {
			body = append(body, 'x')
		}
		err := VerifySignatureWithBody(token, u, body, sig)
		if err != nil && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

// FuzzParseEvent: any webhook parameters give an inbound message, a status
// update or an error matching errMalformed, never a panic.
func FuzzParseEvent(f *testing.F) {
	f.Add("MessageSid=SM1&From=%2B1&Body=hi&NumMedia=1&MediaUrl0=https%3A%2F%2Fx&MediaContentType0=image%2Fpng")
	f.Add("MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30007&To=whatsapp%3A%2B1")
	f.Add("SmsSid=SM1&SmsStatus=received&From=whatsapp%3A&NumMedia=20")
	f.Add("MessageSid=SM1&NumMedia=-0")
	f.Add("")
	now := time.Unix(0, 0)
	f.Fuzz(func(t *testing.T, form string) {
		p, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		ev, err := parseEvent(p, now)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if (ev.inbound == nil) == (ev.status == nil) {
			t.Fatal("not exactly one of inbound and status")
		}
		if ev.inbound != nil && (ev.inbound.ProviderID == "" || !ev.inbound.Kind.Valid() || len(ev.inbound.Attachments) > MaxMedia) {
			t.Fatalf("bad inbound %+v", ev.inbound)
		}
		if ev.status != nil && (ev.status.ProviderID == "" || !ev.status.Status.Valid()) {
			t.Fatalf("bad status %+v", ev.status)
		}
	})
}

type nopReceiver struct{}

func (nopReceiver) Receive(context.Context, channel.Inbound) error          { return nil }
func (nopReceiver) ApplyStatus(context.Context, channel.StatusUpdate) error { return nil }

// FuzzHandler: the handler answers every request with one of its documented
// codes and never panics, signed or not.
func FuzzHandler(f *testing.F) {
	const account = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	f.Add("application/x-www-form-urlencoded", "AccountSid="+account+"&MessageSid=SMcccccccccccccccccccccccccccccccc&From=%2B33612345678&Body=hi", true)
	f.Add("application/json", `{"AccountSid":"`+account+`","MessageSid":"SMcccccccccccccccccccccccccccccccc","MessageStatus":"sent"}`, true)
	f.Add("application/json", `{"a":{"b":1}}`, true)
	f.Add("text/plain", "%%%", false)
	h, err := NewHandler(HandlerConfig{AccountSID: account, AuthToken: "t", BaseURL: "https://h.example"}, nopReceiver{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ctype, body string, sign bool) {
		target := "/hook"
		if ctype == "application/json" {
			target += "?bodySHA256=" + BodySHA256([]byte(body))
		}
		r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		if sign {
			p, _ := url.ParseQuery(body)
			if ctype == "application/json" {
				p = nil
			}
			r.Header.Set(SignatureHeader, Signature("t", "https://h.example"+target, p))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200, 400, 403, 413:
		default:
			t.Fatalf("status %d", w.Code)
		}
		if !sign && w.Code == 200 {
			t.Fatal("unsigned request accepted")
		}
	})
}

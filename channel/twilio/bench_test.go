package twilio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/twilio"
)

func BenchmarkVerifySignature(b *testing.B) {
	p := inboundSMS(sid(1), "Can I move my class to 6pm?")
	u := hookBase + hookPath
	sig := twilio.Signature(hookToken, u, p)
	b.ReportAllocs()
	for b.Loop() {
		if err := twilio.VerifySignature(hookToken, u, p, sig); err != nil {
			b.Fatal(err)
		}
	}
}

type discardReceiver struct{}

func (discardReceiver) Receive(context.Context, channel.Inbound) error          { return nil }
func (discardReceiver) ApplyStatus(context.Context, channel.StatusUpdate) error { return nil }

func BenchmarkHandlerInbound(b *testing.B) {
	h, err := twilio.NewHandler(twilio.HandlerConfig{AccountSID: accountSID, AuthToken: hookToken, BaseURL: hookBase}, discardReceiver{})
	if err != nil {
		b.Fatal(err)
	}
	p := inboundSMS(sid(1), "Can I move my class to 6pm?")
	body := p.Encode()
	sig := twilio.Signature(hookToken, hookBase+hookPath, p)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, hookPath, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set(twilio.SignatureHeader, sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

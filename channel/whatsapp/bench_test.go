package whatsapp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/whatsapp"
)

func BenchmarkVerifySignature(b *testing.B) {
	body := readTestdata(b, "kinds.json")
	sig := whatsapp.Signature(testSecret, body)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := whatsapp.VerifySignature(testSecret, body, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseNotification(b *testing.B) {
	body := readTestdata(b, "kinds.json")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := whatsapp.ParseNotification(body); err != nil {
			b.Fatal(err)
		}
	}
}

// nopReceiver accepts everything without storing it.
type nopReceiver struct{}

func (nopReceiver) Receive(context.Context, channel.Inbound) error          { return nil }
func (nopReceiver) ApplyStatus(context.Context, channel.StatusUpdate) error { return nil }

// BenchmarkHandler measures one signed notification through the handler:
// read, verify, parse, deliver.
func BenchmarkHandler(b *testing.B) {
	h := newTestHandler(b, nopReceiver{}, nil)
	body := readTestdata(b, "text.json")
	sig := whatsapp.Signature(testSecret, body)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if w := post(h, body, sig); w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

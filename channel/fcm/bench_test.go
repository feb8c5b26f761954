package fcm_test

import (
	"context"
	"io"
	"net/http"
	"testing"
)

// BenchmarkSend measures one push through the fake FCM over loopback HTTP,
// with the access token cached: building the JSON, the request and reading
// the response (the fake server's own work included).
func BenchmarkSend(b *testing.B) {
	clk := &clock{t: t0}
	f := newFake(b, clk.Now)
	s := newSender(b, f, clk, nil)
	ctx := context.Background()
	msg := push(devToken)
	if _, err := s.Send(ctx, msg); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Send(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendBareServer is BenchmarkSend against a server that only
// answers, so that the figures are the Sender's and net/http's.
func BenchmarkSendBareServer(b *testing.B) {
	clk := &clock{t: t0}
	f := newFake(b, clk.Now)
	s := newSender(b, f, clk, nil)
	ctx := context.Background()
	msg := push(devToken)
	if _, err := s.Send(ctx, msg); err != nil { // token fetched and cached
		b.Fatal(err)
	}
	ok := []byte(`{"name":"projects/studio-lumiere/messages/0:1500415314455276%31bd1c9631bd1c96"}`)
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(ok)
	})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Send(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}

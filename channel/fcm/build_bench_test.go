package fcm

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
)

// BenchmarkBuildAndParse measures the Sender's own work per push, without
// HTTP: the request JSON and the reading of FCM's answer.
func BenchmarkBuildAndParse(b *testing.B) {
	s := &Sender{now: time.Now}
	msg := &channel.Message{Kind: channel.Push, To: "fGw3bT9kQ1m:APA91bH-mia-pixel-7", Subject: "Studio Lumière",
		Text: "Your Pilates class moves to 19:00", Reference: "dlv-1",
		Metadata: map[string]string{channel.MetaThreadID: "thr-1", channel.MetaMessageID: "msg-1", channel.MetaContactID: "m-mia"}}
	ok := []byte(`{"name":"projects/studio-lumiere/messages/0:1500415314455276%31bd1c9631bd1c96"}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.build(ctx, msg); err != nil {
			b.Fatal(err)
		}
		if name, err := parseResponse(200, "", ok, time.Time{}); err != nil || name == "" {
			b.Fatal(name, err)
		}
	}
}

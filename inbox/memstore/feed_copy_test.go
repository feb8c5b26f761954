package memstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
)

// T20 (issue 18): the store keeps a copy of each event's data, so that the
// inbox encodes the events of write after write into one buffer: what the
// writer does with its buffer after a write returns changes no event held,
// whatever the event's size; and a reader that appends to the data it read
// changes no other event.
func TestFeedKeepsCopies(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	after, err := s.LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 8<<10)
	var want []string
	for i := range 2000 {
		n := 1 + i%200
		if i%500 == 7 {
			n = 5000 // longer than an arena takes
		}
		buf = append(buf[:0], fmt.Sprintf("%d:%s", i, strings.Repeat("x", n))...)
		if err := s.AppendEvents(ctx, store.FeedEvent{At: t0, Data: buf}); err != nil {
			t.Fatal(err)
		}
		want = append(want, string(buf))
		for j := range buf { // the writer reuses its buffer
			buf[j] = '!'
		}
	}
	got, err := s.ReadEvents(ctx, after, len(want))
	if err != nil || len(got) != len(want) {
		t.Fatalf("ReadEvents: %d events, %v; want %d", len(got), err, len(want))
	}
	_ = append(got[0].Data, "appended"...)
	again, _ := s.ReadEvents(ctx, after, 2)
	for i, e := range got {
		if string(e.Data) != want[i] {
			t.Fatalf("event %d: %.40q, want %.40q", i, e.Data, want[i])
		}
	}
	if string(again[1].Data) != want[1] {
		t.Fatalf("event 1 after a reader's append: %.40q", again[1].Data)
	}
}

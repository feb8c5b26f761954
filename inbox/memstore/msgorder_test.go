package memstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
)

// M6: a thread's messages are in (CreatedAt, ID) order whatever the order
// of their writes: later ones, earlier ones, equal times ordered by ID, and
// times a stamp cannot hold (after 2262) before and after ordinary ones.
func TestMessageOrderOfWrites(t *testing.T) {
	far := time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC) // beyond Unix nanoseconds
	writes := []struct {
		id string
		at time.Time
	}{
		{"m5", t0.Add(5 * time.Minute)},
		{"m7", t0.Add(7 * time.Minute)},
		{"m6", t0.Add(6 * time.Minute)}, // before the latest
		{"m7b", t0.Add(7 * time.Minute)},
		{"m7a", t0.Add(7 * time.Minute)}, // the latest's time, an ID before it
		{"z", far},
		{"m8", t0.Add(8 * time.Minute)}, // after the latest stamp, before the far one
		{"y", far},                      // the far one's time, an ID before it
		{"m9", t0.Add(9 * time.Minute)},
		{"m1", t0.Add(time.Minute)},
		{"zz", far.Add(time.Hour)},
		{"n", t0.Add(10 * time.Minute)},
	}
	s := memstore.New()
	mustWrite(t, s, store.ThreadWrite{Thread: newThread("t1", store.Contact)})
	for _, w := range writes {
		cur, err := s.Thread(ctx, "t1")
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, s, store.ThreadWrite{Thread: cur, Message: &store.Message{ID: w.id, ThreadID: "t1", Direction: store.Inbound,
			Kind: channel.SMS, Text: "x", CreatedAt: w.at}})
	}
	page, err := s.Messages(ctx, store.MessageQuery{ThreadID: "t1", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range page {
		got = append(got, m.ID)
	}
	want := []string{"m1", "m5", "m6", "m7", "m7a", "m7b", "m8", "m9", "n", "y", "z", "zz"}
	if !slices.Equal(got, want) {
		t.Errorf("messages in order %v, want %v", got, want)
	}
}

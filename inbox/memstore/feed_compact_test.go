package memstore_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
)

// T20: the feed gives back every event as appended, whatever the store
// packs: times in other locations and outside the range of Unix
// nanoseconds, nil, empty, short and long data, before and after prunes.
func TestFeedEventsKept_T20(t *testing.T) {
	s := memstore.New()
	paris, _ := time.LoadLocation("Europe/Paris")
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	long := bytes.Repeat([]byte("x"), 5000)
	in := []store.FeedEvent{
		{At: t0, Data: []byte(`{"a":1}`)},
		{At: t0.Add(time.Second).In(paris), Data: nil},
		{At: t0.Add(2 * time.Second), Data: []byte{}},
		{At: time.Date(1500, 1, 1, 0, 0, 0, 0, paris), Data: long},
		{At: t0.Add(3 * time.Second), Data: []byte(`{"b":2}`)},
		{At: time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC), Data: []byte(`{"c":3}`)},
	}
	first, _ := s.LastEventSeq(ctx)
	if err := s.AppendEvents(ctx, in...); err != nil {
		t.Fatal(err)
	}
	check := func(after uint64, want []store.FeedEvent) {
		t.Helper()
		got, err := s.ReadEvents(ctx, after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("read %d events after %d, want %d", len(got), after, len(want))
		}
		for i, e := range got {
			w := want[i]
			if e.Seq != after+1+uint64(i) || !e.At.Equal(w.At) || e.At.Location().String() != w.At.Location().String() ||
				!bytes.Equal(e.Data, w.Data) || (e.Data == nil) != (w.Data == nil) {
				t.Errorf("event %d: got seq %d at %v data %q (nil %v), want at %v data %q (nil %v)",
					i, e.Seq, e.At, e.Data, e.Data == nil, w.At, w.Data, w.Data == nil)
			}
		}
	}
	check(first, in)
	// the event of 1500 is the oldest by time but not by order: a prune
	// stops at the first event not before the limit
	if n, err := s.PruneEvents(ctx, t0.Add(1500*time.Millisecond)); err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want 2", n, err)
	}
	check(first+2, in[2:])
	if err := s.AppendEvents(ctx, in[0], in[4]); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PruneEvents(ctx, t0.Add(3500*time.Millisecond)); err != nil || n != 3 {
		t.Fatalf("pruned %d, %v; want 3", n, err)
	}
	check(first+5, append(in[5:], in[0], in[4]))
	if _, err := s.ReadEvents(ctx, first+1, 10); err == nil {
		t.Fatal("a read of pruned events gave no error")
	}
}

// T20: events whose data share a prefix with the data before them, equal
// it, or are a prefix of it read back whole, across arenas.
func TestFeedSharedPrefixes_T20(t *testing.T) {
	s := memstore.New()
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	datas := [][]byte{[]byte(`{"type":"status","delivery":"d1"}`), []byte(`{"type":"status","delivery":"d2"}`),
		[]byte(`{"type":"status"`), []byte(`{"type":"status","delivery":"d1"}`), []byte(`x`), []byte{},
		[]byte(`{"type":"status","delivery":"d1","more":true}`)}
	var in []store.FeedEvent
	for i := range 9000 { // more than one arena
		d := datas[i%len(datas)]
		if i%1000 == 999 {
			d = bytes.Repeat([]byte(`{"type":"status"`), 200) // an arena of its own
		}
		in = append(in, store.FeedEvent{At: t0.Add(time.Duration(i) * time.Millisecond), Data: d})
	}
	first, _ := s.LastEventSeq(ctx)
	if err := s.AppendEvents(ctx, in...); err != nil {
		t.Fatal(err)
	}
	for _, prune := range []int{0, 2500, 7000} {
		if _, err := s.PruneEvents(ctx, t0.Add(time.Duration(prune)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		got, err := s.ReadEvents(ctx, first+uint64(prune), len(in))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(in)-prune {
			t.Fatalf("read %d events, want %d", len(got), len(in)-prune)
		}
		for i, e := range got {
			if w := in[prune+i].Data; !bytes.Equal(e.Data, w) || e.Data == nil {
				t.Fatalf("event %d: data %q, want %q", prune+i, e.Data, w)
			}
		}
	}
}

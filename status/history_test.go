package status_test

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/status"
)

// S3: webhooks arriving delivered-then-sent keep "sent" in the history,
// before "delivered", while the status stays the lattice maximum (S2).
func TestS3LateSentIsKept(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var r status.Record
	for _, c := range []status.Change{
		{Status: status.Delivered, At: t0.Add(2 * time.Second), Raw: "delivered"},
		{Status: status.Sent, At: t0.Add(time.Second), Raw: "sent"},
	} {
		ok, err := r.Apply(c)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Fatalf("S3: %s is a new provider event, Apply reported no change", c.Raw)
		}
	}
	if r.Current != status.Delivered {
		t.Fatalf("S2: current %s, want delivered", r.Current)
	}
	if len(r.History) != 2 || r.History[0].Status != status.Sent || r.History[1].Status != status.Delivered {
		t.Fatalf("S3: history %+v, want sent then delivered", r.History)
	}
	if ok, _ := r.Apply(status.Change{Status: status.Sent, At: t0.Add(time.Second), Raw: "sent"}); ok {
		t.Fatal("S3: a duplicate event changed the record")
	}
}

// S3: an event without a provider time is kept at its arrival time; the
// same report arriving again later is the same event, kept once, at the
// earliest arrival.
func TestS3ArrivalTimeDuplicates(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var r status.Record
	late := status.Change{Status: status.Delivered, Raw: "delivered", At: t0.Add(time.Minute), Arrived: true}
	early := status.Change{Status: status.Delivered, Raw: "delivered", At: t0, Arrived: true}
	for _, c := range []status.Change{late, early, late} {
		if _, err := r.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.History) != 1 || !r.History[0].At.Equal(t0) {
		t.Fatalf("S3: history %+v, want one delivered at the earliest arrival", r.History)
	}
}

// S3: the history is the same set of distinct provider events, ordered by
// event time, whatever the order and number of arrivals: every
// permutation of a set of events, each delivered one to three times, gives
// one record.
func TestS3HistoryPropertyPermutationsAndDuplicates(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(3, 4))
	raws := map[status.Status][]string{
		status.Validated: {"queued", "accepted"}, status.Sent: {"sent"}, status.Delivered: {"delivered"},
		status.Undelivered: {"undelivered"}, status.Failed: {"failed"}, status.Read: {"read"},
	}
	kinds := []status.Status{status.Validated, status.Sent, status.Delivered, status.Undelivered, status.Failed, status.Read}
	for trial := range 200 {
		n := 1 + rng.IntN(6)
		events := make([]status.Change, n)
		for i := range events {
			s := kinds[rng.IntN(len(kinds))]
			c := status.Change{Status: s, Raw: raws[s][rng.IntN(len(raws[s]))], At: t0.Add(time.Duration(rng.IntN(4)) * time.Second)}
			if s == status.Undelivered || s == status.Failed {
				c.ErrorCode = []string{"30003", "30007"}[rng.IntN(2)]
			}
			if rng.IntN(4) == 0 {
				c.Arrived = true
			}
			events[i] = c
		}
		var want *status.Record
		for range 30 {
			// every event one to three times, in a random order; an
			// arrival-time event arrives again later
			var arrivals []status.Change
			for _, c := range events {
				for k := range 1 + rng.IntN(3) {
					a := c
					if c.Arrived {
						a.At = c.At.Add(time.Duration(k) * time.Minute)
					}
					arrivals = append(arrivals, a)
				}
			}
			rng.Shuffle(len(arrivals), func(i, j int) { arrivals[i], arrivals[j] = arrivals[j], arrivals[i] })
			var r status.Record
			for _, c := range arrivals {
				if _, err := r.Apply(c); err != nil {
					t.Fatal(err)
				}
			}
			for i := 1; i < len(r.History); i++ {
				if r.History[i].At.Before(r.History[i-1].At) {
					t.Fatalf("trial %d: history not in event-time order: %+v", trial, r.History)
				}
			}
			top := status.Unknown
			for _, c := range events {
				top = status.Merge(top, c.Status)
			}
			if r.Current != top {
				t.Fatalf("trial %d: S2: current %s, want %s", trial, r.Current, top)
			}
			if want == nil {
				want = &r
				continue
			}
			if !reflect.DeepEqual(r, *want) {
				t.Fatalf("trial %d: S3: arrivals %v\ngave %+v\nwant %+v", trial, arrivals, r.History, want.History)
			}
		}
		distinct := map[status.Change]bool{}
		for _, c := range events {
			if c.Arrived {
				c.At = time.Time{}
			}
			distinct[c] = true
		}
		if len(want.History) != len(distinct) {
			t.Fatalf("trial %d: S3: %d events in the history, want the %d distinct ones: %+v", trial, len(want.History), len(distinct), want.History)
		}
	}
}

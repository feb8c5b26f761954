package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/inbox/store"
)

func TestThreadWriteCheck(t *testing.T) {
	th := store.Thread{ID: "t1", Subject: store.Subject{Kind: store.Contact, ID: "c1"}}
	m := &store.Message{ID: "m1", ThreadID: "t1"}
	many := make([]store.Delivery, 100_000) // linear, not quadratic
	for i := range many {
		many[i] = store.Delivery{ID: fmt.Sprint("d", i), MessageID: "m1", ThreadID: "t1", ProviderID: fmt.Sprint("p", i)}
	}
	cases := []struct {
		name string
		w    store.ThreadWrite
		want error
	}{
		{"ok", store.ThreadWrite{Thread: th, Message: m, Deliveries: many}, nil},
		{"no ID", store.ThreadWrite{Thread: store.Thread{Subject: th.Subject}}, store.ErrInvalid},
		{"bad kind", store.ThreadWrite{Thread: store.Thread{ID: "t", Subject: store.Subject{Kind: 9}}}, store.ErrInvalid},
		{"deliveries alone", store.ThreadWrite{Thread: th, Deliveries: many[:1]}, store.ErrInvalid},
		{"message of another thread", store.ThreadWrite{Thread: th, Message: &store.Message{ID: "m", ThreadID: "t2"}}, store.ErrInvalid},
		{"delivery twice", store.ThreadWrite{Thread: th, Message: m, Deliveries: []store.Delivery{many[0], many[0]}}, store.ErrConflict},
		{"provider ID twice", store.ThreadWrite{Thread: th, Message: m, Deliveries: []store.Delivery{many[0], {ID: "x", MessageID: "m1", ThreadID: "t1", ProviderID: "p0"}}}, store.ErrDuplicate},
		{"assignment of another thread", store.ThreadWrite{Thread: th, Assignment: &store.Assignment{ThreadID: "t9"}}, store.ErrInvalid},
		{"message times without a message", store.ThreadWrite{Thread: th, Times: &store.MessageTimes{}}, store.ErrInvalid},
		{"message times", store.ThreadWrite{Thread: th, Times: &store.MessageTimes{MessageID: "m0"}}, nil},
	}
	for _, c := range cases {
		err := c.w.Check()
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestPositionOrder(t *testing.T) {
	a := store.Position{Favourite: true, ID: "z"}
	b := store.Position{ID: "a"}
	if !a.Before(b) || b.Before(a) {
		t.Fatal("T3: favourites first")
	}
}

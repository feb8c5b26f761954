package store_test

import (
	"testing"

	"github.com/parleyhq/parley/inbox/store"
)

// T15: the attention badge and its categories, by name or by subject kind.
func TestCountersByCategory_T15(t *testing.T) {
	var c store.Counters
	c.Add(store.Contact, 2)
	c.Add(store.Event, 1)
	c.Add(store.SubjectKind(0), 5) // no category: counted nowhere
	c.Add(store.SubjectKind(9), 5)
	if c != (store.Counters{Attention: 3, Contacts: 2, Events: 1}) {
		t.Fatalf("counters %+v", c)
	}
	for k, want := range map[store.SubjectKind]int{store.Contact: 2, store.Audience: 0, store.Event: 1, 0: 0, 9: 0} {
		if got := c.Category(k); got != want {
			t.Errorf("Category(%v) = %d, want %d", k, got, want)
		}
	}
}

package store_test

import (
	"testing"

	"github.com/parleyhq/parley/inbox/store"
)

// T1: every kind of subject has a name a screen can show.
func TestDisplayName_T1(t *testing.T) {
	for want, th := range map[string]store.Thread{
		"Hélène Dupont": {Subject: store.Subject{Kind: store.Contact, ID: "c1"},
			Snapshot: store.Snapshot{FirstName: "Hélène", LastName: "Dupont", Email: "h@example.fr"}},
		"Zoé": {Subject: store.Subject{Kind: store.Contact, ID: "c2"}, Snapshot: store.Snapshot{FirstName: " Zoé "}},
		"guest@example.com": {Subject: store.Subject{Kind: store.Contact, ID: "c3"},
			Snapshot: store.Snapshot{Email: "guest@example.com", Phone: "+33612345678"}},
		"+33612345678": {Subject: store.Subject{Kind: store.Contact, ID: "tel:+33612345678"},
			Snapshot: store.Snapshot{Phone: "+33612345678"}},
		"Yoga regulars": {Subject: store.Subject{Kind: store.Audience, ID: "a1"}, Snapshot: store.Snapshot{Name: "Yoga regulars"}},
		"Pilates 18:00": {Subject: store.Subject{Kind: store.Event, ID: "e1"}, Snapshot: store.Snapshot{Name: "Pilates 18:00"}},
		"e2":            {Subject: store.Subject{Kind: store.Event, ID: "e2"}},
		"airbnb:4711":   {Subject: store.Subject{Kind: store.Contact, ID: "airbnb:4711"}},
	} {
		if got := th.DisplayName(); got != want {
			t.Errorf("DisplayName of %v = %q, want %q", th.Subject, got, want)
		}
	}
}

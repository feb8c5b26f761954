package inbox_test

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	ptemplate "github.com/parleyhq/parley/template"
)

// C5: the scopes each kind of thread and send provides are those of the
// table in the package documentation.
func TestScopesTable_C5(t *testing.T) {
	bare := newRig(t, inbox.Options{}, nil)
	full := newRig(t, inbox.Options{Account: map[string]any{"Name": "Studio"}}, nil)
	full.dir.PutAgent(store.AgentInfo{ID: "lea", FirstName: "Léa"})
	kinds := map[string]store.Subject{
		"contact":  contactT("ana"),
		"audience": {Kind: store.Audience, ID: "yoga"},
		"event":    {Kind: store.Event, ID: "pilates"},
	}
	own := map[string]ptemplate.Scope{"audience": ptemplate.ScopeAudience, "event": ptemplate.ScopeEvent}
	for name, subject := range kinds {
		th := bare.thread(subject)
		p, err := bare.in.Preflight(bare.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "x", Groups: bookedIfEvent(subject)})
		if err != nil {
			t.Fatal(err)
		}
		want := []ptemplate.Scope{ptemplate.ScopeContact}
		if s, ok := own[name]; ok {
			want = append(want, s)
		}
		slices.Sort(want)
		if !slices.Equal(p.Scopes, want) {
			t.Errorf("C5: a bare send in a %s thread provides %v, want %v", name, p.Scopes, want)
		}

		th = full.thread(subject)
		p, err = full.in.Preflight(full.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "x", Groups: bookedIfEvent(subject),
			Author: inbox.Author{Agent: "lea"}, Values: ptemplate.Values{ptemplate.ScopeGiftCard: map[string]any{"Code": "G1"}},
			RecipientValues: map[string]ptemplate.Values{"ana": {ptemplate.ScopeBooking: map[string]any{"Room": "12"}}},
			Scopes:          []ptemplate.Scope{ptemplate.ScopeAppointment}})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ptemplate.ScopeAccount, ptemplate.ScopeAgent, ptemplate.ScopeGiftCard, ptemplate.ScopeBooking, ptemplate.ScopeAppointment)
		slices.Sort(want)
		if !slices.Equal(p.Scopes, want) {
			t.Errorf("C5: a full send in a %s thread provides %v, want %v", name, p.Scopes, want)
		}
	}
}

func bookedIfEvent(s store.Subject) []recipient.Group {
	if s.Kind == store.Event {
		return []recipient.Group{recipient.Booked}
	}
	return nil
}

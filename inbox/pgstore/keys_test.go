package pgstore

import (
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// containsAll is PostgreSQL's array containment (keys @> want).
func containsAll(keys, want []string) bool {
	for _, w := range want {
		if !slices.Contains(keys, w) {
			return false
		}
	}
	return true
}

// FuzzSearchKeys checks that the key containment the SQL search runs is the
// T13 rule of inbox/store/textindex: a thread's subject keys contain a query's
// keys exactly when textindex.MatchSubject says the snapshot matches, and a
// message's keys contain the query's message keys exactly when
// textindex.MatchMessage says the text matches (with at least one word, as
// a search for punctuation only matches no message).
func FuzzSearchKeys(f *testing.F) {
	f.Add("Hélène", "Dupont", "", "helene.dupont@example.fr", "+33612345678", "Je voudrais réserver le cours", "helene dup")
	f.Add("John", "O'Brien", "", "john@example.com", "+12015550123", "o'brien called", "o'brien")
	f.Add("", "", "Pilates débutant 18:00", "", "", "rendez-vous demain", "rendez-vous")
	f.Add("Zoé", "Lefèvre", "", "zoe@example.fr", "+33611223344", "", "06 11 22")
	f.Add("Marc", "Martin", "", "marc@example.fr", "+33687654321", "Votre abonnement", "+33 6 87")
	f.Add("ß", "Œuvre", "", "", "", "STRASSE", "strasse oeuvre")
	f.Fuzz(func(t *testing.T, first, last, name, email, phone, text, query string) {
		const tenant = 42
		snap := store.Snapshot{FirstName: first, LastName: last, Name: name, Email: email, Phone: phone}
		q := textindex.ParseQuery(query)
		if q.IsZero() {
			return
		}
		subject, message := searchKeys(tenant, q)
		keys := threadKeys(tenant, snap)
		if got, want := containsAll(keys, subject), textindex.MatchSubject(snap, q); got != want {
			t.Fatalf("subject %+v, query %q: keys say %v, textindex says %v", snap, query, got, want)
		}
		if q.Phone != "" {
			if message != nil {
				t.Fatalf("phone query %q has message keys %v", query, message)
			}
			return
		}
		words := messageKeys(tenant, textindex.MessageWords(text))
		want := len(textindex.MessageTerms(q.Terms)) > 0 && textindex.MatchMessage(text, q.Terms)
		if got := len(message) > 0 && containsAll(words, message); got != want {
			t.Fatalf("text %q, query %q: keys say %v, textindex says %v", text, query, got, want)
		}
		for _, k := range append(keys, words...) {
			if k[:3] != "42:" {
				t.Fatalf("key %q is not scoped to the tenant", k)
			}
		}
	})
}

// FuzzListOrder checks that the stored list keys (list_pin, list_rank, id),
// compared in order as PostgreSQL compares them, give the T3 order of
// store.Position.Before for times at the microsecond precision the store
// keeps.
func FuzzListOrder(f *testing.F) {
	f.Add(true, int64(0), "a", false, int64(0), "b")
	f.Add(false, int64(1772442000000000), "id1", false, int64(1772442000000001), "id1")
	f.Add(true, int64(-62135596800000000), "x", true, int64(1), "x")
	f.Add(false, int64(5), "b", false, int64(5), "a")
	f.Fuzz(func(t *testing.T, favA bool, usA int64, idA string, favB bool, usB int64, idB string) {
		const lo, hi = -62135596800000000, 253402300799999999 // years 1 to 9999
		if usA < lo || usA > hi || usB < lo || usB > hi {
			return
		}
		pa := store.Position{Favourite: favA, SortTime: time.UnixMicro(usA), ID: idA}
		pb := store.Position{Favourite: favB, SortTime: time.UnixMicro(usB), ID: idB}
		less := func(p, q store.Position) bool {
			kp := []any{!p.Favourite, listRank(p.SortTime), p.ID}
			kq := []any{!q.Favourite, listRank(q.SortTime), q.ID}
			switch {
			case kp[0] != kq[0]:
				return !kp[0].(bool)
			case kp[1] != kq[1]:
				return kp[1].(int64) < kq[1].(int64)
			}
			return kp[2].(string) < kq[2].(string)
		}
		if got, want := less(pa, pb), pa.Before(pb); got != want {
			t.Fatalf("%+v before %+v: keys say %v, Position.Before says %v", pa, pb, got, want)
		}
	})
}

package template

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

func TestCatalogBuiltinsC5(t *testing.T) {
	cat := NewCatalog()
	want := []Scope{ScopeAccount, ScopeAgent, ScopeAppointment, ScopeAudience, ScopeBooking, ScopeContact, ScopeEvent, ScopeGiftCard}
	var got []Scope
	for _, s := range cat.Scopes() {
		got = append(got, s.Scope)
		if s.Label == "" || s.Description == "" {
			t.Errorf("scope %s lacks a label or description", s.Scope)
		}
		if sc, ok := cat.ScopeOf(s.Root); !ok || sc != s.Scope {
			t.Errorf("ScopeOf(%q) = %q, %v; want %q", s.Root, sc, ok, s.Scope)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Scopes() = %v, want %v", got, want)
	}
	perScope := map[Scope]int{}
	for _, v := range cat.Variables() {
		perScope[v.Scope]++
		if v.Label == "" || v.Description == "" || v.Example == nil {
			t.Errorf("variable %s lacks a label, description or example", v.Path)
		}
	}
	for _, s := range want {
		if perScope[s] == 0 {
			t.Errorf("scope %s has no built-in variable", s)
		}
	}
	if s, _ := cat.ScopeOf("GiftCard"); s != ScopeGiftCard {
		t.Errorf("root GiftCard maps to %q", s)
	}
}

// C5: the picker offers only the variables of the scopes the context provides.
func TestCatalogVariablesForContextC5(t *testing.T) {
	cat := NewCatalog()
	vars := cat.Variables(ScopeEvent, ScopeAccount, ScopeAgent)
	var paths []string
	for _, v := range vars {
		paths = append(paths, v.Path)
		if v.Scope != ScopeEvent && v.Scope != ScopeAccount && v.Scope != ScopeAgent {
			t.Errorf("variable %s of scope %s offered in an event context", v.Path, v.Scope)
		}
	}
	if !slices.Contains(paths, "Event.Name") || !slices.Contains(paths, "Account.Name") {
		t.Errorf("event context lacks Event.Name or Account.Name: %v", paths)
	}
	if slices.Contains(paths, "GiftCard.Value") {
		t.Errorf("event context offers GiftCard.Value")
	}
	if !slices.IsSorted(paths) {
		t.Errorf("variables not sorted: %v", paths)
	}
}

func TestCatalogRegister(t *testing.T) {
	cat := NewCatalog()
	err := cat.RegisterScope(ScopeInfo{Scope: "membership", Root: "Membership", Label: "Membership"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Register(Variable{Path: "Membership.Plan", Scope: "membership", Label: "Plan", Example: "10-class pass"}); err != nil {
		t.Fatal(err)
	}
	if v, ok := cat.Lookup(".Membership.Plan"); !ok || v.Example != "10-class pass" {
		t.Errorf("Lookup = %+v, %v", v, ok)
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate scope", cat.RegisterScope(ScopeInfo{Scope: "membership", Root: "Other"}), ErrDuplicate},
		{"duplicate root", cat.RegisterScope(ScopeInfo{Scope: "other", Root: "Membership"}), ErrDuplicate},
		{"lower-case root", cat.RegisterScope(ScopeInfo{Scope: "x", Root: "x"}), ErrInvalid},
		{"blank scope", cat.RegisterScope(ScopeInfo{Scope: "", Root: "X"}), ErrInvalid},
		{"unknown scope", cat.Register(Variable{Path: "Loyalty.Points", Scope: "loyalty"}), ErrUnknownScope},
		{"root mismatch", cat.Register(Variable{Path: "Contact.Points", Scope: "membership"}), ErrInvalid},
		{"no field", cat.Register(Variable{Path: "Membership", Scope: "membership"}), ErrInvalid},
		{"bad element", cat.Register(Variable{Path: "Membership.plan", Scope: "membership"}), ErrInvalid},
		{"duplicate variable", cat.Register(Variable{Path: "Contact.FirstName", Scope: ScopeContact}), ErrDuplicate},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

// C5: the picker helper inserts a token at a cursor counted in characters.
func TestCatalogInsertC5(t *testing.T) {
	cat := NewCatalog()
	tests := []struct {
		text       string
		cursor     int
		want       string
		wantCursor int
	}{
		{"Bonjour !", 8, "Bonjour {{ .Contact.FirstName }}!", 32},
		{"Hélène", 2, "Hé{{ .Contact.FirstName }}lène", 26},
		{"abc", 99, "abc{{ .Contact.FirstName }}", 27},
		{"abc", -5, "{{ .Contact.FirstName }}abc", 24},
		{"", 0, "{{ .Contact.FirstName }}", 24},
	}
	for _, tt := range tests {
		got, cur, err := cat.Insert(tt.text, tt.cursor, "Contact.FirstName")
		if err != nil || got != tt.want || cur != tt.wantCursor {
			t.Errorf("Insert(%q, %d) = %q, %d, %v; want %q, %d", tt.text, tt.cursor, got, cur, err, tt.want, tt.wantCursor)
		}
	}
	if _, _, err := cat.Insert("x", 0, "Contact.Shoe"); !errors.Is(err, ErrUnknownVariable) {
		t.Errorf("unknown path: err = %v", err)
	}
}

func TestCatalogExamples(t *testing.T) {
	cat := NewCatalog()
	ex := cat.Examples()
	c, _ := ex[ScopeContact].(map[string]any)
	if c["FirstName"] != "Hélène" {
		t.Errorf("contact example = %v", ex[ScopeContact])
	}
}

func TestCatalogConcurrent(t *testing.T) {
	cat := NewCatalog()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			s := Scope(fmt.Sprintf("s%d", i))
			root := fmt.Sprintf("S%d", i)
			if err := cat.RegisterScope(ScopeInfo{Scope: s, Root: root}); err != nil {
				t.Error(err)
			}
			if err := cat.Register(Variable{Path: root + ".X", Scope: s}); err != nil {
				t.Error(err)
			}
			_ = cat.Variables(ScopeContact)
			_, _ = cat.Lookup("Contact.FirstName")
		})
	}
	wg.Wait()
	if n := len(cat.Scopes()); n != 16 {
		t.Errorf("scopes = %d, want 16", n)
	}
}

package template

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// mustParse parses src with the default limits but a time budget no loaded machine
// exceeds: tests of the time budget use an injected clock.
func mustParse(t testing.TB, src Source) *Template {
	t.Helper()
	tpl, err := Parse(NewCatalog(), src, Options{Timeout: time.Hour})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tpl
}

// eventScopes is what a group message to an event provides.
var eventScopes = []Scope{ScopeEvent, ScopeAccount, ScopeAgent}

// C5: a gift-card value in a message to an event is reported before sending, with its
// position.
func TestCheckGiftCardInEventMessageC5(t *testing.T) {
	tpl := mustParse(t, Source{Text: "See you at {{ .Event.Name }}!\nYour gift card: {{ .GiftCard.Value }}"})
	err := tpl.Check(eventScopes...)
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("Check = %v, want *CheckError", err)
	}
	want := []Problem{{
		Field: FieldText, Line: 2, Column: 20, Kind: KindScopeUnavailable, Variable: ".GiftCard.Value", Scope: ScopeGiftCard,
		Message: ".GiftCard.Value needs the giftcard scope, which this context does not provide",
	}}
	if diff := cmp.Diff(want, ce.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if !errors.Is(err, ErrScopeUnavailable) || errors.Is(err, ErrUnknownVariable) {
		t.Errorf("errors.Is mismatch for %v", err)
	}
	// The same template is fine where a gift card is provided.
	if err := tpl.Check(ScopeEvent, ScopeAccount, ScopeAgent, ScopeGiftCard); err != nil {
		t.Errorf("Check with gift card = %v", err)
	}
}

// C5: every problem of every field is reported at once, each with field, line, column,
// variable and kind.
func TestCheckReportsAllProblemsC5(t *testing.T) {
	tpl := mustParse(t, Source{
		Subject: "Hi {{ .Contact.FirstName }}",
		Text: "Class {{ .Event.Name }} with {{ .Event.Teacher }} {{ .Event.Nope.Deep }}\n" +
			"{{ with .Booking }}Room {{ .Room }}{{ end }} {{ .Event.Shoe }}\n" +
			"{{ $.Weather.Today }} {{ .GiftCard.Code | default \"none\" }}",
		HTML: "<p>{{ .Agent.Signature }}</p>\n<p>{{ .Appointment.Start }}</p>",
	})
	err := tpl.Check(eventScopes...)
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("Check = %v", err)
	}
	type short struct {
		Field     Field
		Line, Col int
		Kind      ProblemKind
		Variable  string
	}
	var got []short
	for _, p := range ce.Problems {
		got = append(got, short{p.Field, p.Line, p.Column, p.Kind, p.Variable})
	}
	want := []short{
		{FieldSubject, 1, 7, KindScopeUnavailable, ".Contact.FirstName"},
		{FieldText, 1, 54, KindUnknownVariable, ".Event.Nope.Deep"},
		{FieldText, 2, 9, KindScopeUnavailable, ".Booking"},
		{FieldText, 2, 28, KindScopeUnavailable, ".Booking.Room"},
		{FieldText, 2, 49, KindUnknownVariable, ".Event.Shoe"},
		{FieldText, 3, 4, KindUnknownVariable, ".Weather.Today"},
		{FieldText, 3, 26, KindScopeUnavailable, ".GiftCard.Code"},
		{FieldHTML, 2, 7, KindScopeUnavailable, ".Appointment.Start"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if !errors.Is(err, ErrUnknownVariable) || !errors.Is(err, ErrScopeUnavailable) {
		t.Errorf("errors.Is should match both kinds: %v", err)
	}
}

// C5: a direct message to a hotel guest provides contact, booking, account and agent.
func TestCheckGuestContextC5(t *testing.T) {
	tpl := mustParse(t, Source{Text: "Hi {{ .Contact.FirstName }}, check-in {{ .Booking.CheckIn }} at {{ .Account.Name }}. {{ .Agent.FirstName }}"})
	if err := tpl.Check(ScopeContact, ScopeBooking, ScopeAccount, ScopeAgent); err != nil {
		t.Errorf("Check = %v, want nil", err)
	}
	if err := tpl.Check(eventScopes...); !errors.Is(err, ErrScopeUnavailable) {
		t.Errorf("event context: Check = %v", err)
	}
}

// C5: host-registered variables are checked like built-ins; sub-fields of a known
// variable are accepted.
func TestCheckHostVariablesC5(t *testing.T) {
	cat := NewCatalog()
	if err := cat.RegisterScope(ScopeInfo{Scope: "membership", Root: "Membership"}); err != nil {
		t.Fatal(err)
	}
	if err := cat.Register(Variable{Path: "Membership.Renewal", Scope: "membership"}); err != nil {
		t.Fatal(err)
	}
	tpl, err := Parse(cat, Source{Text: "{{ .Membership.Renewal.Year }} {{ .Membership.Plan }}"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ce *CheckError
	if !errors.As(tpl.Check("membership"), &ce) || len(ce.Problems) != 1 || ce.Problems[0].Variable != ".Membership.Plan" {
		t.Errorf("Check = %+v", ce)
	}
}

// C5: syntax errors are reported per field with positions, from Parse.
func TestParseSyntaxErrorsC5(t *testing.T) {
	_, err := Parse(NewCatalog(), Source{
		Subject: "Hi {{ .Contact.FirstName",
		Text:    "line one\nline {{ env \"HOME\" }}",
		HTML:    "<p>{{ template \"x\" }}</p>",
	}, Options{})
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("Parse = %v, want *CheckError", err)
	}
	type short struct {
		Field     Field
		Line, Col int
	}
	var got []short
	for _, p := range ce.Problems {
		if p.Kind != KindSyntax {
			t.Errorf("kind = %s", p.Kind)
		}
		got = append(got, short{p.Field, p.Line, p.Column})
	}
	want := []short{{FieldSubject, 1, 4}, {FieldText, 2, 9}, {FieldHTML, 1, 4}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s\n%v", diff, err)
	}
	if !errors.Is(err, ErrSyntax) {
		t.Errorf("errors.Is(err, ErrSyntax) = false")
	}
}

func TestParseRejects(t *testing.T) {
	cat := NewCatalog()
	tests := []struct {
		name string
		src  Source
		want error
	}{
		{"no body", Source{Subject: "x"}, ErrInvalid},
		{"define", Source{Text: `{{ define "x" }}y{{ end }}hello`}, ErrSyntax},
		{"block", Source{Text: `{{ block "x" . }}y{{ end }}`}, ErrSyntax},
		{"html context error", Source{HTML: `<a href="{{ .Contact.Email }}`}, ErrSyntax},
		{"too long", Source{Text: string(make([]byte, DefaultMaxOutput+1))}, ErrSyntax},
	}
	for _, tt := range tests {
		if _, err := Parse(cat, tt.src, Options{}); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := Parse(nil, Source{Text: "x"}, Options{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil catalog: %v", err)
	}
	if _, err := Parse(cat, Source{Text: "x"}, Options{MaxOutput: -1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative option: %v", err)
	}
}

func TestTemplateVariables(t *testing.T) {
	tpl := mustParse(t, Source{Subject: "{{ .Account.Name }}", Text: "{{ .Contact.FirstName }} {{ with .Booking }}{{ .Room }}{{ end }} {{ .Account.Name }}"})
	want := []string{".Account.Name", ".Contact.FirstName", ".Booking", ".Booking.Room"}
	if diff := cmp.Diff(want, tpl.Variables()); diff != "" {
		t.Errorf("Variables (-want +got):\n%s", diff)
	}
}

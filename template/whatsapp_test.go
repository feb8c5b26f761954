package template

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func reminder() WhatsAppTemplate {
	return WhatsAppTemplate{
		Name: "class_reminder", Language: "en", Category: CategoryUtility, State: ApprovalPending,
		Body:   "Hi {{1}}, your class {{2}} starts at {{3}}. See you soon!",
		Params: []string{"Contact.FirstName", "Event.Name", "Event.Start"},
	}
}

func problemMessages(t *testing.T, err error) []string {
	t.Helper()
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *CheckError", err)
	}
	var out []string
	for _, p := range ce.Problems {
		out = append(out, p.Message)
	}
	return out
}

// C10: a well-formed template passes the local checks.
func TestWhatsAppValidateOKC10(t *testing.T) {
	w := reminder()
	other := WhatsAppTemplate{Name: "other", Language: "en", Body: "Something else {{1}} entirely."}
	if err := w.Validate(NewCatalog(), other); err != nil {
		t.Errorf("Validate = %v", err)
	}
	if w.Approved() {
		t.Error("pending template reported approved")
	}
}

// C10: missing and non-sequential parameters, unmapped ones and unknown variables.
func TestWhatsAppValidateParamsC10(t *testing.T) {
	cat := NewCatalog()
	tests := []struct {
		name   string
		body   string
		params []string
		want   string
		kind   ProblemKind
		line   int
		col    int
	}{
		{"gap", "Hi {{1}}, see {{3}} today", []string{"Contact.FirstName", "Event.Name", "Event.Start"}, "parameter {{2}} is missing", KindInvalid, 1, 15},
		{"not from one", "Hi {{2}} today", []string{"Contact.FirstName", "Event.Name"}, "parameter {{1}} is missing", KindInvalid, 1, 4},
		{"unmapped", "Hi {{1}} at\n{{2}} ok", []string{"Contact.FirstName"}, "parameter {{2}} is not mapped", KindInvalid, 2, 1},
		{"blank mapping", "Hi {{1}} ok", []string{" "}, "parameter {{1}} is not mapped", KindInvalid, 1, 4},
		{"extra mapping", "Hi {{1}} ok", []string{"Contact.FirstName", "Event.Name"}, "which the body does not use", KindInvalid, 1, 1},
		{"unknown variable", "Hi {{1}} ok", []string{"Contact.Shoe"}, "unknown variable", KindUnknownVariable, 1, 4},
		{"named placeholder", "Hi {{name}} ok", nil, "must be a number", KindInvalid, 1, 4},
		{"zero", "Hi {{0}} ok", nil, "must be a number", KindInvalid, 1, 4},
		{"leading zero", "Hi {{01}} ok", []string{"Contact.FirstName"}, "must be a number", KindInvalid, 1, 4},
		{"starts with param", "{{1}} is here", []string{"Contact.FirstName"}, "must not start or end", KindInvalid, 1, 1},
		{"ends with param", "Here is {{1}}", []string{"Contact.FirstName"}, "must not start or end", KindInvalid, 1, 1},
		{"too long", strings.Repeat("é", WhatsAppBodyLimit+1), nil, "more than WhatsApp's limit of 1024", KindInvalid, 1, 1},
		{"blank", "   ", nil, "blank", KindInvalid, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := reminder()
			w.Body, w.Params = tt.body, tt.params
			err := w.Validate(cat)
			var ce *CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate = %v", err)
			}
			i := slices.IndexFunc(ce.Problems, func(p Problem) bool { return strings.Contains(p.Message, tt.want) })
			if i < 0 {
				t.Fatalf("no problem containing %q in %v", tt.want, err)
			}
			if p := ce.Problems[i]; p.Kind != tt.kind || p.Line != tt.line || p.Column != tt.col {
				t.Errorf("problem = %+v", p)
			}
		})
	}
}

// C10: model fields and duplicates of existing templates.
func TestWhatsAppValidateModelAndDuplicatesC10(t *testing.T) {
	w := WhatsAppTemplate{Name: "Class Reminder", Language: "english", Category: "promo", State: "maybe", Body: "Hi {{1}}, class {{2}} soon.", Params: []string{"Contact.FirstName", "Event.Name"}}
	msgs := problemMessages(t, w.Validate(NewCatalog()))
	for _, want := range []string{"name", "language", "category", "approval state"} {
		if !slices.ContainsFunc(msgs, func(m string) bool { return strings.HasPrefix(m, want) }) {
			t.Errorf("no problem about %s in %v", want, msgs)
		}
	}
	w = reminder()
	existing := []WhatsAppTemplate{
		{Name: "class_reminder", Language: "fr", Body: "Bonjour {{1}}"},                                            // other language: fine
		{Name: "old_reminder", Language: "en", Body: "hi {{1}},  your class {{2}} starts at {{3}}. See you soon!"}, // same body
		{Name: "class_reminder", Language: "en", Body: "Different {{1}} text"},                                     // same name
	}
	err := w.Validate(NewCatalog(), existing...)
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("Validate = %v, want ErrDuplicate", err)
	}
	msgs = problemMessages(t, err)
	if len(msgs) != 2 || !strings.Contains(msgs[0], `"old_reminder" already has this body`) || !strings.Contains(msgs[1], `named "class_reminder" already exists`) {
		t.Errorf("problems = %q", msgs)
	}
}

// C10: rendering yields ordered parameter values for the provider.
func TestWhatsAppRenderC10(t *testing.T) {
	cat := NewCatalog()
	w := reminder()
	data := Values{
		ScopeContact: map[string]any{"FirstName": "Ana\nMaria"},
		ScopeEvent:   struct{ Name, Start string }{"Yoga     flow", "09:00"},
	}
	params, err := w.Render(cat, data)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Ana Maria", "Yoga flow", "09:00"}; !slices.Equal(params, want) {
		t.Errorf("params = %q, want %q", params, want)
	}
	if got := w.Text(params); got != "Hi Ana Maria, your class Yoga flow starts at 09:00. See you soon!" {
		t.Errorf("Text = %q", got)
	}
	_, err = w.Render(cat, Values{ScopeContact: map[string]any{"FirstName": "Ana"}})
	var re *RenderError
	if !errors.As(err, &re) || !errors.Is(err, ErrMissingValue) || re.Variable != ".Event.Name" {
		t.Errorf("missing scope: %v", err)
	}
	_, err = w.Render(cat, Values{ScopeContact: map[string]any{"FirstName": " "}, ScopeEvent: data[ScopeEvent]})
	if !errors.As(err, &re) || re.Variable != ".Contact.FirstName" {
		t.Errorf("blank value: %v", err)
	}
	preview, err := w.Preview(cat)
	if err != nil || preview != "Hi Hélène, your class Morning yoga starts at Mon 17 March, 09:00. See you soon!" {
		t.Errorf("Preview = %q, %v", preview, err)
	}
	approved := WhatsAppTemplate{State: ApprovalApproved}
	if !approved.Approved() {
		t.Error("approved template not approved")
	}
}

// C10: the provider pauses or disables a template; both are states a
// template can be checked in, and neither is approved.
func TestWhatsAppPausedAndDisabled(t *testing.T) {
	cat := NewCatalog()
	for _, st := range []ApprovalState{ApprovalPaused, ApprovalDisabled} {
		w := WhatsAppTemplate{Name: "class_reminder", Language: "en", Category: CategoryUtility, State: st,
			Body: "Hi {{1}}, see you soon.", Params: []string{"Contact.FirstName"}}
		if err := w.Validate(cat); err != nil {
			t.Errorf("%s: Validate = %v", st, err)
		}
		if w.Approved() {
			t.Errorf("%s template counts as approved", st)
		}
	}
}

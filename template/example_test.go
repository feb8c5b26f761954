package template_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	ptemplate "github.com/parleyhq/parley/template"
)

// The quickstart: define a template, check it against a send context, preview it, and
// render it for SMS and email.
func Example() {
	cat := ptemplate.NewCatalog()
	tpl, err := ptemplate.Parse(cat, ptemplate.Source{
		Name:    "gift-reminder",
		Subject: "A gift from {{ .Account.Name }}",
		Text:    "Hi {{ .Contact.FirstName }}, your gift card of {{ .GiftCard.Value }} is waiting.",
	}, ptemplate.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}

	// A group message to an event provides the event, account and agent scopes only:
	// the check catches the gift card and the contact before anything is sent.
	var problems *ptemplate.CheckError
	if errors.As(tpl.Check(ptemplate.ScopeEvent, ptemplate.ScopeAccount, ptemplate.ScopeAgent), &problems) {
		for _, p := range problems.Problems {
			fmt.Printf("%s %d:%d %s (%s)\n", p.Field, p.Line, p.Column, p.Variable, p.Kind)
		}
	}

	// A message to a contact with a gift card is fine.
	fmt.Println("contact context:", tpl.Check(ptemplate.ScopeContact, ptemplate.ScopeGiftCard, ptemplate.ScopeAccount))

	preview, _ := tpl.Preview(context.Background(), ptemplate.FormatText)
	fmt.Println("preview:", preview.Text)

	data := ptemplate.Values{
		ptemplate.ScopeContact:  map[string]any{"FirstName": "Ana"},
		ptemplate.ScopeGiftCard: map[string]any{"Value": "50 €"},
		ptemplate.ScopeAccount:  map[string]any{"Name": "Studio Lumière"},
	}
	sms, _ := tpl.Render(context.Background(), ptemplate.FormatText, data)
	fmt.Println("sms:", sms.Text)
	email, _ := tpl.Render(context.Background(), ptemplate.FormatEmail, data)
	fmt.Println("email:", email.Subject, "|", email.Text)
	// Output:
	// text 1:7 .Contact.FirstName (scope_unavailable)
	// text 1:51 .GiftCard.Value (scope_unavailable)
	// contact context: <nil>
	// preview: Hi Hélène, your gift card of 50.00 € is waiting.
	// sms: Hi Ana, your gift card of 50 € is waiting.
	// email: A gift from Studio Lumière | Hi Ana, your gift card of 50 € is waiting.
}

// An HTML email body escapes values; its text part is derived from the HTML.
func ExampleTemplate_Render_email() {
	tpl, _ := ptemplate.Parse(ptemplate.NewCatalog(), ptemplate.Source{
		Subject: "Your booking {{ .Booking.Reference }}",
		HTML:    `<p>Hi {{ .Contact.FirstName }},</p><p><a href="https://parc.example/b/{{ .Booking.Reference }}">Manage your booking</a></p>`,
	}, ptemplate.Options{})
	out, err := tpl.Render(context.Background(), ptemplate.FormatEmail, ptemplate.Values{
		ptemplate.ScopeContact: map[string]any{"FirstName": "Tom & <Jerry>"},
		ptemplate.ScopeBooking: map[string]any{"Reference": "BK-1042"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Subject)
	fmt.Println(out.HTML)
	fmt.Println(out.Text)
	// Output:
	// Your booking BK-1042
	// <p>Hi Tom &amp; &lt;Jerry&gt;,</p><p><a href="https://parc.example/b/BK-1042">Manage your booking</a></p>
	// Hi Tom & <Jerry>,
	//
	// Manage your booking (https://parc.example/b/BK-1042)
}

// A missing value is an error naming the variable, unless the template gives a default.
func ExampleTemplate_Render_missingValue() {
	cat := ptemplate.NewCatalog()
	tpl, _ := ptemplate.Parse(cat, ptemplate.Source{Text: "Hi {{ .Contact.FirstName }}"}, ptemplate.Options{})
	_, err := tpl.Render(context.Background(), ptemplate.FormatText, ptemplate.Values{ptemplate.ScopeContact: map[string]any{}})
	fmt.Println(errors.Is(err, ptemplate.ErrMissingValue), err)

	tpl, _ = ptemplate.Parse(cat, ptemplate.Source{Text: `Hi {{ .Contact.FirstName | default "there" }}`}, ptemplate.Options{})
	out, _ := tpl.Render(context.Background(), ptemplate.FormatText, ptemplate.Values{ptemplate.ScopeContact: map[string]any{}})
	fmt.Println(out.Text)
	// Output:
	// true template: render text:1:7 .Contact.FirstName: missing value: map has no entry for key "FirstName"
	// Hi there
}

// Every render has an allocation budget (Options.MaxAlloc, 1 MiB by default) that each
// function call is charged before it allocates: a template that would exceed it is
// refused, naming the function, before the memory is taken.
func ExampleLimitError() {
	src := ptemplate.Source{Text: `{{ range until 10 }}{{ $wide := printf "%60000d" 1 }}{{ end }}done`}
	tpl, _ := ptemplate.Parse(ptemplate.NewCatalog(), src, ptemplate.Options{})
	_, err := tpl.Render(context.Background(), ptemplate.FormatText, nil)
	var limit *ptemplate.LimitError
	if errors.As(err, &limit) {
		fmt.Println(errors.Is(err, ptemplate.ErrLimit), limit.Func, limit.Limit, limit.Want > limit.Left)
	}

	// A budget large enough for the whole loop lets it through; Output says what it used.
	tpl, _ = ptemplate.Parse(ptemplate.NewCatalog(), src, ptemplate.Options{MaxAlloc: 16 << 20, Timeout: time.Minute})
	out, err := tpl.Render(context.Background(), ptemplate.FormatText, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Text, out.Iterations, out.Alloc > 10*60000)
	// Output:
	// true printf MaxAlloc true
	// done 10 true
}

// A subject override for one send leaves the template unchanged.
func ExampleTemplate_WithSubject() {
	tpl, _ := ptemplate.Parse(ptemplate.NewCatalog(), ptemplate.Source{Subject: "News", Text: "Hello"}, ptemplate.Options{})
	once, _ := tpl.WithSubject("Last call, {{ .Contact.FirstName }}!")
	a, _ := once.Preview(context.Background(), ptemplate.FormatEmail)
	b, _ := tpl.Preview(context.Background(), ptemplate.FormatEmail)
	fmt.Println(a.Subject, "/", b.Subject)
	// Output: Last call, Hélène! / News
}

// A variable picker lists what a context can use and inserts a token at the cursor.
func ExampleCatalog_Variables() {
	cat := ptemplate.NewCatalog()
	for _, v := range cat.Variables(ptemplate.ScopeEvent) {
		fmt.Printf("%s — %s (e.g. %v)\n", v.Token(), v.Label, v.Example)
	}
	text, cursor, _ := cat.Insert("See you at !", 11, "Event.Name")
	fmt.Println(text, cursor)
	// Output:
	// {{ .Event.Address }} — Address (e.g. 12 rue de la Paix, Paris)
	// {{ .Event.End }} — End (e.g. Mon 17 March, 10:00)
	// {{ .Event.Name }} — Event name (e.g. Morning yoga)
	// {{ .Event.OnlineURL }} — Online link (e.g. https://meet.example/yoga)
	// {{ .Event.Room }} — Room (e.g. Studio A)
	// {{ .Event.Start }} — Start (e.g. Mon 17 March, 09:00)
	// {{ .Event.Teacher }} — Teacher (e.g. Camille)
	// See you at {{ .Event.Name }}! 28
}

// Hosts register their own scopes and variables.
func ExampleCatalog_Register() {
	cat := ptemplate.NewCatalog()
	_ = cat.RegisterScope(ptemplate.ScopeInfo{Scope: "membership", Root: "Membership", Label: "Membership"})
	_ = cat.Register(ptemplate.Variable{Path: "Membership.Plan", Scope: "membership", Label: "Plan", Example: "10-class pass"})
	tpl, _ := ptemplate.Parse(cat, ptemplate.Source{Text: "Your plan: {{ .Membership.Plan }}"}, ptemplate.Options{})
	fmt.Println(tpl.Check("membership"))
	out, _ := tpl.Preview(context.Background(), ptemplate.FormatText)
	fmt.Println(out.Text)
	// Output:
	// <nil>
	// Your plan: 10-class pass
}

// WhatsApp templates are checked before submission and render to ordered parameters.
func ExampleWhatsAppTemplate() {
	cat := ptemplate.NewCatalog()
	w := ptemplate.WhatsAppTemplate{
		Name: "class_reminder", Language: "en", Category: ptemplate.CategoryUtility,
		Body:   "Hi {{1}}, {{3}} starts soon.",
		Params: []string{"Contact.FirstName", "Event.Name"},
	}
	var ce *ptemplate.CheckError
	if errors.As(w.Validate(cat), &ce) {
		for _, p := range ce.Problems {
			fmt.Println(p.Line, p.Column, p.Message)
		}
	}
	w.Body = "Hi {{1}}, {{2}} starts soon."
	params, _ := w.Render(cat, ptemplate.Values{
		ptemplate.ScopeContact: map[string]any{"FirstName": "Ana"},
		ptemplate.ScopeEvent:   map[string]any{"Name": "Yoga"},
	})
	fmt.Printf("%q\n", params)
	// Output:
	// 1 11 parameter {{2}} is missing: parameters must run from {{1}} without gaps
	// 1 11 parameter {{3}} is not mapped to a variable
	// ["Ana" "Yoga"]
}

func ExampleHTMLToText() {
	text, _ := ptemplate.HTMLToText(`<h2>Check-in</h2><p>From 3 pm. <a href="https://parc.example/map">Find us</a></p><ul><li>Parking</li><li>Breakfast</li></ul>`)
	fmt.Println(text)
	// Output:
	// Check-in
	//
	// From 3 pm. Find us (https://parc.example/map)
	//
	// - Parking
	// - Breakfast
}

package template

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

var bg = context.Background()

func render(t *testing.T, src Source, f Format, data Resolver) (*Output, error) {
	t.Helper()
	return mustParse(t, src).Render(bg, f, data)
}

func guest() Values {
	return Values{
		ScopeContact: map[string]any{"FirstName": "Hélène", "Email": "helene@example.com"},
		ScopeAccount: map[string]any{"Name": "Hôtel du Parc", "Website": "https://parc.example"},
		ScopeBooking: map[string]any{"CheckIn": "Fri 14 March", "Room": "12"},
	}
}

func TestRenderTextC5(t *testing.T) {
	out, err := render(t, Source{Subject: "Your stay at {{ .Account.Name }}", Text: "Hi {{ .Contact.FirstName }}, room {{ .Booking.Room }} on {{ .Booking.CheckIn }}."}, FormatText, guest())
	if err != nil {
		t.Fatal(err)
	}
	if out.Subject != "Your stay at Hôtel du Parc" || out.Text != "Hi Hélène, room 12 on Fri 14 March." || out.HTML != "" {
		t.Errorf("out = %+v", out)
	}
}

// Structs work as scope values as well as maps.
func TestRenderStructValues(t *testing.T) {
	type contact struct {
		FirstName string
		Tags      []string
	}
	out, err := render(t, Source{Text: "{{ .Contact.FirstName }} {{ join \",\" .Contact.Tags }}"}, FormatText, Values{ScopeContact: &contact{"Ana", []string{"vip", "yoga"}}})
	if err != nil || out.Text != "Ana vip,yoga" {
		t.Errorf("out = %+v, %v", out, err)
	}
	_, err = render(t, Source{Text: "{{ .Contact.Nickname }}"}, FormatText, Values{ScopeContact: contact{}})
	var re *RenderError
	if !errors.As(err, &re) || !errors.Is(err, ErrMissingValue) || re.Variable != ".Contact.Nickname" {
		t.Errorf("missing struct field: %v", err)
	}
}

// A value missing at render time is an error naming the variable.
func TestRenderMissingValueC5(t *testing.T) {
	tests := []struct {
		name, text, variable string
		data                 Values
		line, col            int
	}{
		{"scope not provided", "Gift:\n  {{ .GiftCard.Value }}", ".GiftCard.Value", guest(), 2, 6},
		{"key absent", "Hi {{ .Contact.LastName }}", ".Contact.LastName", guest(), 1, 7},
		{"nil value", "Hi {{ .Contact.FirstName }}", ".Contact.FirstName", Values{ScopeContact: map[string]any{"FirstName": nil}}, 1, 7},
		{"nil inside with", "x\n{{ with .Booking }}{{ .Room }}{{ end }}", ".Booking.Room", Values{ScopeBooking: map[string]any{"Room": nil}}, 2, 23},
		{"inside with", "{{ with .Booking }}{{ .Nights }}{{ end }}", ".Booking.Nights", guest(), 1, 23},
		{"as argument", "{{ upper .Contact.LastName }}", ".Contact.LastName", guest(), 1, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render(t, Source{Text: tt.text}, FormatText, tt.data)
			var re *RenderError
			if !errors.As(err, &re) || !errors.Is(err, ErrMissingValue) {
				t.Fatalf("err = %v, want a missing value", err)
			}
			if re.Variable != tt.variable || re.Field != FieldText || re.Line != tt.line || re.Column != tt.col {
				t.Errorf("err = %+v (%v)", re, err)
			}
			if !strings.Contains(err.Error(), tt.variable) {
				t.Errorf("message %q does not name %s", err, tt.variable)
			}
		})
	}
}

// A default given by the template replaces a missing value.
func TestRenderDefaultC5(t *testing.T) {
	src := Source{Text: `Hi {{ .Contact.Nickname | default "there" }}, {{ default "friend" .Contact.LastName }}` +
		`{{ with .GiftCard }} gift {{ .Value }}{{ else }} no gift{{ end }}{{ if not .Booking.Late }}.{{ end }}` +
		`{{ coalesce .Contact.Alias .Contact.FirstName }}{{ if and .Event .Event.Name }}!{{ end }}`}
	out, err := render(t, src, FormatText, guest())
	if err != nil {
		t.Fatal(err)
	}
	if want := "Hi there, friend no gift.Hélène"; out.Text != want {
		t.Errorf("Text = %q, want %q", out.Text, want)
	}
	out, err = render(t, src, FormatText, Values{
		ScopeContact:  map[string]any{"Nickname": "Lena", "LastName": "M", "FirstName": "H"},
		ScopeGiftCard: map[string]any{"Value": "50 €"},
		ScopeBooking:  map[string]any{"Late": true},
		ScopeEvent:    map[string]any{"Name": "Yoga"},
	})
	if err != nil || out.Text != "Hi Lena, M gift 50 €H!" {
		t.Errorf("out = %q, %v", out.Text, err)
	}
}

// Email HTML bodies escape every value; text bodies do not; values are never code.
func TestRenderEscapingC5(t *testing.T) {
	data := Values{
		ScopeContact: map[string]any{"FirstName": `<script>alert("x")</script> & {{ .Account }}`},
		ScopeAccount: map[string]any{"Name": "Parc", "Website": `javascript:alert(1)`},
	}
	src := Source{
		Subject: "For {{ .Contact.FirstName }}",
		Text:    "Hi {{ .Contact.FirstName }}",
		HTML:    `<p>Hi {{ .Contact.FirstName }}</p><a href="{{ .Account.Website }}">site</a>`,
	}
	out, err := render(t, src, FormatEmail, data)
	if err != nil {
		t.Fatal(err)
	}
	if want := `Hi <script>alert("x")</script> & {{ .Account }}`; out.Text != want {
		t.Errorf("Text = %q, want %q", out.Text, want)
	}
	if want := `<p>Hi &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; {{ .Account }}</p><a href="#ZgotmplZ">site</a>`; out.HTML != want {
		t.Errorf("HTML = %q\nwant   %q", out.HTML, want)
	}
	if !strings.HasPrefix(out.Subject, "For <script>") {
		t.Errorf("Subject = %q", out.Subject)
	}
}

// C4, C11: the outputs per channel format.
func TestRenderFormatsC11(t *testing.T) {
	src := Source{
		Subject: "Welcome {{ .Contact.FirstName }}",
		HTML:    `<h1>Welcome</h1><p>Hi {{ .Contact.FirstName }}, <a href="{{ .Account.Website }}/book">book your class</a>.</p>`,
	}
	tpl := mustParse(t, src)
	email, err := tpl.Render(bg, FormatEmail, guest())
	if err != nil {
		t.Fatal(err)
	}
	wantText := "Welcome\n\nHi Hélène, book your class (https://parc.example/book)."
	if email.Subject != "Welcome Hélène" || email.Text != wantText || !strings.HasPrefix(email.HTML, "<h1>") {
		t.Errorf("email = %+v", email)
	}
	airbnb, err := tpl.Render(bg, FormatAirbnb, guest())
	if err != nil || airbnb.Subject != "" || airbnb.HTML != "" || airbnb.Text != wantText {
		t.Errorf("airbnb = %+v, %v", airbnb, err)
	}
	sms, err := tpl.Render(bg, FormatText, guest())
	if err != nil || sms.HTML != "" || sms.Text != wantText || sms.Subject != "Welcome Hélène" {
		t.Errorf("text = %+v, %v", sms, err)
	}
	// With both bodies, email and text use the text body; Airbnb converts the HTML.
	both := mustParse(t, Source{Text: "Plain {{ .Contact.FirstName }}", HTML: "<b>Rich</b> {{ .Contact.FirstName }}"})
	e, _ := both.Render(bg, FormatEmail, guest())
	a, _ := both.Render(bg, FormatAirbnb, guest())
	s, _ := both.Render(bg, FormatText, guest())
	if e.Text != "Plain Hélène" || e.HTML != "<b>Rich</b> Hélène" || a.Text != "Rich Hélène" || s.Text != "Plain Hélène" {
		t.Errorf("email %+v airbnb %+v text %+v", e, a, s)
	}
	if _, err := both.Render(bg, Format("fax"), guest()); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown format: %v", err)
	}
}

// C4: preview renders with example values; a subject override leaves the template as is.
func TestPreviewAndSubjectOverrideC4(t *testing.T) {
	tpl := mustParse(t, Source{Subject: "Your gift card", Text: "{{ .Contact.FirstName }}, {{ .GiftCard.Sender }} offers you {{ .GiftCard.Value }} at {{ .Account.Name }}."})
	out, err := tpl.Preview(bg, FormatEmail)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Hélène, Paul offers you 50.00 € at Studio Lumière."; out.Text != want || out.Subject != "Your gift card" {
		t.Errorf("preview = %+v", out)
	}
	once, err := tpl.WithSubject("A gift for {{ .Contact.FirstName }}")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := once.Render(bg, FormatEmail, Values{ScopeContact: map[string]any{"FirstName": "Ana"}, ScopeGiftCard: map[string]any{"Sender": "P", "Value": "5"}, ScopeAccount: map[string]any{"Name": "S"}})
	if got.Subject != "A gift for Ana" {
		t.Errorf("override subject = %q", got.Subject)
	}
	orig, _ := tpl.Preview(bg, FormatEmail)
	if orig.Subject != "Your gift card" || tpl.Source().Subject != "Your gift card" {
		t.Errorf("template changed: %q", orig.Subject)
	}
	if _, err := tpl.WithSubject("{{ .Broken"); !errors.Is(err, ErrSyntax) {
		t.Errorf("bad override: %v", err)
	}
	none, _ := tpl.WithSubject("")
	if p, _ := none.Preview(bg, FormatEmail); p.Subject != "" {
		t.Errorf("removed subject = %q", p.Subject)
	}
}

// Safety: no access to the environment, network or side-effecting functions, and no
// calls of function values (call): refused when the template is parsed.
func TestSafetyFunctionsUnavailable(t *testing.T) {
	for _, fn := range []string{"env", "expandenv", "getHostByName", "randAlpha", "uuidv4", "genPrivateKey", "set", "unset", "merge", "bcrypt", "uniq", "call"} {
		_, err := Parse(NewCatalog(), Source{Text: "{{ " + fn + " \"x\" }}"}, Options{})
		if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), fn) {
			t.Errorf("%s: err = %v, want a syntax error naming it", fn, err)
		}
	}
	fixed := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	tpl, err := Parse(NewCatalog(), Source{Text: `{{ now | date "2006-01-02" }} {{ "hello" | upper }} {{ list 1 2 | toJson }}`}, Options{Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	out, err := tpl.Render(bg, FormatText, nil)
	if err != nil || out.Text != "2026-03-14 HELLO [1,2]" {
		t.Errorf("out = %+v, %v", out, err)
	}
}

func TestSafetyOptionsConfigurable(t *testing.T) {
	tpl, err := Parse(NewCatalog(), Source{Text: `{{ range until 20 }}x{{ end }}`}, Options{MaxOutput: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Render(bg, FormatText, nil); !errors.Is(err, ErrOutputTooLarge) {
		t.Errorf("MaxOutput 10: err = %v", err)
	}
	tpl, _ = Parse(NewCatalog(), Source{Text: `{{ range until 20 }}x{{ end }}`}, Options{MaxIterations: 19})
	if _, err := tpl.Render(bg, FormatText, nil); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxIterations 19: err = %v", err)
	}
	tpl, _ = Parse(NewCatalog(), Source{Text: `{{ range until 20 }}x{{ end }}`}, Options{MaxIterations: 20})
	if out, err := tpl.Render(bg, FormatText, nil); err != nil || out.Text != strings.Repeat("x", 20) {
		t.Errorf("MaxIterations 20: %v, %v", out, err)
	}
}

// Safety: the time budget is enforced with the injected clock, and a cancelled context
// stops rendering with the context's error.
func TestSafetyTimeBudgetAndContext(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { // each reading advances 10 ms
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(10 * time.Millisecond)
		return clock
	}
	tpl, err := Parse(NewCatalog(), Source{Text: `{{ range until 100 }}{{ $x := sha256sum "a" }}{{ end }}`}, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Render(bg, FormatText, nil); !errors.Is(err, ErrTimeBudget) {
		t.Errorf("err = %v, want ErrTimeBudget", err)
	}
	tpl, _ = Parse(NewCatalog(), Source{Text: `{{ range until 100 }}{{ $x := sha256sum "a" }}{{ end }}`}, Options{Now: now, Timeout: time.Hour})
	if _, err := tpl.Render(bg, FormatText, nil); err != nil {
		t.Errorf("with an hour: err = %v", err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := tpl.Render(ctx, FormatText, nil); err != context.Canceled {
		t.Errorf("cancelled before: err = %v", err)
	}
	// Cancelled during the render: the loop guard sees it.
	ctx, cancel = context.WithCancel(bg)
	defer cancel()
	tpl, _ = Parse(NewCatalog(), Source{Text: `{{ range until 100 }}{{ $.Contact.Stop }}{{ end }}`}, Options{})
	stopper := Values{ScopeContact: stopOnRead{cancel}}
	if _, err := tpl.Render(ctx, FormatText, stopper); err != context.Canceled {
		t.Errorf("cancelled during: err = %v", err)
	}
}

// stopOnRead cancels a context when a template reads its Stop method.
type stopOnRead struct{ cancel context.CancelFunc }

func (s stopOnRead) Stop() string { s.cancel(); return "" }

func TestRenderConcurrent(t *testing.T) {
	tpl := mustParse(t, Source{Subject: "{{ .Account.Name }}", Text: "Hi {{ .Contact.FirstName }}", HTML: "<p>{{ .Contact.FirstName }}</p>"})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := strings.Repeat("n", i+1)
			out, err := tpl.Render(bg, FormatEmail, Values{ScopeContact: map[string]any{"FirstName": name}, ScopeAccount: map[string]any{"Name": "A"}})
			if err != nil || out.Text != "Hi "+name || out.HTML != "<p>"+name+"</p>" {
				t.Errorf("out = %+v, %v", out, err)
			}
		})
	}
	wg.Wait()
}

func TestRenderErrorsOther(t *testing.T) {
	_, err := render(t, Source{Text: `{{ fail "no" }}`}, FormatText, nil)
	if !errors.Is(err, ErrRender) {
		t.Errorf("fail: %v", err)
	}
	_, err = render(t, Source{Text: `{{ range .Contact.C }}{{ end }}`}, FormatText, Values{ScopeContact: map[string]any{"C": make(chan int)}})
	if !errors.Is(err, ErrRender) {
		t.Errorf("range over channel: %v", err)
	}
	// The parser lets an assignment declare a variable; text/template refuses it when it
	// runs, and so does Render (it once assigned to $ instead).
	for _, src := range []string{`{{ with $x = $x }}{{ end }}`, `{{ $y = 1 }}{{ $y }}`} {
		if _, err := render(t, Source{Text: src}, FormatText, nil); !errors.Is(err, ErrRender) {
			t.Errorf("%s: %v", src, err)
		}
	}
	// Overwriting $ cannot switch the guards off.
	out, err := render(t, Source{Text: `{{ $ = 1 }}{{ range 3 }}x{{ end }}{{ $ }}`}, FormatText, nil)
	if err != nil || out.Text != "xxx1" || out.Iterations != 3 {
		t.Errorf("$ reassigned: %+v, %v", out, err)
	}
	_, err = render(t, Source{Text: `{{ $ = 1 }}{{ range 100000 }}x{{ end }}`}, FormatText, nil)
	if !errors.Is(err, ErrLimit) {
		t.Errorf("$ reassigned, long loop: %v", err)
	}
	for _, f := range []Source{{Text: `{{ $parleyState := 1 }}x`}, {HTML: `{{ $parleyState := 1 }}{{ $parleyState }}`}} {
		if _, err := Parse(NewCatalog(), f, Options{}); !errors.Is(err, ErrSyntax) {
			t.Errorf("reserved variable %+v: %v", f, err)
		}
	}
}

type panicky struct{}

func (*panicky) Name() string { panic("boom") }

// Values whose methods panic or that are nil pointers count as missing, never crash.
func TestRenderHostValuesThatFail(t *testing.T) {
	var nilContact *panicky
	out, err := render(t, Source{Text: `{{ .Contact.Name | default "x" }}`}, FormatText, Values{ScopeContact: nilContact})
	if err != nil || out.Text != "x" {
		t.Errorf("nil pointer: %+v, %v", out, err)
	}
	out, err = render(t, Source{Text: `{{ .Contact.Name | default "y" }}`}, FormatText, Values{ScopeContact: &panicky{}})
	if err != nil || out.Text != "y" {
		t.Errorf("panicking method: %+v, %v", out, err)
	}
	_, err = render(t, Source{Text: `{{ .Contact.Name }}`}, FormatText, Values{ScopeContact: &panicky{}})
	if !errors.Is(err, ErrRender) {
		t.Errorf("panicking method without default: %v", err)
	}
}

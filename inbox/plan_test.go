package inbox_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
	ptemplate "github.com/parleyhq/parley/template"
)

func mustParse(t *testing.T, src ptemplate.Source) *ptemplate.Template {
	t.Helper()
	tpl, err := ptemplate.Parse(ptemplate.NewCatalog(), src, ptemplate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// scopeProblems returns the variables a preflight reports as not provided
// by the send context (C5).
func scopeProblems(t *testing.T, p inbox.Preflight) []string {
	t.Helper()
	var out []string
	for _, err := range p.Problems {
		var ce *ptemplate.CheckError
		if errors.As(err, &ce) {
			for _, pr := range ce.Problems {
				if pr.Kind == ptemplate.KindScopeUnavailable {
					out = append(out, pr.Variable)
				}
			}
		}
	}
	return out
}

// C5: a scope with no source is not declared, so preflight reports its
// variables with their position; a scope the send context declares is
// filled by the default template data, so Send renders it.
func TestC5ScopeWithoutSourceIsNotDeclared(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	th := r.thread(contactT("ana"))
	for _, c := range []struct {
		text, variable string
	}{
		{"Signed {{ .Agent.FirstName }}", ".Agent.FirstName"},      // no agent directory
		{"From {{ .Account.Name }}", ".Account.Name"},              // no Options.Account
		{"See you at {{ .Event.Name }}", ".Event.Name"},            // a contact thread has no event
		{"Your {{ .Audience.Name }} news", ".Audience.Name"},       // nor an audience
		{"Your card: {{ .GiftCard.Code }}", ".GiftCard.Code"},      // no values for this send
		{"Booking {{ .Booking.Reference }}", ".Booking.Reference"}, // nor a booking
	} {
		d := inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Template: mustParse(t, ptemplate.Source{Name: "x", Text: c.text}), Author: inbox.Author{Agent: "lea"}}
		p, err := r.in.Preflight(r.ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if got := scopeProblems(t, p); !slices.Equal(got, []string{c.variable}) {
			t.Errorf("C5: %q: preflight reports %v as unavailable, want [%s]", c.text, got, c.variable)
		}
		if _, err := r.in.Send(r.ctx, d); !errors.Is(err, ptemplate.ErrScopeUnavailable) {
			t.Errorf("C5: %q: send = %v, want the same refusal", c.text, err)
		}
	}
	if n := len(r.fakes[channel.SMS].Sent()); n != 0 {
		t.Fatalf("C5: %d messages went out with variables nobody could fill", n)
	}
}

// C5: every variable the catalog lists for the scopes a context declares
// renders: the contact's (FullName too), the event's and the audience's
// from the Directory, the agent's from an AgentDirectory, the account's
// from Options.Account, and a send's own values (Draft.Values).
func TestC5DeclaredScopesRender(t *testing.T) {
	account := map[string]any{"Name": "Studio Lumière", "Phone": "+33140000000", "Email": "hello@studio.example",
		"Address": "12 rue de la Paix, Paris", "Website": "https://studio.example"}
	r := newRig(t, inbox.Options{Account: account}, nil)
	paris, _ := time.LoadLocation("Europe/Paris")
	r.dir.PutEvent(store.EventInfo{ID: "pilates", Name: "Pilates", Start: time.Date(2026, 3, 17, 9, 0, 0, 0, paris),
		End: time.Date(2026, 3, 17, 10, 0, 0, 0, paris), TimeZone: "Europe/Paris", Teacher: "Camille", Room: "Studio A",
		Address: "12 rue de la Paix", OnlineURL: "https://meet.example/pilates",
		Attendees: []recipient.Attendee{{Contact: ana, Group: recipient.Booked}, {Contact: ben, Group: recipient.Booked}}})
	r.dir.PutAgent(store.AgentInfo{ID: "lea", FirstName: "Léa", LastName: "Durand", Signature: "Léa, front desk"})
	for _, c := range []recipient.Contact{ana, ben} {
		r.dir.PutDetails(contactT(c.ID), store.Details{Contact: &store.ContactDetails{ID: c.ID, Balance: 2500, Currency: "EUR"}})
	}
	cat := ptemplate.NewCatalog()
	render := func(threadID string, scopes []ptemplate.Scope, values ptemplate.Values) map[string]string {
		t.Helper()
		var parts []string
		for _, v := range cat.Variables(scopes...) {
			parts = append(parts, v.Path+"="+v.Token())
		}
		tpl := mustParse(t, ptemplate.Source{Name: "all", Subject: "Hello", Text: strings.Join(parts, "\n")})
		d := inbox.Draft{Kind: channel.Email, ThreadID: threadID, Template: tpl, Author: inbox.Author{Agent: "lea"},
			Values: values, Groups: []recipient.Group{recipient.Booked}}
		p, err := r.in.Preflight(r.ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if p.Err() != nil {
			t.Fatalf("C5: preflight of every variable of %v: %v", scopes, p.Err())
		}
		res, err := r.in.Send(r.ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, dl := range res.Deliveries {
			got := r.delivery(dl.ID)
			if got.Status.Current == status.Failed {
				t.Fatalf("C5: a delivery failed after preflight passed: %s", got.Reason)
			}
			out[dl.ContactID] = got.Text
		}
		return out
	}
	ev := r.thread(store.Subject{Kind: store.Event, ID: "pilates"})
	gift := ptemplate.Values{ptemplate.ScopeGiftCard: map[string]any{"Code": "GIFT-7Q2X", "Value": "50.00 €", "Balance": "35.00 €",
		"ExpiresAt": "31 December", "Sender": "Paul"}}
	texts := render(ev.ID, []ptemplate.Scope{ptemplate.ScopeContact, ptemplate.ScopeEvent, ptemplate.ScopeAgent, ptemplate.ScopeAccount, ptemplate.ScopeGiftCard}, gift)
	for _, want := range []string{"Contact.FirstName=Ana", "Contact.FullName=Ana Silva", "Contact.Email=ana@example.fr",
		"Event.Name=Pilates", "Event.Start=Tue 17 March, 09:00", "Event.End=Tue 17 March, 10:00", "Event.Teacher=Camille",
		"Event.Room=Studio A", "Event.Address=12 rue de la Paix", "Event.OnlineURL=https://meet.example/pilates", "Contact.Balance=25.00 EUR", "Agent.FirstName=Léa", "Agent.FullName=Léa Durand",
		"Agent.Signature=Léa, front desk", "Account.Name=Studio Lumière", "GiftCard.Code=GIFT-7Q2X"} {
		if !strings.Contains(texts["ana"], want) {
			t.Errorf("C5: Ana's text lacks %q:\n%s", want, texts["ana"])
		}
	}
	if !strings.Contains(texts["ben"], "Contact.FullName=Ben Roy") {
		t.Errorf("C5: Ben's text:\n%s", texts["ben"])
	}
	yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	texts = render(yoga.ID, []ptemplate.Scope{ptemplate.ScopeAudience}, nil)
	if !strings.Contains(texts["ana"], "Audience.Name=Yoga") || !strings.Contains(texts["ana"], "Audience.MemberCount=3") {
		t.Errorf("C5: audience scope:\n%s", texts["ana"])
	}
}

// C5: a recipient whose message cannot be rendered (a variable without a
// value) is reported by preflight and not sent to; the others are.
func TestC5RecipientWithoutValue(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	// Cléo has no last name
	d := inbox.Draft{Kind: channel.Email, ThreadID: yoga.ID, Subject: "Hello", Template: mustParse(t, ptemplate.Source{Name: "n",
		Subject: "Hello", Text: "Dear {{ .Contact.FirstName }} {{ .Contact.LastName }}"})}
	p, err := r.in.Preflight(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	var cleo inbox.RecipientCheck
	for _, rc := range p.Recipients {
		if rc.ContactID == "cleo" {
			cleo = rc
		}
	}
	if cleo.Selected || !errors.Is(cleo.Problem, ptemplate.ErrMissingValue) || p.Selected != 2 {
		t.Fatalf("C5: Cléo has no last name: %+v, %d selected", cleo, p.Selected)
	}
	res, err := r.in.Send(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deliveries) != 2 || len(r.fakes[channel.Email].Sent()) != 2 {
		t.Fatalf("C5: sent to %d, want the 2 preflight selected", len(res.Deliveries))
	}
}

// C6, C13, C14: segments and cost are measured on the text each recipient
// receives, not on the template source (whose braces are GSM-7 extension
// characters); a group preflight gives the total and the fewest and most
// segments of one recipient, and Send records what preflight said.
func TestC6C13MeasuredOnRenderedText(t *testing.T) {
	prices := &inbox.Prices{Currency: "EUR", SMS: map[string]int64{"*": 10_000}}
	r := newRig(t, inbox.Options{Prices: prices}, nil)
	longName := recipient.Contact{ID: "maximilien", FirstName: "Maximilien-Alexandre", Phone: "+33611111111"}
	emoji := recipient.Contact{ID: "zoe", FirstName: "Zoé 🌸", Phone: "+33622222222"}
	r.dir.PutAudience(store.AudienceInfo{ID: "club", Name: "Club", Members: []recipient.Contact{ana, longName, emoji}})
	club := r.thread(store.Subject{Kind: store.Audience, ID: "club"})
	body := strings.Repeat("x", 138) + " {{ .Contact.FirstName }}" // source: 163 + 4 braces × 2 units
	d := inbox.Draft{Kind: channel.SMS, ThreadID: club.ID, Template: mustParse(t, ptemplate.Source{Name: "s", Text: body})}
	p, err := r.in.Preflight(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	// Ana: 142 GSM-7 characters, 1 segment; Maximilien-Alexandre: 159, 1
	// segment; Zoé 🌸: UCS-2, 145 units, 3 segments
	seg := map[string]int{}
	for _, rc := range p.Recipients {
		seg[rc.ContactID] = rc.Segments
	}
	if seg["ana"] != 1 || seg["maximilien"] != 1 || seg["zoe"] != 3 {
		t.Fatalf("C6: segments per recipient %v, want ana 1, maximilien 1, zoe 3", seg)
	}
	if p.Segments != 5 || p.MinSegments != 1 || p.MaxSegments != 3 || p.SMS.Segments != 3 || p.SMS.Encoding.String() != "UCS-2" {
		t.Fatalf("C6: preflight segments total %d, min %d, max %d, longest %+v", p.Segments, p.MinSegments, p.MaxSegments, p.SMS)
	}
	if p.Cost.Micros != 50_000 {
		t.Fatalf("C13: cost %d, want 5 segments × 0.01", p.Cost.Micros)
	}
	res, err := r.in.Send(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if res.Message.Cost != p.Cost || res.Message.SMS.Segments != 5 || res.Message.SMS.Encoding != "UCS-2" {
		t.Fatalf("C13, M1: the message records %+v %+v, preflight said %+v, 5 segments", res.Message.Cost, res.Message.SMS, p.Cost)
	}
	for _, dl := range res.Deliveries {
		got := r.delivery(dl.ID)
		if got.SMS.Segments != seg[dl.ContactID] || got.Cost.Micros != int64(seg[dl.ContactID])*10_000 {
			t.Errorf("C6, C13: %s's delivery records %+v %+v", dl.ContactID, got.SMS, got.Cost)
		}
	}
}

// C13: the WhatsApp cost uses the configured service window, as the
// eligibility rules do.
func TestC13WhatsAppWindowFromRules(t *testing.T) {
	rules, err := recipient.NewRules(recipient.Options{WhatsAppWindow: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	prices := &inbox.Prices{Currency: "EUR", WhatsApp: map[ptemplate.Category]map[string]int64{ptemplate.CategoryUtility: {"*": 30_000}}}
	r := newRig(t, inbox.Options{Rules: rules, Prices: prices}, nil)
	th := r.thread(contactT("ana"))
	if _, err := r.in.ReceiveMessage(r.ctx, channel.Inbound{Kind: channel.WhatsApp, From: ana.Phone, Text: "?", ProviderID: "w1", ReceivedAt: r.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(30 * time.Hour)
	p, err := r.in.Preflight(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, Text: "Yes"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Err() != nil || p.Cost.Micros != 0 {
		t.Fatalf("C10, C13: 30 h into a 48-hour window a reply is allowed and free: %v, cost %d", p.Err(), p.Cost.Micros)
	}
}

// M1, M2, M3, C4: what each person received is stored on their delivery
// and shown in their own thread when broadcasts are mirrored; thread
// previews are human text; "what did we send Zoé?" is one call.
func TestM3RenderedTextsStored(t *testing.T) {
	r := newRig(t, inbox.Options{MirrorBroadcasts: true}, nil)
	yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	tpl := mustParse(t, ptemplate.Source{Name: "promo", Text: "Hi {{ .Contact.FirstName }}, -20 % on yoga this week"})
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Template: tpl, Broadcast: "spring"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Message.Source.Text != tpl.Source().Text || !res.Message.Templated || res.Message.Template != "promo" {
		t.Fatalf("M1: the group message keeps its template: %+v", res.Message)
	}
	if th, _ := r.in.Thread(r.ctx, yoga.ID); strings.Contains(th.Preview, "{{") || th.Preview != "Hi {First name}, -20 % on yoga this week" {
		t.Fatalf("M2: the group thread's preview shows %q, want human text", th.Preview)
	}
	for _, dl := range res.Deliveries {
		c := map[string]recipient.Contact{"ana": ana, "ben": ben}[dl.ContactID]
		want := "Hi " + c.FirstName + ", -20 % on yoga this week"
		if got := r.delivery(dl.ID); got.Text != want {
			t.Errorf("M1: %s's delivery holds %q, want %q", dl.ContactID, got.Text, want)
		}
		th, err := r.in.Start(r.ctx, contactT(dl.ContactID))
		if err != nil {
			t.Fatal(err)
		}
		page, err := r.in.Messages(r.ctx, inbox.MessageQuery{ThreadID: th.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Messages) != 1 || page.Messages[0].Text != want || page.Messages[0].MirrorOf != res.Message.ID || th.Preview != want {
			t.Errorf("M3: %s's own thread shows %+v (preview %q), want %q", dl.ContactID, page.Messages, th.Preview, want)
		}
	}
	// one call: every delivery to Ben's number, with the text he got
	sent, err := r.in.Sent(r.ctx, inbox.SentQuery{Phone: ben.Phone})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent.Deliveries) != 1 || sent.Deliveries[0].Text != "Hi Ben, -20 % on yoga this week" {
		t.Fatalf("what did we send Ben? %+v", sent.Deliveries)
	}
}

// M3, T5, T15: a mirrored broadcast does not mark a contact's thread read:
// their unanswered message stays unread, in the unread filter and the
// badge. Only an agent's own message in a thread marks it read.
func TestM3MirrorDoesNotMarkRead(t *testing.T) {
	r := newRig(t, inbox.Options{MirrorBroadcasts: true}, nil)
	if _, err := r.in.ReceiveMessage(r.ctx, channel.Inbound{Kind: channel.SMS, From: ana.Phone, Text: "Is the class on?", ProviderID: "q1"}); err != nil {
		t.Fatal(err)
	}
	yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Spring sale", Broadcast: "spring", Author: inbox.Author{Agent: "lea"}}); err != nil {
		t.Fatal(err)
	}
	th := r.thread(contactT("ana"))
	c, err := r.in.Counters(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	unread, err := r.in.Threads(r.ctx, inbox.ThreadQuery{Status: inbox.Unread})
	if err != nil {
		t.Fatal(err)
	}
	if th.Unread != 1 || c.Attention != 1 || len(unread.Threads) != 1 || unread.Threads[0].ID != th.ID {
		t.Fatalf("M3, T5: after a mirrored broadcast Ana's question is unread %d, badge %d, unread filter %d", th.Unread, c.Attention, len(unread.Threads))
	}
	// an automatic message does not mark it read either
	if _, _, err := r.in.RecordOutbound(r.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.SMS, Origin: inbox.Automatic,
		Text: "Reminder: class at 9", Author: inbox.Author{Automation: "reminder"}}}); err != nil {
		t.Fatal(err)
	}
	if th = r.thread(contactT("ana")); th.Unread != 1 {
		t.Fatalf("T5: an automatic message marked the thread read")
	}
	// an agent's reply in her thread does
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Yes, see you!", Author: inbox.Author{Agent: "lea"}}); err != nil {
		t.Fatal(err)
	}
	if th = r.thread(contactT("ana")); th.Unread != 0 {
		t.Fatalf("T5: the agent's reply did not mark the thread read: %d", th.Unread)
	}
}

// C8, C15, M1: SentAt is when a message actually went; a scheduled
// message has none until then, and its ScheduledFor follows a moved
// anchor.
func TestC8C15MessageTimes(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	th := r.thread(contactT("ana"))
	paris, _ := time.LoadLocation("Europe/Paris")
	ten := recipient.Clock{Hour: 10}
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Votre séjour approche", Origin: inbox.Automatic,
		Anchor: &inbox.Anchor{Ref: "booking:9", At: time.Date(2026, 3, 20, 15, 0, 0, 0, paris), Offset: -48 * time.Hour, Clock: &ten, TimeZone: "Europe/Paris"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Message.SentAt.IsZero() {
		t.Fatalf("C8: a scheduled message has SentAt %v before it went", res.Message.SentAt)
	}
	if _, err := r.in.MoveAnchor(r.ctx, "booking:9", time.Date(2026, 3, 25, 15, 0, 0, 0, paris)); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 3, 23, 10, 0, 0, 0, paris)
	m, err := r.in.Message(r.ctx, res.Message.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !m.ScheduledFor.Equal(want) {
		t.Fatalf("C15: the moved message is scheduled for %v, want %v", m.ScheduledFor.In(paris), want)
	}
	went := want.Add(7 * time.Minute) // the dispatcher runs a little late
	r.clock.Set(went)
	if n, err := r.in.Dispatch(r.ctx, 0); err != nil || n != 1 {
		t.Fatalf("dispatch = %d, %v", n, err)
	}
	if m, _ = r.in.Message(r.ctx, res.Message.ID); !m.SentAt.Equal(went) || !m.ScheduledFor.Equal(want) {
		t.Fatalf("C8: after dispatch SentAt %v, ScheduledFor %v; want %v and %v", m.SentAt, m.ScheduledFor, went, want)
	}
}

// C8, C10: a scheduled WhatsApp template to a contact whose window is
// closed goes: the dispatcher decides "approved template" from the
// template itself.
func TestC8C10ScheduledDirectWhatsAppTemplate(t *testing.T) {
	wa := &ptemplate.WhatsAppTemplate{Name: "checkin_info", Language: "fr", Category: ptemplate.CategoryUtility,
		State: ptemplate.ApprovalApproved, Body: "Bonjour {{1}}, votre chambre est prête.", Params: []string{"Contact.FirstName"}}
	r := newRig(t, inbox.Options{WhatsAppTemplates: func(name, lang string) (*ptemplate.WhatsAppTemplate, bool) {
		return wa, name == wa.Name && lang == wa.Language
	}}, nil)
	th := r.thread(contactT("ana"))
	due := t0.Add(5 * time.Hour)
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, WhatsApp: wa, ScheduledFor: due})
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Set(due)
	if _, err := r.in.Dispatch(r.ctx, 0); err != nil {
		t.Fatal(err)
	}
	got := r.delivery(res.Deliveries[0].ID)
	sent := r.fakes[channel.WhatsApp].Sent()
	if got.Status.Current != status.Validated || len(sent) != 1 || sent[0].Message.Template == nil || got.Text != "Bonjour Ana, votre chambre est prête." {
		t.Fatalf("C10: a scheduled approved template outside the window: %s (%s), %d sent, text %q", got.Status.Current, got.Reason, len(sent), got.Text)
	}
}

// C10, C14: a template not approved is refused with its own typed error,
// carrying its state, even inside the service window.
func TestC10TemplateNotApproved(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	th := r.thread(contactT("ana"))
	if _, err := r.in.ReceiveMessage(r.ctx, channel.Inbound{Kind: channel.WhatsApp, From: ana.Phone, Text: "Hola", ProviderID: "w1", ReceivedAt: r.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []ptemplate.ApprovalState{ptemplate.ApprovalPending, ptemplate.ApprovalPaused, ptemplate.ApprovalRejected} {
		wa := &ptemplate.WhatsAppTemplate{Name: "promo", Language: "fr", Category: ptemplate.CategoryMarketing, State: st,
			RejectionReason: "too promotional", Body: "Bonjour {{1}} !", Params: []string{"Contact.FirstName"}}
		_, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, WhatsApp: wa})
		var se *channel.TemplateStateError
		if !errors.Is(err, channel.ErrTemplateNotApproved) || !errors.As(err, &se) || se.State != string(st) || se.Name != "promo" {
			t.Errorf("C10: %s template: err = %v, want a *channel.TemplateStateError in state %s", st, err, st)
		}
		if errors.Is(err, channel.ErrWindowClosed) {
			t.Errorf("C10: %s template inside the window: %v is not a closed window", st, err)
		}
	}
}

// T6: mark as unread counts only delivered or received messages: a thread
// whose only message is scheduled cannot be marked unread.
func TestT6MarkUnreadScheduledOnly(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	th := r.thread(contactT("ana"))
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Later", ScheduledFor: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.in.MarkUnread(r.ctx, th.ID); !errors.Is(err, inbox.ErrMarkUnreadNotAllowed) {
		t.Fatalf("T6: mark unread with only a scheduled message: err = %v", err)
	}
	if got := r.thread(contactT("ana")); got.Unread != 0 {
		t.Fatalf("T6: a future message was marked unread: %d", got.Unread)
	}
	// once a message went, the latest one that went becomes unread
	sent, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Now"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Later again", ScheduledFor: t0.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, err := r.in.MarkUnread(r.ctx, th.ID)
	if err != nil || got.Unread != 1 {
		t.Fatalf("T6: %v, unread %d", err, got.Unread)
	}
	page, _ := r.in.Messages(r.ctx, inbox.MessageQuery{ThreadID: th.ID})
	for _, m := range page.Messages {
		if m.Unread != (m.ID == sent.Message.ID) {
			t.Fatalf("T6: message %q unread %v", m.Text, m.Unread)
		}
	}
}

// C8, C5: a scheduled template is rendered again when it goes, with the
// records as they are then (the event moved); a send's own values are not
// kept, so a template that needs them goes as it was rendered when it was
// scheduled; a scheduled WhatsApp template, whose parameters must be
// rendered then, cannot take them from the send's values.
func TestC8ScheduledTemplateRenderedWhenItGoes(t *testing.T) {
	wa := &ptemplate.WhatsAppTemplate{Name: "gift", Language: "fr", Category: ptemplate.CategoryUtility, State: ptemplate.ApprovalApproved,
		Body: "Bonjour, votre carte {{1}} vous attend.", Params: []string{"GiftCard.Code"}}
	r := newRig(t, inbox.Options{WhatsAppTemplates: func(string, string) (*ptemplate.WhatsAppTemplate, bool) { return wa, true }}, nil)
	r.dir.PutEvent(store.EventInfo{ID: "pilates", Name: "Pilates", Start: time.Date(2026, 3, 3, 18, 0, 0, 0, time.UTC),
		Attendees: []recipient.Attendee{{Contact: ana, Group: recipient.Booked}}})
	ev := r.thread(store.Subject{Kind: store.Event, ID: "pilates"})
	due := t0.Add(2 * time.Hour)
	moved, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: ev.ID, Groups: []recipient.Group{recipient.Booked}, ScheduledFor: due,
		Template: mustParse(t, ptemplate.Source{Name: "when", Text: "Pilates: {{ .Event.Start }}"})})
	if err != nil {
		t.Fatal(err)
	}
	if d := r.delivery(moved.Deliveries[0].ID); d.Text != "Pilates: Tue 3 March, 18:00" {
		t.Fatalf("C8: a scheduled delivery holds its rendering of when it was scheduled: %q", d.Text)
	}
	gift := ptemplate.Values{ptemplate.ScopeGiftCard: map[string]any{"Code": "GIFT-7Q2X"}}
	kept, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: ev.ID, Groups: []recipient.Group{recipient.Booked}, ScheduledFor: due,
		Values: gift, Template: mustParse(t, ptemplate.Source{Name: "gift", Text: "Your card {{ .GiftCard.Code }}"})})
	if err != nil {
		t.Fatal(err)
	}
	r.dir.PutEvent(store.EventInfo{ID: "pilates", Name: "Pilates", Start: time.Date(2026, 3, 4, 19, 0, 0, 0, time.UTC),
		Attendees: []recipient.Attendee{{Contact: ana, Group: recipient.Booked}}})
	r.clock.Set(due)
	if _, err := r.in.Dispatch(r.ctx, 0); err != nil {
		t.Fatal(err)
	}
	if d := r.delivery(moved.Deliveries[0].ID); d.Status.Current != status.Validated || d.Text != "Pilates: Wed 4 March, 19:00" {
		t.Fatalf("C8: the event moved before the message went: %s, %q", d.Status.Current, d.Text)
	}
	if d := r.delivery(kept.Deliveries[0].ID); d.Status.Current != status.Validated || d.Text != "Your card GIFT-7Q2X" {
		t.Fatalf("C8: a template that needs its send's values goes as rendered when scheduled: %s (%s), %q", d.Status.Current, d.Reason, d.Text)
	}
	texts := map[string]bool{}
	for _, s := range r.fakes[channel.SMS].Sent() {
		texts[s.Message.Text] = true
	}
	if !texts["Pilates: Wed 4 March, 19:00"] || !texts["Your card GIFT-7Q2X"] {
		t.Fatalf("C8: sent %v", texts)
	}
	th := r.thread(contactT("ana"))
	p, err := r.in.Preflight(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, WhatsApp: wa, Values: gift, ScheduledFor: due.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(p.Err(), inbox.ErrInvalidArgument) {
		t.Fatalf("C8, C10: a scheduled WhatsApp template filled by the send's values: %v", p.Err())
	}
	if p, _ := r.in.Preflight(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, WhatsApp: wa, Values: gift}); p.Err() != nil {
		t.Fatalf("C10: sent now, it may: %v", p.Err())
	}
}

// C8, T4: a direct scheduled template is rendered again when it goes; the
// thread's preview then shows what the contact got, as the delivery does.
func TestC8DirectScheduledPreviewIsWhatWent(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	th := r.thread(contactT("ana"))
	due := t0.Add(time.Hour)
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, ScheduledFor: due,
		Template: mustParse(t, ptemplate.Source{Name: "hi", Text: "See you tomorrow, {{ .Contact.FirstName }}"})})
	if err != nil {
		t.Fatal(err)
	}
	renamed := ana
	renamed.FirstName = "Anabela"
	if err := r.dir.PutContact(renamed); err != nil {
		t.Fatal(err)
	}
	r.clock.Set(due)
	if _, err := r.in.Dispatch(r.ctx, 0); err != nil {
		t.Fatal(err)
	}
	got := r.thread(contactT("ana"))
	if d := r.delivery(res.Deliveries[0].ID); d.Text != "See you tomorrow, Anabela" || got.Preview != d.Text {
		t.Fatalf("C8: delivery %q, thread preview %q; want both what went", d.Text, got.Preview)
	}
}

package inboxhttp_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/inboxhttp"
)

func TestOpenAPIDocumentServed(t *testing.T) {
	e := newEnv(t, envOptions{})
	openAPIValidator(t) // the document is valid OpenAPI 3.1
	rep := e.ok(req{method: "GET", path: "/openapi.json", agent: "-"}, 200, nil)
	if !strings.Contains(string(rep.body), `"openapi": "3.1.0"`) {
		t.Fatalf("served document is not OpenAPI 3.1: %.100s", rep.body)
	}
}

func TestNewRequiresAgentAndInbox(t *testing.T) {
	e := newEnv(t, envOptions{})
	if _, err := inboxhttp.New(e.ib, inboxhttp.Options{}); err == nil {
		t.Fatal("New without Agent succeeded")
	}
	agent := func(*http.Request) (inboxhttp.Agent, error) { return inboxhttp.Agent{ID: "x"}, nil }
	if _, err := inboxhttp.New(nil, inboxhttp.Options{Agent: agent}); err == nil {
		t.Fatal("New without an inbox succeeded")
	}
}

// The handler never trusts a client-sent agent: identity comes from the
// host's function, and its refusals are 401 and 403.
func TestAuthRefusals(t *testing.T) {
	hidden := map[string]bool{}
	e := newEnv(t, envOptions{handler: func(o *inboxhttp.Options) {
		o.CanSee = func(_ *http.Request, a inboxhttp.Agent, th inbox.Thread) bool {
			return a.ID != "temp" || !hidden[th.ID]
		}
	}})
	th := e.start(inbox.SubjectContact, "ben")
	hidden[th.ID] = true
	e.start(inbox.SubjectContact, "ana")

	e.fails(req{method: "GET", path: "/api/threads", agent: "-"}, 401, inboxhttp.TypeUnauthenticated)
	e.fails(req{method: "GET", path: "/api/threads", agent: "banned"}, 403, inboxhttp.TypeForbidden)
	var me inboxhttp.AgentJSON
	e.ok(req{method: "GET", path: "/api/me", agent: "temp"}, 200, &me)
	if me.ID != "temp" {
		t.Fatalf("me = %+v", me)
	}
	// T12: the assigning agent is the request's, whatever the body says.
	e.fails(req{method: "POST", path: "/api/threads/" + th.ID + "/assign", body: map[string]any{"agent": "lea", "by": "boss"}},
		400, inboxhttp.TypeInvalid)
	e.ok(req{method: "POST", path: "/api/threads/" + th.ID + "/assign", body: inboxhttp.AssignJSON{Agent: "temp"}}, 200, nil)
	as, err := e.ib.Assignments(e.ctx, th.ID)
	must(t, err)
	if len(as) != 1 || as[0].By != "lea" {
		t.Fatalf("assignments %+v, want one by lea", as)
	}

	e.fails(req{method: "GET", path: "/api/threads/" + th.ID, agent: "temp"}, 403, inboxhttp.TypeForbidden)
	e.fails(req{method: "POST", path: "/api/threads/" + th.ID + "/read", agent: "temp"}, 403, inboxhttp.TypeForbidden)
	e.fails(req{method: "GET", path: "/api/threads/" + th.ID + "/messages", agent: "temp"}, 403, inboxhttp.TypeForbidden)
	var page inboxhttp.ThreadPageJSON
	e.ok(req{method: "GET", path: "/api/threads", agent: "temp"}, 200, &page)
	if len(page.Threads) != 1 || page.Threads[0].Subject.ID != "ana" {
		t.Fatalf("temp sees %+v, want ana's thread only", page.Threads)
	}
	e.ok(req{method: "GET", path: "/api/threads/" + th.ID}, 200, nil)
}

// Cookie-based hosts: state-changing cross-origin requests are refused.
func TestCrossOriginProtection(t *testing.T) {
	e := newEnv(t, envOptions{handler: func(o *inboxhttp.Options) { o.TrustedOrigins = []string{"https://pms.example"} }})
	th := e.start(inbox.SubjectContact, "ana")
	path := "/api/threads/" + th.ID + "/favourite"
	e.fails(req{method: "POST", path: path, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403, inboxhttp.TypeCrossOrigin)
	e.fails(req{method: "POST", path: path, header: map[string]string{"Origin": "https://evil.example"}}, 403, inboxhttp.TypeCrossOrigin)
	e.ok(req{method: "POST", path: path, header: map[string]string{"Sec-Fetch-Site": "same-origin"}}, 200, nil)
	e.ok(req{method: "POST", path: path, header: map[string]string{"Origin": "https://pms.example", "Sec-Fetch-Site": "cross-site"}}, 200, nil)
	// reads stay allowed
	e.ok(req{method: "GET", path: "/api/threads", header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 200, nil)
	got, err := e.ib.Thread(e.ctx, th.ID)
	must(t, err)
	if !got.Favourite {
		t.Fatal("the allowed request did not favourite the thread")
	}
}

// T3, T11, T13: the list with its filters, search and cursor pages.
func TestThreadList(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.inbound(ana.Phone, "Bonjour, le cours de yoga est maintenu ?")
	e.inbound(ben.Phone, "Parking ?")
	e.clock.Advance(time.Minute)
	yoga := e.start(inbox.SubjectAudience, "yoga")
	e.clock.Advance(time.Minute)
	e.start(inbox.SubjectEvent, "pilates")
	ana, err := e.ib.StartWithAddress(e.ctx, channel.SMS, ana.Phone)
	must(t, err)
	e.ok(req{method: "POST", path: "/api/threads/" + yoga.ID + "/favourite"}, 200, nil)

	list := func(q string) []inboxhttp.ThreadJSON {
		t.Helper()
		var page inboxhttp.ThreadPageJSON
		e.ok(req{method: "GET", path: "/api/threads?" + q}, 200, &page)
		return page.Threads
	}
	names := func(ts []inboxhttp.ThreadJSON) string {
		var out []string
		for _, th := range ts {
			out = append(out, th.Name)
		}
		return strings.Join(out, ", ")
	}
	// favourites first, then newest first (T3)
	if got := names(list("")); got != "Yoga du matin, Pilates 18h, Ben Roy, Ana Silva" {
		t.Fatalf("list: %s", got)
	}
	if got := names(list("status=unread")); got != "Ben Roy, Ana Silva" {
		t.Fatalf("unread: %s", got)
	}
	if got := names(list("category=event")); got != "Pilates 18h" {
		t.Fatalf("events: %s", got)
	}
	if got := names(list("q=" + url.QueryEscape("06 12 34 56 78"))); got != "Ana Silva" {
		t.Fatalf("phone search: %s", got)
	}
	if got := names(list("q=parking")); got != "Ben Roy" {
		t.Fatalf("keyword search: %s", got)
	}
	th := list("q=ana")[0]
	if th.ID != ana.ID || th.Unread != 1 || th.Preview == "" || th.Subject.Kind != "contact" {
		t.Fatalf("thread JSON %+v", th)
	}
	// pages of 1 by cursor: never a repeat or a skip (T3)
	var seen []string
	cursor := ""
	for i := 0; i < 10; i++ {
		var page inboxhttp.ThreadPageJSON
		e.ok(req{method: "GET", path: "/api/threads?limit=1&cursor=" + url.QueryEscape(cursor)}, 200, &page)
		for _, th := range page.Threads {
			seen = append(seen, th.Name)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if strings.Join(seen, ", ") != "Yoga du matin, Pilates 18h, Ben Roy, Ana Silva" {
		t.Fatalf("paged: %v", seen)
	}
	e.fails(req{method: "GET", path: "/api/threads?status=sleeping"}, 400, inboxhttp.TypeInvalid)
	e.fails(req{method: "GET", path: "/api/threads?cursor=!!"}, 400, inboxhttp.TypeInvalid)
	e.fails(req{method: "GET", path: "/api/threads?limit=-1"}, 400, inboxhttp.TypeInvalid)
	var clamped inboxhttp.ThreadPageJSON
	e.ok(req{method: "GET", path: "/api/threads?limit=100000"}, 200, &clamped) // clamped to inbox.MaxPageSize
	if len(clamped.Threads) != 4 {
		t.Errorf("a limit above the maximum is clamped: %d threads, want all 4", len(clamped.Threads))
	}

	var c inboxhttp.CountersJSON
	e.ok(req{method: "GET", path: "/api/counters"}, 200, &c)
	if c.Attention != 2 || c.Contacts != 2 || c.Audiences != 0 {
		t.Fatalf("counters %+v (T15)", c)
	}
}

func TestThreadMessagesDetailsAndNotFound(t *testing.T) {
	e := newEnv(t, envOptions{})
	in := e.inbound(ana.Phone, "Je serai en retard")
	e.inbound(ana.Phone, "10 minutes")
	var page inboxhttp.MessagePageJSON
	e.ok(req{method: "GET", path: "/api/threads/" + in.ThreadID + "/messages?newest=true&limit=1"}, 200, &page)
	if len(page.Messages) != 1 || page.Messages[0].Text != "10 minutes" || page.Next == "" || !page.Messages[0].Unread {
		t.Fatalf("newest page %+v", page)
	}
	e.ok(req{method: "GET", path: "/api/threads/" + in.ThreadID + "/messages?q=retard&kind=sms&direction=inbound"}, 200, &page)
	if len(page.Messages) != 1 || page.Messages[0].ID != in.ID {
		t.Fatalf("search in thread (T14): %+v", page.Messages)
	}
	var m inboxhttp.MessageJSON
	e.ok(req{method: "GET", path: "/api/messages/" + in.ID}, 200, &m)
	if m.Direction != "inbound" || m.Kind != "sms" || m.Address != ana.Phone {
		t.Fatalf("message %+v", m)
	}
	// T19: details come from the host's resolver (memstore's directory)
	var det inboxhttp.DetailsJSON
	e.ok(req{method: "GET", path: "/api/threads/" + in.ThreadID + "/details"}, 200, &det)
	if det.Contact == nil || det.Contact.Name != "Ana Silva" || det.Contact.Phone != ana.Phone || det.Event != nil {
		t.Fatalf("details %+v", det)
	}
	e.fails(req{method: "GET", path: "/api/threads/nope"}, 404, inboxhttp.TypeNotFound)
	e.fails(req{method: "GET", path: "/api/threads/nope/messages"}, 404, inboxhttp.TypeNotFound)
	e.fails(req{method: "GET", path: "/api/messages/nope"}, 404, inboxhttp.TypeNotFound)
	e.fails(req{method: "GET", path: "/api/threads/" + in.ThreadID + "/messages?since=yesterday"}, 400, inboxhttp.TypeInvalid)
}

// T5–T12, T16: every thread action.
func TestThreadActions(t *testing.T) {
	e := newEnv(t, envOptions{})
	in := e.inbound(ana.Phone, "Hello")
	id := in.ThreadID
	act := func(name string, body any) inboxhttp.ThreadJSON {
		t.Helper()
		var th inboxhttp.ThreadJSON
		e.ok(req{method: "POST", path: "/api/threads/" + id + "/" + name, body: body}, 200, &th)
		return th
	}
	// T6: mark unread needs a read thread
	e.fails(req{method: "POST", path: "/api/threads/" + id + "/unread"}, 422, inboxhttp.TypeMarkUnreadNotAllowed)
	if th := act("read", nil); th.Unread != 0 {
		t.Fatalf("read: %+v", th)
	}
	if th := act("unread", nil); th.Unread != 1 {
		t.Fatalf("unread: %+v", th)
	}
	act("read", nil)
	var th inboxhttp.ThreadJSON
	e.ok(req{method: "POST", path: "/api/messages/" + in.ID + "/unread"}, 200, &th)
	if th.Unread != 1 {
		t.Fatalf("message unread: %+v", th)
	}
	// T7: mute for 8 hours, then it ends by itself
	if th := act("mute", inboxhttp.MuteJSON{Seconds: 8 * 3600}); !th.Muted || !th.MutedUntil.Equal(e.clock.Now().Add(8*time.Hour)) {
		t.Fatalf("mute: %+v", th)
	}
	e.clock.Advance(9 * time.Hour)
	e.ok(req{method: "GET", path: "/api/threads/" + id}, 200, &th)
	if th.Muted {
		t.Fatalf("mute did not expire: %+v", th)
	}
	act("mute", nil)
	if th := act("unmute", nil); th.Muted {
		t.Fatalf("unmute: %+v", th)
	}
	e.fails(req{method: "POST", path: "/api/threads/" + id + "/mute", body: map[string]any{"seconds": -1}}, 400, inboxhttp.TypeInvalid)
	if th := act("favourite", nil); !th.Favourite {
		t.Fatal("favourite")
	}
	if th := act("unfavourite", nil); th.Favourite {
		t.Fatal("unfavourite")
	}
	if th := act("archive", nil); !th.Archived {
		t.Fatal("archive")
	}
	var page inboxhttp.ThreadPageJSON
	e.ok(req{method: "GET", path: "/api/threads?status=archived"}, 200, &page)
	if len(page.Threads) != 1 {
		t.Fatalf("archived filter (T9): %+v", page)
	}
	if th := act("restore", nil); th.Archived {
		t.Fatal("restore")
	}
	if th := act("close", nil); !th.Closed {
		t.Fatal("close")
	}
	if th := act("reopen", nil); th.Closed {
		t.Fatal("reopen")
	}
	if th := act("assign", inboxhttp.AssignJSON{Agent: "max"}); th.Assignee != "max" {
		t.Fatal("assign")
	}
	if th := act("assign", inboxhttp.AssignJSON{}); th.Assignee != "" {
		t.Fatal("unassign")
	}
	var as []inboxhttp.AssignmentJSON
	e.ok(req{method: "GET", path: "/api/threads/" + id + "/assignments"}, 200, &as)
	if len(as) != 2 || as[0].To != "max" || as[0].By != "lea" || as[1].From != "max" {
		t.Fatalf("assignments %+v", as)
	}
	var ty inboxhttp.TypingJSON
	e.ok(req{method: "POST", path: "/api/threads/" + id + "/typing"}, 200, &ty)
	if !ty.ExpiresAt.Equal(e.clock.Now().Add(inbox.DefaultTypingTTL)) {
		t.Fatalf("typing until %v", ty.ExpiresAt)
	}
	if typers := e.ib.Typers(id); len(typers) != 1 || typers[0] != "lea" {
		t.Fatalf("typers %v", typers)
	}
	// T10 bulk actions
	e.inbound(ben.Phone, "Hi")
	var n inboxhttp.CountJSON
	e.ok(req{method: "POST", path: "/api/threads/mark-all-read"}, 200, &n)
	if n.Count != 2 {
		t.Fatalf("mark all read: %d", n.Count)
	}
	e.ok(req{method: "POST", path: "/api/threads/close-all-read"}, 200, &n)
	if n.Count != 2 {
		t.Fatalf("close all read: %d", n.Count)
	}
	e.fails(req{method: "POST", path: "/api/threads/nope/archive"}, 404, inboxhttp.TypeNotFound)
}

func TestBadBodies(t *testing.T) {
	e := newEnv(t, envOptions{handler: func(o *inboxhttp.Options) { o.MaxBodyBytes = 64 }})
	th := e.start(inbox.SubjectContact, "ana")
	path := "/api/threads/" + th.ID + "/preflight"
	e.fails(req{method: "POST", path: path, body: "{"}, 400, inboxhttp.TypeInvalid)
	e.fails(req{method: "POST", path: path, body: map[string]any{"kind": "sms", "colour": "red"}}, 400, inboxhttp.TypeInvalid)
	e.fails(req{method: "POST", path: path, body: map[string]any{"kind": "fax"}}, 400, inboxhttp.TypeInvalid)
	e.fails(req{method: "POST", path: path, body: map[string]any{"kind": "sms", "text": strings.Repeat("a", 100)}}, 413, inboxhttp.TypeTooLarge)
	e.fails(req{method: "POST", path: path, body: "kind=sms", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		415, inboxhttp.TypeUnsupportedMediaType)
}

// T2: start or resume a conversation with a subject or a bare address.
func TestStartThread(t *testing.T) {
	e := newEnv(t, envOptions{})
	var a, b inboxhttp.ThreadJSON
	e.ok(req{method: "POST", path: "/api/threads", body: inboxhttp.StartJSON{Subject: &inboxhttp.SubjectJSON{Kind: "contact", ID: "ana"}}}, 200, &a)
	e.ok(req{method: "POST", path: "/api/threads", body: inboxhttp.StartJSON{Kind: "sms", Address: ana.Phone}}, 200, &b)
	if a.ID != b.ID || a.Name != "Ana Silva" {
		t.Fatalf("start by subject %+v and by address %+v: want one thread (T2)", a, b)
	}
	e.fails(req{method: "POST", path: "/api/threads", body: inboxhttp.StartJSON{}}, 400, inboxhttp.TypeInvalid)
	e.fails(req{method: "POST", path: "/api/threads", body: inboxhttp.StartJSON{Subject: &inboxhttp.SubjectJSON{Kind: "contact", ID: "nobody"}}}, 404, inboxhttp.TypeNotFound)
}

// C4, C5, C6, C9, C14: the composer's pickers and the preflight.
func TestComposerAndPreflight(t *testing.T) {
	e := newEnv(t, envOptions{})
	th := e.start(inbox.SubjectContact, "ana")
	var comp inboxhttp.ComposerJSON
	e.ok(req{method: "GET", path: "/api/threads/" + th.ID + "/composer"}, 200, &comp)
	if len(comp.Channels) != 2 || len(comp.Templates) != 2 || len(comp.Variables) == 0 || len(comp.Groups) != 0 {
		t.Fatalf("composer %+v", comp)
	}
	var smsCh inboxhttp.ChannelJSON
	for _, c := range comp.Channels {
		if c.Kind == "sms" {
			smsCh = c
		}
	}
	if len(smsCh.Identities) != 2 || !smsCh.Identities[0].Default {
		t.Fatalf("sms identities %+v (C9)", smsCh)
	}
	ev := e.start(inbox.SubjectEvent, "pilates")
	e.ok(req{method: "GET", path: "/api/threads/" + ev.ID + "/composer"}, 200, &comp)
	if strings.Join(comp.Groups, ",") != "booked,waitlisted,cancelled" {
		t.Fatalf("event groups %v", comp.Groups)
	}

	pre := func(id string, d inboxhttp.DraftJSON) inboxhttp.PreflightJSON {
		t.Helper()
		var p inboxhttp.PreflightJSON
		e.ok(req{method: "POST", path: "/api/threads/" + id + "/preflight", body: d}, 200, &p)
		return p
	}
	p := pre(th.ID, inboxhttp.DraftJSON{Kind: "sms", Text: "See you at 9"})
	if !p.OK || p.SMS == nil || p.SMS.Encoding != "GSM-7" || p.SMS.Segments != 1 || p.Selected != 1 || p.Recipients[0].Verdict != "eligible" {
		t.Fatalf("preflight %+v", p)
	}
	// C6: an emoji forces UCS-2
	if p := pre(th.ID, inboxhttp.DraftJSON{Kind: "sms", Text: "See you at 9 🙂"}); p.SMS.Encoding != "UCS-2" {
		t.Fatalf("emoji: %+v", p.SMS)
	}
	// C3, C2
	if p := pre(th.ID, inboxhttp.DraftJSON{Kind: "email", Text: " "}); p.OK || !hasCode(p.Problems, "empty-body") || !hasCode(p.Problems, "subject-required") {
		t.Fatalf("empty email: %+v", p.Problems)
	}
	// C5: a variable the thread cannot provide, with its position
	p = pre(ev.ID, inboxhttp.DraftJSON{Kind: "sms", Template: "gift", Groups: []string{"booked"}})
	if p.OK || len(p.Problems) != 1 {
		t.Fatalf("gift card to an event: %+v", p)
	}
	if pr := p.Problems[0]; pr.Code != "template-scope-unavailable" || pr.Field != "text" || pr.Line != 1 || pr.Column != 20 || pr.Variable != ".GiftCard.Value" {
		t.Fatalf("problem %+v", pr)
	}
	// R2: a contact with no phone is blocked
	cl := e.start(inbox.SubjectContact, "cleo")
	if p := pre(cl.ID, inboxhttp.DraftJSON{Kind: "sms", Text: "Hi"}); p.OK || p.Recipients[0].Verdict != "blocked" || p.Recipients[0].Reasons[0].Code != "no-address" {
		t.Fatalf("no phone: %+v", p)
	}
	// R2: a marketing SMS to a contact without consent is a warning
	bn := e.start(inbox.SubjectContact, "ben")
	if p := pre(bn.ID, inboxhttp.DraftJSON{Kind: "sms", Text: "Promo", Marketing: true}); !p.OK || p.Recipients[0].Verdict != "warning" || p.Recipients[0].Reasons[0].Code != "no-consent" {
		t.Fatalf("no consent: %+v", p)
	}
	e.fails(req{method: "POST", path: "/api/threads/" + th.ID + "/preflight", body: inboxhttp.DraftJSON{Kind: "sms", Template: "nope"}}, 400, inboxhttp.TypeInvalid)
}

func hasCode(ps []inboxhttp.SendProblem, code string) bool {
	for _, p := range ps {
		if p.Code == code {
			return true
		}
	}
	return false
}

// C14, S2: a send, its statuses rising as the channel reports them, and a
// refused send with the problems' positions.
func TestSendAndStatuses(t *testing.T) {
	e := newEnv(t, envOptions{})
	in := e.inbound(ana.Phone, "Is the class on?")
	var res inboxhttp.SendResultJSON
	e.ok(req{method: "POST", path: "/api/threads/" + in.ThreadID + "/messages", body: inboxhttp.DraftJSON{Kind: "sms", Text: "Yes, see you!"}}, 201, &res)
	if res.Message.Direction != "outbound" || res.Message.Agent != "lea" || res.Message.Status != "validated" || len(res.Deliveries) != 1 {
		t.Fatalf("send: %+v", res)
	}
	if sent := e.sms.Sent(); len(sent) != 1 || sent[0].Message.To != ana.Phone {
		t.Fatalf("fake sent %+v", sent)
	}
	e.sms.FlushShuffled(7, true)
	var m inboxhttp.MessageJSON
	e.ok(req{method: "GET", path: "/api/messages/" + res.Message.ID}, 200, &m)
	if m.Status != "delivered" || m.Counts["delivered"] != 1 {
		t.Fatalf("after webhooks: %+v", m)
	}
	var dp inboxhttp.DeliveryPageJSON
	e.ok(req{method: "GET", path: "/api/messages/" + res.Message.ID + "/deliveries"}, 200, &dp)
	if len(dp.Deliveries) != 1 || dp.Deliveries[0].Status != "delivered" || len(dp.Deliveries[0].History) < 2 {
		t.Fatalf("deliveries %+v", dp)
	}
	// T5: sending read the thread
	var th inboxhttp.ThreadJSON
	e.ok(req{method: "GET", path: "/api/threads/" + in.ThreadID}, 200, &th)
	if th.Unread != 0 {
		t.Fatalf("thread after send: %+v", th)
	}
	// refused: 422 with the problems of the preflight
	ev := e.start(inbox.SubjectEvent, "pilates")
	p := e.fails(req{method: "POST", path: "/api/threads/" + ev.ID + "/messages", body: inboxhttp.DraftJSON{Kind: "sms", Template: "gift", Groups: []string{"booked"}}},
		422, inboxhttp.TypeCannotSend)
	if len(p.Problems) != 1 || p.Problems[0].Variable != ".GiftCard.Value" || p.Problems[0].Column != 20 {
		t.Fatalf("cannot send: %+v", p)
	}
	p = e.fails(req{method: "POST", path: "/api/threads/" + ev.ID + "/messages", body: inboxhttp.DraftJSON{Kind: "sms", Text: "Hi"}}, 422, inboxhttp.TypeCannotSend)
	if len(p.Problems) != 0 || len(p.Recipients) != 2 {
		t.Fatalf("nobody selected: %+v", p)
	}
	if len(e.sms.Sent()) != 1 {
		t.Fatal("a refused send was sent")
	}
	// group message to the booked attendees (M2)
	e.ok(req{method: "POST", path: "/api/threads/" + ev.ID + "/messages", body: inboxhttp.DraftJSON{Kind: "sms", Text: "Room 2 tonight", Groups: []string{"booked"}}}, 201, &res)
	if res.Message.Recipients != 1 || res.Message.Origin != "manual" {
		t.Fatalf("group send %+v", res.Message)
	}
}

// C8: schedule, then cancel until due; M7: the sent-messages query.
func TestScheduleCancelAndSent(t *testing.T) {
	e := newEnv(t, envOptions{})
	th := e.start(inbox.SubjectContact, "ana")
	var res inboxhttp.SendResultJSON
	e.ok(req{method: "POST", path: "/api/threads/" + th.ID + "/messages", body: inboxhttp.DraftJSON{Kind: "sms", Text: "Spring offer", Broadcast: "spring"}}, 201, &res)
	e.sms.Flush()
	var dp inboxhttp.DeliveryPageJSON
	e.ok(req{method: "GET", path: "/api/sent?campaign=spring&phone=" + url.QueryEscape("06 12 34 56 78")}, 200, &dp)
	if len(dp.Deliveries) != 1 || dp.Deliveries[0].Campaign != "spring" || dp.Deliveries[0].Status != "delivered" {
		t.Fatalf("sent query (M7): %+v", dp)
	}
	e.ok(req{method: "GET", path: "/api/sent?status=failed"}, 200, &dp)
	if len(dp.Deliveries) != 0 {
		t.Fatalf("sent by status: %+v", dp)
	}

	e.ok(req{method: "POST", path: "/api/threads/" + th.ID + "/messages",
		body: inboxhttp.DraftJSON{Kind: "sms", Text: "Reminder", ScheduledFor: e.clock.Now().Add(time.Hour)}}, 201, &res)
	if res.Message.Status != "scheduled" || res.Message.ScheduledFor.IsZero() || len(e.sms.Sent()) != 1 {
		t.Fatalf("scheduled: %+v", res.Message)
	}
	var n inboxhttp.CountJSON
	e.ok(req{method: "POST", path: "/api/messages/" + res.Message.ID + "/cancel"}, 200, &n)
	if n.Count != 1 {
		t.Fatalf("cancelled %d", n.Count)
	}
	var m inboxhttp.MessageJSON
	e.ok(req{method: "GET", path: "/api/messages/" + res.Message.ID}, 200, &m)
	if m.Status != "cancelled" {
		t.Fatalf("after cancel: %+v", m)
	}
	e.fails(req{method: "GET", path: "/api/sent?status=lost"}, 400, inboxhttp.TypeInvalid)
}

// A retried POST with the same Idempotency-Key sends once; a concurrent
// duplicate gets 409; the same key with another body gets 422.
func TestIdempotentSend(t *testing.T) {
	e := newEnv(t, envOptions{})
	th := e.start(inbox.SubjectContact, "ana")
	path := "/api/threads/" + th.ID + "/messages"
	body := inboxhttp.DraftJSON{Kind: "sms", Text: "Once"}
	key := map[string]string{"Idempotency-Key": "k-1"}
	first := e.ok(req{method: "POST", path: path, body: body, header: key}, 201, nil)
	again := e.ok(req{method: "POST", path: path, body: body, header: key}, 201, nil)
	if string(first.body) != string(again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry got %s, want the first response %s", again.body, first.body)
	}
	if n := len(e.sms.Sent()); n != 1 {
		t.Fatalf("sent %d times", n)
	}
	e.fails(req{method: "POST", path: path, body: inboxhttp.DraftJSON{Kind: "sms", Text: "Other"}, header: key}, 422, inboxhttp.TypeIdempotencyMismatch)
	// keys are per agent: another agent's same key is another request
	e.ok(req{method: "POST", path: path, body: body, header: key, agent: "max"}, 201, nil)
	if n := len(e.sms.Sent()); n != 2 {
		t.Fatalf("sent %d times, want 2", n)
	}
	// a refused send does not keep the key: once fixed, the retry sends
	key2 := map[string]string{"Idempotency-Key": "k-2"}
	e.fails(req{method: "POST", path: path, body: inboxhttp.DraftJSON{Kind: "sms"}, header: key2}, 422, inboxhttp.TypeCannotSend)
	e.ok(req{method: "POST", path: path, body: inboxhttp.DraftJSON{Kind: "sms", Text: "Fixed"}, header: key2}, 201, nil)
	if n := len(e.sms.Sent()); n != 3 {
		t.Fatalf("sent %d times, want 3", n)
	}

	// Two simultaneous requests with one key: the channel holds the first
	// inside Send until the second has been answered.
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.sms.FailWhen(func(*channel.Message) error {
		once.Do(func() { close(entered); <-release })
		return nil
	})
	key3 := map[string]string{"Idempotency-Key": "k-3"}
	done := make(chan reply)
	go func() {
		done <- e.do(req{method: "POST", path: path, body: body, header: key3})
	}()
	<-entered
	p := e.fails(req{method: "POST", path: path, body: body, header: key3}, 409, inboxhttp.TypeIdempotencyInFlight)
	if p.Detail == "" {
		t.Fatal("no detail")
	}
	close(release)
	if r := <-done; r.code != 201 {
		t.Fatalf("first of the concurrent pair: %d %s", r.code, r.body)
	}
	e.ok(req{method: "POST", path: path, body: body, header: key3}, 201, nil)
	if n := len(e.sms.Sent()); n != 4 {
		t.Fatalf("sent %d times, want 4", n)
	}
	e.fails(req{method: "POST", path: path, body: body, header: map[string]string{"Idempotency-Key": strings.Repeat("k", 300)}}, 400, inboxhttp.TypeInvalid)
}

func TestMemoryIdempotencyBoundsAndTTL(t *testing.T) {
	c := &clock{t: t0}
	m := inboxhttp.NewMemoryIdempotency(inboxhttp.IdempotencyOptions{Max: 2, TTL: time.Hour, Now: c.Now})
	ctx := t.Context()
	k := func(s string) inboxhttp.IdempotencyKey {
		return inboxhttp.IdempotencyKey{Tenant: "t", Agent: "a", Key: s}
	}
	for _, s := range []string{"a", "b", "c"} {
		if prev, err := m.Begin(ctx, k(s), "f"); prev != nil || err != nil {
			t.Fatalf("begin %s: %v %v", s, prev, err)
		}
	}
	// all three are running: none may be forgotten
	if _, err := m.Begin(ctx, k("a"), "f"); !errors.Is(err, inboxhttp.ErrInProgress) {
		t.Fatalf("running key: %v", err)
	}
	must(t, m.Finish(ctx, k("a"), inboxhttp.StoredResponse{Status: 201, Body: []byte("x")}))
	must(t, m.Finish(ctx, k("b"), inboxhttp.StoredResponse{Status: 201, Body: []byte("y")}))
	if _, err := m.Begin(ctx, k("d"), "f"); err != nil {
		t.Fatal(err)
	}
	if m.Len() != 2 {
		t.Fatalf("kept %d keys, want 2 (c and d running; a and b finished, forgotten)", m.Len())
	}
	if prev, _ := m.Begin(ctx, k("a"), "f"); prev != nil {
		t.Fatal("the oldest finished key was kept beyond Max")
	}
	c.Advance(2 * time.Hour)
	if prev, err := m.Begin(ctx, k("c"), "f"); prev != nil || err != nil {
		t.Fatalf("expired key: %v %v", prev, err)
	}
}

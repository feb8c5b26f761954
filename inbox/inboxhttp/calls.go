package inboxhttp

// Every *inbox.Inbox call of the handler is in this file (and events.go's
// subscription), so that renames of the inbox API touch one place.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
	ptemplate "github.com/parleyhq/parley/template"
)

func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /api/me", h.api(getMe))
	m.HandleFunc("GET /api/threads", h.api(listThreads))
	m.HandleFunc("POST /api/threads", h.api(startThread))
	m.HandleFunc("POST /api/threads/mark-all-read", h.api(markAllRead))
	m.HandleFunc("POST /api/threads/close-all-read", h.api(closeAllRead))
	m.HandleFunc("GET /api/threads/{id}", h.api(getThread))
	m.HandleFunc("GET /api/threads/{id}/messages", h.api(listMessages))
	m.HandleFunc("POST /api/threads/{id}/messages", h.api(send))
	m.HandleFunc("POST /api/threads/{id}/preflight", h.api(preflight))
	m.HandleFunc("GET /api/threads/{id}/details", h.api(getDetails))
	m.HandleFunc("GET /api/threads/{id}/assignments", h.api(listAssignments))
	m.HandleFunc("GET /api/threads/{id}/composer", h.api(getComposer))
	for name, fn := range threadActions {
		m.HandleFunc("POST /api/threads/{id}/"+name, h.api(threadAction(fn)))
	}
	m.HandleFunc("POST /api/threads/{id}/mute", h.api(mute))
	m.HandleFunc("POST /api/threads/{id}/assign", h.api(assign))
	m.HandleFunc("POST /api/threads/{id}/typing", h.api(typing))
	m.HandleFunc("GET /api/counters", h.api(getCounters))
	m.HandleFunc("GET /api/messages/{id}", h.api(getMessage))
	m.HandleFunc("GET /api/messages/{id}/deliveries", h.api(listDeliveries))
	m.HandleFunc("POST /api/messages/{id}/unread", h.api(markMessageUnread))
	m.HandleFunc("POST /api/messages/{id}/cancel", h.api(cancelScheduled))
	m.HandleFunc("GET /api/sent", h.api(listSent))
	m.HandleFunc("GET /api/events", h.api(h.events))
	m.HandleFunc("GET /openapi.json", serveOpenAPI)
	m.Handle("GET /ui/", uiHandler())
	m.HandleFunc("GET /{$}", serveIndex)
}

func getMe(c *call) error {
	return c.reply(http.StatusOK, AgentJSON{ID: c.agent.ID, Name: c.agent.Name})
}

var statusFilters = map[string]inbox.StatusFilter{"": inbox.All, "all": inbox.All, "unread": inbox.Unread,
	"favourites": inbox.Favourites, "muted": inbox.Muted, "archived": inbox.Archived}
var lifecycles = map[string]inbox.Lifecycle{"": inbox.AnyLifecycle, "any": inbox.AnyLifecycle, "open": inbox.Open, "closed": inbox.Closed}
var categories = map[string]inbox.SubjectKind{"": 0, "all": 0, "contact": inbox.SubjectContact,
	"audience": inbox.SubjectAudience, "event": inbox.SubjectEvent}

func oneOf[T any](c *call, name string, m map[string]T) (T, error) {
	v, ok := m[c.str(name)]
	if !ok {
		return v, invalid("query parameter %s: unknown value %q", name, c.str(name))
	}
	return v, nil
}

// listThreads: GET /api/threads — the thread list with every T11 filter,
// T12 assignment filter, T13 search, keyset cursor and page size (T3).
func listThreads(c *call) error {
	var q inbox.ThreadQuery
	var err error
	if q.Status, err = oneOf(c, "status", statusFilters); err != nil {
		return err
	}
	if q.Lifecycle, err = oneOf(c, "lifecycle", lifecycles); err != nil {
		return err
	}
	if q.Category, err = oneOf(c, "category", categories); err != nil {
		return err
	}
	switch a := c.str("assignee"); a {
	case "":
	case "none":
		q.Unassigned = true
	case "me":
		q.Assignee = c.agent.ID
	default:
		q.Assignee = a
	}
	q.Search, q.Cursor = c.str("q"), c.str("cursor")
	if q.Limit, err = c.integer("limit"); err != nil {
		return err
	}
	page, err := c.ib.Threads(c.ctx, q)
	if err != nil {
		return err
	}
	now := c.h.now()
	out := ThreadPageJSON{Threads: make([]ThreadJSON, 0, len(page.Threads)), Next: page.Next}
	for _, t := range page.Threads {
		if c.canSee(t) {
			out.Threads = append(out.Threads, threadJSON(t, now))
		}
	}
	return c.reply(http.StatusOK, out)
}

// StartJSON starts (or resumes, T2) a conversation: with a subject, or
// with a channel kind and a bare address that resolves to its contact.
type StartJSON struct {
	Subject *SubjectJSON `json:"subject,omitempty"`
	Kind    string       `json:"kind,omitempty"`
	Address string       `json:"address,omitempty"`
}

func startThread(c *call) error {
	var in StartJSON
	if err := c.decode(&in); err != nil {
		return err
	}
	var t inbox.Thread
	var err error
	switch {
	case in.Subject != nil && in.Address == "":
		k, ok := categories[in.Subject.Kind]
		if !ok || k == 0 {
			return invalid("subject kind %q: want contact, audience or event", in.Subject.Kind)
		}
		t, err = c.ib.Start(c.ctx, inbox.Subject{Kind: k, ID: in.Subject.ID})
	case in.Subject == nil && in.Address != "":
		k, perr := channel.ParseKind(in.Kind)
		if perr != nil {
			return invalid("kind %q: %v", in.Kind, perr)
		}
		t, err = c.ib.StartWithAddress(c.ctx, k, in.Address)
	default:
		return invalid("give either a subject or a kind and an address")
	}
	if err != nil {
		return err
	}
	if !c.canSee(t) {
		return fmt.Errorf("%w: thread %s", ErrForbidden, t.ID)
	}
	return c.reply(http.StatusOK, threadJSON(t, c.h.now()))
}

func getThread(c *call) error {
	t, err := c.visible(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, threadJSON(t, c.h.now()))
}

var directions = map[string]inbox.Direction{"": 0, "inbound": inbox.Inbound, "outbound": inbox.Outbound}
var origins = map[string]inbox.Origin{"": 0, "direct": inbox.Direct, "manual": inbox.Manual, "automatic": inbox.Automatic, "scheduled": inbox.Scheduled}

// listMessages: GET /api/threads/{id}/messages — a page of the thread's
// messages with the M6 filters and T14 search.
func listMessages(c *call) error {
	id := c.r.PathValue("id")
	if err := c.check(id); err != nil {
		return err
	}
	q := inbox.MessageQuery{ThreadID: id, Search: c.str("q"), Cursor: c.str("cursor")}
	var err error
	if q.Limit, err = c.integer("limit"); err != nil {
		return err
	}
	if q.Newest, err = c.boolean("newest"); err != nil {
		return err
	}
	if q.Direction, err = oneOf(c, "direction", directions); err != nil {
		return err
	}
	if q.Origin, err = oneOf(c, "origin", origins); err != nil {
		return err
	}
	if q.Since, err = c.timeParam("since"); err != nil {
		return err
	}
	if q.Until, err = c.timeParam("until"); err != nil {
		return err
	}
	for _, k := range c.r.URL.Query()["kind"] {
		kind, err := channel.ParseKind(k)
		if err != nil {
			return invalid("query parameter kind: %v", err)
		}
		q.Kinds = append(q.Kinds, kind)
	}
	q.Groups = c.r.URL.Query()["group"]
	page, err := c.ib.Messages(c.ctx, q)
	if err != nil {
		return err
	}
	out := MessagePageJSON{Messages: make([]MessageJSON, 0, len(page.Messages)), Next: page.Next}
	for _, m := range page.Messages {
		out.Messages = append(out.Messages, messageJSON(m))
	}
	return c.reply(http.StatusOK, out)
}

func getMessage(c *call) error {
	m, err := c.ib.Message(c.ctx, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := c.check(m.ThreadID); err != nil {
		return err
	}
	return c.reply(http.StatusOK, messageJSON(m))
}

func listDeliveries(c *call) error {
	m, err := c.ib.Message(c.ctx, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := c.check(m.ThreadID); err != nil {
		return err
	}
	limit, err := c.integer("limit")
	if err != nil {
		return err
	}
	page, err := c.ib.Deliveries(c.ctx, inbox.DeliveryQuery{MessageID: m.ID, Cursor: c.str("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, deliveryPage(page))
}

func deliveryPage(page inbox.DeliveryPage) DeliveryPageJSON {
	out := DeliveryPageJSON{Deliveries: make([]DeliveryJSON, 0, len(page.Deliveries)), Next: page.Next}
	for _, d := range page.Deliveries {
		out.Deliveries = append(out.Deliveries, deliveryJSON(d))
	}
	return out
}

func getDetails(c *call) error {
	id := c.r.PathValue("id")
	if err := c.check(id); err != nil {
		return err
	}
	d, err := c.ib.Details(c.ctx, id)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, detailsJSON(d))
}

func listAssignments(c *call) error {
	id := c.r.PathValue("id")
	if err := c.check(id); err != nil {
		return err
	}
	as, err := c.ib.Assignments(c.ctx, id)
	if err != nil {
		return err
	}
	out := make([]AssignmentJSON, 0, len(as))
	for _, a := range as {
		out = append(out, AssignmentJSON{From: a.From, To: a.To, By: a.By, At: a.At})
	}
	return c.reply(http.StatusOK, out)
}

func getCounters(c *call) error {
	n, err := c.ib.Counters(c.ctx)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, countersJSON(n))
}

// threadActions are the thread actions without a body (T5–T10).
var threadActions = map[string]func(c *call, id string) (inbox.Thread, error){
	"read":        func(c *call, id string) (inbox.Thread, error) { return c.ib.MarkRead(c.ctx, id) },
	"unread":      func(c *call, id string) (inbox.Thread, error) { return c.ib.MarkUnread(c.ctx, id) },
	"unmute":      func(c *call, id string) (inbox.Thread, error) { return c.ib.Unmute(c.ctx, id) },
	"favourite":   func(c *call, id string) (inbox.Thread, error) { return c.ib.SetFavourite(c.ctx, id, true) },
	"unfavourite": func(c *call, id string) (inbox.Thread, error) { return c.ib.SetFavourite(c.ctx, id, false) },
	"archive":     func(c *call, id string) (inbox.Thread, error) { return c.ib.Archive(c.ctx, id) },
	"restore":     func(c *call, id string) (inbox.Thread, error) { return c.ib.Restore(c.ctx, id) },
	"close":       func(c *call, id string) (inbox.Thread, error) { return c.ib.CloseThread(c.ctx, id) },
	"reopen":      func(c *call, id string) (inbox.Thread, error) { return c.ib.ReopenThread(c.ctx, id) },
}

func threadAction(fn func(c *call, id string) (inbox.Thread, error)) func(c *call) error {
	return func(c *call) error {
		id := c.r.PathValue("id")
		if err := c.check(id); err != nil {
			return err
		}
		t, err := fn(c, id)
		if err != nil {
			return err
		}
		return c.reply(http.StatusOK, threadJSON(t, c.h.now()))
	}
}

// MuteJSON mutes a thread, until a time or for a duration (T7); neither
// mutes until unmuted.
type MuteJSON struct {
	Until   time.Time `json:"until,omitzero"`
	Seconds int64     `json:"seconds,omitempty"`
}

func mute(c *call) error {
	id := c.r.PathValue("id")
	if err := c.check(id); err != nil {
		return err
	}
	var in MuteJSON
	if err := c.decode(&in); err != nil {
		return err
	}
	if in.Seconds < 0 || (in.Seconds > 0 && !in.Until.IsZero()) {
		return invalid("give until or a positive number of seconds, not both")
	}
	until := in.Until
	if in.Seconds > 0 {
		until = c.h.now().Add(time.Duration(in.Seconds) * time.Second)
	}
	t, err := c.ib.Mute(c.ctx, id, until)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, threadJSON(t, c.h.now()))
}

// AssignJSON assigns a thread to an agent; an empty agent unassigns it
// (T12). The agent who does it is the request's.
type AssignJSON struct {
	Agent string `json:"agent"`
}

func assign(c *call) error {
	id := c.r.PathValue("id")
	if err := c.check(id); err != nil {
		return err
	}
	var in AssignJSON
	if err := c.decode(&in); err != nil {
		return err
	}
	var t inbox.Thread
	var err error
	if in.Agent == "" {
		t, err = c.ib.Unassign(c.ctx, id, c.agent.ID)
	} else {
		t, err = c.ib.Assign(c.ctx, id, in.Agent, c.agent.ID)
	}
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, threadJSON(t, c.h.now()))
}

// TypingJSON says until when the request's agent shows as typing (T16).
type TypingJSON struct {
	ExpiresAt time.Time `json:"expiresAt"`
}

func typing(c *call) error {
	id := c.r.PathValue("id")
	if err := c.check(id); err != nil {
		return err
	}
	exp, err := c.ib.MarkTyping(c.ctx, id, c.agent.ID)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, TypingJSON{ExpiresAt: exp})
}

// CountJSON is how many threads a bulk action changed (T10).
type CountJSON struct {
	Count int `json:"count"`
}

func markAllRead(c *call) error {
	n, err := c.ib.MarkAllRead(c.ctx)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, CountJSON{Count: n})
}

func closeAllRead(c *call) error {
	n, err := c.ib.CloseAllRead(c.ctx)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, CountJSON{Count: n})
}

func markMessageUnread(c *call) error {
	m, err := c.ib.Message(c.ctx, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := c.check(m.ThreadID); err != nil {
		return err
	}
	t, err := c.ib.MarkMessageUnread(c.ctx, m.ID)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, threadJSON(t, c.h.now()))
}

func cancelScheduled(c *call) error {
	m, err := c.ib.Message(c.ctx, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := c.check(m.ThreadID); err != nil {
		return err
	}
	n, err := c.ib.CancelScheduled(c.ctx, m.ID)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, CountJSON{Count: n})
}

// listSent: GET /api/sent — deliveries of sent messages across threads
// (M7).
func listSent(c *call) error {
	q := inbox.SentQuery{Phone: c.str("phone"), Email: c.str("email"), Campaign: c.str("campaign"), Cursor: c.str("cursor")}
	var err error
	if k := c.str("kind"); k != "" {
		if q.Kind, err = channel.ParseKind(k); err != nil {
			return invalid("query parameter kind: %v", err)
		}
	}
	if s := c.str("status"); s != "" {
		if q.Status, err = status.Parse(s); err != nil {
			return invalid("query parameter status: %v", err)
		}
	}
	for name, dst := range map[string]*time.Time{"checkInFrom": &q.CheckInFrom, "checkInTo": &q.CheckInTo,
		"checkOutFrom": &q.CheckOutFrom, "checkOutTo": &q.CheckOutTo} {
		if *dst, err = c.timeParam(name); err != nil {
			return err
		}
	}
	if q.Limit, err = c.integer("limit"); err != nil {
		return err
	}
	page, err := c.ib.Sent(c.ctx, q)
	if err != nil {
		return err
	}
	if c.h.opts.CanSee != nil {
		kept := page.Deliveries[:0]
		for _, d := range page.Deliveries {
			if c.check(d.ThreadID) == nil {
				kept = append(kept, d)
			}
		}
		page.Deliveries = kept
	}
	return c.reply(http.StatusOK, deliveryPage(page))
}

// getComposer: GET /api/threads/{id}/composer — what the composer's pickers
// offer: channels with their sender identities (C9), templates (C4), the
// variable catalog (C5) and, for an event thread, the groups (R4).
func getComposer(c *call) error {
	t, err := c.visible(c.r.PathValue("id"))
	if err != nil {
		return err
	}
	out := ComposerJSON{Channels: []ChannelJSON{}, Templates: []TemplateJSON{}, Variables: []VariableJSON{}, Groups: []string{}}
	if reg := c.h.opts.Channels; reg != nil {
		for _, k := range reg.Kinds() {
			ch := ChannelJSON{Kind: k.String(), Identities: []IdentityJSON{}}
			if caps, err := reg.Capabilities(k); err == nil {
				ch.SubjectRequired = caps.SubjectRequired
			}
			ids, _ := reg.Identities(k)
			for _, id := range ids {
				ch.Identities = append(ch.Identities, IdentityJSON{ID: id.ID, Address: id.Address, Name: id.Name, Default: id.Default, TwoWay: id.TwoWay})
			}
			out.Channels = append(out.Channels, ch)
		}
	}
	ts, err := c.templates()
	if err != nil {
		return err
	}
	for _, tp := range ts {
		j := TemplateJSON{ID: tp.ID, Name: tp.Name, Subject: tp.Source.Subject, Text: tp.Source.Text}
		for _, k := range tp.Kinds {
			j.Kinds = append(j.Kinds, k.String())
		}
		out.Templates = append(out.Templates, j)
	}
	for _, v := range c.h.catalog.Variables() {
		out.Variables = append(out.Variables, VariableJSON{Path: v.Path, Scope: string(v.Scope), Label: v.Label, Token: v.Token()})
	}
	if t.Subject.Kind == inbox.SubjectEvent {
		out.Groups = []string{recipient.Booked.String(), recipient.Waitlisted.String(), recipient.Cancelled.String()}
	}
	return c.reply(http.StatusOK, out)
}

func (c *call) templates() ([]Template, error) {
	if c.h.opts.Templates == nil {
		return nil, nil
	}
	return c.h.opts.Templates(c.ctx, c.agent)
}

// DraftJSON is a message the composer wants to preflight or send (C1–C14).
type DraftJSON struct {
	// Kind is the channel kind (C1).
	Kind string `json:"kind"`
	// Identity is a sender identity's ID; empty for the default (C9).
	Identity string `json:"identity,omitempty"`
	// Subject, Text and HTML are the content; with Template, Subject
	// overrides the template's subject for this send only (C4).
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
	// Template is the ID of one of the host's templates.
	Template string `json:"template,omitempty"`
	// Marketing marks a promotional message (R2, R8).
	Marketing bool `json:"marketing,omitempty"`
	// Broadcast names a campaign (M3, M7).
	Broadcast string `json:"broadcast,omitempty"`
	// Groups are the event groups of an event thread's message (R4).
	Groups []string `json:"groups,omitempty"`
	// ScheduledFor, when in the future, schedules the message (C8).
	ScheduledFor time.Time `json:"scheduledFor,omitzero"`
}

var groupNames = map[string]recipient.Group{"booked": recipient.Booked, "waitlisted": recipient.Waitlisted, "cancelled": recipient.Cancelled}

// draft turns the JSON draft into an inbox.Draft. A template that does not
// parse is returned as a problem of the preflight, not as an error.
func (c *call) draft(threadID string, in DraftJSON) (inbox.Draft, error, error) {
	k, err := channel.ParseKind(in.Kind)
	if err != nil {
		return inbox.Draft{}, nil, invalid("kind %q: %v", in.Kind, err)
	}
	d := inbox.Draft{Kind: k, ThreadID: threadID, Identity: in.Identity, Subject: in.Subject, Text: in.Text, HTML: in.HTML,
		Marketing: in.Marketing, Broadcast: in.Broadcast, ScheduledFor: in.ScheduledFor, Author: inbox.Author{Agent: c.agent.ID}}
	for _, g := range in.Groups {
		grp, ok := groupNames[g]
		if !ok {
			return inbox.Draft{}, nil, invalid("group %q: want booked, waitlisted or cancelled", g)
		}
		d.Groups = append(d.Groups, grp)
	}
	if in.Template == "" {
		return d, nil, nil
	}
	ts, err := c.templates()
	if err != nil {
		return inbox.Draft{}, nil, err
	}
	for _, t := range ts {
		if t.ID != in.Template {
			continue
		}
		src := t.Source
		if src.Name == "" {
			src.Name = t.ID
		}
		tpl, err := ptemplate.Parse(c.h.catalog, src, ptemplate.Options{})
		if err == nil && in.Subject != "" {
			tpl, err = tpl.WithSubject(in.Subject)
		}
		if err != nil {
			return d, err, nil
		}
		d.Template = tpl
		return d, nil, nil
	}
	return inbox.Draft{}, nil, invalid("unknown template %q", in.Template)
}

// preflight: POST /api/threads/{id}/preflight — the composer's checks
// without sending (C14).
func preflight(c *call) error {
	id := c.r.PathValue("id")
	if err := c.check(id); err != nil {
		return err
	}
	var in DraftJSON
	if err := c.decode(&in); err != nil {
		return err
	}
	d, tplErr, err := c.draft(id, in)
	if err != nil {
		return err
	}
	if tplErr != nil {
		return c.reply(http.StatusOK, PreflightJSON{Problems: sendProblems([]error{tplErr}), Recipients: []RecipientJSON{}})
	}
	p, err := c.ib.Preflight(c.ctx, d)
	if err != nil {
		return err
	}
	return c.reply(http.StatusOK, preflightJSON(p, d.Kind))
}

// MaxIdempotencyKey is the longest Idempotency-Key accepted.
const MaxIdempotencyKey = 255

// send: POST /api/threads/{id}/messages — sends (or schedules) a draft
// once per Idempotency-Key.
func send(c *call) error {
	id := c.r.PathValue("id")
	if err := c.check(id); err != nil {
		return err
	}
	body, err := readAll(c)
	if err != nil {
		return err
	}
	key := c.r.Header.Get("Idempotency-Key")
	if key == "" {
		return sendBody(c, id, body)
	}
	if len(key) > MaxIdempotencyKey {
		return invalid("Idempotency-Key longer than %d bytes", MaxIdempotencyKey)
	}
	ik := IdempotencyKey{Tenant: c.agent.Tenant, Agent: c.agent.ID, Key: key}
	sum := sha256.Sum256(append([]byte(id+"\x00"), body...))
	prev, err := c.h.idem.Begin(c.ctx, ik, hex.EncodeToString(sum[:]))
	switch {
	case errors.Is(err, ErrInProgress):
		c.w.Header().Set("Retry-After", "1")
		return &Problem{Type: TypeIdempotencyInFlight, Title: "Request in progress", Status: http.StatusConflict,
			Detail: "a request with this Idempotency-Key is still running; retry later for its result"}
	case errors.Is(err, ErrKeyReused):
		return &Problem{Type: TypeIdempotencyMismatch, Title: "Idempotency key reused", Status: http.StatusUnprocessableEntity,
			Detail: "this Idempotency-Key was used for a different request"}
	case err != nil:
		return err
	case prev != nil:
		c.w.Header().Set("Idempotent-Replayed", "true")
		c.w.Header().Set("Content-Type", "application/json")
		c.w.WriteHeader(prev.Status)
		_, _ = c.w.Write(prev.Body)
		return nil
	}
	rec := &recorder{ResponseWriter: c.w}
	c.w = rec
	err = sendBody(c, id, body)
	if rec.code >= 200 && rec.code < 300 {
		return c.h.idem.Finish(c.ctx, ik, StoredResponse{Status: rec.code, Body: rec.body.Bytes()})
	}
	if rerr := c.h.idem.Release(c.ctx, ik); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

func readAll(c *call) ([]byte, error) {
	var raw json.RawMessage
	if err := c.decode(&raw); err != nil {
		return nil, err
	}
	return raw, nil
}

func sendBody(c *call, id string, body []byte) error {
	var in DraftJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := dec.Decode(&in); err != nil {
			return invalid("malformed draft: %v", err)
		}
	}
	d, tplErr, err := c.draft(id, in)
	if err != nil {
		return err
	}
	if tplErr != nil {
		return cannotSend(PreflightJSON{Problems: sendProblems([]error{tplErr})})
	}
	res, err := c.ib.Send(c.ctx, d)
	if res.Message.ID == "" && err != nil {
		// Send refuses exactly what Preflight reports (C14).
		if len(res.Preflight.Problems) > 0 || errors.Is(err, inbox.ErrNoRecipient) {
			return cannotSend(preflightJSON(res.Preflight, d.Kind))
		}
		return err
	}
	// A message was recorded: it is the result, even when the fan-out was
	// cut short (its deliveries say what happened).
	out := SendResultJSON{Message: messageJSON(res.Message), Deliveries: make([]DeliveryJSON, 0, len(res.Deliveries))}
	for _, dl := range res.Deliveries {
		out.Deliveries = append(out.Deliveries, deliveryJSON(dl))
	}
	if err == nil {
		// the deliveries' statuses are in the message's counts too
		if m, merr := c.ib.Message(c.ctx, res.Message.ID); merr == nil {
			out.Message = messageJSON(m)
		}
	}
	return c.reply(http.StatusCreated, out)
}

func cannotSend(p PreflightJSON) error {
	return &Problem{Type: TypeCannotSend, Title: "Cannot send", Status: http.StatusUnprocessableEntity,
		Detail: "the draft has problems that block sending", Problems: p.Problems, Recipients: p.Recipients}
}

// recorder keeps a copy of what a handler writes.
type recorder struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

package inbox

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/internal/telemetry"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
	ptemplate "github.com/parleyhq/parley/template"
)

// Anchor schedules an automatic message relative to a booking or event time
// (C15): "2 days before check-in at 10:00", "1 hour before class".
type Anchor struct {
	// Ref names the booking or event ("booking:42"); MoveAnchor and
	// CancelAnchor find the pending messages by it.
	Ref string
	// At is the booking's or event's time.
	At time.Time
	// Offset is added to At: -48*time.Hour for two days before. Whole days
	// are calendar days in TimeZone, so they stay right across
	// daylight-saving changes.
	Offset time.Duration
	// Clock, when set, is the wall-clock time of the day the offset lands
	// on ("at 10:00"), in TimeZone.
	Clock *recipient.Clock
	// TimeZone is the venue's IANA time zone; "" is UTC.
	TimeZone string
}

func (a Anchor) due() (time.Time, error) {
	if a.Ref == "" || a.At.IsZero() {
		return time.Time{}, fmt.Errorf("inbox: %w: anchor needs a reference and a time", ErrInvalidArgument)
	}
	loc, err := time.LoadLocation(a.TimeZone)
	if err != nil {
		return time.Time{}, fmt.Errorf("inbox: %w: anchor time zone: %w", ErrInvalidArgument, err)
	}
	if a.Clock != nil && !a.Clock.Valid() {
		return time.Time{}, fmt.Errorf("inbox: %w: anchor clock %v", ErrInvalidArgument, *a.Clock)
	}
	t := a.At.In(loc)
	days := int(a.Offset / (24 * time.Hour))
	rest := a.Offset - time.Duration(days)*24*time.Hour
	t = t.AddDate(0, 0, days).Add(rest)
	if a.Clock != nil {
		y, m, d := t.Date()
		t = time.Date(y, m, d, a.Clock.Hour, a.Clock.Minute, 0, 0, loc)
	}
	return t, nil
}

func (a Anchor) encode() string {
	s := "off=" + strconv.FormatInt(int64(a.Offset), 10) + ";tz=" + a.TimeZone
	if a.Clock != nil {
		s += ";at=" + a.Clock.String()
	}
	return s
}

func decodeAnchor(ref, rule string, at time.Time) (Anchor, error) {
	a := Anchor{Ref: ref, At: at}
	for _, kv := range strings.Split(rule, ";") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "off":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return a, fmt.Errorf("inbox: anchor rule %q: %w", rule, err)
			}
			a.Offset = time.Duration(n)
		case "tz":
			a.TimeZone = v
		case "at":
			c, err := recipient.ParseClock(v)
			if err != nil {
				return a, fmt.Errorf("inbox: anchor rule %q: %w", rule, err)
			}
			a.Clock = &c
		}
	}
	return a, nil
}

// MoveAnchor moves every pending message anchored to ref to follow the
// booking's or event's new time (C15) and returns how many deliveries
// moved. Deliveries already claimed by a dispatcher are left as they are.
func (in *Inbox) MoveAnchor(ctx context.Context, ref string, at time.Time) (int, error) {
	ds, err := in.store.Scheduled(ctx, ref)
	if err != nil {
		return 0, wrapStore("scheduled", err)
	}
	n := 0
	moved := map[string]time.Time{} // message ID → its new due time
	for _, d := range ds {
		a, err := decodeAnchor(ref, d.AnchorRule, at)
		if err != nil {
			return n, err
		}
		due, err := a.due()
		if err != nil {
			return n, err
		}
		now := in.now()
		changed := false
		_, err = in.updateDelivery(ctx, d.ID, func(d *Delivery) bool {
			changed = false
			if d.Status.Current != status.Scheduled || d.ClaimedUntil.After(now) || d.DueAt.Equal(due) {
				return false
			}
			d.DueAt, changed = due, true
			return true
		})
		if err != nil {
			return n, err
		}
		if changed {
			n++
			moved[d.MessageID] = due
		}
	}
	for id, due := range moved {
		if err := in.reschedule(ctx, id, due); err != nil {
			return n, err
		}
	}
	return n, nil
}

// reschedule sets the ScheduledFor of a stored message that moved (C15).
func (in *Inbox) reschedule(ctx context.Context, messageID string, due time.Time) error {
	m, err := in.store.Message(ctx, messageID)
	if err != nil {
		return wrapStore("message "+messageID, err)
	}
	if m.ScheduledFor.Equal(due) {
		return nil
	}
	_, err = in.modify(ctx, m.ThreadID, func(t *Thread, w *store.ThreadWrite) error {
		w.Times = &store.MessageTimes{MessageID: m.ID, ScheduledFor: due, SentAt: m.SentAt}
		return nil
	})
	return err
}

// CancelAnchor cancels every pending message anchored to ref (the booking
// or event was cancelled, C15) and returns how many deliveries it
// cancelled.
func (in *Inbox) CancelAnchor(ctx context.Context, ref string) (int, error) {
	ds, err := in.store.Scheduled(ctx, ref)
	if err != nil {
		return 0, wrapStore("scheduled", err)
	}
	n := 0
	for _, d := range ds {
		ok, err := in.cancelDelivery(ctx, d.ID, "anchor cancelled")
		if err != nil && !errors.Is(err, ErrTooLate) {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// CancelScheduled cancels a scheduled message until it is due (C8). A
// delivery a dispatcher has already claimed cannot be cancelled: the error
// then matches ErrTooLate and the others are cancelled all the same.
func (in *Inbox) CancelScheduled(ctx context.Context, messageID string) (int, error) {
	n, after := 0, ""
	var late error
	for {
		ds, err := in.store.Deliveries(ctx, store.DeliveryQuery{MessageID: messageID, After: after, Limit: 500})
		if err != nil {
			return n, wrapStore("deliveries", err)
		}
		for _, d := range ds {
			ok, err := in.cancelDelivery(ctx, d.ID, "cancelled")
			switch {
			case errors.Is(err, ErrTooLate):
				late = err
			case err != nil:
				return n, err
			case ok:
				n++
			}
		}
		if len(ds) < 500 {
			break
		}
		after = ds[len(ds)-1].ID
	}
	return n, late
}

func (in *Inbox) cancelDelivery(ctx context.Context, id, reason string) (bool, error) {
	now := in.now()
	var late bool
	cancelled := false
	_, err := in.updateDeliveryEv(ctx, Delivery{ID: id}, func(d *Delivery) bool {
		late, cancelled = false, false
		if d.Status.Current == status.Pending && !d.Sending.IsZero() {
			late = true // being sent (C8)
			return false
		}
		if d.Status.Current != status.Scheduled {
			return false
		}
		if d.ClaimedUntil.After(now) || !d.DueAt.After(now) {
			late = true
			return false
		}
		_, _ = d.Status.Apply(status.Change{Status: status.Cancelled, At: now, Raw: reason})
		d.Reason = reason
		cancelled = true
		return true
	}, writeEvents{of: func(d *Delivery) []Event {
		return []Event{{Type: EventStatusChanged, DeliveryID: id, Status: status.Cancelled, At: now}}
	}})
	if err != nil {
		return false, err
	}
	if late {
		return false, fmt.Errorf("inbox: delivery %s: %w", id, ErrTooLate)
	}
	return cancelled, nil
}

// Dispatch sends the scheduled deliveries that are due, at most limit of
// them (0 means 500), and returns how many it handled. It claims them from
// the store first, so several dispatchers on one store never send one twice
// (C8). At send time eligibility is checked again: a contact who opted out
// meanwhile is not sent to, and the delivery is cancelled with the reason;
// a marketing message due in the recipient's quiet hours is moved to the
// next allowed time (R8). When the inbox shuts down (Shutdown) it stops
// between two deliveries, gives back the claims of those it did not send,
// and returns how many it handled with an error matching ErrClosed.
func (in *Inbox) Dispatch(ctx context.Context, limit int) (handled int, err error) {
	if err := in.begin("dispatch"); err != nil {
		return 0, err
	}
	defer in.work.leave()
	ctx, span := in.obs.startRun(ctx, "inbox.Dispatch")
	defer func() { in.obs.endRun(span, err, telemetry.CountKey.Int(handled)) }()
	if limit <= 0 {
		limit = 500
	}
	now := in.now()
	ds, err := in.store.ClaimDue(ctx, now, now.Add(in.lease), limit)
	if err != nil {
		return 0, wrapStore("claim", err)
	}
	msgs := map[string]*dispatchJob{}
	for i, d := range ds {
		if in.work.closing() {
			// shutting down: another instance sends the rest at once
			err := fmt.Errorf("inbox: dispatch: %w", ErrClosed)
			if rerr := in.release(ctx, ds[i:]); rerr != nil {
				err = fmt.Errorf("%w; %w", err, rerr)
			}
			ds = ds[:i]
			if merr := in.markAll(ctx, msgs); merr != nil {
				err = fmt.Errorf("%w; %w", err, merr)
			}
			return i, err
		}
		job := msgs[d.MessageID]
		if job == nil {
			if job, err = in.newDispatchJob(ctx, d.MessageID); err != nil {
				return 0, err
			}
			msgs[d.MessageID] = job
		}
		if err := in.dispatchOne(ctx, job, d); err != nil {
			return 0, err
		}
	}
	return len(ds), in.markAll(ctx, msgs)
}

// markAll marks sent the messages of the jobs that sent something.
func (in *Inbox) markAll(ctx context.Context, msgs map[string]*dispatchJob) error {
	for _, job := range msgs {
		if job.sent > 0 {
			if err := in.markSent(ctx, job.msg, job.preview); err != nil {
				return err
			}
		}
	}
	return nil
}

type dispatchJob struct {
	msg     Message
	thread  Thread
	f       *fanout
	content content  // what the message sends, rendered for each delivery
	src     *sources // where its template values come from
	sent    int
	preview string // the thread's preview once sent: what a direct message's recipient got
	missing error  // why the message cannot be sent any more
}

func (in *Inbox) newDispatchJob(ctx context.Context, messageID string) (*dispatchJob, error) {
	m, err := in.Message(ctx, messageID)
	if err != nil {
		return nil, err
	}
	th, err := in.Thread(ctx, m.ThreadID)
	if err != nil {
		return nil, err
	}
	job := &dispatchJob{msg: m, thread: th, f: &fanout{in: in, msg: m, replyTo: in.replyAddress}, content: content{kind: m.Kind}}
	if in.channels == nil {
		return job, nil
	}
	job.f.sender, _ = in.channels.Sender(m.Kind)
	job.f.ident, _ = in.channels.Identity(m.Kind, m.Identity)
	if ref, ok := strings.CutPrefix(m.Template, "whatsapp:"); ok && m.Kind == channel.WhatsApp {
		// the template is looked up again: it may have been paused or
		// withdrawn since it was scheduled (C10)
		name, lang, _ := strings.Cut(ref, ":")
		var w *ptemplate.WhatsAppTemplate
		if in.waTemplates != nil {
			w, _ = in.waTemplates(name, lang)
		}
		switch {
		case w == nil:
			job.missing = fmt.Errorf("inbox: whatsapp template %q (%s) is not known any more: %w", name, lang, channel.ErrPermanent)
			return job, nil
		case !w.Approved():
			job.missing = fmt.Errorf("inbox: %w: %w", channel.ErrPermanent, templateState(w))
			return job, nil
		}
		job.f.wa, job.content.wa = w, w
	} else if m.Templated && !m.Source.IsZero() {
		job.content.tpl, err = ptemplate.Parse(in.catalog, ptemplate.Source{Name: m.Template, Subject: m.Source.Subject, Text: m.Source.Text, HTML: m.Source.HTML}, ptemplate.Options{})
		if err != nil {
			job.missing = fmt.Errorf("inbox: template %q: %w: %w", m.Template, channel.ErrPermanent, err)
			return job, nil
		}
	}
	if job.content.templated() {
		var ev *EventInfo
		var aud *AudienceInfo
		// the thread's event or audience, read only when the template uses
		// it: a large audience is not read again for every round
		if th.Subject.Kind != store.Contact && in.dir != nil && job.content.uses("Event", "Audience") {
			p := &plan{thread: th}
			if err := in.groupOf(ctx, p); err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			ev, aud = p.event, p.audience
		}
		if job.src, err = in.sources(ctx, th, ev, aud, m.Author, nil); err != nil {
			return nil, err
		}
		job.src.setUses(job.content.tpl, job.content.wa)
	}
	return job, nil
}

func (in *Inbox) dispatchOne(ctx context.Context, job *dispatchJob, d Delivery) error {
	now := in.now()
	if job.f.sender == nil {
		_, err := job.f.finish(ctx, d, channel.Receipt{}, fmt.Errorf("inbox: %s %w", job.msg.Kind, channel.ErrNotRegistered), 0, false)
		return err
	}
	if job.missing != nil {
		_, err := job.f.finish(ctx, d, channel.Receipt{}, job.missing, 0, false)
		return err
	}
	c, err := in.contactOf(ctx, Subject{Kind: store.Contact, ID: d.ContactID})
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		c = recipient.Contact{ID: d.ContactID}
	}
	if c.Address(job.msg.Kind) == "" {
		switch job.msg.Kind {
		case channel.Email:
			c.Email = d.Address
		case channel.SMS, channel.MMS, channel.WhatsApp:
			c.Phone = d.Address
		}
	}
	cs, err := in.addFacts(ctx, []recipient.Contact{c}, job.msg.Kind, nil)
	if err != nil {
		return err
	}
	c = cs[0]
	purpose := recipient.Transactional
	if job.msg.Marketing {
		purpose = recipient.Marketing
	}
	// an approved WhatsApp template is what the job looked up (C10)
	facts := recipient.Facts{Now: now, Automatic: true, ApprovedTemplate: job.f.wa != nil}
	if c.Attributes != nil {
		facts.LastInboundWhatsApp, _ = c.Attributes[lastWAKey].(time.Time)
		facts.GuestWrote, _ = c.Attributes[guestKey].(bool)
	}
	if v := in.rules.Check(c, job.msg.Kind, purpose, facts); v.Level == recipient.Blocked {
		reason := v.Err().Error()
		_, err := in.updateDelivery(ctx, d.ID, func(d *Delivery) bool {
			_, _ = d.Status.Apply(status.Change{Status: status.Cancelled, At: now, Raw: "not eligible", ErrorMessage: reason})
			d.Reason = "not sent: " + reason
			return true
		})
		return err
	}
	if at := in.rules.SendTime(d.DueAt, c, purpose); at.After(now) {
		_, err := in.updateDelivery(ctx, d.ID, func(d *Delivery) bool {
			d.DueAt, d.ClaimedUntil = at, time.Time{}
			return true
		})
		if err == nil && job.msg.Recipients == 1 {
			err = in.reschedule(ctx, job.msg.ID, at)
		}
		return err
	}
	// a push token retired since the delivery was addressed: the contact's
	// current device instead (R2)
	if d, err = in.readdress(ctx, d, c); err != nil {
		return err
	}
	// what the recipient is sent, rendered now with the current records
	// (C5, C8); the values given with the send are not kept, so a template
	// that needs them goes as it was rendered when it was scheduled
	var params []string
	rendered := false
	switch {
	case job.content.templated():
		r, err := in.render(ctx, &job.content, job.src, c)
		switch {
		case err == nil:
			in.measure(&r, job.msg.Kind, d.Address, lastWA(c), job.f.wa)
			d.Subject, d.Text, d.HTML, d.SMS, d.Cost = r.subject, r.text, r.html, r.smsInfo(), r.cost
			params, rendered = r.params, true
		case job.content.tpl != nil && (d.Text != "" || d.HTML != ""):
		default:
			_, err := job.f.finish(ctx, d, channel.Receipt{}, fmt.Errorf("%w: %w", channel.ErrPermanent, err), 0, false)
			return err
		}
	case d.Subject == "" && d.Text == "" && d.HTML == "":
		// recorded without its recipient's content: the message's
		d.Subject, d.Text, d.HTML = job.msg.Subject, job.msg.Text, job.msg.HTML
	}
	in.obs.late(ctx, job.msg.Kind, now.Sub(d.DueAt))
	out, err := job.f.one(ctx, in.limiter(job.f.ident), d, params, rendered, nil)
	if err != nil {
		return err
	}
	if out.Status.Current != status.Scheduled && out.Status.Current != status.Failed {
		job.sent++
		job.preview = job.msg.Text
		if job.thread.Subject.Kind == store.Contact {
			job.preview = out.Text
		}
		if in.mirrors(job.msg, job.thread) {
			return in.mirror1(ctx, job.msg, out)
		}
	}
	return nil
}

// latestDelivered returns the ID of the newest message of a thread that
// was received or sent, "" when there is none (T6).
func (in *Inbox) latestDelivered(ctx context.Context, threadID string) (string, error) {
	q := store.MessageQuery{ThreadID: threadID, Newest: true, Limit: 20}
	for {
		page, err := in.store.Messages(ctx, q)
		if err != nil {
			return "", wrapStore("latest message", err)
		}
		for _, m := range page {
			if m.Direction == store.Inbound || !m.SentAt.IsZero() {
				return m.ID, nil
			}
		}
		if len(page) < q.Limit {
			return "", nil
		}
		q.After = page[len(page)-1].ID
	}
}

// markSent applies the thread rules of a sent message once its scheduled
// time came (T4, T9, T10, T18) and records when it went (C8); the thread's
// preview becomes text.
func (in *Inbox) markSent(ctx context.Context, m Message, text string) error {
	_, err := in.modify(ctx, m.ThreadID, func(t *Thread, w *store.ThreadWrite) error {
		now := in.now()
		changed := false
		if m.SentAt.IsZero() {
			w.Times = &store.MessageTimes{MessageID: m.ID, ScheduledFor: m.ScheduledFor, SentAt: now}
			changed = true
		}
		if t.LastMessageAt.Before(now) {
			touch(t, text, now)
			t.SortTime = maxTime(t.SortTime, now)
			t.Closed, t.Archived = false, false
			if m.Origin != store.Automatic && m.Origin != store.Scheduled {
				t.Dormant = false
			}
			changed = true
		}
		if !changed {
			return errNoChange
		}
		return nil
	})
	return err
}

// RunDispatcher calls Recover and then Dispatch every interval until ctx
// ends, then returns ctx's error, or until the inbox shuts down (Shutdown,
// Close), then returns an error matching ErrClosed. Errors of single rounds
// are logged and the loop goes on.
func (in *Inbox) RunDispatcher(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("inbox: %w: dispatcher interval %v", ErrInvalidArgument, every)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if in.work.closing() {
			return fmt.Errorf("inbox: dispatcher: %w", ErrClosed)
		}
		if err := in.dispatchRound(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-in.work.quit:
			return fmt.Errorf("inbox: dispatcher: %w", ErrClosed)
		case <-t.C:
		}
	}
}

// dispatchRound is one round of RunDispatcher, in a span of its own; it
// returns ctx's error when ctx ended.
func (in *Inbox) dispatchRound(ctx context.Context) (err error) {
	rctx, span := in.obs.startRound(ctx)
	defer func() { in.obs.endRun(span, err) }()
	if _, err := in.Recover(rctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		in.log.ErrorContext(rctx, "inbox: recover", "err", err)
	}
	for {
		n, err := in.Dispatch(rctx, 0)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, ErrClosed) {
				return err
			}
			in.log.ErrorContext(rctx, "inbox: dispatch", "err", err)
			return nil
		}
		if n < 500 {
			return nil
		}
	}
}

// SentQuery selects deliveries of outbound messages across all threads for a
// campaign dashboard (M7). Zero fields do not filter.
type SentQuery struct {
	Phone    string
	Email    string
	Campaign string
	Kind     channel.Kind
	Status   status.Status
	// CheckIn and CheckOut ranges: [From, To).
	CheckInFrom, CheckInTo   time.Time
	CheckOutFrom, CheckOutTo time.Time
	// Cursor is the Next of the previous page; "" for the first page.
	Cursor string
	// Limit is the page size: DefaultPageSize when zero, MaxPageSize when
	// larger; negative is invalid.
	Limit int
}

// Sent returns one page of deliveries of sent messages, newest first (M7).
// A phone number is matched in any format the recipient rules' default
// region can parse ("06 12 34 56 78" as well as "+33612345678").
func (in *Inbox) Sent(ctx context.Context, q SentQuery) (DeliveryPage, error) {
	n, err := pageLimit(q.Limit)
	if err != nil {
		return DeliveryPage{}, err
	}
	after, err := idCursor(q.Cursor, sentCursor)
	if err != nil {
		return DeliveryPage{}, err
	}
	addr := in.address(channel.Email, q.Email)
	if q.Phone != "" {
		addr = in.address(channel.SMS, q.Phone)
	}
	ds, err := in.store.Sent(ctx, store.SentQuery{Address: addr, Campaign: q.Campaign, Kind: q.Kind, Status: q.Status,
		CheckInFrom: q.CheckInFrom, CheckInTo: q.CheckInTo, CheckOutFrom: q.CheckOutFrom, CheckOutTo: q.CheckOutTo,
		After: after, Limit: n + 1})
	if err != nil {
		return DeliveryPage{}, wrapStore("sent", err)
	}
	if len(ds) > n {
		return DeliveryPage{Deliveries: ds[:n], Next: encodeCursor(sentCursor, ds[n-1].ID)}, nil
	}
	return DeliveryPage{Deliveries: ds}, nil
}

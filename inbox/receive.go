package inbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// previewLen is the length, in runes, of a thread's preview.
const previewLen = 100

var _ channel.Receiver = (*Inbox)(nil)

// Receive stores an inbound message; it implements channel.Receiver for
// webhook handlers. See ReceiveMessage.
func (in *Inbox) Receive(ctx context.Context, msg channel.Inbound) error {
	_, err := in.ReceiveMessage(ctx, msg)
	return err
}

// ReceiveMessage stores an inbound message and returns it.
//
// A message whose provider ID an inbound message already has is not stored
// again: the stored one is returned (M5); outbound provider IDs do not
// count (an email carrying the Message-ID of one of our own is a new
// message). The message goes to the sender's contact thread (found through
// the directory by address, T2; a reply to a group message lands there
// too, M4), or to the thread its per-thread reply address names when that
// is a contact thread. It is unread (T5); it moves the thread up to its
// receive time unless the thread is muted (T4); it reopens a closed thread
// (T10), restores an archived one (T9) and wakes a dormant one (T18). An
// SMS, MMS or WhatsApp message whose whole text is a stop or start keyword
// opts the sender out of, or back into, that channel (R5) before the
// message is stored, unless it is a duplicate (M5 before R5: a STOP
// delivered again after a START does not opt out again).
//
// The input is made storable first (see ErrUnstorable): text becomes valid
// UTF-8 without NUL, over-long provider IDs and addresses are keyed, a
// provider time out of range becomes the arrival time, and the sender's
// phone number is normalised with the recipient rules' default region
// (R6). A message the store still refuses gives an error matching
// ErrUnstorable and channel.ErrInvalidMessage; any other error may succeed
// when retried.
func (in *Inbox) ReceiveMessage(ctx context.Context, raw channel.Inbound) (got Message, err error) {
	if err := in.begin("receive"); err != nil {
		return Message{}, err
	}
	defer in.work.leave()
	ctx, span := in.obs.startReceive(ctx, raw)
	defer func() { in.obs.endReceive(span, &got, err) }()
	err = unstorable(in.receive(ctx, &raw, &got))
	return got, err
}

// receive is ReceiveMessage without its span: it stores msg (which it
// cleans in place) and sets *got to the message stored. Its defer and
// ReceiveMessage's two are few enough, for the returns of each, that the
// compiler writes them inline at each return: with the four in one
// function of fifteen returns, the runtime ran them. That, and the
// inbound message and the result passed by pointer rather than copied,
// took the inbox's own part of a receive (its store and directory
// answering at once) from 570–640 ns to 490–500 ns.
func (in *Inbox) receive(ctx context.Context, msg *channel.Inbound, got *Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !msg.Kind.Valid() {
		return fmt.Errorf("inbox: receive: %w: kind %d", channel.ErrInvalidMessage, uint8(msg.Kind))
	}
	cleanInbound(msg)
	msg.From = in.address(msg.Kind, msg.From)
	if msg.From == "" && msg.ThreadToken == "" {
		return fmt.Errorf("inbox: receive: %w: no sender", channel.ErrInvalidMessage)
	}
	if kw := in.keyword(msg); kw != recipient.NoKeyword {
		// M5 before R5: only a message not stored yet applies its keyword.
		// A webhook whose first delivery failed after the keyword was
		// applied is not stored, so its retry applies it again, harmlessly.
		if msg.ProviderID != "" {
			m, err := in.store.MessageByProviderID(ctx, msg.ProviderID)
			if err == nil {
				*got = m
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return wrapStore("dedup", err)
			}
		}
		if err := in.applyKeyword(ctx, *msg, kw); err != nil {
			return err
		}
	}
	subject, err := in.inboundSubject(ctx, msg)
	if err != nil {
		return err
	}
	// One reading of the clock: when the thread is looked up, the message
	// created and, without a provider time, received. A try after a
	// conflict reads it again.
	now := in.now()
	var at time.Time
	if !msg.ReceivedAt.IsZero() {
		at = msg.ReceivedAt.Round(0).Truncate(time.Microsecond)
	}
	if at.IsZero() {
		at = now
	}
	var dup *Message
	checkDup := func() error {
		if msg.ProviderID == "" {
			return nil
		}
		m, err := in.store.MessageByProviderID(ctx, msg.ProviderID)
		switch {
		case err == nil:
			dup = &m
			return errNoChange
		case errors.Is(err, store.ErrNotFound):
			return nil
		}
		return wrapStore("dedup", err)
	}
	// the event is encoded into a reused buffer: the store copies it. So
	// is the message (a store keeps values by copy): a Message made for
	// each receive was 640 bytes of garbage. The buffer holds it (one pool
	// for both).
	eb := in.eventBuf()
	defer in.putEventBuf(eb)
	mp := eb.message()
	for try := range maxRetries {
		if err := in.conflictPause(ctx, try); err != nil {
			return err
		}
		if try > 0 {
			now = in.now()
		}
		// a duplicate never starts a thread: checked before one is created
		t, err := in.threadFor(ctx, subject, now, checkDup)
		if errors.Is(err, errNoChange) && dup != nil {
			*got = *dup
			return nil
		}
		if err != nil {
			return err
		}
		m := mp
		*m = Message{
			ID: in.newID(), ThreadID: t.ID, Direction: store.Inbound, Kind: msg.Kind,
			Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML, Attachments: msg.Attachments,
			Address: msg.From, ProviderID: msg.ProviderID,
			InReplyTo: msg.InReplyTo, Truncated: msg.Truncated, CreatedAt: now, SentAt: at, Unread: true,
		}
		if id, ok := in.identityFor(msg); ok {
			m.Identity = id
		}
		t.Messages++
		t.Unread++
		touch(&t, m.Text, at)
		if !t.MutedAt(now) && at.After(t.SortTime) {
			t.SortTime = at
		}
		t.LastInboundAt = maxTime(t.LastInboundAt, at)
		if msg.Kind == channel.WhatsApp {
			t.LastWhatsAppAt = maxTime(t.LastWhatsAppAt, at)
		}
		t.InboundKinds |= 1 << msg.Kind
		t.Closed, t.Archived, t.Dormant = false, false, false
		err = in.store.WriteThread(ctx, store.ThreadWrite{Thread: t, Message: m,
			Events: eb.encode(Event{Type: EventMessageReceived, ThreadID: t.ID, MessageID: m.ID, At: now})})
		switch {
		case err == nil:
			in.delivered(ctx)
			*got = *m
			return nil
		case errors.Is(err, store.ErrConflict):
			continue
		case errors.Is(err, store.ErrDuplicate):
			dup, derr := in.store.MessageByProviderID(ctx, msg.ProviderID)
			if derr != nil {
				return wrapStore("dedup", derr)
			}
			*got = dup
			return nil
		default:
			return wrapStore("receive", err)
		}
	}
	return fmt.Errorf("inbox: receive: %w", ErrConflict)
}

// identityFor names the sender identity an inbound message was sent to, when
// the host told the inbox about its identities; it is the To address
// otherwise.
func (in *Inbox) identityFor(msg *channel.Inbound) (string, bool) {
	if msg.To == "" {
		return "", false
	}
	return msg.To, true
}

// inboundSubject finds whose thread an inbound message belongs to.
func (in *Inbox) inboundSubject(ctx context.Context, msg *channel.Inbound) (Subject, error) {
	if msg.ThreadToken != "" {
		t, err := in.store.Thread(ctx, msg.ThreadToken)
		switch {
		case err == nil && t.Subject.Kind == store.Contact:
			return t.Subject, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return Subject{}, wrapStore("thread token", err)
		}
		if msg.From == "" {
			return Subject{}, fmt.Errorf("inbox: receive: %w: thread token %q names no contact thread and there is no sender", channel.ErrInvalidMessage, msg.ThreadToken)
		}
	}
	return in.subjectForAddress(ctx, msg.Kind, msg.From)
}

// keyword classifies an inbound SMS, MMS or WhatsApp text as a stop or
// start keyword (R5); other kinds, and a message without a sender, have
// none.
func (in *Inbox) keyword(msg *channel.Inbound) recipient.Keyword {
	if msg.From == "" || msg.Kind != channel.SMS && msg.Kind != channel.MMS && msg.Kind != channel.WhatsApp {
		return recipient.NoKeyword
	}
	switch k := in.keywords.Classify(msg.Text); k {
	case recipient.Stop, recipient.Start:
		return k
	}
	return recipient.NoKeyword
}

// applyKeyword applies a stop or start keyword (R5) of a message whose
// sender is in canonical form.
func (in *Inbox) applyKeyword(ctx context.Context, msg channel.Inbound, kw recipient.Keyword) error {
	out := kw == recipient.Stop
	addr := msg.From
	kinds := []channel.Kind{msg.Kind}
	if msg.Kind != channel.WhatsApp {
		kinds = []channel.Kind{channel.SMS, channel.MMS} // one number, one carrier opt-out
	}
	ev := EventOptedIn
	if out {
		ev = EventOptedOut
	}
	for i, k := range kinds {
		var events []Event
		if i == len(kinds)-1 {
			events = []Event{{Type: ev, Kind: msg.Kind, Address: addr}}
		}
		if err := in.setOptOut(ctx, k, addr, out, events...); err != nil {
			return err
		}
	}
	return nil
}

// OptedOut reports whether address opted out of kind through a stop keyword
// or a provider report (R5). The address may be written in any format the
// recipient rules read (R6).
func (in *Inbox) OptedOut(ctx context.Context, kind channel.Kind, address string) (bool, error) {
	addr := in.address(kind, address)
	m, err := in.optedOut(ctx, kind, []string{addr})
	if err != nil {
		return false, err
	}
	return m[addr], nil
}

// SetOptedOut records that address opted out of (or back into) kind, as
// a provider's report (an unsubscribed-recipient error) or the host says
// (R5).
func (in *Inbox) SetOptedOut(ctx context.Context, kind channel.Kind, address string, out bool) error {
	addr := in.address(kind, address)
	if !kind.Valid() || addr == "" {
		return fmt.Errorf("inbox: %w: kind %s, address %q", ErrInvalidArgument, kind, address)
	}
	ev := EventOptedIn
	if out {
		ev = EventOptedOut
	}
	return in.setOptOut(ctx, kind, addr, out, Event{Type: ev, Kind: kind, Address: addr})
}

// touch records a new message's time and text on its thread.
func touch(t *Thread, text string, at time.Time) {
	t.LastMessageAt = maxTime(t.LastMessageAt, at)
	t.LastActivityAt = maxTime(t.LastActivityAt, at)
	if !at.Before(t.LastMessageAt) {
		t.Preview = preview(text)
	}
}

func preview(s string) string {
	s = strings.TrimSpace(s)
	// no more runes than bytes: most texts are not counted
	if len(s) <= previewLen || utf8.RuneCountInString(s) <= previewLen {
		return s
	}
	n := 0
	for i := range s {
		if n == previewLen {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Outgoing describes an outbound message to record in a thread.
type Outgoing struct {
	// ThreadID is the thread to record it in.
	ThreadID string
	// Message is the message; its ID, ThreadID, Direction and CreatedAt are
	// set by the inbox. SentAt defaults to now; a ScheduledFor in the future
	// records a message that is not sent yet.
	Message Message
	// Deliveries are its recipients; IDs, MessageID, ThreadID, Kind and
	// CreatedAt are set by the inbox, and Sending is cleared (only the
	// inbox's own sends mark a delivery, see Recover). A direct message has
	// one. A delivery
	// without content of its own gets the message's (what its recipient is
	// sent) unless the message is Templated.
	Deliveries []Delivery
}

// RecordOutbound records an outbound message in a thread, with its
// deliveries, and returns it with the deliveries as stored. Sending it is
// the sending pipeline's work (or the host's); recording it applies the
// thread rules: it moves the thread to its send time even when muted (T4),
// marks the thread read when an agent wrote it there (T5: not a mirrored
// broadcast, M3, nor an automation), reopens and restores it (T9, T10),
// ends the author's typing indicator (T16), and wakes a dormant thread
// unless it is automatic (T18). A message scheduled for later changes only the thread's
// message count until it is sent.
//
// Texts are stored clean (see ErrUnstorable), recipients' addresses in
// canonical form (R6); a time outside years 1 to 9999 is refused with
// ErrInvalidArgument.
func (in *Inbox) RecordOutbound(ctx context.Context, o Outgoing) (Message, []Delivery, error) {
	if closed := in.begin("record"); closed != nil {
		return Message{}, nil, closed
	}
	defer in.work.leave()
	o.Deliveries = slices.Clone(o.Deliveries) // the caller keeps its own
	return in.recordOutbound(ctx, o)
}

// cleanDeliveries makes the deliveries of ds, of a message of kind,
// storable, their addresses canonical and their outbox marks clear.
func (in *Inbox) cleanDeliveries(kind channel.Kind, ds []Delivery) {
	for i := range ds {
		d := &ds[i]
		cleanDelivery(d)
		d.Address, d.Sending = in.address(kind, d.Address), time.Time{}
	}
}

// recordOutbound is RecordOutbound on deliveries it changes in place and
// returns: the caller made them for it and keeps no other use of them.
func (in *Inbox) recordOutbound(ctx context.Context, o Outgoing) (Message, []Delivery, error) {
	m := o.Message
	if !m.Kind.Valid() {
		return Message{}, nil, fmt.Errorf("inbox: record: %w: kind %d", ErrInvalidArgument, uint8(m.Kind))
	}
	if !validTime(m.ScheduledFor) || !validTime(m.SentAt) {
		return Message{}, nil, fmt.Errorf("inbox: record: %w: time out of range", ErrInvalidArgument)
	}
	cleanMessage(&m)
	for i := range o.Deliveries {
		d := &o.Deliveries[i]
		if !validTime(d.DueAt) || !validTime(d.CheckIn) || !validTime(d.CheckOut) || !validTime(d.ClaimedUntil) ||
			slices.ContainsFunc(d.Status.History, func(c status.Change) bool { return !validTime(c.At) }) {
			return Message{}, nil, fmt.Errorf("inbox: record: %w: delivery time out of range", ErrInvalidArgument)
		}
	}
	// each delivery cleaned on its own: a broadcast's in parts, side by
	// side (the closure a goroutine needs is made only then)
	if dels, kind, parts := o.Deliveries, m.Kind, partsOf(len(o.Deliveries)); parts <= 1 {
		in.cleanDeliveries(kind, dels)
	} else {
		inParts(len(dels), parts, func(_, lo, hi int) { in.cleanDeliveries(kind, dels[lo:hi]) })
	}
	var (
		ds  []Delivery
		err error
	)
	t, err := in.modify(ctx, o.ThreadID, func(t *Thread, w *store.ThreadWrite) error {
		now := in.now()
		m.ID, m.ThreadID, m.Direction, m.CreatedAt = in.newID(), t.ID, store.Outbound, now
		if m.Origin == 0 {
			m.Origin = store.Direct
		}
		m.Unread = false
		scheduled := m.ScheduledFor.After(now)
		if m.SentAt.IsZero() && !scheduled {
			m.SentAt = now
		}
		ds = o.Deliveries // written again by a try after a conflict
		for i := range ds {
			d := &ds[i]
			d.ID, d.MessageID, d.ThreadID, d.Kind, d.CreatedAt = in.newID(), m.ID, t.ID, m.Kind, now
			if d.Subject == "" && d.Text == "" && d.HTML == "" && !m.Templated {
				d.Subject, d.Text, d.HTML = m.Subject, m.Text, m.HTML // what its recipient is sent
			}
			if d.Campaign == "" {
				d.Campaign = m.Broadcast
			}
			d.Version = 0
		}
		m.Recipients = len(ds)
		t.Messages++
		if !scheduled {
			touch(t, m.Text, m.SentAt)
			t.SortTime = maxTime(t.SortTime, m.SentAt)
			// only an agent's own message in the thread reads it (T5): a
			// mirrored broadcast or an automation leaves it unanswered (M3)
			if t.Unread > 0 && m.Author.Agent != "" && m.MirrorOf == "" {
				t.Unread = 0
				w.ReadAll = true
			}
			t.Closed, t.Archived = false, false
			if m.Origin != store.Automatic {
				t.Dormant = false
			}
		}
		w.Message = &m
		w.Deliveries = ds
		w.Events = in.feedEvents(Event{Type: EventMessageSent, ThreadID: t.ID, MessageID: m.ID})
		return nil
	})
	if err != nil {
		return Message{}, nil, err
	}
	for i := range ds {
		ds[i].Version = 1
	}
	in.obs.recorded(ctx, m.Kind, ds)
	if m.Author.Agent != "" {
		in.stopTyping(ctx, t.ID, m.Author.Agent)
	}
	return m, ds, nil
}

// ApplyStatus merges a provider's status update into the delivery with its
// provider ID (S2, S3); it implements channel.Receiver. Updates are
// idempotent and order-independent: the delivery keeps the highest status
// and every distinct provider event in its history, ordered by the
// provider's event time (the arrival time when the update has none); an
// event already recorded changes nothing.
//
// An update for a provider ID no delivery has may be racing the write of
// its own send's outcome. When this Inbox holds that outcome in memory (the
// store refused it, see Options.OutcomeRetry) it is written first; when the
// update carries the reference of a delivery whose provider ID was never
// recorded (channel.StatusUpdate.Reference), that delivery gets the
// provider ID. Otherwise ApplyStatus looks again, with growing pauses, for
// up to Options.StatusWait. When no delivery appears it gives up — a
// message sent outside Parley, say — publishes EventUnknownStatus, logs it
// and returns an error matching channel.ErrUnknownMessage, which webhook
// handlers acknowledge: retrying cannot help. A provider ID it gave up on
// recently is looked up once, without waiting again.
func (in *Inbox) ApplyStatus(ctx context.Context, u channel.StatusUpdate) error {
	_, err := in.applyStatus(ctx, u, false)
	return err
}

// ApplyStatusUpdate is ApplyStatus returning the delivery as it is now.
func (in *Inbox) ApplyStatusUpdate(ctx context.Context, u channel.StatusUpdate) (Delivery, error) {
	return in.applyStatus(ctx, u, true)
}

// applyStatus is ApplyStatus; with want it returns the delivery. It keeps
// the span and the count of work in flight, and applyUpdate the rest, so
// that the compiler writes the defers inline (see receive).
func (in *Inbox) applyStatus(ctx context.Context, u channel.StatusUpdate, want bool) (got Delivery, err error) {
	if err := in.begin("status update"); err != nil {
		return Delivery{}, err
	}
	defer in.work.leave()
	ctx, span := in.obs.startStatus(ctx, u.Kind, u.ProviderID, u.Status, u.Raw)
	defer func() { in.obs.endStatus(span, &got, err) }()
	got, err = in.applyUpdate(ctx, u, want)
	return got, unstorable(err)
}

// applyUpdate is applyStatus without its span.
func (in *Inbox) applyUpdate(ctx context.Context, u channel.StatusUpdate, want bool) (Delivery, error) {
	u = cleanStatus(u)
	if u.ProviderID == "" || !u.Status.Valid() {
		return Delivery{}, fmt.Errorf("inbox: status update: %w: provider ID %q, status %s", channel.ErrInvalidMessage, u.ProviderID, u.Status)
	}
	at := u.At.Round(0).Truncate(time.Microsecond)
	if at.IsZero() {
		at = in.now()
	}
	if sm, ok := in.base.(store.StatusMerger); ok { // the host's store: the traced one hides it
		// merged where the delivery is kept; a provider ID no delivery has
		// yet takes the way below
		d, err := in.mergeStatus(ctx, sm, u, at, want)
		if !errors.Is(err, store.ErrNotFound) {
			return d, err
		}
	}
	for try := range maxRetries {
		if err := in.conflictPause(ctx, try); err != nil {
			return Delivery{}, err
		}
		d, err := in.store.DeliveryByProviderID(ctx, u.ProviderID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// only this path reads the recipient and reference: clean them here
			ru := cleanStatusRefs(u)
			var found bool
			if d, found, err = in.unrecorded(ctx, ru); err != nil {
				return Delivery{}, err
			}
			if found {
				break
			}
			if d, err = in.awaitDelivery(ctx, ru); err != nil {
				return Delivery{}, err
			}
		case err != nil:
			return Delivery{}, wrapStore("delivery", err)
		}
		prev := d.Status.Current
		accepted, err := d.Status.Apply(status.Change{Status: u.Status, At: at, Raw: u.Raw, ErrorCode: u.ErrorCode,
			ErrorMessage: u.ErrorMessage, Arrived: u.At.IsZero()})
		if err != nil {
			return Delivery{}, fmt.Errorf("inbox: %w", err)
		}
		if !accepted {
			return d, nil
		}
		eb := in.eventBuf()
		err = in.store.WriteDelivery(ctx, d, eb.encode(statusEvent(d))...)
		in.putEventBuf(eb)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return Delivery{}, wrapStore("write delivery", err)
		}
		d.Version++
		in.delivered(ctx)
		in.obs.changed(ctx, prev, d)
		return d, nil
	}
	return Delivery{}, fmt.Errorf("inbox: status update %s: %w", u.ProviderID, ErrConflict)
}

// mergeStatus merges u, at time at, into its delivery with the store's
// StatusMerger and publishes the change; with want it reads the delivery
// as it is after the merge. It returns ErrNotFound, unwrapped, when no
// delivery has u's provider ID.
func (in *Inbox) mergeStatus(ctx context.Context, sm store.StatusMerger, u channel.StatusUpdate, at time.Time, want bool) (Delivery, error) {
	eb := in.eventBuf()
	eb.pid = u.ProviderID
	r, err := sm.MergeStatus(ctx, u.ProviderID, status.Change{Status: u.Status, At: at, Raw: u.Raw, ErrorCode: u.ErrorCode,
		ErrorMessage: u.ErrorMessage, Arrived: u.At.IsZero()}, eb.merged)
	in.putEventBuf(eb)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Delivery{}, err
	case errors.Is(err, status.ErrUnknown):
		return Delivery{}, fmt.Errorf("inbox: %w", err)
	case err != nil:
		return Delivery{}, wrapStore("merge status", err)
	}
	if r.Changed {
		in.delivered(ctx)
		in.obs.moved(ctx, r.Kind, r.Previous, r.Status)
	}
	if !want { // what the status span says of it
		return Delivery{ID: r.DeliveryID, ThreadID: r.ThreadID, MessageID: r.MessageID, Kind: r.Kind,
			ProviderID: u.ProviderID, Status: status.Record{Current: r.Status}}, nil
	}
	d, err := in.store.Delivery(ctx, r.DeliveryID)
	if err != nil {
		return Delivery{}, wrapStore("delivery", err)
	}
	return d, nil
}

package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
	"github.com/parleyhq/parley/status"
)

// msgRec is a stored message, compact: the fields every message has are
// inline, those of outbound messages and the rare ones hang off pointers
// that stay nil when they are all zero. words comes first: a search for
// several slotted words reads only it.
type msgRec struct {
	words      slotBits // the slots of its words
	id         string
	text       string
	identity   string
	address    string
	providerID string
	created    int64 // stamp of CreatedAt (see locTable)
	sent       int64 // stamp of SentAt
	num        uint32
	createdLoc uint8
	sentLoc    uint8
	dir        store.Direction
	kind       channel.Kind
	origin     store.Origin
	unread     bool
	out        *msgOut
	rare       *msgRare
}

// msgOut holds what outbound messages have.
type msgOut struct {
	author     store.Author
	cost       channel.Cost
	sms        store.SMSInfo
	recipients int
	templated  bool
	marketing  bool
	counts     status.Counts
	dels       []*delRec // by ID
	// recs are the records of dels side by side, in the order they were
	// written (see WriteDeliveries)
	recs []delRec
}

// msgRare holds the fields few messages have.
type msgRare struct {
	subject      string
	html         string
	broadcast    string
	template     string
	source       store.TemplateSource
	mirrorOf     string
	attachments  []channel.Attachment
	scheduledFor time.Time
	inReplyTo    []string
	groups       []string
	truncated    bool
	// exact marks CreatedAt and SentAt that have no stamp: they are kept
	// here, and created and sent are zero.
	exact        bool
	exactCreated time.Time
	exactSent    time.Time
}

// newMsgRec copies m into a record. Slices are deep-copied; the strings
// that are the message's own (ID, text, provider ID) are copied to the
// store's arena, the others are kept as they are (often shared with the
// thread or other messages). Call it under the write lock.
func (s *Store) newMsgRec(m *store.Message, num uint32) *msgRec {
	r := s.msgRecs.one()
	*r = msgRec{
		id: s.strs.keep(m.ID), text: s.strs.keep(m.Text), identity: m.Identity, address: m.Address, providerID: s.strs.keep(m.ProviderID),
		num: num, dir: m.Direction, kind: m.Kind, origin: m.Origin, unread: m.Unread,
	}
	var okC, okS bool
	r.created, r.createdLoc, okC = s.locs.encode(m.CreatedAt)
	r.sent, r.sentLoc, okS = s.locs.encode(m.SentAt)
	exact := !okC || !okS
	if m.Author != (store.Author{}) || !m.Cost.IsZero() || m.Cost.Currency != "" || m.SMS != (store.SMSInfo{}) || m.Recipients != 0 ||
		m.Templated || m.Marketing {
		r.out = s.msgOuts.one()
		*r.out = msgOut{author: m.Author, cost: m.Cost, sms: m.SMS, recipients: m.Recipients, templated: m.Templated, marketing: m.Marketing}
	}
	if m.Subject != "" || m.HTML != "" || m.Broadcast != "" || m.Template != "" || !m.Source.IsZero() || m.MirrorOf != "" ||
		len(m.Attachments) > 0 || !m.ScheduledFor.IsZero() || len(m.InReplyTo) > 0 || len(m.Groups) > 0 || m.Truncated || exact {
		r.rare = &msgRare{
			subject: m.Subject, html: m.HTML, broadcast: m.Broadcast, template: m.Template, source: m.Source, mirrorOf: m.MirrorOf,
			attachments: cloneAttachments(m.Attachments), scheduledFor: m.ScheduledFor,
			inReplyTo: slices.Clone(m.InReplyTo), groups: slices.Clone(m.Groups), truncated: m.Truncated,
		}
		if exact {
			r.created, r.sent, r.createdLoc, r.sentLoc = 0, 0, 0, 0
			r.rare.exact, r.rare.exactCreated, r.rare.exactSent = true, m.CreatedAt, m.SentAt
		}
	}
	return r
}

// setTimes sets a stored message's ScheduledFor and SentAt
// (store.ThreadWrite.Times). Call it under the write lock.
func (s *Store) setTimes(r *msgRec, scheduled, sent time.Time) {
	ns, loc, ok := s.locs.encode(sent)
	if ok && (r.rare == nil || !r.rare.exact) {
		r.sent, r.sentLoc = ns, loc
	} else {
		if r.rare == nil {
			r.rare = &msgRare{}
		}
		if !r.rare.exact {
			r.rare.exact, r.rare.exactCreated = true, s.createdAt(r)
			r.created, r.createdLoc = 0, 0
		}
		r.rare.exactSent, r.sent, r.sentLoc = sent, 0, 0
	}
	if !scheduled.IsZero() && r.rare == nil {
		r.rare = &msgRare{}
	}
	if r.rare != nil {
		r.rare.scheduledFor = scheduled
	}
}

// createdAt returns the message's CreatedAt.
func (s *Store) createdAt(r *msgRec) time.Time {
	if r.rare != nil && r.rare.exact {
		return r.rare.exactCreated
	}
	return s.locs.decode(r.created, r.createdLoc)
}

// before reports whether message a comes before b in message order (M6):
// CreatedAt, then ID.
func (s *Store) msgBefore(a, b *msgRec) bool {
	if a.rare != nil && a.rare.exact || b.rare != nil && b.rare.exact {
		if at, bt := s.createdAt(a), s.createdAt(b); !at.Equal(bt) {
			return at.Before(bt)
		}
		return a.id < b.id
	}
	if a.created != b.created {
		return a.created < b.created
	}
	return a.id < b.id
}

// threadOf returns the thread of message r.
func (s *Store) threadOf(r *msgRec) *threadRec { return s.threadNum[s.msgThread[r.num]] }

// value returns a copy of the message that shares no memory with the store.
func (s *Store) value(r *msgRec) store.Message {
	m := store.Message{
		ID: r.id, ThreadID: s.threadOf(r).t.ID, Direction: r.dir, Kind: r.kind, Origin: r.origin,
		Text: r.text, Identity: r.identity, Address: r.address,
		CreatedAt: s.locs.decode(r.created, r.createdLoc), SentAt: s.locs.decode(r.sent, r.sentLoc),
		ProviderID: r.providerID, Unread: r.unread,
	}
	if o := r.out; o != nil {
		m.Author, m.Cost, m.SMS, m.Recipients, m.Counts = o.author, o.cost, o.sms, o.recipients, o.counts
		m.Templated, m.Marketing = o.templated, o.marketing
	}
	if x := r.rare; x != nil {
		m.Subject, m.HTML, m.Broadcast, m.Template, m.Source, m.MirrorOf = x.subject, x.html, x.broadcast, x.template, x.source, x.mirrorOf
		m.Attachments = cloneAttachments(x.attachments)
		m.ScheduledFor = x.scheduledFor
		m.InReplyTo = slices.Clone(x.inReplyTo)
		m.Groups = slices.Clone(x.groups)
		m.Truncated = x.truncated
		if x.exact {
			m.CreatedAt, m.SentAt = x.exactCreated, x.exactSent
		}
	}
	return m
}

func (r *msgRec) groups() []string {
	if r.rare == nil {
		return nil
	}
	return r.rare.groups
}

func cloneAttachments(as []channel.Attachment) []channel.Attachment {
	if as == nil {
		return nil
	}
	out := make([]channel.Attachment, len(as))
	for i, a := range as {
		out[i] = a.Clone()
	}
	return out
}

// msgPos returns the index of m in the ordered slice msgs, or where it
// would be inserted.
func (s *Store) msgPos(msgs []*msgRec, m *msgRec) int {
	i, _ := slices.BinarySearchFunc(msgs, m, func(e, t *msgRec) int {
		switch {
		case s.msgBefore(e, t):
			return -1
		case s.msgBefore(t, e):
			return 1
		}
		return 0
	})
	return i
}

// Message implements store.Store.
func (s *Store) Message(ctx context.Context, id string) (store.Message, error) {
	if err := ctx.Err(); err != nil {
		return store.Message{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.msgs.get(id)
	if !ok {
		return store.Message{}, notFound("message", id)
	}
	return s.value(r), nil
}

// MessageByProviderID implements store.Store: it finds inbound messages
// only.
func (s *Store) MessageByProviderID(ctx context.Context, providerID string) (store.Message, error) {
	if err := ctx.Err(); err != nil {
		return store.Message{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.msgByPID.get(providerID)
	if !ok {
		return store.Message{}, notFound("message with provider ID", providerID)
	}
	return s.value(r), nil
}

// Messages implements store.Store. It walks the thread's messages in order
// from q.After, applying the filters to each, and stops after q.Limit
// matches. An unknown thread, or a q.After that is not a message of the
// thread, gives ErrNotFound.
func (s *Store) Messages(ctx context.Context, q store.MessageQuery) ([]store.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Limit < 1 {
		return nil, invalid("message query limit %d", q.Limit)
	}
	want := textindex.MessageTerms(q.Terms)
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, ok := s.threads.get(q.ThreadID)
	if !ok {
		return nil, notFound("thread", q.ThreadID)
	}
	i, step := 0, 1
	if q.Newest {
		i, step = len(rec.msgs)-1, -1
	}
	if q.After != "" {
		a, ok := s.msgs.get(q.After)
		if !ok || s.threadOf(a) != rec {
			return nil, notFound("message", q.After)
		}
		i = s.msgPos(rec.msgs, a) + step
	}
	var sp *textindex.Splitter
	if len(want) > 0 {
		sp = s.words.Get().(*textindex.Splitter)
		defer s.words.Put(sp)
	}
	out := []store.Message{}
	for ; i >= 0 && i < len(rec.msgs) && len(out) < q.Limit; i += step {
		m := rec.msgs[i]
		if !s.matchMessage(m, &q) {
			continue
		}
		if len(want) > 0 {
			if !containsAll(sp.Split(m.text), want) {
				continue
			}
		}
		out = append(out, s.value(m))
	}
	return out, nil
}

func (s *Store) matchMessage(m *msgRec, q *store.MessageQuery) bool {
	if len(q.Kinds) > 0 && !slices.Contains(q.Kinds, m.kind) {
		return false
	}
	if !q.Since.IsZero() && s.createdAt(m).Before(q.Since) {
		return false
	}
	if !q.Until.IsZero() && !s.createdAt(m).Before(q.Until) {
		return false
	}
	if q.Direction != 0 && m.dir != q.Direction {
		return false
	}
	if q.Origin != 0 && m.origin != q.Origin {
		return false
	}
	if len(q.Groups) > 0 && !slices.ContainsFunc(m.groups(), func(g string) bool { return slices.Contains(q.Groups, g) }) {
		return false
	}
	return true
}

func containsAll(have [][]byte, want []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h []byte) bool { return string(h) == w }) {
			return false
		}
	}
	return true
}

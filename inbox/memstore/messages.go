package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/internal/textindex"
	"github.com/parleyhq/parley/status"
)

// msgRec is a stored message, compact: the fields every message has are
// inline, those of outbound messages and the rare ones hang off pointers
// that stay nil when they are all zero.
type msgRec struct {
	id         string
	text       string
	identity   string
	address    string
	providerID string
	thread     *threadRec
	created    time.Time
	sent       time.Time
	num        uint32
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
	dels       []*store.Delivery // by ID
}

// msgRare holds the fields few messages have.
type msgRare struct {
	subject      string
	html         string
	broadcast    string
	template     string
	mirrorOf     string
	attachments  []channel.Attachment
	scheduledFor time.Time
	inReplyTo    []string
	groups       []string
}

// newMsgRec copies m into a record. Slices are deep-copied; strings are
// immutable and kept as they are.
func newMsgRec(m *store.Message, thread *threadRec, num uint32) *msgRec {
	r := &msgRec{
		id: m.ID, text: m.Text, identity: m.Identity, address: m.Address, providerID: m.ProviderID,
		thread: thread, created: m.CreatedAt, sent: m.SentAt, num: num,
		dir: m.Direction, kind: m.Kind, origin: m.Origin, unread: m.Unread,
	}
	if m.Author != (store.Author{}) || !m.Cost.IsZero() || m.Cost.Currency != "" || m.SMS != (store.SMSInfo{}) || m.Recipients != 0 ||
		m.Templated || m.Marketing {
		r.out = &msgOut{author: m.Author, cost: m.Cost, sms: m.SMS, recipients: m.Recipients, templated: m.Templated, marketing: m.Marketing}
	}
	if m.Subject != "" || m.HTML != "" || m.Broadcast != "" || m.Template != "" || m.MirrorOf != "" ||
		len(m.Attachments) > 0 || !m.ScheduledFor.IsZero() || len(m.InReplyTo) > 0 || len(m.Groups) > 0 {
		r.rare = &msgRare{
			subject: m.Subject, html: m.HTML, broadcast: m.Broadcast, template: m.Template, mirrorOf: m.MirrorOf,
			attachments: cloneAttachments(m.Attachments), scheduledFor: m.ScheduledFor,
			inReplyTo: slices.Clone(m.InReplyTo), groups: slices.Clone(m.Groups),
		}
	}
	return r
}

// value returns a copy of the message that shares no memory with the store.
func (r *msgRec) value() store.Message {
	m := store.Message{
		ID: r.id, ThreadID: r.thread.t.ID, Direction: r.dir, Kind: r.kind, Origin: r.origin,
		Text: r.text, Identity: r.identity, Address: r.address, CreatedAt: r.created, SentAt: r.sent,
		ProviderID: r.providerID, Unread: r.unread,
	}
	if o := r.out; o != nil {
		m.Author, m.Cost, m.SMS, m.Recipients, m.Counts = o.author, o.cost, o.sms, o.recipients, o.counts
		m.Templated, m.Marketing = o.templated, o.marketing
	}
	if x := r.rare; x != nil {
		m.Subject, m.HTML, m.Broadcast, m.Template, m.MirrorOf = x.subject, x.html, x.broadcast, x.template, x.mirrorOf
		m.Attachments = cloneAttachments(x.attachments)
		m.ScheduledFor = x.scheduledFor
		m.InReplyTo = slices.Clone(x.inReplyTo)
		m.Groups = slices.Clone(x.groups)
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

// msgBefore reports whether a comes before b in message order (M6):
// CreatedAt, then ID.
func msgBefore(a, b *msgRec) bool {
	if !a.created.Equal(b.created) {
		return a.created.Before(b.created)
	}
	return a.id < b.id
}

// msgPos returns the index of m in the ordered slice msgs, or where it
// would be inserted.
func msgPos(msgs []*msgRec, m *msgRec) int {
	i, _ := slices.BinarySearchFunc(msgs, m, func(e, t *msgRec) int {
		switch {
		case msgBefore(e, t):
			return -1
		case msgBefore(t, e):
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
	r, ok := s.msgs[id]
	if !ok {
		return store.Message{}, notFound("message", id)
	}
	return r.value(), nil
}

// MessageByProviderID implements store.Store.
func (s *Store) MessageByProviderID(ctx context.Context, providerID string) (store.Message, error) {
	if err := ctx.Err(); err != nil {
		return store.Message{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.msgByPID[providerID]
	if !ok {
		return store.Message{}, notFound("message with provider ID", providerID)
	}
	return r.value(), nil
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
	rec, ok := s.threads[q.ThreadID]
	if !ok {
		return nil, notFound("thread", q.ThreadID)
	}
	i, step := 0, 1
	if q.Newest {
		i, step = len(rec.msgs)-1, -1
	}
	if q.After != "" {
		a, ok := s.msgs[q.After]
		if !ok || a.thread != rec {
			return nil, notFound("message", q.After)
		}
		i = msgPos(rec.msgs, a) + step
	}
	var sp *textindex.Splitter
	if len(want) > 0 {
		sp = s.words.Get().(*textindex.Splitter)
		defer s.words.Put(sp)
	}
	out := []store.Message{}
	for ; i >= 0 && i < len(rec.msgs) && len(out) < q.Limit; i += step {
		m := rec.msgs[i]
		if !matchMessage(m, &q) {
			continue
		}
		if len(want) > 0 {
			if !containsAll(sp.Split(m.text), want) {
				continue
			}
		}
		out = append(out, m.value())
	}
	return out, nil
}

func matchMessage(m *msgRec, q *store.MessageQuery) bool {
	if len(q.Kinds) > 0 && !slices.Contains(q.Kinds, m.kind) {
		return false
	}
	if !q.Since.IsZero() && m.created.Before(q.Since) {
		return false
	}
	if !q.Until.IsZero() && !m.created.Before(q.Until) {
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

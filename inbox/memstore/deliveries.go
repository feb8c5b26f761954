package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

func lessDue(a, b *delRec) bool {
	if ad, bd := a.dueAt(), b.dueAt(); !ad.Equal(bd) {
		return ad.Before(bd)
	}
	return a.id < b.id
}

// sentItem is an entry of the sent index: key orders by CreatedAt, newest
// first, as listItem does; ties fall back to the delivery.
type sentItem struct {
	key int64
	d   *delRec
}

func sentOf(d *delRec) sentItem { return sentItem{sortKey(d.createdAt()), d} }

// lessSent is the order of Sent: CreatedAt newest first, then ID.
func lessSent(a, b sentItem) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	if a.key == keyNewest || a.key == keyOldest {
		if at, bt := a.d.createdAt(), b.d.createdAt(); !at.Equal(bt) {
			return at.After(bt)
		}
	}
	return a.d.id < b.d.id
}

// indexDelivery adds d, of message m, to the delivery indexes and to m's
// Counts.
func (s *Store) indexDelivery(d *delRec, m *msgRec) {
	if d.providerID != "" {
		s.delByPID.put(d)
	}
	s.sent.ReplaceOrInsert(sentOf(d))
	if d.current == status.Scheduled {
		s.due.ReplaceOrInsert(d)
		s.anchor(d)
	}
	countsAdd(&m.out.counts, d.current, 1)
	s.markSending(d)
}

// markSending keeps d in the outbox index when its Sending is set, and out
// of it otherwise. The index is a slice, each record knowing its place:
// a send marks and unmarks every delivery it makes, under the store's
// lock, without hashing.
func (s *Store) markSending(d *delRec) {
	on := !d.sendingAt().IsZero()
	switch {
	case on && d.sendPos == 0:
		s.sending = append(s.sending, d)
		d.sendPos = int32(len(s.sending))
	case !on && d.sendPos != 0:
		i, last := d.sendPos-1, len(s.sending)-1
		s.sending[i] = s.sending[last]
		s.sending[i].sendPos = i + 1
		s.sending[last] = nil
		s.sending = s.sending[:last]
		d.sendPos = 0
	}
}

// anchor adds a scheduled d to the deliveries of its anchor.
func (s *Store) anchor(d *delRec) {
	a := d.anchor()
	if a == "" {
		return
	}
	set := s.anchors[a]
	if set == nil {
		set = make(map[string]*delRec)
		s.anchors[a] = set
	}
	set[d.id] = d
}

// unanchor undoes anchor.
func (s *Store) unanchor(d *delRec) {
	a := d.anchor()
	if set := s.anchors[a]; set != nil {
		delete(set, d.id)
		if len(set) == 0 {
			delete(s.anchors, a)
		}
	}
}

// Delivery implements store.Store.
func (s *Store) Delivery(ctx context.Context, id string) (store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return store.Delivery{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.dels.get(id)
	if !ok {
		return store.Delivery{}, notFound("delivery", id)
	}
	return s.deliveryValue(d), nil
}

// DeliveryByProviderID implements store.Store.
func (s *Store) DeliveryByProviderID(ctx context.Context, providerID string) (store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return store.Delivery{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.delByPID.get(providerID)
	if !ok {
		return store.Delivery{}, notFound("delivery with provider ID", providerID)
	}
	return s.deliveryValue(d), nil
}

// Deliveries implements store.Store. An unknown message gives ErrNotFound.
func (s *Store) Deliveries(ctx context.Context, q store.DeliveryQuery) ([]store.Delivery, error) {
	messageID, after, limit := q.MessageID, q.After, q.Limit
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, invalid("deliveries limit %d", limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.msgs.get(messageID)
	if !ok {
		return nil, notFound("message", messageID)
	}
	out := []store.Delivery{}
	if m.out == nil {
		return out, nil
	}
	i := 0
	if after != "" {
		i, _ = slices.BinarySearchFunc(m.out.dels, after, func(d *delRec, id string) int { return strings.Compare(d.id, id) })
		if i < len(m.out.dels) && m.out.dels[i].id == after {
			i++
		}
	}
	for ; i < len(m.out.dels) && len(out) < limit; i++ {
		out = append(out, s.deliveryValue(m.out.dels[i]))
	}
	return out, nil
}

// Sent implements store.Store. It walks every delivery from q.After, newest
// message first, and applies the filters to each: linear in the deliveries
// passed over. A q.After that is not a delivery gives ErrNotFound.
func (s *Store) Sent(ctx context.Context, q store.SentQuery) ([]store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Limit < 1 {
		return nil, invalid("sent query limit %d", q.Limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !q.SendingBefore.IsZero() {
		return s.sentSending(&q)
	}
	out := []store.Delivery{}
	visit := func(d *delRec) bool {
		if matchSent(d, &q) {
			out = append(out, s.deliveryValue(d))
		}
		return len(out) < q.Limit
	}
	if q.After == "" {
		s.sent.Ascend(func(it sentItem) bool { return visit(it.d) })
		return out, nil
	}
	a, ok := s.dels.get(q.After)
	if !ok {
		return nil, notFound("delivery", q.After)
	}
	s.sent.AscendGreaterOrEqual(sentOf(a), func(it sentItem) bool {
		return it.d == a || visit(it.d)
	})
	return out, nil
}

// sentSending is Sent with q.SendingBefore set: it reads the outbox index
// only.
func (s *Store) sentSending(q *store.SentQuery) ([]store.Delivery, error) {
	var from *sentItem
	if q.After != "" {
		a, ok := s.dels.get(q.After)
		if !ok {
			return nil, notFound("delivery", q.After)
		}
		it := sentOf(a)
		from = &it
	}
	var hits []sentItem
	for _, d := range s.sending {
		if it := sentOf(d); (from == nil || lessSent(*from, it)) && matchSent(d, q) {
			hits = append(hits, it)
		}
	}
	slices.SortFunc(hits, func(a, b sentItem) int {
		if lessSent(a, b) {
			return -1
		}
		return 1
	})
	out := make([]store.Delivery, 0, min(len(hits), q.Limit))
	for _, it := range hits[:min(len(hits), q.Limit)] {
		out = append(out, s.deliveryValue(it.d))
	}
	return out, nil
}

func matchSent(d *delRec, q *store.SentQuery) bool {
	if !q.SendingBefore.IsZero() {
		if at := d.sendingAt(); at.IsZero() || !at.Before(q.SendingBefore) {
			return false
		}
	}
	return (q.Address == "" || d.address == q.Address) &&
		(q.Campaign == "" || d.campaign() == q.Campaign) &&
		(q.Kind == 0 || d.kind == q.Kind) &&
		(q.Status == status.Unknown || d.current == q.Status) &&
		inRange(d.checkIn(), q.CheckInFrom, q.CheckInTo) &&
		inRange(d.checkOut(), q.CheckOutFrom, q.CheckOutTo)
}

// inRange reports whether t is in [from, to); a zero bound does not limit.
func inRange(t, from, to time.Time) bool {
	if !from.IsZero() && t.Before(from) {
		return false
	}
	return to.IsZero() || t.Before(to)
}

// WriteDelivery implements store.Store.
func (s *Store) WriteDelivery(ctx context.Context, d store.Delivery, events ...store.FeedEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var head uint64
	defer func() { s.notify(head) }() // after the unlock
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	head, err = s.writeDelivery(s.dels.at(d.ID), &d, events)
	return err
}

var _ store.DeliveriesWriter = (*Store)(nil)

// WriteDeliveries implements store.DeliveriesWriter: every write under one
// lock, and one notice of the feed's new events for all of them.
func (s *Store) WriteDeliveries(ctx context.Context, ws []store.DeliveryWrite) []error {
	if err := ctx.Err(); err != nil {
		errs := make([]error, len(ws))
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	var head uint64
	defer func() { s.notify(head) }() // after the unlock
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	var prev *delRec
	for i := range ws {
		cur := s.nextOf(prev, ws[i].Delivery.ID)
		h, err := s.writeDelivery(cur, &ws[i].Delivery, ws[i].Events)
		if err != nil {
			if errs == nil {
				errs = make([]error, len(ws))
			}
			errs[i] = err
			continue
		}
		head, prev = max(head, h), cur
	}
	return errs
}

// nextOf returns the record of delivery id when it is the one written
// after prev (nil: none), and otherwise looks it up. A batch most often
// writes the deliveries of one message in the order they were recorded,
// whose records lie side by side: each then found beside the one before,
// without the ID map's random reads.
func (s *Store) nextOf(prev *delRec, id string) *delRec {
	if prev != nil {
		if recs, i := prev.msg.out.recs, int(prev.pos)+1; i < len(recs) && recs[i].id == id {
			return &recs[i]
		}
	}
	return s.dels.at(id)
}

// Batched implements store.DeliveriesWriter.
func (s *Store) Batched() store.Store { return s }

// writeDelivery is WriteDelivery under the write lock, of cur, the record
// of d.ID (nil when there is none): it returns the feed's head after the
// events it appended (0 when it appended none).
func (s *Store) writeDelivery(cur *delRec, d *store.Delivery, events []store.FeedEvent) (uint64, error) {
	if cur == nil {
		return 0, notFound("delivery", d.ID)
	}
	if cur.version != d.Version {
		return 0, fmt.Errorf("memstore: delivery %q at version %d, written at %d: %w", d.ID, cur.version, d.Version, store.ErrConflict)
	}
	if d.MessageID != cur.msg.id || d.ThreadID != s.threadOf(cur.msg).t.ID {
		return 0, invalid("delivery %q moved from message %q to %q", d.ID, cur.msg.id, d.MessageID)
	}
	if d.ProviderID != cur.providerID { // a provider ID kept is this delivery's already
		if err := s.checkProviderID(d.ProviderID, 0, store.Outbound, d.ID, d.MessageID); err != nil {
			return 0, err
		}
	}
	s.updateDelivery(cur, d)
	return s.feed.appendEvents(events), nil
}

// updateDelivery stores d as the new state of cur, moving only the index
// entries whose keys change: a status update of a sent message moves
// nothing but its message's Counts.
func (s *Store) updateDelivery(cur *delRec, d *store.Delivery) {
	if cur.current != d.Status.Current { // its message's Counts
		m := cur.msg
		countsAdd(&m.out.counts, cur.current, -1)
		countsAdd(&m.out.counts, d.Status.Current, 1)
	}
	moveSent := !cur.createdAt().Equal(d.CreatedAt)
	if moveSent {
		s.sent.Delete(sentOf(cur))
	}
	wasDue, isDue := cur.current == status.Scheduled, d.Status.Current == status.Scheduled
	moveDue := wasDue != isDue || isDue && !cur.dueAt().Equal(d.DueAt)
	moveAnchor := wasDue != isDue || isDue && cur.anchor() != d.Anchor
	if wasDue && moveDue {
		s.due.Delete(cur)
	}
	if wasDue && moveAnchor {
		s.unanchor(cur)
	}
	oldPID := cur.providerID
	s.pack(cur, d, cur.msg)
	cur.version = d.Version + 1
	if oldPID != cur.providerID {
		if oldPID != "" {
			s.delByPID.remove(oldPID, cur)
		}
		if cur.providerID != "" {
			s.delByPID.put(cur)
		}
	}

	if moveSent {
		s.sent.ReplaceOrInsert(sentOf(cur))
	}
	if isDue && moveDue {
		s.due.ReplaceOrInsert(cur)
	}
	if isDue && moveAnchor {
		s.anchor(cur)
	}
	s.markSending(cur)
}

// ClaimDue implements store.Store: it walks the scheduled deliveries by due
// time and stops at the first not yet due.
func (s *Store) ClaimDue(ctx context.Context, now, until time.Time, limit int) ([]store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, invalid("claim limit %d", limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var claimed []*delRec
	s.due.Ascend(func(d *delRec) bool {
		if d.dueAt().After(now) {
			return false
		}
		if d.more == nil || !d.more.claimedUntil.After(now) {
			claimed = append(claimed, d)
		}
		return len(claimed) < limit
	})
	out := make([]store.Delivery, len(claimed))
	for i, d := range claimed {
		if d.more == nil {
			d.more = new(delMore)
		}
		d.more.claimedUntil = until // not a key of any index
		d.version++
		out[i] = s.deliveryValue(d)
	}
	return out, nil
}

// Scheduled implements store.Store.
func (s *Store) Scheduled(ctx context.Context, anchor string) ([]store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	set := s.anchors[anchor]
	out := make([]store.Delivery, 0, len(set))
	for _, d := range set {
		out = append(out, s.deliveryValue(d))
	}
	slices.SortFunc(out, func(a, b store.Delivery) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

var _ store.StatusMerger = (*Store)(nil)

// MergeStatus implements store.StatusMerger: the change is applied to the
// stored record in place (a merge that changes nothing leaves it as it
// was), with no copy of the delivery.
func (s *Store) MergeStatus(ctx context.Context, providerID string, c status.Change, events func(store.Merged) []store.FeedEvent) (store.Merged, error) {
	if err := ctx.Err(); err != nil {
		return store.Merged{}, err
	}
	var head uint64
	defer func() { s.notify(head) }() // after the unlock
	// hashed before the lock: the report's provider ID is read from
	// memory while other reports hold it
	h := s.delByPID.hashOf(providerID)
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, was := s.delByPID.lookup(providerID, h)
	if cur == nil {
		return store.Merged{}, notFound("delivery with provider ID", providerID)
	}
	changed, err := s.mergeInto(cur, c)
	if err != nil {
		return store.Merged{}, err
	}
	if changed {
		cur.version++
		if now := cur.current; now != was {
			countsAdd(&cur.msg.out.counts, was, -1)
			countsAdd(&cur.msg.out.counts, now, 1)
			// the due index holds the scheduled ones, as updateDelivery keeps it
			switch {
			case was == status.Scheduled:
				s.due.Delete(cur)
				s.unanchor(cur)
			case now == status.Scheduled:
				s.due.ReplaceOrInsert(cur)
				s.anchor(cur)
			}
		}
	}
	m := store.Merged{DeliveryID: cur.id, MessageID: cur.msg.id, ThreadID: s.threadOf(cur.msg).t.ID, Kind: cur.kind,
		Previous: was, Status: cur.current, Changed: changed}
	if changed && events != nil {
		head = s.feed.appendEvents(events(m))
	}
	return m, nil
}

// clearHistory returns h emptied, its strings let go of.
func clearHistory(h []status.Change) []status.Change {
	clear(h)
	return h[:0]
}

// mergeInto merges c into cur's status (status.Record.Apply) and reports
// whether it changed. The packed history is unpacked on the stack and
// packed again only when it changed.
func (s *Store) mergeInto(cur *delRec, c status.Change) (bool, error) {
	if s.unchanged(cur, &c) {
		return false, nil // a duplicate (most reports): nothing unpacked
	}
	if cur.flags&fullHistory != 0 {
		r := status.Record{Current: cur.current, History: cur.more.history}
		changed, err := r.Apply(c)
		cur.current, cur.more.history = r.Current, r.History
		return changed, err
	}
	// the history is unpacked into a buffer of the store's, reused under
	// the write lock: status.Record.Apply lets a stack array escape
	r := status.Record{Current: cur.current, History: s.history(cur, s.mergeBuf)}
	defer func() { s.mergeBuf = clearHistory(r.History) }()
	changed, err := r.Apply(c)
	if err != nil || !changed {
		return changed, err
	}
	cur.current = r.Current
	var spare []histChange
	if cur.more != nil {
		spare = cur.more.hist
	}
	long, ok := s.packHistory(cur, r.History, spare)
	if !ok || long != nil || cur.more != nil {
		if cur.more == nil {
			cur.more = new(delMore)
		}
		cur.more.hist = long
	}
	if !ok {
		cur.flags |= fullHistory
		cur.more.history = cloneHistory(r.History, 0)
	}
	return true, nil
}

// unchanged reports, from cur's packed history, that merging c changes
// nothing (status.Record.Apply): c ranks no higher than the current status
// and the first change of the history that reports c's event absorbs it
// (status.Change.Absorbs). Only the changes of c's status and timing are
// unpacked. False when it cannot tell so (then the history is unpacked and
// merged).
func (s *Store) unchanged(cur *delRec, c *status.Change) bool {
	if cur.flags&fullHistory != 0 || !c.Status.Valid() || c.Status.Rank() > cur.current.Rank() {
		return false
	}
	for _, h := range cur.packed() {
		if h.status != c.Status || h.arrived != c.Arrived {
			continue // another event: not unpacked
		}
		if hc := s.change(h); hc.SameEvent(*c) {
			return hc.Absorbs(*c)
		}
	}
	return false
}

// insertDeliveries stores the new deliveries of message r, packed: the
// records side by side in the store's slabs (deliveries are never
// removed). They are indexed in the order of their IDs, which is the order
// of the sent index among deliveries created at one time (a broadcast's):
// each insertion then lands beside the one before, in the part of the
// index the one before brought into the cache.
func (s *Store) insertDeliveries(r *msgRec, dels []store.Delivery) {
	r.out.dels = s.delPtrs.take(len(dels))[:0]
	recs := s.delRecs.take(len(dels))
	r.out.recs = recs
	for i := range dels {
		d := &recs[i]
		s.pack(d, &dels[i], r)
		d.version, d.pos = 1, uint32(i)
		s.dels.put(d)
	}
	if len(recs) < sortKeyed {
		for i := range recs {
			r.out.dels = append(r.out.dels, &recs[i])
		}
		slices.SortFunc(r.out.dels, func(a, b *delRec) int { return strings.Compare(a.id, b.id) })
	} else {
		// a broadcast's: sorted with each ID beside its record, so that a
		// comparison reads the two IDs and not the two records first
		keyed := make([]idRec, len(recs))
		for i := range recs {
			keyed[i] = idRec{recs[i].id, &recs[i]}
		}
		slices.SortFunc(keyed, func(a, b idRec) int { return strings.Compare(a.id, b.id) })
		for _, k := range keyed {
			r.out.dels = append(r.out.dels, k.d)
		}
	}
	for _, d := range r.out.dels {
		s.indexDelivery(d, r)
	}
}

// sortKeyed is the number of new deliveries from which insertDeliveries
// sorts them by ID through idRecs.
const sortKeyed = 256

// idRec is a delivery's ID beside its record.
type idRec struct {
	id string
	d  *delRec
}

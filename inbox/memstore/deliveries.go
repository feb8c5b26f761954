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

func lessDue(a, b *store.Delivery) bool {
	if !a.DueAt.Equal(b.DueAt) {
		return a.DueAt.Before(b.DueAt)
	}
	return a.ID < b.ID
}

// sentItem is an entry of the sent index: key orders by CreatedAt, newest
// first, as listItem does; ties fall back to the delivery.
type sentItem struct {
	key int64
	d   *store.Delivery
}

func sentOf(d *store.Delivery) sentItem { return sentItem{sortKey(d.CreatedAt), d} }

// lessSent is the order of Sent: CreatedAt newest first, then ID.
func lessSent(a, b sentItem) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	if a.key == keyNewest || a.key == keyOldest {
		if at, bt := a.d.CreatedAt, b.d.CreatedAt; !at.Equal(bt) {
			return at.After(bt)
		}
	}
	return a.d.ID < b.d.ID
}

// indexDelivery adds d, of message m, to the delivery indexes and to m's
// Counts.
func (s *Store) indexDelivery(d *store.Delivery, m *msgRec) {
	if d.ProviderID != "" {
		s.delByPID[d.ProviderID] = d
	}
	s.sent.ReplaceOrInsert(sentOf(d))
	if d.Status.Current == status.Scheduled {
		s.due.ReplaceOrInsert(d)
		s.anchor(d)
	}
	countsAdd(&m.out.counts, d.Status.Current, 1)
	s.markSending(d)
}

// markSending keeps d in the outbox index when its Sending is set, and out
// of it otherwise.
func (s *Store) markSending(d *store.Delivery) {
	switch {
	case !d.Sending.IsZero():
		if s.sending == nil {
			s.sending = make(map[string]*store.Delivery)
		}
		s.sending[d.ID] = d
	case s.sending != nil:
		delete(s.sending, d.ID)
	}
}

// anchor adds a scheduled d to the deliveries of its anchor.
func (s *Store) anchor(d *store.Delivery) {
	if d.Anchor == "" {
		return
	}
	set := s.anchors[d.Anchor]
	if set == nil {
		set = make(map[string]*store.Delivery)
		s.anchors[d.Anchor] = set
	}
	set[d.ID] = d
}

// unanchor undoes anchor.
func (s *Store) unanchor(d *store.Delivery) {
	if set := s.anchors[d.Anchor]; set != nil {
		delete(set, d.ID)
		if len(set) == 0 {
			delete(s.anchors, d.Anchor)
		}
	}
}

func cloneDelivery(d *store.Delivery) store.Delivery {
	out := *d
	out.Status = d.Status.Clone()
	return out
}

// Delivery implements store.Store.
func (s *Store) Delivery(ctx context.Context, id string) (store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return store.Delivery{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.dels[id]
	if !ok {
		return store.Delivery{}, notFound("delivery", id)
	}
	return cloneDelivery(d), nil
}

// DeliveryByProviderID implements store.Store.
func (s *Store) DeliveryByProviderID(ctx context.Context, providerID string) (store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return store.Delivery{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.delByPID[providerID]
	if !ok {
		return store.Delivery{}, notFound("delivery with provider ID", providerID)
	}
	return cloneDelivery(d), nil
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
	m, ok := s.msgs[messageID]
	if !ok {
		return nil, notFound("message", messageID)
	}
	out := []store.Delivery{}
	if m.out == nil {
		return out, nil
	}
	i := 0
	if after != "" {
		i, _ = slices.BinarySearchFunc(m.out.dels, after, func(d *store.Delivery, id string) int { return strings.Compare(d.ID, id) })
		if i < len(m.out.dels) && m.out.dels[i].ID == after {
			i++
		}
	}
	for ; i < len(m.out.dels) && len(out) < limit; i++ {
		out = append(out, cloneDelivery(m.out.dels[i]))
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
	visit := func(d *store.Delivery) bool {
		if matchSent(d, &q) {
			out = append(out, cloneDelivery(d))
		}
		return len(out) < q.Limit
	}
	if q.After == "" {
		s.sent.Ascend(func(it sentItem) bool { return visit(it.d) })
		return out, nil
	}
	a, ok := s.dels[q.After]
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
		a, ok := s.dels[q.After]
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
		out = append(out, cloneDelivery(it.d))
	}
	return out, nil
}

func matchSent(d *store.Delivery, q *store.SentQuery) bool {
	return (q.SendingBefore.IsZero() || !d.Sending.IsZero() && d.Sending.Before(q.SendingBefore)) &&
		(q.Address == "" || d.Address == q.Address) &&
		(q.Campaign == "" || d.Campaign == q.Campaign) &&
		(q.Kind == 0 || d.Kind == q.Kind) &&
		(q.Status == status.Unknown || d.Status.Current == q.Status) &&
		inRange(d.CheckIn, q.CheckInFrom, q.CheckInTo) &&
		inRange(d.CheckOut, q.CheckOutFrom, q.CheckOutTo)
}

// inRange reports whether t is in [from, to); a zero bound does not limit.
func inRange(t, from, to time.Time) bool {
	if !from.IsZero() && t.Before(from) {
		return false
	}
	return to.IsZero() || t.Before(to)
}

// WriteDelivery implements store.Store.
func (s *Store) WriteDelivery(ctx context.Context, d store.Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.dels[d.ID]
	if !ok {
		return notFound("delivery", d.ID)
	}
	if cur.Version != d.Version {
		return fmt.Errorf("memstore: delivery %q at version %d, written at %d: %w", d.ID, cur.Version, d.Version, store.ErrConflict)
	}
	if d.MessageID != cur.MessageID || d.ThreadID != cur.ThreadID {
		return invalid("delivery %q moved from message %q to %q", d.ID, cur.MessageID, d.MessageID)
	}
	if err := s.checkProviderID(d.ProviderID, store.Outbound, d.ID, d.MessageID); err != nil {
		return err
	}
	s.updateDelivery(cur, d)
	return nil
}

// updateDelivery stores d as the new state of cur, moving only the index
// entries whose keys change: a status update of a sent message moves
// nothing but its message's Counts.
func (s *Store) updateDelivery(cur *store.Delivery, d store.Delivery) {
	m := s.msgs[cur.MessageID]
	if cur.ProviderID != d.ProviderID {
		if cur.ProviderID != "" {
			delete(s.delByPID, cur.ProviderID)
		}
		if d.ProviderID != "" {
			s.delByPID[d.ProviderID] = cur
		}
	}
	moveSent := !cur.CreatedAt.Equal(d.CreatedAt)
	if moveSent {
		s.sent.Delete(sentOf(cur))
	}
	wasDue, isDue := cur.Status.Current == status.Scheduled, d.Status.Current == status.Scheduled
	moveDue := wasDue != isDue || isDue && !cur.DueAt.Equal(d.DueAt)
	moveAnchor := wasDue != isDue || isDue && cur.Anchor != d.Anchor
	if wasDue && moveDue {
		s.due.Delete(cur)
	}
	if wasDue && moveAnchor {
		s.unanchor(cur)
	}
	countsAdd(&m.out.counts, cur.Status.Current, -1)

	*cur = cloneDelivery(&d)
	cur.Version = d.Version + 1

	if moveSent {
		s.sent.ReplaceOrInsert(sentOf(cur))
	}
	if isDue && moveDue {
		s.due.ReplaceOrInsert(cur)
	}
	if isDue && moveAnchor {
		s.anchor(cur)
	}
	countsAdd(&m.out.counts, cur.Status.Current, 1)
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
	var claimed []*store.Delivery
	s.due.Ascend(func(d *store.Delivery) bool {
		if d.DueAt.After(now) {
			return false
		}
		if !d.ClaimedUntil.After(now) {
			claimed = append(claimed, d)
		}
		return len(claimed) < limit
	})
	out := make([]store.Delivery, len(claimed))
	for i, d := range claimed {
		d.ClaimedUntil = until // not a key of any index
		d.Version++
		out[i] = cloneDelivery(d)
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
		out = append(out, cloneDelivery(d))
	}
	slices.SortFunc(out, func(a, b store.Delivery) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

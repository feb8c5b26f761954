package storetest_test

import (
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
	"github.com/parleyhq/parley/inbox/storetest"
	"github.com/parleyhq/parley/status"
)

// TestSuiteOnScanStore runs the suite on scanStore, a deliberately naive
// store that answers every query by scanning, so the suite itself is tested
// independently of the indexed stores. scanStore is a store a host could
// write outside this module: it uses only Parley's public API (the store
// contract and the search rules of inbox/store/textindex), which
// TestScanStoreUsesPublicAPIOnly checks.
func TestSuiteOnScanStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newScanStore() })
}

// TestScanStoreUsesPublicAPIOnly fails when this file imports a package a
// store outside the module could not import (an internal one).
func TestScanStoreUsesPublicAPIOnly(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "scan_test.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if path == "internal" || strings.HasPrefix(path, "internal/") || strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal") {
			t.Errorf("the scanning store imports %s, which a store outside the module cannot", path)
		}
	}
}

type scanStore struct {
	mu       sync.Mutex
	threads  map[string]store.Thread
	live     map[store.Subject]string
	messages []store.Message
	dels     []store.Delivery
	assign   []store.Assignment
	optout   map[string]bool
}

func newScanStore() *scanStore {
	return &scanStore{threads: map[string]store.Thread{}, live: map[store.Subject]string{}, optout: map[string]bool{}}
}

func nf(what string) error { return fmt.Errorf("scan: %s: %w", what, store.ErrNotFound) }

func (s *scanStore) Thread(ctx context.Context, id string) (store.Thread, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.threads[id]
	if !ok {
		return t, nf(id)
	}
	return t, nil
}

func (s *scanStore) LiveThread(ctx context.Context, sub store.Subject) (store.Thread, error) {
	s.mu.Lock()
	id, ok := s.live[sub]
	s.mu.Unlock()
	if !ok {
		return store.Thread{}, nf(sub.String())
	}
	return s.Thread(ctx, id)
}

func (s *scanStore) matches(q store.ThreadQuery, t store.Thread) bool {
	if t.Dormant {
		return false
	}
	switch q.Status {
	case store.All:
		if t.Archived {
			return false
		}
	case store.Unread:
		if t.Archived || t.Unread == 0 {
			return false
		}
	case store.Favourites:
		if t.Archived || !t.Favourite {
			return false
		}
	case store.Muted:
		if t.Archived || !t.MutedAt(q.Now) {
			return false
		}
	case store.Archived:
		if !t.Archived {
			return false
		}
	}
	if (q.Lifecycle == store.Open && t.Closed) || (q.Lifecycle == store.Closed && !t.Closed) ||
		(q.Category != 0 && t.Subject.Kind != q.Category) || (q.Assignee != "" && t.Assignee != q.Assignee) ||
		(q.Unassigned && t.Assignee != "") || (!q.ActiveSince.IsZero() && t.LastActivityAt.Before(q.ActiveSince)) {
		return false
	}
	return textindex.MatchThread(t.Snapshot, q.Search, func(yield func(string) bool) {
		for _, m := range s.messages {
			if m.ThreadID == t.ID && !yield(m.Text) {
				return
			}
		}
	})
}

func (s *scanStore) Threads(ctx context.Context, q store.ThreadQuery) ([]store.Thread, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Thread
	for _, t := range s.threads {
		if s.matches(q, t) && (q.After == nil || q.After.Before(store.PositionOf(t))) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b store.Thread) int {
		if store.PositionOf(a).Before(store.PositionOf(b)) {
			return -1
		}
		return 1
	})
	if len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (s *scanStore) Counters(ctx context.Context, now time.Time) (store.Counters, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c store.Counters
	for _, t := range s.threads {
		if t.Unread > 0 && !t.Archived && !t.Dormant && !t.MutedAt(now) {
			c.Add(t.Subject.Kind, 1)
		}
	}
	return c, nil
}

func (s *scanStore) withCounts(m store.Message) store.Message {
	m.Counts = [10]int{}
	for _, d := range s.dels {
		if d.MessageID == m.ID {
			m.Counts.Add(d.Status.Current)
		}
	}
	m.Attachments = slices.Clone(m.Attachments)
	m.Groups = slices.Clone(m.Groups)
	return m
}

func (s *scanStore) Message(ctx context.Context, id string) (store.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.ID == id {
			return s.withCounts(m), nil
		}
	}
	return store.Message{}, nf(id)
}

func (s *scanStore) MessageByProviderID(ctx context.Context, pid string) (store.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.ProviderID == pid && pid != "" && m.Direction == store.Inbound {
			return s.withCounts(m), nil
		}
	}
	return store.Message{}, nf(pid)
}

func (s *scanStore) Messages(ctx context.Context, q store.MessageQuery) ([]store.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Message
	for _, m := range s.messages {
		if m.ThreadID != q.ThreadID || (len(q.Kinds) > 0 && !slices.Contains(q.Kinds, m.Kind)) ||
			(!q.Since.IsZero() && m.CreatedAt.Before(q.Since)) || (!q.Until.IsZero() && !m.CreatedAt.Before(q.Until)) ||
			(q.Direction != 0 && m.Direction != q.Direction) || (q.Origin != 0 && m.Origin != q.Origin) ||
			(len(q.Groups) > 0 && !slices.ContainsFunc(m.Groups, func(g string) bool { return slices.Contains(q.Groups, g) })) ||
			!textindex.MatchMessage(m.Text, q.Terms) {
			continue
		}
		out = append(out, s.withCounts(m))
	}
	slices.SortStableFunc(out, func(a, b store.Message) int {
		c := a.CreatedAt.Compare(b.CreatedAt)
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if q.Newest {
			c = -c
		}
		return c
	})
	if q.After != "" {
		i := slices.IndexFunc(out, func(m store.Message) bool { return m.ID == q.After })
		out = out[i+1:]
	}
	if len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (s *scanStore) Assignments(ctx context.Context, id string) ([]store.Assignment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Assignment
	for _, a := range s.assign {
		if a.ThreadID == id {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *scanStore) findDelivery(f func(store.Delivery) bool) (store.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.dels {
		if f(d) {
			d.Status = d.Status.Clone()
			return d, nil
		}
	}
	return store.Delivery{}, nf("delivery")
}

func (s *scanStore) Delivery(ctx context.Context, id string) (store.Delivery, error) {
	return s.findDelivery(func(d store.Delivery) bool { return d.ID == id })
}

func (s *scanStore) DeliveryByProviderID(ctx context.Context, pid string) (store.Delivery, error) {
	return s.findDelivery(func(d store.Delivery) bool { return pid != "" && d.ProviderID == pid })
}

func (s *scanStore) Deliveries(ctx context.Context, q store.DeliveryQuery) ([]store.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.ContainsFunc(s.messages, func(m store.Message) bool { return m.ID == q.MessageID }) {
		return nil, nf(q.MessageID)
	}
	out := []store.Delivery{}
	for _, d := range s.dels {
		if d.MessageID == q.MessageID && d.ID > q.After {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b store.Delivery) int { return strings.Compare(a.ID, b.ID) })
	return out[:min(q.Limit, len(out))], nil
}

func (s *scanStore) Sent(ctx context.Context, q store.SentQuery) ([]store.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := func(t, from, to time.Time) bool {
		return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
	}
	var out []store.Delivery
	for _, d := range s.dels {
		if (q.Address == "" || d.Address == q.Address) && (q.Campaign == "" || d.Campaign == q.Campaign) &&
			(q.Kind == 0 || d.Kind == q.Kind) && (q.Status == 0 || d.Status.Current == q.Status) &&
			in(d.CheckIn, q.CheckInFrom, q.CheckInTo) && in(d.CheckOut, q.CheckOutFrom, q.CheckOutTo) &&
			(q.SendingBefore.IsZero() || !d.Sending.IsZero() && d.Sending.Before(q.SendingBefore)) {
			d.Status = d.Status.Clone()
			out = append(out, d)
		}
	}
	order := func(a, b store.Delivery) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	}
	slices.SortFunc(out, order)
	if q.After != "" {
		i := slices.IndexFunc(s.dels, func(d store.Delivery) bool { return d.ID == q.After })
		if i < 0 {
			return nil, nf(q.After)
		}
		cur := s.dels[i]
		out = slices.DeleteFunc(out, func(d store.Delivery) bool { return order(cur, d) >= 0 })
	}
	return out[:min(q.Limit, len(out))], nil
}

// pidTaken reports whether pid is taken in the namespace of direction dir
// (M5): inbound messages, or outbound messages (but message ownMsg) and
// deliveries.
func (s *scanStore) pidTaken(pid string, dir store.Direction, ownMsg string) bool {
	if pid == "" {
		return false
	}
	for _, m := range s.messages {
		if m.ProviderID == pid && (m.Direction == store.Inbound) == (dir == store.Inbound) && m.ID != ownMsg {
			return true
		}
	}
	for _, d := range s.dels {
		if d.ProviderID == pid && dir != store.Inbound {
			return true
		}
	}
	return false
}

func (s *scanStore) WriteThread(ctx context.Context, w store.ThreadWrite) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := w.Thread
	old, exists := s.threads[t.ID]
	if t.Version == 0 {
		if exists || s.live[t.Subject] != w.ReplacesLive {
			return store.ErrConflict
		}
	} else if !exists {
		return nf(t.ID)
	} else if old.Version != t.Version {
		return store.ErrConflict
	}
	if w.Message != nil && s.pidTaken(w.Message.ProviderID, w.Message.Direction, "") {
		return store.ErrDuplicate
	}
	for _, d := range w.Deliveries {
		if s.pidTaken(d.ProviderID, store.Outbound, "") {
			return store.ErrDuplicate
		}
	}
	for _, id := range w.Unread {
		if !slices.ContainsFunc(s.messages, func(m store.Message) bool { return m.ID == id && m.ThreadID == t.ID }) {
			return nf(id)
		}
	}
	timed := -1
	if tm := w.Times; tm != nil {
		if timed = slices.IndexFunc(s.messages, func(m store.Message) bool { return m.ID == tm.MessageID && m.ThreadID == t.ID }); timed < 0 {
			return nf(tm.MessageID)
		}
	}
	t.Version++
	s.threads[t.ID] = t
	if t.Version == 1 {
		s.live[t.Subject] = t.ID
	}
	if timed >= 0 {
		s.messages[timed].ScheduledFor, s.messages[timed].SentAt = w.Times.ScheduledFor, w.Times.SentAt
	}
	for i := range s.messages {
		if s.messages[i].ThreadID == t.ID {
			if w.ReadAll {
				s.messages[i].Unread = false
			}
			if slices.Contains(w.Unread, s.messages[i].ID) {
				s.messages[i].Unread = true
			}
		}
	}
	if w.Message != nil {
		m := *w.Message
		if w.ReadAll {
			m.Unread = false
		}
		s.messages = append(s.messages, m)
	}
	for _, d := range w.Deliveries {
		d.Version = 1
		s.dels = append(s.dels, d)
	}
	if w.Assignment != nil {
		s.assign = append(s.assign, *w.Assignment)
	}
	return nil
}

func (s *scanStore) WriteDelivery(ctx context.Context, d store.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, old := range s.dels {
		if old.ID == d.ID {
			if old.Version != d.Version {
				return store.ErrConflict
			}
			if d.ProviderID != old.ProviderID && s.pidTaken(d.ProviderID, store.Outbound, d.MessageID) {
				return store.ErrDuplicate
			}
			d.Version++
			d.Status = d.Status.Clone()
			s.dels[i] = d
			return nil
		}
	}
	return nf(d.ID)
}

func (s *scanStore) ClaimDue(ctx context.Context, now, until time.Time, limit int) ([]store.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var idx []int
	for i, d := range s.dels {
		if d.Status.Current == 1 && !d.DueAt.After(now) && !d.ClaimedUntil.After(now) {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := s.dels[a].DueAt.Compare(s.dels[b].DueAt); c != 0 {
			return c
		}
		return strings.Compare(s.dels[a].ID, s.dels[b].ID)
	})
	var out []store.Delivery
	for _, i := range idx[:min(limit, len(idx))] {
		s.dels[i].ClaimedUntil = until
		s.dels[i].Version++
		out = append(out, s.dels[i])
	}
	return out, nil
}

func (s *scanStore) Scheduled(ctx context.Context, anchor string) ([]store.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Delivery
	for _, d := range s.dels {
		if d.Anchor == anchor && d.Status.Current == status.Scheduled {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *scanStore) SetOptOut(ctx context.Context, k channel.Kind, a string, v bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.optout[k.String()+a] = v
	return nil
}

func (s *scanStore) OptedOut(ctx context.Context, k channel.Kind, addrs []string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for _, a := range addrs {
		if s.optout[k.String()+a] {
			out[a] = true
		}
	}
	return out, nil
}

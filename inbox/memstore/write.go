package memstore

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// WriteThread implements store.Store. It checks the whole write first
// (versions, live thread, IDs, provider IDs, unread IDs) and only then
// changes the store, so a failed write changes nothing. A new message's
// Counts come from its deliveries; new deliveries are stored with Version
// 1.
func (s *Store) WriteThread(ctx context.Context, w store.ThreadWrite) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.Check(); err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	nt := w.Thread
	create := nt.Version == 0
	var subjWords, phoneForms []string
	if create {
		subjWords, phoneForms = textindex.SubjectWords(nt.Snapshot), textindex.PhoneForms(nt.Snapshot.Phone)
	}
	var words [][]byte
	var hs msgHashes
	if m := w.Message; m != nil {
		sp := s.words.Get().(*textindex.Splitter)
		defer s.words.Put(sp)
		words = sp.Split(m.Text)
		hs = s.hashesOf(m)
	}

	var head uint64
	defer func() { s.notify(head) }() // after the unlock
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.checkThread(&w)
	if err != nil {
		return err
	}
	s.warm += s.warmWrite(&w, rec, hs)
	if err := s.checkNew(&w, rec, hs); err != nil {
		return err
	}

	// Everything is checked: apply.
	if create {
		rec = s.threadRecs.one()
		*rec = threadRec{t: nt, num: uint32(len(s.threadNum))}
		rec.t.Version = 1
		s.keepThreadStrings(&rec.t)
		nt = rec.t
		s.threads.put(rec)
		s.threadNum = append(s.threadNum, rec)
		s.live[nt.Subject.Kind].set(nt.Subject.ID, rec) // the store's own copy of the ID
		s.moveList(rec, nil, &rec.t)
		s.counters.update(rec, nil, &rec.t)
		s.indexSubject(subjWords, rec.num, true)
		s.phones.add(phoneForms, rec.num)
	} else {
		s.updateThread(rec, &nt)
	}
	if m := w.Message; m != nil {
		r := s.insertMessage(rec, m, w.Deliveries, words, hs)
		if p := rec.t.Preview; p != "" && len(p) <= len(r.text) && r.text[:len(p)] == p {
			// Most previews start the message: share its text.
			rec.t.Preview = r.text[:len(p)]
		}
	}
	if w.ReadAll {
		for _, m := range rec.msgs {
			m.unread = false
		}
	}
	for _, id := range w.Unread {
		s.msgs.at(id).unread = true
	}
	if tm := w.Times; tm != nil {
		s.setTimes(s.msgs.at(tm.MessageID), tm.ScheduledFor, tm.SentAt)
	}
	if a := w.Assignment; a != nil {
		entry := *a
		entry.ThreadID = nt.ID
		if rec.assigns == nil {
			rec.assigns = new([]store.Assignment)
		}
		*rec.assigns = append(*rec.assigns, entry)
	}
	head = s.feed.appendEvents(w.Events)
	return nil
}

// msgHashes are the hashes (keyIndex.hashOf) of a new message's ID and
// provider ID, computed once for the write's lookups, warm reads and
// insertions.
type msgHashes struct {
	id, pid uint64 // pid: 0 when the message has no provider ID
}

// hashesOf returns the hashes of m's keys. Every index of IDs and provider
// IDs in the store (keyIndex, pidIndex) hashes with the one function New
// gives them, so a hash serves each of them.
func (s *Store) hashesOf(m *store.Message) msgHashes {
	hs := msgHashes{id: s.msgs.hashOf(m.ID)}
	if m.ProviderID != "" {
		hs.pid = s.msgs.hashOf(m.ProviderID)
	}
	return hs
}

// warmWrite reads, one right after the other, the places of a large store
// that a write of a message into thread rec (nil for a new thread) reads
// or writes one at a time, each at a random place, each a cache miss: the
// first slots of the lookups of the message's ID and provider ID (both
// new, as checkNew finds), the thread's list state (listIndex.move) and
// the end of its messages (insertMessage). The processor then waits on
// them together; it returns what it read, for the caller to keep, so that
// the compiler keeps the reads.
func (s *Store) warmWrite(w *store.ThreadWrite, rec *threadRec, hs msgHashes) int64 {
	var sum uint64
	if m := w.Message; m != nil {
		sum += s.msgs.warm(hs.id)
		if m.ProviderID != "" && m.Direction == store.Inbound {
			sum += s.msgByPID.warm(hs.pid)
		}
	}
	if rec == nil {
		return int64(sum)
	}
	if int(rec.num) < len(s.lists.state) {
		sum += uint64(s.lists.state[rec.num].at)
	}
	if n := len(rec.msgs); n > 0 && w.Message != nil && rec.msgs[n-1] != nil { // the pointer, not its record
		sum++
	}
	return int64(sum)
}

// checkThread checks the thread's version and live subject; it returns the
// stored thread, nil when the write creates it.
func (s *Store) checkThread(w *store.ThreadWrite) (*threadRec, error) {
	t := &w.Thread
	if t.Version == 0 {
		if _, ok := s.threads.get(t.ID); ok {
			return nil, fmt.Errorf("memstore: thread %q exists: %w", t.ID, store.ErrConflict)
		}
		live := ""
		if r := s.liveOf(t.Subject); r != nil {
			live = r.t.ID
		}
		if live != w.ReplacesLive {
			return nil, fmt.Errorf("memstore: live thread of %s is %q, not %q: %w", t.Subject, live, w.ReplacesLive, store.ErrConflict)
		}
		return nil, nil
	}
	rec := s.lastRead.Load()
	if rec == nil || rec.t.ID != t.ID {
		var ok bool
		if rec, ok = s.threads.get(t.ID); !ok {
			return nil, notFound("thread", t.ID)
		}
	}
	if rec.t.Version != t.Version {
		return nil, fmt.Errorf("memstore: thread %q at version %d, written at %d: %w", t.ID, rec.t.Version, t.Version, store.ErrConflict)
	}
	if rec.t.Subject != t.Subject {
		return nil, invalid("thread %q: subject %s changed to %s", t.ID, rec.t.Subject, t.Subject)
	}
	return rec, nil
}

// checkNew checks the IDs and provider IDs of what the write inserts, and
// the IDs it marks unread; hs are the hashes of the message's.
func (s *Store) checkNew(w *store.ThreadWrite, rec *threadRec, hs msgHashes) error {
	m := w.Message
	if m != nil {
		if s.msgs.lookup(m.ID, hs.id) != nil {
			return fmt.Errorf("memstore: message %q exists: %w", m.ID, store.ErrConflict)
		}
		if err := s.checkProviderID(m.ProviderID, hs.pid, m.Direction, "", ""); err != nil {
			return err
		}
	}
	for _, d := range w.Deliveries {
		if _, ok := s.dels.get(d.ID); ok {
			return fmt.Errorf("memstore: delivery %q exists: %w", d.ID, store.ErrConflict)
		}
		if err := s.checkProviderID(d.ProviderID, 0, store.Outbound, d.ID, ""); err != nil {
			return err
		}
	}
	if tm := w.Times; tm != nil && (m == nil || tm.MessageID != m.ID) {
		if r, ok := s.msgs.get(tm.MessageID); !ok || rec == nil || s.threadOf(r) != rec {
			return fmt.Errorf("memstore: message %q of thread %q: %w", tm.MessageID, w.Thread.ID, store.ErrNotFound)
		}
	}
	for _, id := range w.Unread {
		if m != nil && id == m.ID {
			continue
		}
		if r, ok := s.msgs.get(id); !ok || rec == nil || s.threadOf(r) != rec {
			return fmt.Errorf("memstore: message %q of thread %q: %w", id, w.Thread.ID, store.ErrNotFound)
		}
	}
	return nil
}

// checkProviderID checks that pid (when not empty) is free in the
// namespace of direction dir (M5). Inbound messages are one namespace.
// Outbound messages and deliveries are the other: pid must belong to no
// outbound message and to no delivery but delivery deliveryID, except that
// a direct outbound message shares its one delivery's: messageID, when not
// "", is the delivery's message, whose provider ID pid may be. A message
// whose direction is not Inbound is outbound. h is pid's hash (hashOf, the
// same in every index of the store), or 0 to have it computed.
func (s *Store) checkProviderID(pid string, h uint64, dir store.Direction, deliveryID, messageID string) error {
	if pid == "" {
		return nil
	}
	if h == 0 {
		h = s.msgs.hashOf(pid)
	}
	if dir == store.Inbound {
		if s.msgByPID.lookup(pid, h) != nil {
			return fmt.Errorf("memstore: inbound provider ID %q: %w", pid, store.ErrDuplicate)
		}
		return nil
	}
	if m := s.outByPID.lookup(pid, h); m != nil && (messageID == "" || m.id != messageID) {
		return fmt.Errorf("memstore: outbound provider ID %q: %w", pid, store.ErrDuplicate)
	}
	if d, _ := s.delByPID.lookup(pid, h); d != nil && (deliveryID == "" || d.id != deliveryID) {
		return fmt.Errorf("memstore: outbound provider ID %q: %w", pid, store.ErrDuplicate)
	}
	return nil
}

// keepThreadStrings copies the strings of a new thread that are its own
// (IDs, e-mail address, phone number) to the store's arena.
func (s *Store) keepThreadStrings(t *store.Thread) {
	t.ID, t.Subject.ID = s.strs.keep(t.ID), s.strs.keep(t.Subject.ID)
	t.Snapshot.Email, t.Snapshot.Phone = s.strs.keep(t.Snapshot.Email), s.strs.keep(t.Snapshot.Phone)
}

// updateThread stores nt as the new state of rec, moving its index entries.
// What nt has unchanged keeps the stored strings (nt is changed to them).
func (s *Store) updateThread(rec *threadRec, nt *store.Thread) {
	old := rec.t
	nt.ID, nt.Subject = old.ID, old.Subject // checked equal
	if nt.Snapshot == old.Snapshot {
		nt.Snapshot = old.Snapshot
	}
	nt.Version = old.Version + 1
	if listChanged(&old, nt) {
		s.moveList(rec, &old, nt)
	} else {
		rec.t = *nt
	}
	s.counters.update(rec, &old, &rec.t)
	if old.Snapshot != nt.Snapshot {
		s.indexSubject(textindex.SubjectWords(old.Snapshot), rec.num, false)
		s.indexSubject(textindex.SubjectWords(nt.Snapshot), rec.num, true)
		if old.Snapshot.Phone != nt.Snapshot.Phone {
			s.phones.remove(textindex.PhoneForms(old.Snapshot.Phone), rec.num)
			s.phones.add(textindex.PhoneForms(nt.Snapshot.Phone), rec.num)
		}
	}
}

// indexSubject adds (or removes) thread num to (from) the subject word
// indexes: words in subject, the other entries in chunks.
func (s *Store) indexSubject(words []string, num uint32, add bool) {
	for i, w := range words {
		x := s.chunks
		if textindex.IsWord(w) {
			x = s.subject
		}
		if add {
			x.add(words[i:i+1], num)
		} else {
			x.remove(words[i:i+1], num)
		}
	}
}

// insertMessage stores a checked message with its deliveries and indexes
// its words; hs are the hashes of its ID and provider ID. It returns its
// record.
func (s *Store) insertMessage(rec *threadRec, m *store.Message, dels []store.Delivery, words [][]byte, hs msgHashes) *msgRec {
	r := s.newMsgRec(m, uint32(len(s.msgThread)))
	s.msgs.putHashed(r, hs.id)
	s.msgThread = append(s.msgThread, rec.num)
	if r.providerID != "" {
		if r.dir == store.Inbound {
			s.msgByPID.putHashed(r, hs.pid)
		} else {
			s.outByPID.putHashed(r, hs.pid)
		}
	}
	exact := r.rare != nil && r.rare.exact
	switch n := len(rec.msgs); {
	case n == 0:
		// Room for a reply: most threads hold more than one message.
		rec.msgs = append(s.msgPtrs.take(2)[:0], r)
	case !exact && r.created > rec.lastAt:
		// Later than the latest: no read of the latest's record.
		rec.msgs = append(rec.msgs, r)
	case s.msgBefore(rec.msgs[n-1], r):
		rec.msgs = append(rec.msgs, r)
	default:
		rec.msgs = slices.Insert(rec.msgs, s.msgPos(rec.msgs, r), r)
	}
	if rec.msgs[len(rec.msgs)-1] == r {
		rec.lastAt = math.MaxInt64 // r's time is not a stamp: compare records
		if !exact {
			rec.lastAt = r.created
		}
	}
	for _, w := range words {
		id, ok := s.wordIDs[string(w)]
		if !ok {
			id = uint32(len(s.postings))
			s.wordIDs[string(w)] = id
			s.postings = append(s.postings, nil)
			s.slotOf = append(s.slotOf, 0)
		}
		p := append(s.postings[id], r.num)
		s.postings[id] = p
		if sl := s.slotOf[id]; sl != 0 {
			r.words.set(sl - 1)
			s.markSlot(rec, sl-1)
		} else if len(p) >= s.slotPostings && s.slots < nSlots {
			s.giveSlot(id)
		}
	}
	if len(dels) == 0 {
		return r
	}
	if r.out == nil {
		r.out = s.msgOuts.one()
	}
	s.insertDeliveries(r, dels)
	return r
}

package inbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
)

// modify reads thread id, lets fn change it and describe the write, and
// stores it, retrying from a fresh read, after a backoff pause (see
// conflictPause), when a concurrent write won. fn must not have side
// effects outside t and w: it may run more than once. When fn returns
// errNoChange nothing is written.
func (in *Inbox) modify(ctx context.Context, id string, fn func(t *Thread, w *store.ThreadWrite) error) (Thread, error) {
	if id == "" {
		return Thread{}, fmt.Errorf("inbox: %w: empty thread ID", ErrInvalidArgument)
	}
	for try := range maxRetries {
		if err := in.conflictPause(ctx, try); err != nil {
			return Thread{}, err
		}
		t, err := in.store.Thread(ctx, id)
		if err != nil {
			return Thread{}, wrapStore("thread "+id, err)
		}
		var w store.ThreadWrite
		if err := fn(&t, &w); err != nil {
			if errors.Is(err, errNoChange) {
				return in.asOfNow(t), nil
			}
			return Thread{}, err
		}
		w.Thread = t
		err = in.store.WriteThread(ctx, w)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return Thread{}, wrapStore("write thread "+id, err)
		}
		t.Version++
		if len(w.Events) > 0 {
			in.delivered(ctx)
		}
		return in.asOfNow(t), nil
	}
	return Thread{}, fmt.Errorf("inbox: thread %s: %w", id, ErrConflict)
}

// asOfNow returns t as it stands at the inbox's now: a mute that expired
// reads as none (T7), so that callers need not judge MutedUntil. Every
// thread the inbox returns goes through it; stores keep what was written.
func (in *Inbox) asOfNow(t Thread) Thread {
	if t.Muted && !t.MutedAt(in.now()) {
		t.Muted, t.MutedUntil = false, time.Time{}
	}
	return t
}

var errNoChange = errors.New("no change")

func wrapStore(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("inbox: %s: %w", what, err)
}

// maxSubjectIDBytes is the longest subject ID the inbox accepts: stores
// index subject IDs as keys. Address subjects are far shorter (see
// addressSubject).
const maxSubjectIDBytes = 1024

// validSubject refuses a subject of an invalid kind, or whose ID is blank,
// not clean text (invalid UTF-8, NUL) or longer than maxSubjectIDBytes.
func validSubject(s Subject) error {
	if !s.Kind.Valid() || strings.TrimSpace(s.ID) == "" || cleanText(s.ID) != s.ID || len(s.ID) > maxSubjectIDBytes {
		return fmt.Errorf("inbox: %w: subject %q", ErrInvalidArgument, s.String())
	}
	return nil
}

// resumable reports whether a thread can be resumed at now (T2).
func (in *Inbox) resumable(t Thread, now time.Time) bool {
	return in.resume == NoLimit || now.Sub(t.LastActivityAt) <= in.resume
}

// Start starts a conversation with a subject, or resumes its thread (T2):
// the subject's live thread is resumed, open or closed, when it was active
// within the resume window; otherwise a new thread is started. The subject
// must exist in the directory, when there is one.
func (in *Inbox) Start(ctx context.Context, s Subject) (Thread, error) {
	if err := validSubject(s); err != nil {
		return Thread{}, err
	}
	t, err := in.threadFor(ctx, s, time.Time{}, nil)
	return in.asOfNow(t), err
}

// StartWithAddress starts or resumes a conversation with whoever owns an
// address (T2): the directory's contact that owns it when there is one,
// else the address itself as the subject. A phone number may be written in
// any format the recipient rules' default region parses (R6):
// "06 12 34 56 78" with region FR finds the contact whose phone is
// +33612345678.
func (in *Inbox) StartWithAddress(ctx context.Context, kind channel.Kind, address string) (Thread, error) {
	addr := in.address(kind, address)
	if !kind.Valid() || addr == "" {
		return Thread{}, fmt.Errorf("inbox: %w: kind %s, address %q", ErrInvalidArgument, kind, address)
	}
	s, err := in.subjectForAddress(ctx, kind, addr)
	if err != nil {
		return Thread{}, err
	}
	return in.Start(ctx, s)
}

// subjectForAddress returns the subject of whoever owns an address in its
// canonical form (see Inbox.address).
func (in *Inbox) subjectForAddress(ctx context.Context, kind channel.Kind, addr string) (Subject, error) {
	if in.dir != nil {
		var id string
		var err error
		if in.dirIDs != nil {
			id, err = in.dirIDs.ContactIDByAddress(ctx, kind, addr)
		} else {
			c, cerr := in.dir.ContactByAddress(ctx, kind, addr)
			id, err = c.ID, cerr
		}
		switch {
		case err == nil:
			return Subject{Kind: store.Contact, ID: id}, nil
		case !errors.Is(err, ErrNotFound):
			return Subject{}, fmt.Errorf("inbox: directory: %w", err)
		}
	}
	return addressSubject(kind, addr), nil
}

// threadFor returns the subject's thread to write into, creating it when
// needed.
//
// now is the time of the first try, the clock's when zero; a try after a
// conflict reads the clock. beforeCreate, when not nil, runs before a new
// thread is created; its error is returned as is.
func (in *Inbox) threadFor(ctx context.Context, s Subject, now time.Time, beforeCreate func() error) (Thread, error) {
	for try := range maxRetries {
		if err := in.conflictPause(ctx, try); err != nil {
			return Thread{}, err
		}
		if try > 0 || now.IsZero() {
			now = in.now()
		}
		live, err := in.store.LiveThread(ctx, s)
		replaces := ""
		switch {
		case err == nil:
			if in.resumable(live, now) {
				return live, nil
			}
			replaces = live.ID
		case !errors.Is(err, store.ErrNotFound):
			return Thread{}, wrapStore("live thread", err)
		}
		if beforeCreate != nil {
			if err := beforeCreate(); err != nil {
				return Thread{}, err
			}
		}
		snap, err := in.snapshotOf(ctx, s)
		if err != nil {
			return Thread{}, fmt.Errorf("inbox: subject %s: %w", s, err)
		}
		t := Thread{ID: in.newID(), Subject: s, Snapshot: snap, CreatedAt: now, SortTime: now, LastActivityAt: now,
			Dormant: in.dormant && s.Kind == store.Contact}
		err = in.store.WriteThread(ctx, store.ThreadWrite{Thread: t, ReplacesLive: replaces,
			Events: in.feedEvents(Event{Type: EventThreadStarted, ThreadID: t.ID, At: now})})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return Thread{}, wrapStore("create thread", err)
		}
		t.Version = 1
		in.delivered(ctx)
		return t, nil
	}
	return Thread{}, fmt.Errorf("inbox: start %s: %w", s, ErrConflict)
}

// Thread returns a thread by ID, as it stands now: a mute that expired
// reads as none (T7).
func (in *Inbox) Thread(ctx context.Context, id string) (Thread, error) {
	if id == "" {
		return Thread{}, fmt.Errorf("inbox: %w: empty thread ID", ErrInvalidArgument)
	}
	t, err := in.store.Thread(ctx, id)
	if err != nil {
		return Thread{}, wrapStore("thread "+id, err)
	}
	return in.asOfNow(t), nil
}

// RefreshSnapshot copies the subject's current searchable fields from the
// directory into its live thread, after the host changed its records.
func (in *Inbox) RefreshSnapshot(ctx context.Context, s Subject) (Thread, error) {
	if err := validSubject(s); err != nil {
		return Thread{}, err
	}
	live, err := in.store.LiveThread(ctx, s)
	if err != nil {
		return Thread{}, wrapStore("live thread", err)
	}
	snap, err := in.snapshotOf(ctx, s)
	if err != nil {
		return Thread{}, fmt.Errorf("inbox: subject %s: %w", s, err)
	}
	return in.change(ctx, live.ID, EventThreadChanged, func(t *Thread, w *store.ThreadWrite) error {
		if t.Snapshot == snap {
			return errNoChange
		}
		t.Snapshot = snap
		return nil
	})
}

// change is modify writing an event with the change, when there is one.
func (in *Inbox) change(ctx context.Context, id string, ev EventType, fn func(t *Thread, w *store.ThreadWrite) error) (Thread, error) {
	return in.modify(ctx, id, func(t *Thread, w *store.ThreadWrite) error {
		if err := fn(t, w); err != nil {
			return err
		}
		w.Events = in.feedEvents(Event{Type: ev, ThreadID: id})
		return nil
	})
}

// MarkRead marks every message of a thread read (T5). Reading a muted
// thread moves its sort time to the time of its latest message (T4).
func (in *Inbox) MarkRead(ctx context.Context, id string) (Thread, error) {
	return in.change(ctx, id, EventThreadRead, func(t *Thread, w *store.ThreadWrite) error {
		now := in.now()
		muted := t.MutedAt(now)
		if t.Unread == 0 && !(muted && !t.LastMessageAt.IsZero() && !t.SortTime.Equal(t.LastMessageAt)) {
			return errNoChange
		}
		t.Unread = 0
		w.ReadAll = true
		if muted && !t.LastMessageAt.IsZero() {
			t.SortTime = t.LastMessageAt
		}
		return nil
	})
}

// MarkUnread marks a thread unread (T6): allowed only when it has a
// message that was received or sent (a scheduled one not yet sent does not
// count) and none unread, else an error matching ErrMarkUnreadNotAllowed.
// Its latest such message becomes unread, so the thread counts exactly one.
func (in *Inbox) MarkUnread(ctx context.Context, id string) (Thread, error) {
	return in.change(ctx, id, EventThreadChanged, func(t *Thread, w *store.ThreadWrite) error {
		if t.Messages == 0 || t.Unread > 0 {
			return fmt.Errorf("inbox: thread %s has %d messages, %d unread: %w", t.ID, t.Messages, t.Unread, ErrMarkUnreadNotAllowed)
		}
		latest, err := in.latestDelivered(ctx, t.ID)
		if err != nil {
			return err
		}
		if latest == "" {
			return fmt.Errorf("inbox: thread %s: %w: no message received or sent", t.ID, ErrMarkUnreadNotAllowed)
		}
		t.Unread = 1
		w.Unread = []string{latest}
		return nil
	})
}

// MarkMessageUnread marks one inbound message unread (T6); the thread's
// unread count then includes it. A message already unread is left as is.
// Outbound messages give an error matching ErrMarkUnreadNotAllowed.
func (in *Inbox) MarkMessageUnread(ctx context.Context, messageID string) (Thread, error) {
	if messageID == "" {
		return Thread{}, fmt.Errorf("inbox: %w: empty message ID", ErrInvalidArgument)
	}
	m, err := in.store.Message(ctx, messageID)
	if err != nil {
		return Thread{}, wrapStore("message "+messageID, err)
	}
	if m.Direction != store.Inbound {
		return Thread{}, fmt.Errorf("inbox: message %s is %s: %w", messageID, m.Direction, ErrMarkUnreadNotAllowed)
	}
	return in.change(ctx, m.ThreadID, EventThreadChanged, func(t *Thread, w *store.ThreadWrite) error {
		cur, err := in.store.Message(ctx, messageID)
		if err != nil {
			return wrapStore("message "+messageID, err)
		}
		if cur.Unread {
			return errNoChange
		}
		t.Unread++
		w.Unread = []string{messageID}
		return nil
	})
}

// Mute mutes a thread (T7) until the given time, or until Unmute when
// until is zero. A muted thread keeps its unread count but is left out of
// the attention badge, and inbound messages do not move it up the list.
func (in *Inbox) Mute(ctx context.Context, id string, until time.Time) (Thread, error) {
	if !until.IsZero() && !until.After(in.now()) {
		return Thread{}, fmt.Errorf("inbox: %w: mute until %s is not in the future", ErrInvalidArgument, until)
	}
	return in.change(ctx, id, EventThreadChanged, func(t *Thread, w *store.ThreadWrite) error {
		if t.Muted && t.MutedUntil.Equal(until) {
			return errNoChange
		}
		t.Muted, t.MutedUntil = true, until
		return nil
	})
}

// Unmute ends a mute (T7).
func (in *Inbox) Unmute(ctx context.Context, id string) (Thread, error) {
	return in.change(ctx, id, EventThreadChanged, func(t *Thread, w *store.ThreadWrite) error {
		if !t.Muted {
			return errNoChange
		}
		t.Muted, t.MutedUntil = false, time.Time{}
		return nil
	})
}

// SetFavourite pins (on) or unpins a thread (T8).
func (in *Inbox) SetFavourite(ctx context.Context, id string, on bool) (Thread, error) {
	return in.change(ctx, id, EventThreadChanged, func(t *Thread, w *store.ThreadWrite) error {
		if t.Favourite == on {
			return errNoChange
		}
		t.Favourite = on
		return nil
	})
}

// Archive hides a thread from the default list and search (T9); nothing is
// deleted.
func (in *Inbox) Archive(ctx context.Context, id string) (Thread, error) {
	return in.setFlag(ctx, id, func(t *Thread) *bool { return &t.Archived }, true)
}

// Restore brings an archived thread back (T9).
func (in *Inbox) Restore(ctx context.Context, id string) (Thread, error) {
	return in.setFlag(ctx, id, func(t *Thread) *bool { return &t.Archived }, false)
}

// CloseThread closes a thread (T10). Closed threads stay searchable and
// messageable.
func (in *Inbox) CloseThread(ctx context.Context, id string) (Thread, error) {
	return in.setFlag(ctx, id, func(t *Thread) *bool { return &t.Closed }, true)
}

// ReopenThread reopens a closed thread (T10).
func (in *Inbox) ReopenThread(ctx context.Context, id string) (Thread, error) {
	return in.setFlag(ctx, id, func(t *Thread) *bool { return &t.Closed }, false)
}

func (in *Inbox) setFlag(ctx context.Context, id string, field func(*Thread) *bool, v bool) (Thread, error) {
	return in.change(ctx, id, EventThreadChanged, func(t *Thread, w *store.ThreadWrite) error {
		f := field(t)
		if *f == v {
			return errNoChange
		}
		*f = v
		return nil
	})
}

// Assign assigns a thread to an agent, or unassigns it when agent is ""
// (T12); the change is recorded in the ownership history with who made it
// and when. Assigning to the current assignee records nothing.
func (in *Inbox) Assign(ctx context.Context, id, agent, by string) (Thread, error) {
	return in.change(ctx, id, EventAssigned, func(t *Thread, w *store.ThreadWrite) error {
		if t.Assignee == agent {
			return errNoChange
		}
		w.Assignment = &Assignment{ThreadID: t.ID, From: t.Assignee, To: agent, By: by, At: in.now()}
		t.Assignee = agent
		return nil
	})
}

// Unassign is Assign with no agent.
func (in *Inbox) Unassign(ctx context.Context, id, by string) (Thread, error) {
	return in.Assign(ctx, id, "", by)
}

// Assignments returns a thread's ownership history, oldest first (T12).
func (in *Inbox) Assignments(ctx context.Context, id string) ([]Assignment, error) {
	if _, err := in.Thread(ctx, id); err != nil {
		return nil, err
	}
	h, err := in.store.Assignments(ctx, id)
	if err != nil {
		return nil, wrapStore("assignments", err)
	}
	return h, nil
}

// MarkAllRead marks every thread read (T10 bulk action) and returns how many
// threads it changed.
func (in *Inbox) MarkAllRead(ctx context.Context) (int, error) {
	n := 0
	for _, f := range []StatusFilter{store.Unread, store.Archived} {
		err := in.each(ctx, store.ThreadQuery{Status: f}, func(t Thread) error {
			if t.Unread == 0 {
				return nil
			}
			if _, err := in.MarkRead(ctx, t.ID); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// CloseAllRead closes every open thread that has nothing unread (T10 bulk
// action) and returns how many it closed.
func (in *Inbox) CloseAllRead(ctx context.Context) (int, error) {
	n := 0
	for _, f := range []StatusFilter{store.All, store.Archived} {
		err := in.each(ctx, store.ThreadQuery{Status: f, Lifecycle: store.Open}, func(t Thread) error {
			if t.Unread > 0 {
				return nil
			}
			_, err := in.change(ctx, t.ID, EventThreadChanged, func(t *Thread, w *store.ThreadWrite) error {
				if t.Closed || t.Unread > 0 {
					return errNoChange
				}
				t.Closed = true
				return nil
			})
			if err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// each calls fn for every thread matching q, page by page. Threads that fn
// moves out of q are not revisited.
func (in *Inbox) each(ctx context.Context, q store.ThreadQuery, fn func(Thread) error) error {
	q.Limit = 200
	for {
		q.Now = in.now()
		page, err := in.store.Threads(ctx, q)
		if err != nil {
			return wrapStore("threads", err)
		}
		for _, t := range page {
			if err := fn(t); err != nil {
				return err
			}
		}
		if len(page) < q.Limit {
			return nil
		}
		p := store.PositionOf(page[len(page)-1])
		q.After = &p
	}
}

package inbox

import (
	"context"
	"encoding/base64"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/internal/textindex"
)

// DefaultPageSize is the page size when a query gives none.
const DefaultPageSize = 50

// MaxPageSize is the largest page a query may ask for.
const MaxPageSize = 500

// ThreadQuery selects threads for the list (T3, T11, T12, T13, T17). The
// zero value lists every thread that is not archived.
type ThreadQuery struct {
	// Status is the status filter: all (not archived), unread, favourites,
	// muted or archived (T11).
	Status StatusFilter
	// Lifecycle is open, closed or any (T11).
	Lifecycle Lifecycle
	// Category keeps one subject kind; zero keeps all (T11).
	Category SubjectKind
	// Assignee keeps threads assigned to that agent; Unassigned keeps
	// unassigned ones (T12). Setting both is invalid.
	Assignee   string
	Unassigned bool
	// Search keeps threads that match it (T13): contacts by first name,
	// last name, email or phone (any format), audiences and events by name,
	// messages by keyword; case- and accent-insensitive. Search works inside
	// the status filter, so archived threads are searched only with the
	// archived filter.
	Search string
	// Cursor is the Next of the previous page; "" for the first page.
	Cursor string
	// Limit is the page size: DefaultPageSize when zero, at most
	// MaxPageSize.
	Limit int
}

// ThreadPage is one page of the thread list.
type ThreadPage struct {
	Threads []Thread
	// Next is the cursor of the next page, "" after the last page.
	Next string
}

// Threads returns one page of the thread list in list order (T3):
// favourites first, then by sort time newest first, ties broken by thread
// ID. A page never repeats or skips a thread that did not move while paging.
func (in *Inbox) Threads(ctx context.Context, q ThreadQuery) (ThreadPage, error) {
	sq, err := in.storeQuery(q)
	if err != nil {
		return ThreadPage{}, err
	}
	limit := sq.Limit
	sq.Limit = limit + 1
	ts, err := in.store.Threads(ctx, sq)
	if err != nil {
		return ThreadPage{}, wrapStore("threads", err)
	}
	page := ThreadPage{Threads: ts}
	if len(ts) > limit {
		page.Threads = ts[:limit]
		page.Next = encodeCursor(store.PositionOf(ts[limit-1]))
	}
	for i, t := range page.Threads {
		page.Threads[i] = in.asOfNow(t)
	}
	return page, nil
}

// AllThreads returns an iterator over every thread matching q, in list
// order, fetching page by page; q.Cursor and q.Limit set where it starts and
// the page size. It stops at the first error, which it yields.
func (in *Inbox) AllThreads(ctx context.Context, q ThreadQuery) iter.Seq2[Thread, error] {
	return func(yield func(Thread, error) bool) {
		for {
			page, err := in.Threads(ctx, q)
			if err != nil {
				yield(Thread{}, err)
				return
			}
			for _, t := range page.Threads {
				if !yield(t, nil) {
					return
				}
			}
			if page.Next == "" {
				return
			}
			q.Cursor = page.Next
		}
	}
}

func (in *Inbox) storeQuery(q ThreadQuery) (store.ThreadQuery, error) {
	if q.Status > store.Archived || q.Lifecycle > store.Closed || (q.Category != 0 && !q.Category.Valid()) {
		return store.ThreadQuery{}, fmt.Errorf("inbox: %w: filter status %d, lifecycle %d, category %d", ErrInvalidArgument, q.Status, q.Lifecycle, q.Category)
	}
	if q.Assignee != "" && q.Unassigned {
		return store.ThreadQuery{}, fmt.Errorf("inbox: %w: both an assignee and unassigned", ErrInvalidArgument)
	}
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return store.ThreadQuery{}, err
	}
	now := in.now()
	sq := store.ThreadQuery{Status: q.Status, Lifecycle: q.Lifecycle, Category: q.Category,
		Assignee: q.Assignee, Unassigned: q.Unassigned, Now: now, Limit: limit}
	if strings.TrimSpace(q.Search) != "" {
		sq.Search = textindex.ParseQuery(q.Search)
	}
	if in.visible > 0 {
		sq.ActiveSince = now.Add(-in.visible)
	}
	if q.Cursor != "" {
		p, err := decodeCursor(q.Cursor)
		if err != nil {
			return store.ThreadQuery{}, err
		}
		sq.After = &p
	}
	return sq, nil
}

func pageLimit(n int) (int, error) {
	switch {
	case n < 0 || n > MaxPageSize:
		return 0, fmt.Errorf("inbox: %w: limit %d not in 0..%d", ErrInvalidArgument, n, MaxPageSize)
	case n == 0:
		return DefaultPageSize, nil
	}
	return n, nil
}

// Cursors are opaque to callers: base64url of "f|unixnano|id".
func encodeCursor(p store.Position) string {
	f := "0"
	if p.Favourite {
		f = "1"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(f + "|" + strconv.FormatInt(p.SortTime.UnixNano(), 10) + "|" + p.ID))
}

func decodeCursor(c string) (store.Position, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	bad := fmt.Errorf("inbox: %w: malformed cursor", ErrInvalidArgument)
	if err != nil {
		return store.Position{}, bad
	}
	parts := strings.SplitN(string(b), "|", 3)
	if len(parts) != 3 || (parts[0] != "0" && parts[0] != "1") || parts[2] == "" {
		return store.Position{}, bad
	}
	ns, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return store.Position{}, bad
	}
	return store.Position{Favourite: parts[0] == "1", SortTime: time.Unix(0, ns).UTC(), ID: parts[2]}, nil
}

// Counters returns the attention counters (T15): the number of threads with
// unread messages that are neither muted nor archived, in all and per
// category.
func (in *Inbox) Counters(ctx context.Context) (Counters, error) {
	c, err := in.store.Counters(ctx, in.now())
	if err != nil {
		return Counters{}, wrapStore("counters", err)
	}
	return c, nil
}

// MessageQuery selects messages of one thread (M6, T14).
type MessageQuery struct {
	// ThreadID is required.
	ThreadID string
	// Kinds keeps messages of those channel kinds; empty keeps all.
	Kinds []channel.Kind
	// Since and Until keep messages created in [Since, Until); zero ends
	// are open.
	Since, Until time.Time
	// Direction keeps inbound or outbound messages; zero keeps both.
	Direction Direction
	// Origin keeps manual or automatic (or direct, scheduled) messages;
	// zero keeps all.
	Origin Origin
	// Groups keeps messages sent to one of those event groups ("booked",
	// "waitlisted", "cancelled").
	Groups []string
	// Search keeps messages whose text holds every word of it (T14), case-
	// and accent-insensitive.
	Search string
	// Newest lists newest first, as a chat view that pages backwards does.
	Newest bool
	// Cursor is the Next of the previous page.
	Cursor string
	// Limit is the page size (DefaultPageSize when zero, at most
	// MaxPageSize).
	Limit int
}

// MessagePage is one page of messages.
type MessagePage struct {
	Messages []Message
	Next     string
}

// Messages returns one page of a thread's messages, oldest first (newest
// first with q.Newest), filtered by q (M6, T14).
func (in *Inbox) Messages(ctx context.Context, q MessageQuery) (MessagePage, error) {
	if q.ThreadID == "" {
		return MessagePage{}, fmt.Errorf("inbox: %w: empty thread ID", ErrInvalidArgument)
	}
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return MessagePage{}, err
	}
	if _, err := in.Thread(ctx, q.ThreadID); err != nil {
		return MessagePage{}, err
	}
	sq := store.MessageQuery{ThreadID: q.ThreadID, Kinds: q.Kinds, Since: q.Since, Until: q.Until,
		Direction: q.Direction, Origin: q.Origin, Groups: q.Groups, Newest: q.Newest, Limit: limit + 1}
	if q.Search != "" {
		sq.Terms = textindex.MessageWords(q.Search)
	}
	if q.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil || len(b) == 0 {
			return MessagePage{}, fmt.Errorf("inbox: %w: malformed cursor", ErrInvalidArgument)
		}
		sq.After = string(b)
	}
	ms, err := in.store.Messages(ctx, sq)
	if err != nil {
		return MessagePage{}, wrapStore("messages", err)
	}
	page := MessagePage{Messages: ms}
	if len(ms) > limit {
		page.Messages = ms[:limit]
		page.Next = base64.RawURLEncoding.EncodeToString([]byte(ms[limit-1].ID))
	}
	return page, nil
}

// Message returns a message by ID.
func (in *Inbox) Message(ctx context.Context, id string) (Message, error) {
	if id == "" {
		return Message{}, fmt.Errorf("inbox: %w: empty message ID", ErrInvalidArgument)
	}
	m, err := in.store.Message(ctx, id)
	if err != nil {
		return Message{}, wrapStore("message "+id, err)
	}
	return m, nil
}

// DeliveryPage is one page of deliveries.
type DeliveryPage struct {
	Deliveries []Delivery
	// Next is the cursor of the next page, "" after the last page.
	Next string
}

// Deliveries returns one page of a message's deliveries with their statuses
// (M2), in a fixed order; pass Next as cursor to get the next page.
func (in *Inbox) Deliveries(ctx context.Context, messageID, cursor string, limit int) (DeliveryPage, error) {
	n, err := pageLimit(limit)
	if err != nil {
		return DeliveryPage{}, err
	}
	ds, err := in.store.Deliveries(ctx, messageID, cursor, n+1)
	if err != nil {
		return DeliveryPage{}, wrapStore("deliveries", err)
	}
	if len(ds) > n {
		return DeliveryPage{Deliveries: ds[:n], Next: ds[n-1].ID}, nil
	}
	return DeliveryPage{Deliveries: ds}, nil
}

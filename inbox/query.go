package inbox

import (
	"context"
	"encoding/base64"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// DefaultPageSize is the page size when a query gives none.
const DefaultPageSize = 50

// MaxPageSize is the largest page a query returns: a larger Limit is
// clamped to it.
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
	// Limit is the page size: DefaultPageSize when zero, MaxPageSize when
	// larger; negative is invalid.
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
		page.Next = threadCursor(store.PositionOf(ts[limit-1]))
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
	return all(q.Cursor, func(cursor string) ([]Thread, string, error) {
		q.Cursor = cursor
		p, err := in.Threads(ctx, q)
		return p.Threads, p.Next, err
	})
}

// all returns an iterator over the items of every page, from the page at
// cursor on; it stops at the first error, which it yields. Every All method
// is one.
func all[T any](cursor string, page func(cursor string) ([]T, string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			items, next, err := page(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			cursor = next
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
		p, err := decodeThreadCursor(q.Cursor)
		if err != nil {
			return store.ThreadQuery{}, err
		}
		sq.After = &p
	}
	return sq, nil
}

// pageLimit returns the page size of a query's Limit: DefaultPageSize for
// zero, clamped to MaxPageSize; a negative limit is invalid.
func pageLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("inbox: %w: negative limit %d", ErrInvalidArgument, n)
	case n == 0:
		return DefaultPageSize, nil
	}
	return min(n, MaxPageSize), nil
}

// Cursors are opaque to callers: base64url of a tag naming the query they
// page through, then the keyset position, "|"-separated, so that a cursor
// of one query given to another is refused as malformed. The last field
// (an ID) may hold "|".
const (
	threadsCursor    = "t" // t|favourite|unixnano|thread ID
	messagesCursor   = "m" // m|message ID
	deliveriesCursor = "d" // d|delivery ID
	sentCursor       = "s" // s|delivery ID
)

func encodeCursor(tag string, fields ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tag + "|" + strings.Join(fields, "|")))
}

// decodeCursor returns the n fields of a cursor with tag, none empty.
func decodeCursor(c, tag string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		parts := strings.SplitN(string(b), "|", n+1)
		if len(parts) == n+1 && parts[0] == tag && !slices.Contains(parts[1:], "") {
			return parts[1:], nil
		}
	}
	return nil, fmt.Errorf("inbox: %w: malformed cursor", ErrInvalidArgument)
}

func threadCursor(p store.Position) string {
	f := "0"
	if p.Favourite {
		f = "1"
	}
	return encodeCursor(threadsCursor, f, strconv.FormatInt(p.SortTime.UnixNano(), 10), p.ID)
}

func decodeThreadCursor(c string) (store.Position, error) {
	f, err := decodeCursor(c, threadsCursor, 3)
	if err != nil {
		return store.Position{}, err
	}
	ns, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || (f[0] != "0" && f[0] != "1") {
		return store.Position{}, fmt.Errorf("inbox: %w: malformed cursor", ErrInvalidArgument)
	}
	return store.Position{Favourite: f[0] == "1", SortTime: time.Unix(0, ns).UTC(), ID: f[2]}, nil
}

// idCursor returns the one ID a cursor with tag holds, "" for no cursor.
func idCursor(c, tag string) (string, error) {
	if c == "" {
		return "", nil
	}
	f, err := decodeCursor(c, tag, 1)
	if err != nil {
		return "", err
	}
	return f[0], nil
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
	// Cursor is the Next of the previous page; "" for the first page.
	Cursor string
	// Limit is the page size: DefaultPageSize when zero, MaxPageSize when
	// larger; negative is invalid.
	Limit int
}

// MessagePage is one page of messages.
type MessagePage struct {
	Messages []Message
	// Next is the cursor of the next page, "" after the last page.
	Next string
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
	if sq.After, err = idCursor(q.Cursor, messagesCursor); err != nil {
		return MessagePage{}, err
	}
	ms, err := in.store.Messages(ctx, sq)
	if err != nil {
		return MessagePage{}, wrapStore("messages", err)
	}
	page := MessagePage{Messages: ms}
	if len(ms) > limit {
		page.Messages = ms[:limit]
		page.Next = encodeCursor(messagesCursor, ms[limit-1].ID)
	}
	return page, nil
}

// AllMessages returns an iterator over every message matching q, in the
// order of Messages, fetching page by page from q.Cursor with q.Limit per
// page. It stops at the first error, which it yields.
func (in *Inbox) AllMessages(ctx context.Context, q MessageQuery) iter.Seq2[Message, error] {
	return all(q.Cursor, func(cursor string) ([]Message, string, error) {
		q.Cursor = cursor
		p, err := in.Messages(ctx, q)
		return p.Messages, p.Next, err
	})
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

// DeliveryQuery selects the deliveries of one message (M2).
type DeliveryQuery struct {
	// MessageID is required.
	MessageID string
	// Cursor is the Next of the previous page; "" for the first page.
	Cursor string
	// Limit is the page size: DefaultPageSize when zero, MaxPageSize when
	// larger; negative is invalid.
	Limit int
}

// Deliveries returns one page of a message's deliveries with their statuses
// (M2), in a fixed order. An unknown message gives ErrNotFound.
func (in *Inbox) Deliveries(ctx context.Context, q DeliveryQuery) (DeliveryPage, error) {
	if q.MessageID == "" {
		return DeliveryPage{}, fmt.Errorf("inbox: %w: empty message ID", ErrInvalidArgument)
	}
	n, err := pageLimit(q.Limit)
	if err != nil {
		return DeliveryPage{}, err
	}
	after, err := idCursor(q.Cursor, deliveriesCursor)
	if err != nil {
		return DeliveryPage{}, err
	}
	ds, err := in.store.Deliveries(ctx, store.DeliveryQuery{MessageID: q.MessageID, After: after, Limit: n + 1})
	if err != nil {
		return DeliveryPage{}, wrapStore("deliveries", err)
	}
	if len(ds) > n {
		return DeliveryPage{Deliveries: ds[:n], Next: encodeCursor(deliveriesCursor, ds[n-1].ID)}, nil
	}
	return DeliveryPage{Deliveries: ds}, nil
}

// AllDeliveries returns an iterator over every delivery of a message, in
// the order of Deliveries, fetching page by page from q.Cursor with q.Limit
// per page. It stops at the first error, which it yields.
func (in *Inbox) AllDeliveries(ctx context.Context, q DeliveryQuery) iter.Seq2[Delivery, error] {
	return all(q.Cursor, func(cursor string) ([]Delivery, string, error) {
		q.Cursor = cursor
		p, err := in.Deliveries(ctx, q)
		return p.Deliveries, p.Next, err
	})
}

// AllSent returns an iterator over every delivery matching q, in the order
// of Sent, fetching page by page from q.Cursor with q.Limit per page. It
// stops at the first error, which it yields.
func (in *Inbox) AllSent(ctx context.Context, q SentQuery) iter.Seq2[Delivery, error] {
	return all(q.Cursor, func(cursor string) ([]Delivery, string, error) {
		q.Cursor = cursor
		p, err := in.Sent(ctx, q)
		return p.Deliveries, p.Next, err
	})
}

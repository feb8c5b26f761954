package inbox

import (
	"errors"

	"github.com/parleyhq/parley/inbox/store"
)

// The value types of the inbox, defined in package store so that store
// implementations need not import this package.
type (
	// Thread is one conversation with one subject (T1).
	Thread = store.Thread
	// Subject identifies what a thread is about (T1).
	Subject = store.Subject
	// SubjectKind is contact, audience or event.
	SubjectKind = store.SubjectKind
	// Snapshot is a subject's searchable fields (T13).
	Snapshot = store.Snapshot
	// Message is one message of a thread (M1).
	Message = store.Message
	// Delivery is one recipient of an outbound message (M1, S1–S3).
	Delivery = store.Delivery
	// Assignment is one entry of the ownership history (T12).
	Assignment = store.Assignment
	// Direction is inbound or outbound.
	Direction = store.Direction
	// Origin is direct, manual, automatic or scheduled (M1).
	Origin = store.Origin
	// Author says who wrote a message.
	Author = store.Author
	// StatusFilter is the status filter of T11.
	StatusFilter = store.StatusFilter
	// Lifecycle is the lifecycle filter of T11.
	Lifecycle = store.Lifecycle
	// Counters are the attention counters of T15.
	Counters = store.Counters
	// Store is the storage an Inbox runs on.
	Store = store.Store
)

// Subject kinds (T1).
const (
	SubjectContact  = store.Contact
	SubjectAudience = store.Audience
	SubjectEvent    = store.Event
)

// Directions and origins (M1).
const (
	Inbound   = store.Inbound
	Outbound  = store.Outbound
	Direct    = store.Direct
	Manual    = store.Manual
	Automatic = store.Automatic
	Scheduled = store.Scheduled
)

// Status and lifecycle filters (T11).
const (
	All          = store.All
	Unread       = store.Unread
	Favourites   = store.Favourites
	Muted        = store.Muted
	Archived     = store.Archived
	AnyLifecycle = store.AnyLifecycle
	Open         = store.Open
	Closed       = store.Closed
)

// Errors matched with errors.Is.
var (
	// ErrNotFound: no thread, message or delivery with that ID. It is
	// store.ErrNotFound, so errors from a Store match it too.
	ErrNotFound = store.ErrNotFound
	// ErrConflict: a write kept conflicting with concurrent writes of the
	// same thread after several retries. It is store.ErrConflict.
	ErrConflict = store.ErrConflict
	// ErrInvalidArgument: an argument is malformed (empty ID, invalid kind,
	// bad cursor, negative limit…).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrMarkUnreadNotAllowed: mark-as-unread on a thread that has no
	// messages or already has unread ones (T6), or on a message that is not
	// inbound.
	ErrMarkUnreadNotAllowed = errors.New("mark as unread not allowed")
	// ErrClosed: the Inbox was closed.
	ErrClosed = errors.New("inbox closed")
)

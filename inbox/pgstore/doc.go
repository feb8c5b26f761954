// Package pgstore is the PostgreSQL implementation of the inbox storage
// contract (package inbox/store), for hosts that run many app instances in
// front of one database. It keeps everything across restarts and is safe to
// share between processes: every instance opens its own pool, and the
// database arbitrates.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// # Use
//
// Apply the embedded, versioned schema with Migrate at start-up (idempotent;
// instances starting together take turns on an advisory lock), then Open
// the store of one tenant on a pgx pool and give it to inbox.New:
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	…
//	if err := pgstore.Migrate(ctx, pool); err != nil { … }
//	s, err := pgstore.Open(ctx, pool, "hotel-1234")
//	…
//	ib, err := inbox.New(s, inbox.Options{Directory: dir})
//
// # Tenants
//
// A store is scoped to the tenant it was opened with (an account, a hotel,
// a studio): every table has a tenant_id column that leads every key and
// index, every statement is bound to the store's tenant, and the search keys
// themselves carry it. Stores of several tenants may share one pool.
//
// # How the contract maps to SQL
//
//   - Each WriteThread is one transaction. Creating a thread inserts it and
//     its subject's row in parley_live_threads, conditional on ReplacesLive
//     (T1); updating one is UPDATE … WHERE version = $v, which takes the row
//     lock, so racing instances serialise and the loser gets
//     store.ErrConflict. Provider IDs of outbound messages and deliveries
//     are claimed in parley_provider_ids, whose primary key makes the
//     database reject duplicates; those of inbound messages, a namespace of
//     their own, by the unique partial index
//     parley_messages_inbound_provider (M5).
//   - The thread list (T3, T11, T12) is read in order from partial B-tree
//     indexes on (tenant, [assignee,] archived, closed, category, list_pin,
//     list_rank, id), one per filter family. list_pin is NOT favourite and
//     list_rank is minus the sort time in microseconds, so the mixed order
//     "favourites first, newest first, then ID" is one ascending key and a
//     page starts after the cursor with one row comparison (keyset). "Any"
//     lifecycle or category becomes a UNION ALL of branches that each read
//     at most one page from the front of their index range.
//   - Search (T13) is array containment on one GIN index: a thread stores
//     every prefix of its subject words and phone digit forms, and the
//     whole words of all its messages (kept with each message written; a
//     message also keeps its own words), all tokenised by
//     inbox/store/textindex exactly as every Parley store does, so PostgreSQL
//     matches like inbox/memstore. The same index holds the thread's
//     filter state as markers (unread, favourite, muted, archived,
//     category, assignee; a column PostgreSQL computes from the flags,
//     migration 6), so a search inside a selective filter intersects the
//     posting lists of its keys and markers in one index scan and visits
//     only the threads that match both; filters that keep most of the list
//     (listed, contacts) are checked on the visited rows instead, whose
//     markers' long posting lists would cost more. The planner's
//     statistics of the keys say how many threads a search finds, without
//     reading an index: a search they put at a few pages, or whose keys
//     they do not list (their estimate is then a guess), and a phone search
//     of six digits or more before any estimate, are probed: the matches
//     are collected up to four pages in one statement that says how many
//     it found. More matches are weighed with the filters: a search whose
//     walk of a small filter should read fewer rows than its collection
//     would cost (words in a large share of the list, whose long posting
//     lists the index scan decodes even inside a small filter), and at
//     worst, reading every thread of the filter, twice as much, walks the
//     filter's list index in order and checks each thread on its row (list
//     indexes of the muted and favourite threads by assignee, migration 8,
//     make every combination of the status and assignee filters one
//     range); a few pages of matches inside the filters are all collected;
//     a search that matches a tenth of the list or more walks it in order
//     and checks each thread on its row, which meets a page after a few
//     threads; otherwise the
//     matches are collected inside a window of the first entries of the
//     list from the cursor, which the same index holds as markers of the
//     buckets of list rank each thread is in, so the scan intersects the
//     keys, the filters and the window before it visits a row; the window
//     widens until a page is full, or reads the rest of the list once it
//     would span a quarter of it. Its size follows the share of the list
//     a search matches, not a count of matches, so the plan does not
//     change with the size of the list. A search whose collection would
//     step through long posting lists (a frequent prefix among the
//     archived, unread or unassigned threads of a large list: the index
//     scan costs the length of the shortest list of its keys and markers,
//     whatever the matches) first walks the filters' list index, merged
//     over its lifecycle and category ranges in list order, up to three
//     times the rows a page should take (not among the audiences or the
//     events: a name searched is often in none of their names); when the
//     page is not full by then, the rest of it is read after the last row
//     walked, walked again or collected as the share of matches the walk
//     saw says (the front of a list may hold fewer matches). A search of
//     several message words also checks that one message of the thread
//     holds them all, through that thread's messages.
//   - A visibility window (T17) that keeps few threads collects them from
//     an index on (tenant, last activity); a wider one walks the list.
//   - WriteDelivery is one statement that locks the delivery, checks its
//     version, stores it and moves its message's per-status Counts (S5).
//   - ClaimDue is UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED):
//     dispatchers in several instances claim disjoint due deliveries (C8).
//
// Times are kept to the microsecond, PostgreSQL's precision, and come back
// in UTC; the zero time is kept as NULL. Text must be valid UTF-8 without
// NUL bytes, which PostgreSQL cannot store.
//
// # Concurrency
//
// A Store is safe for concurrent use by many goroutines and, through the
// database, by many processes. Reads see every write that returned before
// they started (read committed).
//
// # Errors
//
// Methods return errors matching store.ErrNotFound, store.ErrConflict and
// store.ErrDuplicate with errors.Is, as the contract says; ErrInvalid for a
// value the contract does not allow or text PostgreSQL cannot hold;
// ErrNotMigrated from Open when the schema is missing or old; and the
// context's error, unwrapped, when the context ends. Other database errors
// are wrapped. Messages start with "pgstore:".
package pgstore

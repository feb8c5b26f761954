-- Parley inbox store, version 6: searches answer their filters and their
-- window of the list in the search index.
--
-- filter_keys holds a thread's filter state as tenant-prefixed markers
-- ("<tenant>:<marker>"), computed by PostgreSQL from the thread's columns
-- whenever they change: "l" listed (not archived) or "a" archived; "u"
-- unread, "f" favourite and "m" muted, each only when not archived (as the
-- status filters of T11 take them); "o" open or "c" closed; "k1", "k2" or
-- "k3" the subject kind; "g:<agent>" the assignee ("g:" unassigned; none
-- for an agent ID longer than 64 bytes, which the store filters on the
-- row). It also holds the thread's place in the list order (favourites
-- first, then by list_rank): "f<w>:<b>" for a favourite, "n<w>:<b>" for
-- another thread, where b is list_rank >> w, the bucket of 2^w
-- microseconds of sort time the thread is in, for w = 32, 35, ..., 47. A
-- dormant thread, never listed, has no marker.
--
-- One GIN index holds the search keys, the message words and the markers,
-- so that a search inside a filter and a window of the list ("dupont"
-- among the unread threads, the newest first) is one index scan that
-- intersects the posting lists of its keys, its filters and the window's
-- buckets, and only the threads that match all of them are visited. The
-- thread row was rewritten on every non-HOT update already (list_rank and
-- the flags are indexed), which inserts all of its GIN entries again: the
-- markers add thirteen short entries to the hundred or so a thread has.
--
-- Every statement may run again on a schema it already changed. Adding the
-- column rewrites the table, and the index is built again from scratch (a
-- million threads: about nine minutes on two busy cores): on a large table,
-- run Migrate at a quiet time, and VACUUM parley_threads afterwards, which
-- index-only scans of the rewritten table need (a migration runs in a
-- transaction, where VACUUM cannot).
ALTER TABLE parley_threads ADD COLUMN IF NOT EXISTS filter_keys text[] NOT NULL
    GENERATED ALWAYS AS (CASE WHEN dormant THEN '{}'::text[] ELSE array_remove(ARRAY[
        tenant_id::text || CASE WHEN archived THEN ':a' ELSE ':l' END,
        CASE WHEN unread > 0 AND NOT archived THEN tenant_id::text || ':u' END,
        CASE WHEN favourite AND NOT archived THEN tenant_id::text || ':f' END,
        CASE WHEN muted AND NOT archived THEN tenant_id::text || ':m' END,
        tenant_id::text || CASE WHEN closed THEN ':c' ELSE ':o' END,
        tenant_id::text || ':k' || subject_kind::text,
        CASE WHEN octet_length(assignee) <= 64 THEN tenant_id::text || ':g:' || assignee END,
        tenant_id::text || CASE WHEN favourite THEN ':f' ELSE ':n' END || '32:' || (list_rank >> 32)::text,
        tenant_id::text || CASE WHEN favourite THEN ':f' ELSE ':n' END || '35:' || (list_rank >> 35)::text,
        tenant_id::text || CASE WHEN favourite THEN ':f' ELSE ':n' END || '38:' || (list_rank >> 38)::text,
        tenant_id::text || CASE WHEN favourite THEN ':f' ELSE ':n' END || '41:' || (list_rank >> 41)::text,
        tenant_id::text || CASE WHEN favourite THEN ':f' ELSE ':n' END || '44:' || (list_rank >> 44)::text,
        tenant_id::text || CASE WHEN favourite THEN ':f' ELSE ':n' END || '47:' || (list_rank >> 47)::text
    ], NULL) END) STORED;

DROP INDEX IF EXISTS parley_threads_search;
DROP INDEX IF EXISTS parley_threads_message_words;
CREATE INDEX IF NOT EXISTS parley_threads_keys ON parley_threads
    USING gin (search_keys, message_words, filter_keys);

-- The list order of every listed thread, whatever the filters: a search
-- reads where its window ends and where the list and its favourites begin
-- and end here.
DROP INDEX IF EXISTS parley_threads_rank;
CREATE INDEX IF NOT EXISTS parley_threads_order ON parley_threads (tenant_id, list_pin, list_rank, id)
    WHERE NOT dormant;

-- The planner's statistics of the new column, which searches are planned
-- with.
ANALYZE parley_threads;

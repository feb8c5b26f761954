-- Parley inbox store, version 2: search and visibility-window reads that
-- stay on the thread row.
--
-- message_words holds the distinct whole words ("m" keys) of every message
-- of the thread, kept by the store with each message it writes. A message
-- search (T13) is then array containment on the thread row, served by a
-- GIN index: the list walk checks each thread where it stands instead of
-- looking its messages up, and collecting the matches reads one index.
-- Messages are never deleted nor their text changed, so the words only
-- grow. A search of several words still checks that one message holds them
-- all (the thread's words may come from different messages).
ALTER TABLE parley_threads ADD COLUMN message_words text[] NOT NULL DEFAULT '{}';

UPDATE parley_threads t SET message_words = w.words
FROM (SELECT m.tenant_id, m.thread_id, array_agg(DISTINCT word) AS words
      FROM parley_messages m, unnest(m.search_words) AS word
      GROUP BY m.tenant_id, m.thread_id) AS w
WHERE t.tenant_id = w.tenant_id AND t.id = w.thread_id;

CREATE INDEX parley_threads_message_words ON parley_threads USING gin (message_words);

-- The per-message GIN index served only the thread search, which the thread
-- row now answers; a search inside one thread (T14) reads that thread's
-- messages through parley_messages_thread.
DROP INDEX parley_messages_search;

-- The visibility window (T17): a tenant with few recently active threads
-- finds them here instead of walking its whole list.
CREATE INDEX parley_threads_activity ON parley_threads (tenant_id, last_activity_at, id) WHERE NOT dormant;

-- Search windows: a search with many matches first intersects them with
-- the newest threads of the list (see readWindowed in threads.go), whose
-- boundary this index gives and whose bitmap it serves.
CREATE INDEX parley_threads_rank ON parley_threads (tenant_id, list_rank) WHERE NOT dormant;

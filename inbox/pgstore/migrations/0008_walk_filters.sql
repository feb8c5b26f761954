-- Parley inbox store, version 8: every combination of the status and
-- assignee filters is a range of one list index.
--
-- A search that matches a large share of a small filter walks the filter's
-- list index in order and checks each thread on its row (see search in
-- threads.go), which reads about a page's worth of rows per lifecycle and
-- category range. The muted and favourite threads of one agent, or the
-- unassigned ones, had no index of their own: the walk read every muted
-- or favourite thread of the range and dropped the other agents'. These
-- two indexes are as small as the filters (about one thread in fifty and
-- one in a hundred in a typical list), so that building them on an
-- existing table takes seconds and keeping them costs the writes of those
-- threads only. Every statement may run again on a schema it already
-- changed.
CREATE INDEX IF NOT EXISTS parley_threads_list_muted_assignee ON parley_threads
    (tenant_id, assignee, archived, closed, subject_kind, list_pin, list_rank, id) INCLUDE (muted_until)
    WHERE NOT dormant AND muted;
CREATE INDEX IF NOT EXISTS parley_threads_list_favourite_assignee ON parley_threads
    (tenant_id, assignee, archived, closed, subject_kind, list_pin, list_rank, id)
    WHERE NOT dormant AND favourite;

package pgstore

import (
	"context"
	"time"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// TenantID returns the tenant number of s, for the benchmark's bulk load.
func (s *Store) TenantID() int64 { return s.tenant }

// ThreadKeys and MessageKeys are the search keys the store writes, for the
// benchmark's bulk load.
func ThreadKeys(tenant int64, snap store.Snapshot) []string { return threadKeys(tenant, snap) }

func MessageKeys(tenant int64, text string) []string {
	k := messageKeys(tenant, textindex.MessageWords(text))
	if k == nil {
		k = []string{}
	}
	return k
}

// ListRank and Micros are the stored order keys.
func ListRank(t time.Time) int64 { return listRank(t) }
func Micros(t time.Time) int64   { return micros(t) }

// ThreadsSQL returns the list query of q as Threads would run it, for
// EXPLAIN in the benchmark.
func (s *Store) ThreadsSQL(ctx context.Context, q store.ThreadQuery) (string, []any, error) {
	plan, matches, err := s.threadsPlan(ctx, &q)
	if err != nil {
		return "", nil, err
	}
	var cut *int64
	if plan == collectSearch && matches > windowPages*float64(q.Limit) {
		// The first window, which a full page needs no other.
		k, err := s.windowSize(ctx, &q, matches)
		if err != nil {
			return "", nil, err
		}
		if k <= windowMax {
			c, ok, err := s.windowCut(ctx, &q, k)
			if err != nil {
				return "", nil, err
			}
			if ok {
				cut = &c
			}
		}
	}
	sql, args := s.threadsSQL(&q, plan, cut)
	return sql, args, nil
}

// ListPlan is how a thread query reads the list; the plans are exported for
// tests that read one query every way.
type ListPlan = listPlan

const (
	PlanWalk          = walkList
	PlanCollectSearch = collectSearch
	PlanCollectActive = collectActive
)

// ThreadsWithPlan reads a page of threads as plan says, whatever Threads
// would choose. q must be valid (Limit at least 1).
func (s *Store) ThreadsWithPlan(ctx context.Context, q store.ThreadQuery, plan ListPlan) ([]store.Thread, error) {
	return s.readThreads(ctx, &q, plan, nil)
}

// ThreadsWindowed reads a page of a search by collecting its matches in
// windows of k list entries and more, whatever the estimates.
func (s *Store) ThreadsWindowed(ctx context.Context, q store.ThreadQuery, k int64) ([]store.Thread, error) {
	return s.readWindowed(ctx, &q, k)
}

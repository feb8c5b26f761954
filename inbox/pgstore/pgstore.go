package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/inbox/store"
)

// ErrInvalid reports a value the storage contract does not allow (an empty
// ID, an invalid subject kind, a message or delivery of another thread, a
// changed subject, a Limit below 1, text PostgreSQL cannot hold), or an
// invalid argument to Open or Migrate. Nothing was written. It is
// store.ErrInvalid.
var ErrInvalid = store.ErrInvalid

// ErrNotMigrated reports that the database's Parley schema is missing or
// older than SchemaVersion: call Migrate first.
var ErrNotMigrated = errors.New("pgstore: schema not migrated (call pgstore.Migrate)")

var _ store.Store = (*Store)(nil)

// Store is a store.Store on PostgreSQL, scoped to one tenant. Create it
// with Open; the zero Store is not usable.
type Store struct {
	pool   *pgxpool.Pool
	tenant int64
	name   string
	listen listener // the event feed's LISTEN connection (events.go)
}

// Open returns the store of one tenant on pool. tenant names the account
// whose inbox this is (a hotel, a studio, a whole host: any non-empty
// string); every row the store reads or writes belongs to it, and no method
// can reach another tenant's rows. The tenant is registered on first use.
//
// Open fails with ErrNotMigrated when a migration of this package is not
// applied (the schema is not at SchemaVersion):
// call Migrate at start-up, before Open. The pool stays the caller's: Open
// does not close it, and several stores (tenants) may share one pool.
func Open(ctx context.Context, pool *pgxpool.Pool, tenant string) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", ErrInvalid)
	}
	if tenant == "" {
		return nil, fmt.Errorf("%w: empty tenant", ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	want := migrationVersions()
	var missing []int32
	err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(v ORDER BY v), '{}') FROM unnest($1::int[]) AS v
		WHERE v NOT IN (SELECT version FROM parley_schema_migrations)`, want).Scan(&missing)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "42P01": // undefined_table
		return nil, ErrNotMigrated
	case err != nil:
		return nil, mapErr(ctx, "open: schema version", err)
	case len(missing) > 0:
		return nil, fmt.Errorf("%w: versions %v not applied (want %d)", ErrNotMigrated, missing, SchemaVersion())
	}
	s := &Store{pool: pool, name: tenant}
	err = pool.QueryRow(ctx, "INSERT INTO parley_tenants (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id", tenant).Scan(&s.tenant)
	if errors.Is(err, pgx.ErrNoRows) {
		err = pool.QueryRow(ctx, "SELECT id FROM parley_tenants WHERE name = $1", tenant).Scan(&s.tenant)
	}
	if err != nil {
		return nil, mapErr(ctx, "open: tenant "+tenant, err)
	}
	return s, nil
}

// Tenant returns the tenant name the store was opened with.
func (s *Store) Tenant() string { return s.name }

func notFound(what, id string) error {
	return fmt.Errorf("pgstore: %s %q: %w", what, id, store.ErrNotFound)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("pgstore: %w: "+format, append([]any{ErrInvalid}, args...)...)
}

// mapErr turns a database error into the store's errors: the context's
// error unwrapped when it has ended, ErrInvalid for a value PostgreSQL
// cannot hold (NUL bytes, invalid UTF-8, a time out of its range, a key too
// large for its index), ErrDuplicate for a provider ID unique
// violation, ErrConflict for another unique violation (a row written
// concurrently) or a serialization failure, and a wrapped error otherwise.
func mapErr(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "22021", "22P05", "22P02", // character_not_in_repertoire, untranslatable_character, invalid_text_representation
			"22008", "54000": // datetime_field_overflow, program_limit_exceeded (an index row too large)
			return fmt.Errorf("pgstore: %s: %w: %s", what, ErrInvalid, pgErr.Message)
		case "23505": // unique_violation
			if pgErr.ConstraintName == "parley_messages_inbound_provider" || pgErr.ConstraintName == "parley_deliveries_provider" ||
				pgErr.ConstraintName == "parley_provider_ids_pkey" {
				return fmt.Errorf("pgstore: %s: %w", what, store.ErrDuplicate)
			}
			return fmt.Errorf("pgstore: %s: %s: %w", what, pgErr.ConstraintName, store.ErrConflict)
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return fmt.Errorf("pgstore: %s: %w: %s", what, store.ErrConflict, pgErr.Message)
		}
	}
	return fmt.Errorf("pgstore: %s: %w", what, err)
}

// nullTime returns nil for the zero time, which the store keeps as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// timeOf returns the time a nullable timestamptz was scanned into, in UTC;
// the zero time for NULL.
func timeOf(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

// nullString returns nil for "", which the store keeps as NULL in
// nullable columns (provider IDs).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func stringOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// threadCols are the columns scanThread reads, in order.
const threadCols = `id, subject_kind, subject_id, first_name, last_name, name, email, phone,
	created_at, sort_time, last_message_at, last_activity_at, last_inbound_at, last_whatsapp_at,
	inbound_kinds, preview, messages, unread, muted, muted_until, favourite, archived, closed,
	assignee, dormant, version`

func scanThread(row pgx.Row) (store.Thread, error) {
	var (
		t                                        store.Thread
		kind, inbound                            int16
		created, sortT, lastMsg, lastAct, lastIn *time.Time
		lastWA, mutedUntil                       *time.Time
		messages, unread                         int32
	)
	err := row.Scan(&t.ID, &kind, &t.Subject.ID, &t.Snapshot.FirstName, &t.Snapshot.LastName, &t.Snapshot.Name,
		&t.Snapshot.Email, &t.Snapshot.Phone, &created, &sortT, &lastMsg, &lastAct, &lastIn, &lastWA,
		&inbound, &t.Preview, &messages, &unread, &t.Muted, &mutedUntil, &t.Favourite, &t.Archived, &t.Closed,
		&t.Assignee, &t.Dormant, &t.Version)
	if err != nil {
		return store.Thread{}, err
	}
	t.Subject.Kind = store.SubjectKind(kind)
	t.CreatedAt, t.SortTime, t.LastMessageAt = timeOf(created), timeOf(sortT), timeOf(lastMsg)
	t.LastActivityAt, t.LastInboundAt, t.LastWhatsAppAt = timeOf(lastAct), timeOf(lastIn), timeOf(lastWA)
	t.MutedUntil = timeOf(mutedUntil)
	t.InboundKinds = uint8(inbound)
	t.Messages, t.Unread = int(messages), int(unread)
	return t, nil
}

// Thread implements store.Store.
func (s *Store) Thread(ctx context.Context, id string) (store.Thread, error) {
	if err := ctx.Err(); err != nil {
		return store.Thread{}, err
	}
	t, err := scanThread(s.pool.QueryRow(ctx, "SELECT "+threadCols+" FROM parley_threads WHERE tenant_id = $1 AND id = $2", s.tenant, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Thread{}, notFound("thread", id)
	}
	if err != nil {
		return store.Thread{}, mapErr(ctx, "thread "+id, err)
	}
	return t, nil
}

// LiveThread implements store.Store.
func (s *Store) LiveThread(ctx context.Context, sub store.Subject) (store.Thread, error) {
	if err := ctx.Err(); err != nil {
		return store.Thread{}, err
	}
	t, err := scanThread(s.pool.QueryRow(ctx, "SELECT "+threadCols+` FROM parley_threads
		WHERE tenant_id = $1 AND id = (SELECT thread_id FROM parley_live_threads
			WHERE tenant_id = $1 AND subject_kind = $2 AND subject_id = $3)`, s.tenant, int16(sub.Kind), sub.ID))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Thread{}, notFound("live thread of", sub.String())
	}
	if err != nil {
		return store.Thread{}, mapErr(ctx, "live thread of "+sub.String(), err)
	}
	return t, nil
}

package pgstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleyhq/parley/inbox/store"
)

// The event feed (store.Feed) on PostgreSQL:
//   - Events are rows of parley_events keyed by (tenant, seq). A
//     transaction that appends events numbers them by updating its tenant's
//     row of parley_event_heads, as its last statement before the commit:
//     the row lock orders the appending transactions of a tenant, so their
//     numbers are consecutive and become visible in order.
//   - The same statement sends NOTIFY on the tenant's channel
//     (parley_feed_<tenant id>) with the new head; PostgreSQL delivers it at
//     commit. Ephemeral events are a NOTIFY on the same channel alone.
//   - Watch listens on one connection of its own per Store (taken from the
//     pool and removed from it), while at least one watch is active, and
//     reconnects with growing pauses when it is lost.

// execer is what both a pool and a transaction offer.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// appendEventsSQL numbers and inserts events $3 (times) and $4 (data), $2
// of them, after tenant $1's head, and notifies channel $5 with the new
// head.
const appendEventsSQL = `WITH h AS (
	INSERT INTO parley_event_heads AS h (tenant_id, seq) VALUES ($1, $2)
	ON CONFLICT (tenant_id) DO UPDATE SET seq = h.seq + excluded.seq
	RETURNING h.seq),
ins AS (
	INSERT INTO parley_events (tenant_id, seq, at, data)
	SELECT $1, h.seq - $2 + u.ord, u.at, u.data
	FROM h, unnest($3::timestamptz[], $4::bytea[]) WITH ORDINALITY AS u(at, data, ord))
SELECT pg_notify($5, 's' || h.seq::text) FROM h`

// channel is the tenant's NOTIFY channel.
func (s *Store) channel() string { return "parley_feed_" + strconv.FormatInt(s.tenant, 10) }

// appendEvents appends events in the caller's transaction; it must be the
// transaction's last statement.
func (s *Store) appendEvents(ctx context.Context, db execer, events []store.FeedEvent) error {
	if len(events) == 0 {
		return nil
	}
	ats := make([]time.Time, len(events))
	data := make([][]byte, len(events))
	for i, e := range events {
		if e.At.IsZero() {
			return invalid("event without a time")
		}
		ats[i], data[i] = e.At, e.Data
		if data[i] == nil {
			data[i] = []byte{}
		}
	}
	if _, err := db.Exec(ctx, appendEventsSQL, s.tenant, len(events), ats, data, s.channel()); err != nil {
		return mapErr(ctx, "append events", err)
	}
	return nil
}

// inTx runs fn in a transaction.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return mapErr(ctx, "begin", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return mapErr(ctx, "commit", err)
	}
	return nil
}

// AppendEvents implements store.Store.
func (s *Store) AppendEvents(ctx context.Context, events ...store.FeedEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.appendEvents(ctx, s.pool, events)
}

// ReadEvents implements store.Store: one statement reads the pruned mark
// and the events, from one snapshot.
func (s *Store) ReadEvents(ctx context.Context, after uint64, limit int) ([]store.FeedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, invalid("event limit %d", limit)
	}
	rows, err := s.pool.Query(ctx, `SELECT h.pruned, e.seq, e.at, e.data FROM parley_event_heads h
		LEFT JOIN LATERAL (SELECT seq, at, data FROM parley_events
			WHERE tenant_id = h.tenant_id AND seq > $2 ORDER BY seq LIMIT $3) e ON true
		WHERE h.tenant_id = $1`, s.tenant, int64(min(after, 1<<63-1)), limit)
	if err != nil {
		return nil, mapErr(ctx, "read events", err)
	}
	var out []store.FeedEvent
	var pruned int64
	var seq *int64
	var at *time.Time
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&pruned, &seq, &at, &data}, func() error {
		if seq != nil {
			out = append(out, store.FeedEvent{Seq: uint64(*seq), At: timeOf(at), Data: data})
			data = nil
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(ctx, "read events", err)
	}
	if after < uint64(pruned) {
		return nil, fmt.Errorf("pgstore: events after %d: %w", after, store.ErrPruned)
	}
	return out, nil
}

// LastEventSeq implements store.Store.
func (s *Store) LastEventSeq(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var seq int64
	err := s.pool.QueryRow(ctx, "SELECT seq FROM parley_event_heads WHERE tenant_id = $1", s.tenant).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, mapErr(ctx, "last event", err)
	}
	return uint64(seq), nil
}

// PruneEvents implements store.Store: it finds the first event that is
// not old enough by walking the feed in Seq order, deletes the events
// before it and raises the pruned mark, in one transaction.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var pruned, upto int64
		err := tx.QueryRow(ctx, `SELECT h.pruned, coalesce(
			(SELECT e.seq - 1 FROM parley_events e WHERE e.tenant_id = h.tenant_id AND e.seq > h.pruned AND e.at >= $2
				ORDER BY e.seq LIMIT 1), h.seq)
			FROM parley_event_heads h WHERE h.tenant_id = $1`, s.tenant, before).Scan(&pruned, &upto)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return mapErr(ctx, "prune events", err)
		}
		if upto <= pruned {
			return nil
		}
		tag, err := tx.Exec(ctx, "DELETE FROM parley_events WHERE tenant_id = $1 AND seq <= $2", s.tenant, upto)
		if err != nil {
			return mapErr(ctx, "prune events", err)
		}
		n = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, "UPDATE parley_event_heads SET pruned = greatest(pruned, $2) WHERE tenant_id = $1", s.tenant, upto)
		return mapErr(ctx, "prune events", err)
	})
	return n, err
}

// PublishEphemeral implements store.Store.
func (s *Store) PublishEphemeral(ctx context.Context, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(data) > store.MaxEphemeral {
		return invalid("ephemeral event of %d bytes", len(data))
	}
	_, err := s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", s.channel(), "e"+base64.StdEncoding.EncodeToString(data))
	return mapErr(ctx, "publish", err)
}

// listener is a Store's LISTEN connection and its watchers.
type listener struct {
	mu       sync.Mutex
	watchers map[*func(store.Notice)]struct{}
	cancel   context.CancelFunc // stops the connection; nil when none
	done     chan struct{}      // closed when the connection's goroutine ends
}

// Watch implements store.Store. The first watch of a Store starts its
// listening connection, and returns once the connection listens (or its
// first attempt failed: it keeps trying); the connection is closed when
// the last watch ends.
func (s *Store) Watch(ctx context.Context, fn func(store.Notice)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l := &s.listen
	l.mu.Lock()
	if l.watchers == nil {
		l.watchers = map[*func(store.Notice)]struct{}{}
	}
	l.watchers[&fn] = struct{}{}
	if l.cancel == nil {
		if l.done != nil {
			// the previous connection is ending: wait for it, so that two
			// never run at once
			done := l.done
			l.mu.Unlock()
			<-done
			l.mu.Lock()
		}
		if l.cancel == nil {
			lctx, cancel := context.WithCancel(context.Background())
			l.cancel, l.done = cancel, make(chan struct{})
			tried := make(chan struct{})
			go s.listen.run(lctx, s, l.done, tried)
			l.mu.Unlock()
			select {
			case <-tried:
			case <-ctx.Done():
			}
			l.mu.Lock()
		} else {
			fn(store.Notice{}) // a running connection: read in any case
		}
	} else {
		fn(store.Notice{})
	}
	l.mu.Unlock()
	context.AfterFunc(ctx, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.watchers, &fn)
		if len(l.watchers) == 0 && l.cancel != nil {
			l.cancel()
			l.cancel = nil
		}
	})
	return nil
}

// call hands n to every watcher. It is called by the connection's
// goroutine only.
func (l *listener) call(n store.Notice) {
	l.mu.Lock()
	fns := make([]func(store.Notice), 0, len(l.watchers))
	for fn := range l.watchers {
		fns = append(fns, *fn)
	}
	l.mu.Unlock()
	for _, fn := range fns {
		m := n
		if n.Ephemeral != nil {
			m.Ephemeral = append([]byte{}, n.Ephemeral...)
		}
		fn(m)
	}
}

// run listens on s's channel until ctx ends, reconnecting with growing
// pauses; after each LISTEN it tells the watchers to read.
func (l *listener) run(ctx context.Context, s *Store, done, tried chan struct{}) {
	defer close(done)
	var once sync.Once
	first := func() { once.Do(func() { close(tried) }) }
	defer first()
	pause := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := l.session(ctx, s, first)
		first()
		if ctx.Err() != nil {
			return
		}
		_ = err // the next session starts after a pause
		t := time.NewTimer(pause/2 + rand.N(pause/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// session is one LISTEN connection, until it fails or ctx ends.
func (l *listener) session(ctx context.Context, s *Store, listening func()) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pc.Hijack() // this connection leaves the pool: it only listens
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = conn.Close(cctx)
		cancel()
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel()}.Sanitize()); err != nil {
		return err
	}
	listening()
	l.call(store.Notice{})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		switch p := n.Payload; {
		case len(p) > 0 && p[0] == 's':
			seq, err := strconv.ParseUint(p[1:], 10, 64)
			if err == nil {
				l.call(store.Notice{Seq: seq})
			}
		case len(p) > 0 && p[0] == 'e':
			data, err := base64.StdEncoding.DecodeString(p[1:])
			if err == nil {
				l.call(store.Notice{Ephemeral: data})
			}
		}
	}
}

// ReserveSends implements store.Store on the database's clock
// (clock_timestamp()), one clock for every instance: the bucket's row
// keeps the theoretical arrival time of the next send, moved by n
// intervals in one statement.
func (s *Store) ReserveSends(ctx context.Context, key string, perSecond float64, burst, n int) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if n < 1 || burst < 1 || !(perSecond > 0) {
		return 0, invalid("reserve %d sends at %v/s, burst %d", n, perSecond, burst)
	}
	interval := time.Duration(float64(time.Second) / perSecond)
	step := (time.Duration(n) * interval).Microseconds()
	var tat, now time.Time
	err := s.pool.QueryRow(ctx, `WITH c AS (SELECT clock_timestamp() AS now)
		INSERT INTO parley_rate_buckets AS b (tenant_id, key, tat)
		SELECT $1, $2, c.now + $3 * interval '1 microsecond' FROM c
		ON CONFLICT (tenant_id, key) DO UPDATE
			SET tat = greatest(b.tat, excluded.tat - $3 * interval '1 microsecond') + $3 * interval '1 microsecond'
		RETURNING b.tat, (SELECT now FROM c)`, s.tenant, key, step).Scan(&tat, &now)
	if err != nil {
		return 0, mapErr(ctx, "reserve sends", err)
	}
	base := tat.Add(-time.Duration(step) * time.Microsecond)
	return base.Sub(now) - time.Duration(burst-1)*interval, nil
}

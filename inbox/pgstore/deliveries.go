package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// deliveryCols are the columns scanDelivery reads, in order.
const deliveryCols = `id, message_id, thread_id, kind, contact_id, address, identity, provider_id, status, history,
	reason, attempts, created_at, due_at, anchor, claimed_until, campaign, check_in, check_out, version,
	anchor_rule, subject, body, html, sms_encoding, sms_segments, sms_units, cost_micros, cost_currency, sending`

func scanDelivery(row pgx.Row) (store.Delivery, error) {
	var (
		d                                        store.Delivery
		kind                                     int16
		pid                                      *string
		st                                       string
		history                                  []byte
		attempts, segments, units                int32
		created, due, claimed, checkIn, checkOut *time.Time
		sending                                  *time.Time
	)
	err := row.Scan(&d.ID, &d.MessageID, &d.ThreadID, &kind, &d.ContactID, &d.Address, &d.Identity, &pid, &st, &history,
		&d.Reason, &attempts, &created, &due, &d.Anchor, &claimed, &d.Campaign, &checkIn, &checkOut, &d.Version,
		&d.AnchorRule, &d.Subject, &d.Text, &d.HTML, &d.SMS.Encoding, &segments, &units, &d.Cost.Micros, &d.Cost.Currency, &sending)
	if err != nil {
		return store.Delivery{}, err
	}
	d.Kind, d.ProviderID, d.Attempts = channel.Kind(kind), stringOf(pid), int(attempts)
	d.SMS.Segments, d.SMS.Units = int(segments), int(units)
	d.CreatedAt, d.DueAt, d.ClaimedUntil = timeOf(created), timeOf(due), timeOf(claimed)
	d.CheckIn, d.CheckOut, d.Sending = timeOf(checkIn), timeOf(checkOut), timeOf(sending)
	if d.Status.Current, err = parseStatus(st); err != nil {
		return store.Delivery{}, err
	}
	if len(history) > 0 {
		if err := json.Unmarshal(history, &d.Status.History); err != nil {
			return store.Delivery{}, err
		}
		for i := range d.Status.History {
			d.Status.History[i].At = d.Status.History[i].At.UTC()
		}
	}
	return d, nil
}

// parseStatus reads a status column: a status name, or "unknown".
func parseStatus(name string) (status.Status, error) {
	if name == status.Unknown.String() {
		return status.Unknown, nil
	}
	return status.Parse(name)
}

func collectDeliveries(ctx context.Context, what string, rows pgx.Rows, err error) ([]store.Delivery, error) {
	if err != nil {
		return nil, mapErr(ctx, what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Delivery, error) { return scanDelivery(r) })
	if err != nil {
		return nil, mapErr(ctx, what, err)
	}
	if out == nil {
		out = []store.Delivery{}
	}
	return out, nil
}

func (s *Store) deliveryWhere(ctx context.Context, what, id, where string) (store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return store.Delivery{}, err
	}
	d, err := scanDelivery(s.pool.QueryRow(ctx, "SELECT "+deliveryCols+" FROM parley_deliveries WHERE tenant_id = $1 AND "+where, s.tenant, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Delivery{}, notFound(what, id)
	}
	if err != nil {
		return store.Delivery{}, mapErr(ctx, what+" "+id, err)
	}
	return d, nil
}

// Delivery implements store.Store.
func (s *Store) Delivery(ctx context.Context, id string) (store.Delivery, error) {
	return s.deliveryWhere(ctx, "delivery", id, "id = $2")
}

// DeliveryByProviderID implements store.Store.
func (s *Store) DeliveryByProviderID(ctx context.Context, providerID string) (store.Delivery, error) {
	if providerID == "" {
		return store.Delivery{}, notFound("delivery with provider ID", providerID)
	}
	return s.deliveryWhere(ctx, "delivery with provider ID", providerID, "provider_id = $2")
}

// Deliveries implements store.Store. An unknown message gives ErrNotFound.
func (s *Store) Deliveries(ctx context.Context, q store.DeliveryQuery) ([]store.Delivery, error) {
	messageID, after, limit := q.MessageID, q.After, q.Limit
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, invalid("deliveries limit %d", limit)
	}
	rows, err := s.pool.Query(ctx, "SELECT "+deliveryCols+` FROM parley_deliveries
		WHERE tenant_id = $1 AND message_id = $2 AND id > $3 ORDER BY id LIMIT $4`, s.tenant, messageID, after, limit)
	out, err := collectDeliveries(ctx, "deliveries of "+messageID, rows, err)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if err := s.exists(ctx, "message", "parley_messages", messageID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Sent implements store.Store. It reads deliveries newest message first
// from the (tenant, sent rank, ID) index, or from the index of the address
// or campaign when q names one, or from the partial index of the outbox
// with q.SendingBefore, and filters the rest as it goes. A q.After
// that is not a delivery gives ErrNotFound.
func (s *Store) Sent(ctx context.Context, q store.SentQuery) ([]store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Limit < 1 {
		return nil, invalid("sent query limit %d", q.Limit)
	}
	args := []any{s.tenant}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var where strings.Builder
	where.WriteString("tenant_id = $1")
	if q.Address != "" {
		where.WriteString(" AND address = " + arg(q.Address))
	}
	if q.Campaign != "" {
		where.WriteString(" AND campaign = " + arg(q.Campaign))
	}
	if q.Kind != 0 {
		where.WriteString(" AND kind = " + arg(int16(q.Kind)))
	}
	if q.Status != status.Unknown {
		where.WriteString(" AND status = " + arg(q.Status.String()))
	}
	timeRange := func(col string, from, to time.Time) {
		if !from.IsZero() {
			where.WriteString(" AND " + col + " >= " + arg(from))
		}
		if !to.IsZero() {
			// A zero time (NULL) is before every bound, as in Go.
			where.WriteString(" AND (" + col + " IS NULL OR " + col + " < " + arg(to) + ")")
		}
	}
	timeRange("check_in", q.CheckInFrom, q.CheckInTo)
	timeRange("check_out", q.CheckOutFrom, q.CheckOutTo)
	if !q.SendingBefore.IsZero() {
		// the partial index of the outbox
		where.WriteString(" AND sending IS NOT NULL AND sending < " + arg(q.SendingBefore))
	}
	if q.After != "" {
		var rank int64
		err := s.pool.QueryRow(ctx, "SELECT sent_rank FROM parley_deliveries WHERE tenant_id = $1 AND id = $2", s.tenant, q.After).Scan(&rank)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, notFound("delivery", q.After)
		}
		if err != nil {
			return nil, mapErr(ctx, "delivery "+q.After, err)
		}
		where.WriteString(" AND (sent_rank, id) > (" + arg(rank) + ", " + arg(q.After) + ")")
	}
	rows, err := s.pool.Query(ctx, "SELECT "+deliveryCols+" FROM parley_deliveries WHERE "+where.String()+
		" ORDER BY sent_rank, id LIMIT "+arg(q.Limit), args...)
	return collectDeliveries(ctx, "sent", rows, err)
}

// WriteDelivery implements store.Store. A write that keeps the provider ID
// is one statement: it locks the delivery row, checks the version, stores
// the delivery and moves the message's Counts (S5). A write that changes
// the provider ID also moves its claim in parley_provider_ids, in one
// transaction.
func (s *Store) WriteDelivery(ctx context.Context, d store.Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.ID == "" {
		return invalid("delivery without ID")
	}
	h, err := historyJSON(d.Status)
	if err != nil {
		return invalid("delivery %q history: %v", d.ID, err)
	}
	args := []any{s.tenant, d.ID, d.Version, d.MessageID, d.ThreadID, nullString(d.ProviderID),
		int16(d.Kind), d.ContactID, d.Address, d.Identity, d.Status.Current.String(), h, d.Reason, int32(d.Attempts),
		nullTime(d.CreatedAt), -micros(d.CreatedAt), nullTime(d.DueAt), micros(d.DueAt), d.Anchor,
		nullTime(d.ClaimedUntil), d.Campaign, nullTime(d.CheckIn), nullTime(d.CheckOut),
		d.AnchorRule, d.Subject, d.Text, d.HTML, d.SMS.Encoding, int32(d.SMS.Segments), int32(d.SMS.Units),
		d.Cost.Micros, d.Cost.Currency, nullTime(d.Sending)}
	var (
		curVersion            int64
		curMsg, curThread, st string
		curPID                *string
		updated               bool
	)
	err = s.pool.QueryRow(ctx, writeDeliverySQL, args...).Scan(&curVersion, &curMsg, &curThread, &curPID, &st, &updated)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return notFound("delivery", d.ID)
	case err != nil:
		return mapErr(ctx, "write delivery "+d.ID, err)
	case updated:
		return nil
	case curVersion != d.Version:
		return fmt.Errorf("pgstore: delivery %q at version %d, written at %d: %w", d.ID, curVersion, d.Version, store.ErrConflict)
	case curMsg != d.MessageID || curThread != d.ThreadID:
		return invalid("delivery %q moved from message %q to %q", d.ID, curMsg, d.MessageID)
	}
	// The provider ID changes: move its claim in a transaction.
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var old *string
		err := tx.QueryRow(ctx, `SELECT provider_id FROM parley_deliveries WHERE tenant_id = $1 AND id = $2 AND version = $3
			AND message_id = $4 AND thread_id = $5 FOR UPDATE`, s.tenant, d.ID, d.Version, d.MessageID, d.ThreadID).Scan(&old)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("pgstore: delivery %q changed meanwhile: %w", d.ID, store.ErrConflict)
		}
		if err != nil {
			return mapErr(ctx, "write delivery "+d.ID, err)
		}
		if o := stringOf(old); o != "" {
			if _, err := tx.Exec(ctx, `UPDATE parley_provider_ids SET delivery_id = NULL
				WHERE tenant_id = $1 AND provider_id = $2 AND delivery_id = $3 AND message_claim`, s.tenant, o, d.ID); err != nil {
				return mapErr(ctx, "write delivery "+d.ID, err)
			}
			if _, err := tx.Exec(ctx, `DELETE FROM parley_provider_ids
				WHERE tenant_id = $1 AND provider_id = $2 AND delivery_id = $3 AND NOT message_claim`, s.tenant, o, d.ID); err != nil {
				return mapErr(ctx, "write delivery "+d.ID, err)
			}
		}
		if d.ProviderID != "" {
			tag, err := tx.Exec(ctx, claimDeliveryPIDsSQL, s.tenant, d.MessageID, []string{d.ProviderID}, []string{d.ID})
			if err != nil {
				return mapErr(ctx, "write delivery "+d.ID, err)
			}
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("pgstore: provider ID %q: %w", d.ProviderID, store.ErrDuplicate)
			}
		}
		// The row is locked and its provider ID is now the written one.
		if _, err := tx.Exec(ctx, "UPDATE parley_deliveries SET provider_id = $3 WHERE tenant_id = $1 AND id = $2",
			s.tenant, d.ID, nullString(d.ProviderID)); err != nil {
			return mapErr(ctx, "write delivery "+d.ID, err)
		}
		var updated bool
		if err := tx.QueryRow(ctx, writeDeliverySQL, args...).Scan(&curVersion, &curMsg, &curThread, &curPID, &st, &updated); err != nil {
			return mapErr(ctx, "write delivery "+d.ID, err)
		}
		if !updated {
			return fmt.Errorf("pgstore: delivery %q changed meanwhile: %w", d.ID, store.ErrConflict)
		}
		return nil
	})
}

// writeDeliverySQL stores delivery $2 when it is at version $3, of message
// $4 and thread $5, with provider ID $6, and moves one count of its message
// from the old status to the new one (S5). It returns the current row's
// version, message, thread, provider ID and status, and whether it wrote.
const writeDeliverySQL = `WITH cur AS (
		SELECT id, version, message_id, thread_id, provider_id, status FROM parley_deliveries
		WHERE tenant_id = $1 AND id = $2 FOR UPDATE
	), upd AS (
		UPDATE parley_deliveries d SET kind = $7, contact_id = $8, address = $9, identity = $10, status = $11,
			history = $12, reason = $13, attempts = $14, created_at = $15, sent_rank = $16, due_at = $17,
			due_us = $18, anchor = $19, claimed_until = $20, campaign = $21, check_in = $22, check_out = $23,
			anchor_rule = $24, subject = $25, body = $26, html = $27, sms_encoding = $28, sms_segments = $29,
			sms_units = $30, cost_micros = $31, cost_currency = $32, sending = $33, version = d.version + 1
		FROM cur
		WHERE d.tenant_id = $1 AND d.id = cur.id AND cur.version = $3 AND cur.message_id = $4
			AND cur.thread_id = $5 AND cur.provider_id IS NOT DISTINCT FROM $6
		RETURNING cur.status AS old
	), cnt AS (
		UPDATE parley_messages m SET counts = m.counts
			|| jsonb_build_object(upd.old, coalesce((m.counts->>upd.old)::int, 0) - 1)
			|| jsonb_build_object($11::text, coalesce((m.counts->>$11::text)::int, 0) + 1)
		FROM upd
		WHERE m.tenant_id = $1 AND m.id = $4 AND upd.old <> $11::text
	)
	SELECT version, message_id, thread_id, provider_id, status, EXISTS (SELECT 1 FROM upd) FROM cur`

// ClaimDue implements store.Store with FOR UPDATE SKIP LOCKED: concurrent
// dispatchers, in this process or others, each lock and claim different due
// deliveries, so a due delivery is claimed once per lease (C8).
func (s *Store) ClaimDue(ctx context.Context, now, until time.Time, limit int) ([]store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, invalid("claim limit %d", limit)
	}
	rows, err := s.pool.Query(ctx, `UPDATE parley_deliveries d SET claimed_until = $3, version = d.version + 1
		WHERE d.tenant_id = $1 AND d.id IN (
			SELECT id FROM parley_deliveries
			WHERE tenant_id = $1 AND status = 'scheduled' AND due_us <= $2
				AND (claimed_until IS NULL OR claimed_until <= $4)
			ORDER BY due_us, id LIMIT $5
			FOR UPDATE SKIP LOCKED)
		RETURNING `+prefixCols("d.", deliveryCols), s.tenant, micros(now), nullTime(until), now, limit)
	out, err := collectDeliveries(ctx, "claim due", rows, err)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b store.Delivery) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// prefixCols qualifies every column of a column list with p.
func prefixCols(p, cols string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = p + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

// Scheduled implements store.Store.
func (s *Store) Scheduled(ctx context.Context, anchor string) ([]store.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if anchor == "" {
		return []store.Delivery{}, nil
	}
	rows, err := s.pool.Query(ctx, "SELECT "+deliveryCols+` FROM parley_deliveries
		WHERE tenant_id = $1 AND anchor = $2 AND status = 'scheduled' AND anchor <> '' ORDER BY id`, s.tenant, anchor)
	return collectDeliveries(ctx, "scheduled "+anchor, rows, err)
}

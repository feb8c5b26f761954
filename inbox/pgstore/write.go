package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
	"github.com/parleyhq/parley/status"
)

// WriteThread implements store.Store. The whole write is one transaction:
// the thread row is created (with its live-subject row, conditional on
// ReplacesLive) or updated with a conditional UPDATE on its version, which
// takes the row lock, so two instances writing the same thread serialise
// and the later one gets ErrConflict. Provider IDs of outbound messages and
// deliveries are claimed in parley_provider_ids, whose primary key rejects
// duplicates; those of inbound messages are another namespace, kept unique
// by the partial index parley_messages_inbound_provider (M5). New
// deliveries are stored with Version 1; a new message's Counts come from
// its deliveries.
func (s *Store) WriteThread(ctx context.Context, w store.ThreadWrite) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.Check(); err != nil {
		return fmt.Errorf("pgstore: %w", err)
	}
	b, checks, err := s.writeBatch(&w)
	if err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return mapErr(ctx, "write thread: begin", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	br := tx.SendBatch(ctx, b)
	for _, c := range checks {
		tag, err := br.Exec()
		if err != nil {
			_ = br.Close()
			return mapErr(ctx, "write thread "+w.Thread.ID, err)
		}
		if c != nil {
			if err := c(tag.RowsAffected()); err != nil {
				_ = br.Close()
				if errors.Is(err, errVersion) {
					return s.versionError(ctx, tx, &w.Thread)
				}
				return err
			}
		}
	}
	if err := br.Close(); err != nil {
		return mapErr(ctx, "write thread "+w.Thread.ID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return mapErr(ctx, "write thread "+w.Thread.ID+": commit", err)
	}
	return nil
}

// errVersion marks a thread UPDATE that matched no row; versionError finds
// out why.
var errVersion = errors.New("version")

// versionError explains why the conditional update of t matched no row:
// the thread does not exist, its subject differs, or its version moved.
func (s *Store) versionError(ctx context.Context, tx pgx.Tx, t *store.Thread) error {
	// The batch left the transaction aborted or not; ask outside it.
	_ = tx.Rollback(ctx)
	var (
		version int64
		kind    int16
		subject string
	)
	err := s.pool.QueryRow(ctx, "SELECT version, subject_kind, subject_id FROM parley_threads WHERE tenant_id = $1 AND id = $2",
		s.tenant, t.ID).Scan(&version, &kind, &subject)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return notFound("thread", t.ID)
	case err != nil:
		return mapErr(ctx, "thread "+t.ID, err)
	case store.SubjectKind(kind) != t.Subject.Kind || subject != t.Subject.ID:
		return invalid("thread %q: subject %s changed to %s", t.ID, store.Subject{Kind: store.SubjectKind(kind), ID: subject}, t.Subject)
	}
	return fmt.Errorf("pgstore: thread %q at version %d, written at %d: %w", t.ID, version, t.Version, store.ErrConflict)
}

// rowCheck judges the number of rows one statement of a write affected.
type rowCheck func(n int64) error

func want(n int64, err error) rowCheck {
	return func(got int64) error {
		if got != n {
			return err
		}
		return nil
	}
}

// writeBatch builds the statements of a checked write, with a check per
// statement (nil for none).
func (s *Store) writeBatch(w *store.ThreadWrite) (*pgx.Batch, []rowCheck, error) {
	b := &pgx.Batch{}
	var checks []rowCheck
	add := func(c rowCheck, sql string, args ...any) {
		b.Queue(sql, args...)
		checks = append(checks, c)
	}
	t := &w.Thread
	// The thread row keeps the words of all its messages (migration 2).
	var words []string
	if w.Message != nil {
		words = messageKeys(s.tenant, textindex.MessageWords(w.Message.Text))
	}
	if words == nil {
		words = []string{}
	}
	tv := append(threadValues(s.tenant, t), words)
	if t.Version == 0 {
		add(want(1, fmt.Errorf("pgstore: thread %q exists: %w", t.ID, store.ErrConflict)), insertThreadSQL, tv...)
		liveErr := fmt.Errorf("pgstore: live thread of %s is not %q: %w", t.Subject, w.ReplacesLive, store.ErrConflict)
		if w.ReplacesLive == "" {
			add(want(1, liveErr), `INSERT INTO parley_live_threads (tenant_id, subject_kind, subject_id, thread_id)
				VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, s.tenant, int16(t.Subject.Kind), t.Subject.ID, t.ID)
		} else {
			add(want(1, liveErr), `UPDATE parley_live_threads SET thread_id = $4
				WHERE tenant_id = $1 AND subject_kind = $2 AND subject_id = $3 AND thread_id = $5`,
				s.tenant, int16(t.Subject.Kind), t.Subject.ID, t.ID, w.ReplacesLive)
		}
	} else {
		add(want(1, errVersion), updateThreadSQL, append(tv, t.Version)...)
	}
	if m := w.Message; m != nil {
		if m.ProviderID != "" && m.Direction != store.Inbound {
			add(want(1, fmt.Errorf("pgstore: provider ID %q: %w", m.ProviderID, store.ErrDuplicate)),
				`INSERT INTO parley_provider_ids (tenant_id, provider_id, message_id, message_claim)
				VALUES ($1, $2, $3, true) ON CONFLICT DO NOTHING`, s.tenant, m.ProviderID, m.ID)
		}
		var counts status.Counts
		for _, d := range w.Deliveries {
			counts.Add(d.Status.Current)
		}
		mv, err := messageValues(s.tenant, m, counts, words)
		if err != nil {
			return nil, nil, err
		}
		add(want(1, fmt.Errorf("pgstore: message %q exists: %w", m.ID, store.ErrConflict)), insertMessageSQL, mv...)
	}
	if len(w.Deliveries) > 0 {
		m := w.Message
		var pids, pidDels []string
		for _, d := range w.Deliveries {
			if d.ProviderID != "" {
				pids, pidDels = append(pids, d.ProviderID), append(pidDels, d.ID)
			}
		}
		if len(pids) > 0 {
			add(want(int64(len(pids)), fmt.Errorf("pgstore: a delivery provider ID of message %q: %w", m.ID, store.ErrDuplicate)),
				claimDeliveryPIDsSQL, s.tenant, m.ID, pids, pidDels)
		}
		dv, err := deliveryArrays(w.Deliveries)
		if err != nil {
			return nil, nil, err
		}
		add(want(int64(len(w.Deliveries)), fmt.Errorf("pgstore: a delivery of message %q exists: %w", m.ID, store.ErrConflict)),
			insertDeliveriesSQL, append([]any{s.tenant}, dv...)...)
	}
	if w.ReadAll {
		add(nil, "UPDATE parley_messages SET unread = false WHERE tenant_id = $1 AND thread_id = $2 AND unread", s.tenant, t.ID)
	}
	if len(w.Unread) > 0 {
		ids := slices.Clone(w.Unread)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		add(want(int64(len(ids)), fmt.Errorf("pgstore: a message to mark unread is not of thread %q: %w", t.ID, store.ErrNotFound)),
			"UPDATE parley_messages SET unread = true WHERE tenant_id = $1 AND thread_id = $2 AND id = ANY($3)", s.tenant, t.ID, ids)
	}
	if tm := w.Times; tm != nil {
		add(want(1, fmt.Errorf("pgstore: message %q of thread %q: %w", tm.MessageID, t.ID, store.ErrNotFound)),
			"UPDATE parley_messages SET scheduled_for = $4, sent_at = $5 WHERE tenant_id = $1 AND thread_id = $2 AND id = $3",
			s.tenant, t.ID, tm.MessageID, nullTime(tm.ScheduledFor), nullTime(tm.SentAt))
	}
	if a := w.Assignment; a != nil {
		add(nil, `INSERT INTO parley_assignments (tenant_id, thread_id, from_agent, to_agent, by_agent, at)
			VALUES ($1, $2, $3, $4, $5, $6)`, s.tenant, t.ID, a.From, a.To, a.By, nullTime(a.At))
	}
	return b, checks, nil
}

// threadValues are the arguments $1 to $28 of insertThreadSQL and
// updateThreadSQL; $29 is the new message's words.
func threadValues(tenant int64, t *store.Thread) []any {
	return []any{
		tenant, t.ID, int16(t.Subject.Kind), t.Subject.ID,
		t.Snapshot.FirstName, t.Snapshot.LastName, t.Snapshot.Name, t.Snapshot.Email, t.Snapshot.Phone,
		nullTime(t.CreatedAt), nullTime(t.SortTime), nullTime(t.LastMessageAt), nullTime(t.LastActivityAt),
		nullTime(t.LastInboundAt), nullTime(t.LastWhatsAppAt), int16(t.InboundKinds), t.Preview,
		int32(t.Messages), int32(t.Unread), t.Muted, nullTime(t.MutedUntil), t.Favourite, t.Archived, t.Closed,
		t.Assignee, t.Dormant, listRank(t.SortTime), threadKeys(tenant, t.Snapshot),
	}
}

const insertThreadSQL = `INSERT INTO parley_threads (tenant_id, id, subject_kind, subject_id,
	first_name, last_name, name, email, phone,
	created_at, sort_time, last_message_at, last_activity_at, last_inbound_at, last_whatsapp_at,
	inbound_kinds, preview, messages, unread, muted, muted_until, favourite, archived, closed,
	assignee, dormant, list_rank, search_keys, message_words, version)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
	$21, $22, $23, $24, $25, $26, $27, $28, $29, 1)
	ON CONFLICT (tenant_id, id) DO NOTHING`

// updateThreadSQL updates a thread at version $30 whose subject is $3, $4,
// adding the words $29 it does not hold yet to its message words (the old
// array is kept as it is when there are none, as for most replies).
const updateThreadSQL = `UPDATE parley_threads SET
	first_name = $5, last_name = $6, name = $7, email = $8, phone = $9,
	created_at = $10, sort_time = $11, last_message_at = $12, last_activity_at = $13,
	last_inbound_at = $14, last_whatsapp_at = $15, inbound_kinds = $16, preview = $17,
	messages = $18, unread = $19, muted = $20, muted_until = $21, favourite = $22, archived = $23,
	closed = $24, assignee = $25, dormant = $26, list_rank = $27, search_keys = $28,
	message_words = CASE WHEN message_words @> $29::text[] THEN message_words
		ELSE message_words || ARRAY(SELECT unnest($29::text[]) EXCEPT SELECT unnest(message_words)) END,
	version = version + 1
	WHERE tenant_id = $1 AND id = $2 AND subject_kind = $3 AND subject_id = $4 AND version = $30`

// countsJSON encodes per-status counts as a JSON object keyed by status
// name, the form parley_messages.counts keeps (status numbers are not
// persisted).
func countsJSON(c status.Counts) ([]byte, error) {
	m := make(map[string]int)
	for i, n := range c {
		if n != 0 {
			m[status.Status(i).String()] = n
		}
	}
	return json.Marshal(m)
}

// messageValues are the arguments of insertMessageSQL; words are the
// message's search words (messageKeys of its text).
func messageValues(tenant int64, m *store.Message, counts status.Counts, words []string) ([]any, error) {
	var attachments []byte
	if len(m.Attachments) > 0 {
		var err error
		if attachments, err = json.Marshal(m.Attachments); err != nil {
			return nil, invalid("message %q attachments: %v", m.ID, err)
		}
	}
	cj, err := countsJSON(counts)
	if err != nil {
		return nil, invalid("message %q counts: %v", m.ID, err)
	}
	return []any{
		tenant, m.ID, m.ThreadID, int16(m.Direction), int16(m.Kind), int16(m.Origin),
		m.Subject, m.Text, m.HTML, attachments, m.Identity, m.Address, m.Author.Agent, m.Author.Automation,
		m.Broadcast, m.Template, nullTime(m.CreatedAt), micros(m.CreatedAt), nullTime(m.ScheduledFor), nullTime(m.SentAt),
		nullString(m.ProviderID), m.InReplyTo, m.Cost.Micros, m.Cost.Currency,
		m.SMS.Encoding, int32(m.SMS.Segments), int32(m.SMS.Units), m.Unread, int32(m.Recipients), m.Groups, m.MirrorOf,
		cj, words, m.Templated, m.Marketing, m.Source.Subject, m.Source.Text, m.Source.HTML, m.Truncated,
	}, nil
}

const insertMessageSQL = `INSERT INTO parley_messages (tenant_id, id, thread_id, direction, kind, origin,
	subject, body, html, attachments, identity, address, author_agent, author_automation,
	broadcast, template, created_at, created_us, scheduled_for, sent_at,
	provider_id, in_reply_to, cost_micros, cost_currency,
	sms_encoding, sms_segments, sms_units, unread, recipients, groups, mirror_of, counts, search_words,
	templated, marketing, source_subject, source_text, source_html, truncated)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
	$21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39)
	ON CONFLICT (tenant_id, id) DO NOTHING`

// claimDeliveryPIDsSQL claims the provider IDs $3 for the deliveries $4 of
// message $2: a new row, or the row of message $2 itself when no delivery
// has claimed it yet. The number of rows affected is the number of claims
// granted.
const claimDeliveryPIDsSQL = `INSERT INTO parley_provider_ids (tenant_id, provider_id, message_id, message_claim, delivery_id)
	SELECT $1, p, $2, false, d FROM unnest($3::text[], $4::text[]) AS u(p, d)
	ON CONFLICT (tenant_id, provider_id) DO UPDATE SET delivery_id = EXCLUDED.delivery_id
	WHERE parley_provider_ids.message_claim AND parley_provider_ids.delivery_id IS NULL
		AND parley_provider_ids.message_id = EXCLUDED.message_id`

// deliveryArrays returns the column arrays of insertDeliveriesSQL ($2 on).
func deliveryArrays(ds []store.Delivery) ([]any, error) {
	n := len(ds)
	var (
		ids, msgs, threads, contacts, addrs, idents, statuses, reasons = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		anchors, campaigns, histories                                  = make([]string, n), make([]string, n), make([]*string, n)
		rules, subjects, texts, htmls, encodings, currencies           = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		segments, units                                                = make([]int32, n), make([]int32, n)
		costs                                                          = make([]int64, n)
		pids                                                           = make([]*string, n)
		kinds                                                          = make([]int16, n)
		attempts                                                       = make([]int32, n)
		ranks, dues                                                    = make([]int64, n), make([]int64, n)
		created, dueAt, claimed, checkIn, checkOut                     = make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		sending                                                        = make([]*time.Time, n)
	)
	ptrTime := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	for i := range ds {
		d := &ds[i]
		ids[i], msgs[i], threads[i], contacts[i], addrs[i], idents[i] = d.ID, d.MessageID, d.ThreadID, d.ContactID, d.Address, d.Identity
		statuses[i], reasons[i], anchors[i], campaigns[i] = d.Status.Current.String(), d.Reason, d.Anchor, d.Campaign
		h, err := historyJSON(d.Status)
		if err != nil {
			return nil, invalid("delivery %q history: %v", d.ID, err)
		}
		histories[i] = h
		if d.ProviderID != "" {
			p := d.ProviderID
			pids[i] = &p
		}
		kinds[i], attempts[i] = int16(d.Kind), int32(d.Attempts)
		ranks[i], dues[i] = -micros(d.CreatedAt), micros(d.DueAt)
		created[i], dueAt[i], claimed[i] = ptrTime(d.CreatedAt), ptrTime(d.DueAt), ptrTime(d.ClaimedUntil)
		checkIn[i], checkOut[i], sending[i] = ptrTime(d.CheckIn), ptrTime(d.CheckOut), ptrTime(d.Sending)
		rules[i], subjects[i], texts[i], htmls[i] = d.AnchorRule, d.Subject, d.Text, d.HTML
		encodings[i], segments[i], units[i] = d.SMS.Encoding, int32(d.SMS.Segments), int32(d.SMS.Units)
		costs[i], currencies[i] = d.Cost.Micros, d.Cost.Currency
	}
	return []any{ids, msgs, threads, kinds, contacts, addrs, idents, pids, statuses, histories, reasons, attempts,
		created, ranks, dueAt, dues, anchors, claimed, campaigns, checkIn, checkOut,
		rules, subjects, texts, htmls, encodings, segments, units, costs, currencies, sending}, nil
}

// historyJSON encodes a status history; nil for none.
func historyJSON(r status.Record) (*string, error) {
	if len(r.History) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(r.History)
	if err != nil {
		return nil, err
	}
	h := string(b)
	return &h, nil
}

const insertDeliveriesSQL = `INSERT INTO parley_deliveries (tenant_id, id, message_id, thread_id, kind, contact_id,
	address, identity, provider_id, status, history, reason, attempts, created_at, sent_rank, due_at, due_us,
	anchor, claimed_until, campaign, check_in, check_out, anchor_rule, subject, body, html,
	sms_encoding, sms_segments, sms_units, cost_micros, cost_currency, sending, version)
	SELECT $1, id, msg, th, kind, contact, addr, ident, pid, st, hist::jsonb, reason, attempts, created, rank,
		due, due_us, anchor, claimed, campaign, check_in, check_out, rule, subject, body, html,
		encoding, segments, units, cost, currency, sending, 1
	FROM unnest($2::text[], $3::text[], $4::text[], $5::smallint[], $6::text[], $7::text[],
		$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::integer[], $14::timestamptz[],
		$15::bigint[], $16::timestamptz[], $17::bigint[], $18::text[], $19::timestamptz[], $20::text[],
		$21::timestamptz[], $22::timestamptz[], $23::text[], $24::text[], $25::text[], $26::text[],
		$27::text[], $28::integer[], $29::integer[], $30::bigint[], $31::text[], $32::timestamptz[])
		AS u(id, msg, th, kind, contact, addr, ident, pid, st, hist, reason, attempts, created, rank,
		due, due_us, anchor, claimed, campaign, check_in, check_out, rule, subject, body, html,
		encoding, segments, units, cost, currency, sending)
	ON CONFLICT (tenant_id, id) DO NOTHING`

package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
	"github.com/parleyhq/parley/status"
)

// messageCols are the columns scanMessage reads, in order.
const messageCols = `id, thread_id, direction, kind, origin, subject, body, html, attachments, identity, address,
	author_agent, author_automation, broadcast, template, created_at, scheduled_for, sent_at, provider_id,
	in_reply_to, cost_micros, cost_currency, sms_encoding, sms_segments, sms_units, unread, recipients,
	groups, mirror_of, counts, templated, marketing, source_subject, source_text, source_html, truncated`

func scanMessage(row pgx.Row) (store.Message, error) {
	var (
		m                        store.Message
		dir, kind, origin        int16
		attachments, counts      []byte
		created, scheduled, sent *time.Time
		pid                      *string
		segments, units, recips  int32
	)
	err := row.Scan(&m.ID, &m.ThreadID, &dir, &kind, &origin, &m.Subject, &m.Text, &m.HTML, &attachments,
		&m.Identity, &m.Address, &m.Author.Agent, &m.Author.Automation, &m.Broadcast, &m.Template,
		&created, &scheduled, &sent, &pid, &m.InReplyTo, &m.Cost.Micros, &m.Cost.Currency,
		&m.SMS.Encoding, &segments, &units, &m.Unread, &recips, &m.Groups, &m.MirrorOf, &counts,
		&m.Templated, &m.Marketing, &m.Source.Subject, &m.Source.Text, &m.Source.HTML, &m.Truncated)
	if err != nil {
		return store.Message{}, err
	}
	m.Direction, m.Kind, m.Origin = store.Direction(dir), channel.Kind(kind), store.Origin(origin)
	m.CreatedAt, m.ScheduledFor, m.SentAt = timeOf(created), timeOf(scheduled), timeOf(sent)
	m.ProviderID = stringOf(pid)
	m.SMS.Segments, m.SMS.Units, m.Recipients = int(segments), int(units), int(recips)
	if len(attachments) > 0 {
		if err := json.Unmarshal(attachments, &m.Attachments); err != nil {
			return store.Message{}, err
		}
	}
	if m.Counts, err = parseCounts(counts); err != nil {
		return store.Message{}, err
	}
	return m, nil
}

// parseCounts decodes the counts column: status name to number of
// deliveries.
func parseCounts(b []byte) (status.Counts, error) {
	var c status.Counts
	if len(b) == 0 {
		return c, nil
	}
	var m map[string]int
	if err := json.Unmarshal(b, &m); err != nil {
		return c, err
	}
	for name, n := range m {
		s, err := status.Parse(name)
		if err != nil {
			s = status.Unknown
		}
		c[s] += n
	}
	return c, nil
}

func (s *Store) messageWhere(ctx context.Context, what, id, where string) (store.Message, error) {
	if err := ctx.Err(); err != nil {
		return store.Message{}, err
	}
	m, err := scanMessage(s.pool.QueryRow(ctx, "SELECT "+messageCols+" FROM parley_messages WHERE tenant_id = $1 AND "+where, s.tenant, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Message{}, notFound(what, id)
	}
	if err != nil {
		return store.Message{}, mapErr(ctx, what+" "+id, err)
	}
	return m, nil
}

// Message implements store.Store.
func (s *Store) Message(ctx context.Context, id string) (store.Message, error) {
	return s.messageWhere(ctx, "message", id, "id = $2")
}

// MessageByProviderID implements store.Store: it finds inbound messages
// only, through the index parley_messages_inbound_provider.
func (s *Store) MessageByProviderID(ctx context.Context, providerID string) (store.Message, error) {
	if providerID == "" {
		return store.Message{}, notFound("inbound message with provider ID", providerID)
	}
	return s.messageWhere(ctx, "inbound message with provider ID", providerID, "provider_id = $2 AND direction = 1")
}

// Messages implements store.Store. It reads the thread's messages in order
// from the (tenant, thread, created, ID) index, filtering as it goes. An
// unknown thread, or a q.After that is not a message of the thread, gives
// ErrNotFound.
func (s *Store) Messages(ctx context.Context, q store.MessageQuery) ([]store.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Limit < 1 {
		return nil, invalid("message query limit %d", q.Limit)
	}
	args := []any{s.tenant, q.ThreadID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var where strings.Builder
	where.WriteString("tenant_id = $1 AND thread_id = $2")
	if len(q.Kinds) > 0 {
		kinds := make([]int16, len(q.Kinds))
		for i, k := range q.Kinds {
			kinds[i] = int16(k)
		}
		where.WriteString(" AND kind = ANY(" + arg(kinds) + ")")
	}
	if !q.Since.IsZero() {
		where.WriteString(" AND created_us >= " + arg(micros(q.Since)))
	}
	if !q.Until.IsZero() {
		where.WriteString(" AND created_us < " + arg(micros(q.Until)))
	}
	if q.Direction != 0 {
		where.WriteString(" AND direction = " + arg(int16(q.Direction)))
	}
	if q.Origin != 0 {
		where.WriteString(" AND origin = " + arg(int16(q.Origin)))
	}
	if len(q.Groups) > 0 {
		where.WriteString(" AND groups && " + arg(q.Groups))
	}
	if len(q.Terms) > 0 {
		if words := textindex.MessageTerms(q.Terms); len(words) > 0 {
			where.WriteString(" AND search_words @> " + arg(messageKeys(s.tenant, words)))
		}
	}
	cmp, order := ">", "created_us, id"
	if q.Newest {
		cmp, order = "<", "created_us DESC, id DESC"
	}
	if q.After != "" {
		where.WriteString(" AND (created_us, id) " + cmp + " (SELECT created_us, id FROM parley_messages WHERE tenant_id = $1 AND thread_id = $2 AND id = " + arg(q.After) + ")")
	}
	sql := "SELECT " + messageCols + " FROM parley_messages WHERE " + where.String() + " ORDER BY " + order + " LIMIT " + arg(q.Limit)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr(ctx, "messages of "+q.ThreadID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Message, error) { return scanMessage(r) })
	if err != nil {
		return nil, mapErr(ctx, "messages of "+q.ThreadID, err)
	}
	if len(out) == 0 {
		// Tell an empty page from an unknown thread or cursor.
		if err := s.exists(ctx, "thread", "parley_threads", q.ThreadID); err != nil {
			return nil, err
		}
		if q.After != "" {
			var n int
			if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM parley_messages WHERE tenant_id = $1 AND thread_id = $2 AND id = $3",
				s.tenant, q.ThreadID, q.After).Scan(&n); err != nil {
				return nil, mapErr(ctx, "message "+q.After, err)
			}
			if n == 0 {
				return nil, notFound("message", q.After)
			}
		}
		return []store.Message{}, nil
	}
	return out, nil
}

// exists returns ErrNotFound when table has no row id for the tenant.
func (s *Store) exists(ctx context.Context, what, table, id string) error {
	var ok bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+table+" WHERE tenant_id = $1 AND id = $2)", s.tenant, id).Scan(&ok); err != nil {
		return mapErr(ctx, what+" "+id, err)
	}
	if !ok {
		return notFound(what, id)
	}
	return nil
}

// Assignments implements store.Store.
func (s *Store) Assignments(ctx context.Context, threadID string) ([]store.Assignment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT from_agent, to_agent, by_agent, at FROM parley_assignments
		WHERE tenant_id = $1 AND thread_id = $2 ORDER BY seq`, s.tenant, threadID)
	if err != nil {
		return nil, mapErr(ctx, "assignments of "+threadID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Assignment, error) {
		a := store.Assignment{ThreadID: threadID}
		var at *time.Time
		err := r.Scan(&a.From, &a.To, &a.By, &at)
		a.At = timeOf(at)
		return a, err
	})
	if err != nil {
		return nil, mapErr(ctx, "assignments of "+threadID, err)
	}
	return out, nil
}

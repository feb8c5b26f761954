package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
)

// SetOptOut implements store.Store.
func (s *Store) SetOptOut(ctx context.Context, kind channel.Kind, address string, optedOut bool, events ...store.FeedEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sql := "DELETE FROM parley_opt_outs WHERE tenant_id = $1 AND kind = $2 AND address = $3"
	if optedOut {
		sql = "INSERT INTO parley_opt_outs (tenant_id, kind, address) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
	}
	if len(events) == 0 {
		if _, err := s.pool.Exec(ctx, sql, s.tenant, int16(kind), address); err != nil {
			return mapErr(ctx, "opt-out of "+address, err)
		}
		return nil
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, sql, s.tenant, int16(kind), address); err != nil {
			return mapErr(ctx, "opt-out of "+address, err)
		}
		return s.appendEvents(ctx, tx, events)
	})
}

// OptedOut implements store.Store.
func (s *Store) OptedOut(ctx context.Context, kind channel.Kind, addresses []string) (map[string]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[string]bool)
	if len(addresses) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, "SELECT address FROM parley_opt_outs WHERE tenant_id = $1 AND kind = $2 AND address = ANY($3)",
		s.tenant, int16(kind), addresses)
	if err != nil {
		return nil, mapErr(ctx, "opted out", err)
	}
	var a string
	if _, err := pgx.ForEachRow(rows, []any{&a}, func() error { out[a] = true; return nil }); err != nil {
		return nil, mapErr(ctx, "opted out", err)
	}
	return out, nil
}

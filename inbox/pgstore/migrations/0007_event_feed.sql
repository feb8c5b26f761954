-- Parley inbox store, version 7: the event feed and the shared rate limits
-- (issue 16), where the app instances on one database meet.
--
-- parley_event_heads holds, per tenant, the Seq of the latest event
-- appended and the Seq up to which events were pruned. Every transaction
-- that appends events updates its tenant's row as its last statement, so
-- sequence numbers are consecutive and commit in order (the row lock is
-- held from that update to the commit). parley_events keeps the events by
-- (tenant, seq). parley_rate_buckets keeps, per tenant and sender
-- identity, the theoretical arrival time of the next send (the generic
-- cell rate algorithm). Every statement may run again on a schema it
-- already changed.
CREATE TABLE IF NOT EXISTS parley_event_heads (
    tenant_id bigint PRIMARY KEY REFERENCES parley_tenants (id),
    seq       bigint NOT NULL,
    pruned    bigint NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS parley_events (
    tenant_id bigint NOT NULL,
    seq       bigint NOT NULL,
    at        timestamptz NOT NULL,
    data      bytea NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

CREATE TABLE IF NOT EXISTS parley_rate_buckets (
    tenant_id bigint NOT NULL REFERENCES parley_tenants (id),
    key       text NOT NULL,
    tat       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

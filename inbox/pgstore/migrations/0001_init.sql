-- Parley inbox store, version 1.
--
-- Every table is scoped by tenant_id (parley_tenants.id): the store adds it
-- to every statement, and every key and index starts with it. Times are
-- timestamptz (microseconds); NULL is Go's zero time. Ordering columns
-- (*_rank, *_us) are bigint microseconds computed by the store, so that one
-- row comparison pages through each order (see keys.go). IDs compare with
-- COLLATE "C", which is Go's byte order.

CREATE TABLE parley_tenants (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);

CREATE TABLE parley_threads (
    tenant_id        bigint      NOT NULL,
    id               text        COLLATE "C" NOT NULL,
    subject_kind     smallint    NOT NULL,
    subject_id       text        NOT NULL,
    first_name       text        NOT NULL,
    last_name        text        NOT NULL,
    name             text        NOT NULL,
    email            text        NOT NULL,
    phone            text        NOT NULL,
    created_at       timestamptz,
    sort_time        timestamptz,
    last_message_at  timestamptz,
    last_activity_at timestamptz,
    last_inbound_at  timestamptz,
    last_whatsapp_at timestamptz,
    inbound_kinds    smallint    NOT NULL,
    preview          text        NOT NULL,
    messages         integer     NOT NULL,
    unread           integer     NOT NULL,
    muted            boolean     NOT NULL,
    muted_until      timestamptz,
    favourite        boolean     NOT NULL,
    archived         boolean     NOT NULL,
    closed           boolean     NOT NULL,
    assignee         text        NOT NULL,
    dormant          boolean     NOT NULL,
    version          bigint      NOT NULL,
    -- list order (T3): (list_pin, list_rank, id) ascending.
    list_pin         boolean     NOT NULL GENERATED ALWAYS AS (NOT favourite) STORED,
    list_rank        bigint      NOT NULL,
    -- subject word and phone prefixes (T13), tenant-prefixed.
    search_keys      text[]      NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- One index per filter family of T11/T12, each in list order, so that every
-- combination of filters reads its first page from the front of one or a few
-- index ranges (one range per lifecycle and category when they are "any").
CREATE INDEX parley_threads_list ON parley_threads
    (tenant_id, archived, closed, subject_kind, list_pin, list_rank, id) WHERE NOT dormant;
CREATE INDEX parley_threads_list_assignee ON parley_threads
    (tenant_id, assignee, archived, closed, subject_kind, list_pin, list_rank, id) WHERE NOT dormant;
CREATE INDEX parley_threads_list_unread ON parley_threads
    (tenant_id, archived, closed, subject_kind, list_pin, list_rank, id) INCLUDE (muted, muted_until)
    WHERE NOT dormant AND unread > 0;
CREATE INDEX parley_threads_list_unread_assignee ON parley_threads
    (tenant_id, assignee, archived, closed, subject_kind, list_pin, list_rank, id)
    WHERE NOT dormant AND unread > 0;
CREATE INDEX parley_threads_list_favourite ON parley_threads
    (tenant_id, archived, closed, subject_kind, list_pin, list_rank, id) WHERE NOT dormant AND favourite;
CREATE INDEX parley_threads_list_muted ON parley_threads
    (tenant_id, archived, closed, subject_kind, list_pin, list_rank, id) INCLUDE (muted_until)
    WHERE NOT dormant AND muted;
CREATE INDEX parley_threads_search ON parley_threads USING gin (search_keys);

-- The live thread of each subject (T1).
CREATE TABLE parley_live_threads (
    tenant_id    bigint   NOT NULL,
    subject_kind smallint NOT NULL,
    subject_id   text     NOT NULL,
    thread_id    text     COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, subject_kind, subject_id)
);

CREATE TABLE parley_messages (
    tenant_id         bigint      NOT NULL,
    id                text        COLLATE "C" NOT NULL,
    thread_id         text        COLLATE "C" NOT NULL,
    direction         smallint    NOT NULL,
    kind              smallint    NOT NULL,
    origin            smallint    NOT NULL,
    subject           text        NOT NULL,
    body              text        NOT NULL,
    html              text        NOT NULL,
    attachments       jsonb,
    identity          text        NOT NULL,
    address           text        NOT NULL,
    author_agent      text        NOT NULL,
    author_automation text        NOT NULL,
    broadcast         text        NOT NULL,
    template          text        NOT NULL,
    created_at        timestamptz,
    created_us        bigint      NOT NULL,
    scheduled_for     timestamptz,
    sent_at           timestamptz,
    provider_id       text,
    in_reply_to       text[],
    cost_micros       bigint      NOT NULL,
    cost_currency     text        NOT NULL,
    sms_encoding      text        NOT NULL,
    sms_segments      integer     NOT NULL,
    sms_units         integer     NOT NULL,
    unread            boolean     NOT NULL,
    recipients        integer     NOT NULL,
    groups            text[],
    mirror_of         text        NOT NULL,
    -- deliveries per status name (S5), kept with every delivery write.
    counts            jsonb       NOT NULL,
    -- whole words of body (T13, T14), tenant-prefixed.
    search_words      text[]      NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX parley_messages_thread ON parley_messages (tenant_id, thread_id, created_us, id);
CREATE INDEX parley_messages_unread ON parley_messages (tenant_id, thread_id) WHERE unread;
CREATE UNIQUE INDEX parley_messages_provider ON parley_messages (tenant_id, provider_id)
    WHERE provider_id IS NOT NULL;
CREATE INDEX parley_messages_search ON parley_messages USING gin (search_words);

CREATE TABLE parley_deliveries (
    tenant_id     bigint      NOT NULL,
    id            text        COLLATE "C" NOT NULL,
    message_id    text        COLLATE "C" NOT NULL,
    thread_id     text        COLLATE "C" NOT NULL,
    kind          smallint    NOT NULL,
    contact_id    text        NOT NULL,
    address       text        NOT NULL,
    identity      text        NOT NULL,
    provider_id   text,
    -- the status name (status.Status.String), never its number.
    status        text        NOT NULL,
    history       jsonb,
    reason        text        NOT NULL,
    attempts      integer     NOT NULL,
    created_at    timestamptz,
    -- sent-messages order (M7): (sent_rank, id) ascending.
    sent_rank     bigint      NOT NULL,
    due_at        timestamptz,
    due_us        bigint      NOT NULL,
    anchor        text        NOT NULL,
    claimed_until timestamptz,
    campaign      text        NOT NULL,
    check_in      timestamptz,
    check_out     timestamptz,
    version       bigint      NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX parley_deliveries_message ON parley_deliveries (tenant_id, message_id, id);
CREATE UNIQUE INDEX parley_deliveries_provider ON parley_deliveries (tenant_id, provider_id)
    WHERE provider_id IS NOT NULL;
CREATE INDEX parley_deliveries_due ON parley_deliveries (tenant_id, due_us, id) WHERE status = 'scheduled';
CREATE INDEX parley_deliveries_anchor ON parley_deliveries (tenant_id, anchor, id)
    WHERE status = 'scheduled' AND anchor <> '';
CREATE INDEX parley_deliveries_sent ON parley_deliveries (tenant_id, sent_rank, id);
CREATE INDEX parley_deliveries_sent_address ON parley_deliveries (tenant_id, address, sent_rank, id);
CREATE INDEX parley_deliveries_sent_campaign ON parley_deliveries (tenant_id, campaign, sent_rank, id)
    WHERE campaign <> '';

-- One namespace of provider IDs per tenant across messages and deliveries
-- (M5). A row is claimed by a message (message_claim) or by a delivery of
-- message_id; a message's row may also be claimed by one delivery of that
-- message (a direct outbound message shares its delivery's provider ID).
-- The primary key makes the database reject every other duplicate.
CREATE TABLE parley_provider_ids (
    tenant_id     bigint  NOT NULL,
    provider_id   text    NOT NULL,
    message_id    text    COLLATE "C" NOT NULL,
    message_claim boolean NOT NULL,
    delivery_id   text    COLLATE "C",
    PRIMARY KEY (tenant_id, provider_id)
);

-- Ownership history (T12), oldest first by seq.
CREATE TABLE parley_assignments (
    tenant_id   bigint      NOT NULL,
    thread_id   text        COLLATE "C" NOT NULL,
    seq         bigint      GENERATED ALWAYS AS IDENTITY,
    from_agent  text        NOT NULL,
    to_agent    text        NOT NULL,
    by_agent    text        NOT NULL,
    at          timestamptz,
    PRIMARY KEY (tenant_id, thread_id, seq)
);

-- Opt-outs (R5): a row per opted-out address and channel kind.
CREATE TABLE parley_opt_outs (
    tenant_id bigint   NOT NULL,
    kind      smallint NOT NULL,
    address   text     NOT NULL,
    PRIMARY KEY (tenant_id, kind, address)
);

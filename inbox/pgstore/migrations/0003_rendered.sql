-- Parley inbox store, version 3: every field of a message and a delivery is
-- kept (the round trip of the conformance suite checks each one).
--
-- Messages: whether they were written from a template and rendered per
-- recipient (templated), the template's source (source_*) that a scheduled
-- message is rendered from again when it goes (C8, C5), and whether they
-- are promotional (marketing: R2 consent, R8 quiet hours at dispatch).
ALTER TABLE parley_messages
    ADD COLUMN templated      boolean NOT NULL DEFAULT false,
    ADD COLUMN marketing      boolean NOT NULL DEFAULT false,
    ADD COLUMN source_subject text    NOT NULL DEFAULT '',
    ADD COLUMN source_text    text    NOT NULL DEFAULT '',
    ADD COLUMN source_html    text    NOT NULL DEFAULT '';

-- Deliveries: how a relatively scheduled delivery follows its anchor
-- (anchor_rule, C15), and what the recipient was sent: the rendered
-- subject, text and HTML, their SMS measurement (C6) and cost (C13).
ALTER TABLE parley_deliveries
    ADD COLUMN anchor_rule   text    NOT NULL DEFAULT '',
    ADD COLUMN subject       text    NOT NULL DEFAULT '',
    ADD COLUMN body          text    NOT NULL DEFAULT '',
    ADD COLUMN html          text    NOT NULL DEFAULT '',
    ADD COLUMN sms_encoding  text    NOT NULL DEFAULT '',
    ADD COLUMN sms_segments  integer NOT NULL DEFAULT 0,
    ADD COLUMN sms_units     integer NOT NULL DEFAULT 0,
    ADD COLUMN cost_micros   bigint  NOT NULL DEFAULT 0,
    ADD COLUMN cost_currency text    NOT NULL DEFAULT '';

-- Parley inbox store, version 4: provider IDs per direction, truncated
-- inbound messages.
--
-- M5 deduplicates inbound messages among themselves: an inbound email that
-- carries the Message-ID of one of our outbound deliveries (a mail client's
-- redirect keeps it) is a new message, not a duplicate. parley_provider_ids
-- becomes the namespace of outbound messages and deliveries only; inbound
-- messages are kept unique by their own partial index, which
-- MessageByProviderID reads. Every statement may run again on a schema it
-- already changed.
UPDATE parley_provider_ids p SET message_claim = false
FROM parley_messages m
WHERE p.tenant_id = m.tenant_id AND p.message_id = m.id AND m.direction = 1
    AND p.message_claim AND p.delivery_id IS NOT NULL;

DELETE FROM parley_provider_ids p
USING parley_messages m
WHERE p.tenant_id = m.tenant_id AND p.message_id = m.id AND m.direction = 1 AND p.message_claim;

DROP INDEX IF EXISTS parley_messages_provider;
CREATE UNIQUE INDEX IF NOT EXISTS parley_messages_inbound_provider ON parley_messages (tenant_id, provider_id)
    WHERE provider_id IS NOT NULL AND direction = 1;

-- The provider's payload held more than the parser could read: the text
-- kept is incomplete (channel.Inbound.Truncated).
ALTER TABLE parley_messages ADD COLUMN IF NOT EXISTS truncated boolean NOT NULL DEFAULT false;

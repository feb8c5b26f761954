-- Parley inbox store, version 5: the outbox marker of deliveries.
--
-- sending is when the inbox began handing a delivery to its provider; it
-- is written before the provider is called and cleared with the outcome
-- (store.Delivery.Sending). A delivery left with it set (a crash, a store
-- outage after the provider accepted it) is never sent again: the inbox
-- resolves it (Inbox.Recover), finding it through the partial index, which
-- holds only the few deliveries in flight. Every statement may run again on
-- a schema it already changed.
ALTER TABLE parley_deliveries ADD COLUMN IF NOT EXISTS sending timestamptz;

CREATE INDEX IF NOT EXISTS parley_deliveries_sending ON parley_deliveries (tenant_id, sending)
    WHERE sending IS NOT NULL;

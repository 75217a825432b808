-- Hand-written (schema.prisma cannot express a partial index): the relay picks pending rows
-- by seq (`published_at IS NULL ORDER BY seq`). Without statistics (no autovacuum, so no
-- autoanalyze) the planner walked the unique index on seq through every published row (55 ms
-- at 35k sent rows); this index holds only pending rows, so a relay round costs O(pending).
CREATE INDEX "outbox_event_pending_seq_idx" ON "outbox_event"("seq") WHERE "published_at" IS NULL;

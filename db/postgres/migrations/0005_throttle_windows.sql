-- Throttle budgets of other windows than a minute (at most 3 recovery mails per customer per 15
-- minutes): each failure says when it stops counting, so that a sweep knows what it may forget
-- without knowing the budget's window. Rows written before count for a minute, as they did.
ALTER TABLE throttle_failures ADD COLUMN expires_at BIGINT;
UPDATE throttle_failures SET expires_at = at + 60000;
ALTER TABLE throttle_failures ALTER COLUMN expires_at SET NOT NULL;
DROP INDEX throttle_failures_at;
CREATE INDEX throttle_failures_expires_at ON throttle_failures (expires_at);

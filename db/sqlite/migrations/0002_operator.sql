-- The operator's console: when each customer last logged in, and audit events that name the
-- customer by UUID, which outlives a deletion (the integer id of a deleted customer can be reused,
-- and the email must be erased with them).
ALTER TABLE customers ADD COLUMN last_login_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN customer_uuid TEXT;
UPDATE audit_log SET customer_uuid = (SELECT uuid FROM customers WHERE customers.id = audit_log.customer_id);
CREATE INDEX audit_log_customer ON audit_log (customer_uuid, at);

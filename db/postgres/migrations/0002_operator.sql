-- The PostgreSQL form of db/sqlite/migrations/0002_operator.sql: when each customer last logged in,
-- and audit events that name the customer by UUID, which outlives a deletion (the email must be
-- erased with the customer).
ALTER TABLE customers ADD COLUMN last_login_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN customer_uuid TEXT;
UPDATE audit_log SET customer_uuid = (SELECT uuid FROM customers WHERE customers.id = audit_log.customer_id);
CREATE INDEX audit_log_customer ON audit_log (customer_uuid, at);

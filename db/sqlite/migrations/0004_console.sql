-- The admin console (--admin-addr): its operators, who log in with passkeys only, their passkeys
-- and their sessions (by SHA-256 of the cookie's secret), and which operator an audit event's
-- action was taken by. enrol_hash is the SHA-256 of the one-time enrolment link's secret.
CREATE TABLE console_operators (
	id               INTEGER PRIMARY KEY,
	uuid             TEXT    NOT NULL UNIQUE,
	name             TEXT    NOT NULL UNIQUE,
	created_at       INTEGER NOT NULL,
	enrol_hash       BLOB    UNIQUE,
	enrol_expires_at INTEGER NOT NULL DEFAULT 0,
	last_login_at    INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE console_passkeys (
	credential_id BLOB    PRIMARY KEY,
	operator_id   INTEGER NOT NULL REFERENCES console_operators (id) ON DELETE CASCADE,
	credential    BLOB    NOT NULL,
	sign_count    INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	last_used_at  INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
CREATE INDEX console_passkeys_operator ON console_passkeys (operator_id);

CREATE TABLE console_sessions (
	id_hash      BLOB    PRIMARY KEY,
	operator_id  INTEGER NOT NULL REFERENCES console_operators (id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX console_sessions_operator ON console_sessions (operator_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

ALTER TABLE audit_log ADD COLUMN operator TEXT;

-- Times are Unix milliseconds (UTC). Secrets are never stored: only SHA-256 hashes of them.
CREATE TABLE customers (
	id                  INTEGER PRIMARY KEY,
	uuid                TEXT    NOT NULL UNIQUE,
	email               TEXT    NOT NULL UNIQUE,
	first_name          TEXT    NOT NULL,
	last_name           TEXT    NOT NULL,
	telephone           TEXT,
	password_hash       TEXT    NOT NULL,
	created_at          INTEGER NOT NULL,
	security_changed_at INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One row per logged-in device: the head of its refresh-token secret chain.
CREATE TABLE sessions (
	device_id         TEXT    PRIMARY KEY,
	customer_id       INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	secret_hash       BLOB    NOT NULL,
	prev_secret_hash  BLOB,
	rotated_at        INTEGER NOT NULL DEFAULT 0,
	created_at        INTEGER NOT NULL,
	last_refreshed_at INTEGER NOT NULL DEFAULT 0,
	issued_at         INTEGER NOT NULL,
	expires_at        INTEGER NOT NULL,
	key_id            TEXT    NOT NULL,
	signature         TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_customer ON sessions (customer_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE signing_keys (
	id          TEXT    PRIMARY KEY,
	algorithm   TEXT    NOT NULL,
	private_pem BLOB    NOT NULL,
	created_at  INTEGER NOT NULL,
	shopsys     INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;

-- Kept when the customer is deleted: no foreign key on purpose.
CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	customer_id INTEGER,
	device_id   TEXT,
	reason      TEXT    NOT NULL,
	remote_addr TEXT
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE recoveries (
	customer_id INTEGER PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
	hash        BLOB    NOT NULL,
	expires_at  INTEGER NOT NULL
) STRICT;

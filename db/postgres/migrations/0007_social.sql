-- The PostgreSQL form of db/sqlite/migrations/0005_social.sql, column for column.
ALTER TABLE customers ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE sessions ADD COLUMN login_type TEXT NOT NULL DEFAULT 'web';
ALTER TABLE sessions ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN administrator_uuid TEXT NOT NULL DEFAULT '';

CREATE TABLE social_identities (
	type         TEXT    NOT NULL,
	subject      TEXT    NOT NULL,
	customer_id  BIGINT  NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	email        TEXT    NOT NULL DEFAULT '',
	linked_at    BIGINT  NOT NULL,
	last_used_at BIGINT  NOT NULL DEFAULT 0,
	PRIMARY KEY (type, subject),
	UNIQUE (customer_id, type)
);

-- Any instance finishes a flow another began; a flow is taken with DELETE … RETURNING, so two
-- callbacks with one state cannot both get it.
CREATE TABLE social_flows (
	state_hash       BYTEA   PRIMARY KEY,
	type             TEXT    NOT NULL,
	nonce            TEXT    NOT NULL,
	verifier         TEXT    NOT NULL,
	browser_hash     BYTEA   NOT NULL,
	link_customer_id BIGINT  REFERENCES customers (id) ON DELETE CASCADE,
	redirect         TEXT    NOT NULL DEFAULT '',
	code_challenge   TEXT    NOT NULL DEFAULT '',
	params           TEXT    NOT NULL DEFAULT '',
	expires_at       BIGINT  NOT NULL
);
CREATE INDEX social_flows_expires ON social_flows (expires_at);

CREATE TABLE social_handoffs (
	hash               BYTEA   PRIMARY KEY,
	purpose            TEXT    NOT NULL,
	customer_id        BIGINT  NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	login_type         TEXT    NOT NULL,
	external_id        TEXT    NOT NULL DEFAULT '',
	administrator_uuid TEXT    NOT NULL DEFAULT '',
	is_registration    BOOLEAN NOT NULL DEFAULT FALSE,
	code_challenge     TEXT    NOT NULL DEFAULT '',
	expires_at         BIGINT  NOT NULL
);
CREATE INDEX social_handoffs_expires ON social_handoffs (expires_at);

CREATE TABLE email_verifications (
	customer_id BIGINT  PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
	hash        BYTEA   NOT NULL,
	expires_at  BIGINT  NOT NULL
);

-- The PostgreSQL form of db/sqlite/migrations/0003_passkeys.sql, column for column.
CREATE TABLE passkeys (
	credential_id BYTEA   PRIMARY KEY,
	customer_id   BIGINT  NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	name          TEXT    NOT NULL,
	credential    BYTEA   NOT NULL,
	sign_count    BIGINT  NOT NULL DEFAULT 0,
	created_at    BIGINT  NOT NULL,
	last_used_at  BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX passkeys_customer ON passkeys (customer_id);

CREATE TABLE passkey_challenges (
	hash        BYTEA   PRIMARY KEY,
	ceremony    TEXT    NOT NULL,
	customer_id BIGINT  REFERENCES customers (id) ON DELETE CASCADE,
	session     BYTEA   NOT NULL,
	expires_at  BIGINT  NOT NULL
);
CREATE INDEX passkey_challenges_expires ON passkey_challenges (expires_at);

-- Social login (Google, Apple, Facebook, Seznam, a generic OpenID Connect provider).
-- Whether the customer proved their email address; the linking rules depend on it.
ALTER TABLE customers ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;

-- How each session began (currentCustomerUser.loginInfo): web, passkey, a social type with the
-- provider's subject, or admin with the operator who logged in as the customer.
ALTER TABLE sessions ADD COLUMN login_type TEXT NOT NULL DEFAULT 'web';
ALTER TABLE sessions ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN administrator_uuid TEXT NOT NULL DEFAULT '';

-- Linked social network accounts: the identity is (type, subject); a customer has at most one
-- per type. email is what the provider reported when it was linked.
CREATE TABLE social_identities (
	type         TEXT    NOT NULL,
	subject      TEXT    NOT NULL,
	customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	email        TEXT    NOT NULL DEFAULT '',
	linked_at    INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (type, subject),
	UNIQUE (customer_id, type)
) STRICT, WITHOUT ROWID;

-- Browser flows begun and not yet finished (10 minutes, single use), by SHA-256 of the state.
CREATE TABLE social_flows (
	state_hash       BLOB    PRIMARY KEY,
	type             TEXT    NOT NULL,
	nonce            TEXT    NOT NULL,
	verifier         TEXT    NOT NULL,
	browser_hash     BLOB    NOT NULL,
	link_customer_id INTEGER REFERENCES customers (id) ON DELETE CASCADE,
	redirect         TEXT    NOT NULL DEFAULT '',
	code_challenge   TEXT    NOT NULL DEFAULT '',
	params           TEXT    NOT NULL DEFAULT '',
	expires_at       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX social_flows_expires ON social_flows (expires_at);

-- One-time codes handed to the browser (the login hand-off, 60 s; a link token), by SHA-256.
CREATE TABLE social_handoffs (
	hash               BLOB    PRIMARY KEY,
	purpose            TEXT    NOT NULL,
	customer_id        INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	login_type         TEXT    NOT NULL,
	external_id        TEXT    NOT NULL DEFAULT '',
	administrator_uuid TEXT    NOT NULL DEFAULT '',
	is_registration    INTEGER NOT NULL DEFAULT 0,
	code_challenge     TEXT    NOT NULL DEFAULT '',
	expires_at         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX social_handoffs_expires ON social_handoffs (expires_at);

-- Pending email verifications (24 h, single use), kept as recoveries are.
CREATE TABLE email_verifications (
	customer_id INTEGER PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
	hash        BLOB    NOT NULL,
	expires_at  INTEGER NOT NULL
) STRICT;

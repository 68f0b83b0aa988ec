-- Passkeys (WebAuthn credentials). credential is go-webauthn's credential record as JSON; the
-- sign count has a column of its own because every login compares and updates it.
CREATE TABLE passkeys (
	credential_id BLOB    PRIMARY KEY,
	customer_id   INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	name          TEXT    NOT NULL,
	credential    BLOB    NOT NULL,
	sign_count    INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	last_used_at  INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
CREATE INDEX passkeys_customer ON passkeys (customer_id);

-- WebAuthn ceremonies begun and not yet finished, by SHA-256 of the challenge; single-use.
CREATE TABLE passkey_challenges (
	hash        BLOB    PRIMARY KEY,
	ceremony    TEXT    NOT NULL,
	customer_id INTEGER REFERENCES customers (id) ON DELETE CASCADE,
	session     BLOB    NOT NULL,
	expires_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX passkey_challenges_expires ON passkey_challenges (expires_at);

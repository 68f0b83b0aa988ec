-- Shared throttles: with several processes on one database the login, recovery and registration
-- limits hold for the deployment, not per process. Keys are SHA-256 hashes of auth's throttle keys
-- (which name emails and addresses). UNLOGGED: cheaper writes, and throttle state is not worth a
-- crash recovery (the tables come back empty after a PostgreSQL crash; they are not replicated).

-- One row per failed attempt; a budget is spent when PerMinute rows of its key are under a minute old.
CREATE UNLOGGED TABLE throttle_failures (
	key BYTEA  NOT NULL,
	at  BIGINT NOT NULL
);
CREATE INDEX throttle_failures_key_at ON throttle_failures (key, at);
CREATE INDEX throttle_failures_at ON throttle_failures (at);

-- One row per attempt being checked right now, in each budget it draws on, so that parallel
-- attempts never get more checks than failures are left. A process that dies mid-attempt leaves
-- its rows behind until expires_at.
CREATE UNLOGGED TABLE throttle_holds (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key        BYTEA  NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX throttle_holds_key ON throttle_holds (key);

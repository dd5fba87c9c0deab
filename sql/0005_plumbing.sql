-- oauth_expiry and dlq_depth jobs: what they must remember between runs.
-- Written only through JobOutput::stateWrites (a kind writes only its own
-- `<kind>_*` tables) and read by the jobs read-only. Times are Unix seconds.

-- When each refresh token was first seen. Google apps in "Testing" status
-- get refresh tokens that expire 7 days after issue, and token.json does
-- not record the issue time. The token itself is never stored: the key is
-- the first 16 hex digits of its SHA-256.
CREATE TABLE oauth_expiry_refresh_tokens (
  fingerprint TEXT PRIMARY KEY,
  name        TEXT    NOT NULL,          -- the configured source name, for people
  first_seen  INTEGER NOT NULL,
  last_seen   INTEGER NOT NULL
) WITHOUT ROWID;

-- The last depth read from each dead-letter queue, for "growing" alerts.
-- `source` is a stable id of the queue (hash of its URL or SQL source),
-- so two jobs watching one queue share the row.
CREATE TABLE dlq_depth_last (
  source      TEXT PRIMARY KEY,
  name        TEXT    NOT NULL,
  messages    INTEGER NOT NULL,
  observed_at INTEGER NOT NULL
) WITHOUT ROWID;

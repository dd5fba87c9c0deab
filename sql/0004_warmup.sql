-- warmup job: sending-IP lifecycle, warmup progress, health counters,
-- PowerMTA accounting read positions and the MailWizz sync audit.
-- The job writes these tables only through JobOutput::stateWrites, in the
-- transaction that records its run (a job kind may write only tables named
-- `<kind>_*`); `mxpulse ip set` writes them directly as the operator.
-- Times are Unix seconds (UTC).

-- Current lifecycle state per sending IP.
CREATE TABLE warmup_ip_state (
  ip         TEXT PRIMARY KEY,
  state      TEXT    NOT NULL
             CHECK (state IN ('ACTIVE', 'RETIRING', 'RESTING', 'WARMING', 'QUARANTINE', 'STANDBY')),
  since      INTEGER NOT NULL,          -- when the IP entered this state
  cause      TEXT    NOT NULL,          -- initial | plan | schedule | dnsbl | health | standby | operator
  reason     TEXT    NOT NULL,          -- one line, for people
  actor      TEXT    NOT NULL CHECK (actor IN ('agent', 'operator')),
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Every transition, with time, reason and actor.
CREATE TABLE warmup_ip_transitions (
  id         INTEGER PRIMARY KEY,
  ip         TEXT    NOT NULL,
  from_state TEXT,                      -- NULL when the IP first appears
  to_state   TEXT    NOT NULL,
  at         INTEGER NOT NULL,
  cause      TEXT    NOT NULL,
  reason     TEXT    NOT NULL,
  actor      TEXT    NOT NULL CHECK (actor IN ('agent', 'operator')),
  actor_name TEXT    NOT NULL DEFAULT ''   -- the job name, or the operator's login
);
CREATE INDEX warmup_ip_transitions_by_ip ON warmup_ip_transitions (ip, at);

-- Where each WARMING IP is in its plan.
CREATE TABLE warmup_progress (
  ip               TEXT PRIMARY KEY,
  plan             TEXT    NOT NULL,
  day              INTEGER NOT NULL,    -- plan day in force (1-based)
  day_date         TEXT    NOT NULL,    -- UTC date (YYYY-MM-DD) the day boundary was last processed
  started_at       INTEGER NOT NULL,
  held_days        INTEGER NOT NULL DEFAULT 0,
  rollbacks        INTEGER NOT NULL DEFAULT 0,
  last_rollback_at INTEGER NOT NULL DEFAULT 0,
  last_action      TEXT    NOT NULL DEFAULT '',
  updated_at       INTEGER NOT NULL
) WITHOUT ROWID;

-- Sends, bounces and complaints per IP and UTC hour, from PowerMTA
-- accounting files (added up as new lines are read) or from MailWizz's
-- usage and bounce logs (replaced by each run's counts).
CREATE TABLE warmup_ip_hourly (
  ip         TEXT    NOT NULL,
  hour       INTEGER NOT NULL,          -- Unix time of the hour's start
  source     TEXT    NOT NULL CHECK (source IN ('accounting', 'mailwizz')),
  sent       INTEGER NOT NULL DEFAULT 0,
  bounced    INTEGER NOT NULL DEFAULT 0,
  complaints INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (source, ip, hour)
) WITHOUT ROWID;

-- How far each accounting file has been read. A different inode/device,
-- a smaller size or a changed fingerprint (hash of the file's first bytes)
-- means the file was rotated or rewritten: it is read again from the start.
CREATE TABLE warmup_acct_files (
  path        TEXT PRIMARY KEY,
  device      INTEGER NOT NULL,
  inode       INTEGER NOT NULL,
  read_offset INTEGER NOT NULL,         -- first byte not yet read (after the last complete line)
  size        INTEGER NOT NULL,         -- file size when last read
  fp_len      INTEGER NOT NULL,
  fingerprint TEXT    NOT NULL,
  updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Every write to MailWizz's delivery server table, one row per field.
-- 'applied' rows were committed in MySQL; 'rolled_back' ones were not.
CREATE TABLE warmup_sync_audit (
  id        INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  job       TEXT    NOT NULL,
  server_id INTEGER NOT NULL,
  ip        TEXT    NOT NULL,
  field     TEXT    NOT NULL CHECK (field IN ('hourly_quota', 'daily_quota', 'monthly_quota', 'status')),
  old_value TEXT    NOT NULL,
  new_value TEXT    NOT NULL,
  ip_state  TEXT    NOT NULL,
  reason    TEXT    NOT NULL,
  outcome   TEXT    NOT NULL CHECK (outcome IN ('applied', 'rolled_back'))
);
CREATE INDEX warmup_sync_audit_by_server ON warmup_sync_audit (server_id, field, id);

-- Optimistic concurrency: a run's state writes apply only if `rev` is what
-- the run read (an operator's `ip set`, or a second run, bumps it).
CREATE TABLE warmup_guard (
  name  TEXT PRIMARY KEY,
  rev   INTEGER NOT NULL,
  token TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
INSERT INTO warmup_guard (name, rev) VALUES ('state', 0);

-- Last transition each warmup job has reported as a result.
CREATE TABLE warmup_job_cursor (
  job                TEXT PRIMARY KEY,
  last_transition_id INTEGER NOT NULL
) WITHOUT ROWID;

CREATE VIEW v_warmup_ips AS
  SELECT s.ip, s.state, s.since, s.cause, s.reason, s.actor, p.plan, p.day, p.held_days, p.rollbacks
  FROM warmup_ip_state s LEFT JOIN warmup_progress p ON p.ip = s.ip;

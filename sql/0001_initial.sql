-- mxpulse state DB, schema version 1.
-- Times are Unix seconds (UTC) unless the column name says _ms.
-- Status codes: 0 ok, 1 warning, 2 critical, 3 unknown.

-- One row per job run (or per timed-out / failed attempt).
CREATE TABLE runs (
  id          INTEGER PRIMARY KEY,
  job         TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  started_at  INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  outcome     TEXT    NOT NULL CHECK (outcome IN ('completed', 'timeout', 'error')),
  status      INTEGER NOT NULL,          -- worst status of the run's results
  error       TEXT                       -- why, when outcome is not 'completed'
);
CREATE INDEX runs_by_job_time ON runs (job, started_at);
CREATE INDEX runs_by_time ON runs (started_at);

-- Result history: every (check, target) outcome of every run.
CREATE TABLE results (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  job         TEXT    NOT NULL,
  check_name  TEXT    NOT NULL,
  target      TEXT    NOT NULL,
  status      INTEGER NOT NULL,
  summary     TEXT    NOT NULL,
  facts       TEXT    NOT NULL DEFAULT '{}',   -- JSON object
  observed_at INTEGER NOT NULL
);
CREATE INDEX results_by_check ON results (job, check_name, target, observed_at);
CREATE INDEX results_by_run ON results (run_id);
CREATE INDEX results_by_time ON results (observed_at);

-- The latest result per (job, check, target); `since` is when the status
-- last changed, so "critical since 3 days" needs no history scan.
CREATE TABLE latest (
  job         TEXT    NOT NULL,
  check_name  TEXT    NOT NULL,
  target      TEXT    NOT NULL,
  status      INTEGER NOT NULL,
  summary     TEXT    NOT NULL,
  facts       TEXT    NOT NULL DEFAULT '{}',
  observed_at INTEGER NOT NULL,
  since       INTEGER NOT NULL,
  run_id      INTEGER NOT NULL,
  PRIMARY KEY (job, check_name, target)
) WITHOUT ROWID;

-- Per-job framework figures and the job's own metric samples from its last
-- run, so the textfile can be rewritten identically after a restart.
CREATE TABLE job_status (
  job                 TEXT PRIMARY KEY,
  kind                TEXT    NOT NULL,
  last_run_at         INTEGER NOT NULL,
  last_duration_ms    INTEGER NOT NULL,
  last_success        INTEGER NOT NULL,   -- 1 = completed without timeout or error
  last_status         INTEGER NOT NULL,
  runs_total          INTEGER NOT NULL DEFAULT 0,
  failures_total      INTEGER NOT NULL DEFAULT 0,
  overruns_total      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE job_samples (
  job    TEXT NOT NULL,
  name   TEXT NOT NULL,
  help   TEXT NOT NULL,
  type   TEXT NOT NULL CHECK (type IN ('gauge', 'counter')),
  labels TEXT NOT NULL,                    -- rendered exposition labels: a="1",b="2"
  value  REAL                              -- NULL stands for NaN
);
CREATE INDEX job_samples_by_job ON job_samples (job);

-- Last good items of SQL-driven inventories (used when the source fails).
CREATE TABLE inventory_cache (
  name       TEXT PRIMARY KEY,
  items      TEXT    NOT NULL,             -- JSON array of {field: [values]}
  fetched_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Key/value state that jobs keep between runs (e.g. first-seen times).
CREATE TABLE job_kv (
  job        TEXT NOT NULL,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (job, key)
) WITHOUT ROWID;

-- Alert state per (job, check, target) and the outbox of messages to send.
-- Written in the same transaction as the results they come from.
CREATE TABLE alert_state (
  job              TEXT    NOT NULL,
  check_name       TEXT    NOT NULL,
  target           TEXT    NOT NULL,
  state            TEXT    NOT NULL CHECK (state IN ('ok', 'pending', 'firing')),
  severity         INTEGER NOT NULL,
  consecutive_bad  INTEGER NOT NULL DEFAULT 0,
  consecutive_good INTEGER NOT NULL DEFAULT 0,
  since            INTEGER NOT NULL,
  last_notified_at INTEGER,
  PRIMARY KEY (job, check_name, target)
) WITHOUT ROWID;

CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  created_at      INTEGER NOT NULL,
  channel         TEXT    NOT NULL,
  payload         TEXT    NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  sent_at         INTEGER,
  state           TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'silenced')),
  last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox (state, next_attempt_at);

-- Documented, stable views for operators' SQL (alert rules, inventories).
CREATE VIEW v_latest AS
  SELECT job, check_name, target,
         CASE status WHEN 0 THEN 'ok' WHEN 1 THEN 'warning' WHEN 2 THEN 'critical' ELSE 'unknown' END
           AS status,
         summary, facts, observed_at, since
  FROM latest;

CREATE VIEW v_history AS
  SELECT r.job, r.check_name, r.target,
         CASE r.status WHEN 0 THEN 'ok' WHEN 1 THEN 'warning' WHEN 2 THEN 'critical' ELSE 'unknown' END
           AS status,
         r.summary, r.facts, r.observed_at
  FROM results r;

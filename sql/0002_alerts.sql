-- mxpulse state DB, schema version 2: alerts.
-- The alert_state and outbox tables of version 1 were placeholders that no
-- release wrote to; they are replaced by the shapes the alert policy and the
-- Telegram notifier need. Times are Unix seconds (UTC).

DROP TABLE IF EXISTS alert_state;
DROP TABLE IF EXISTS outbox;

-- One row per (job, check, target): the alert policy's state, written in the
-- same transaction as the result it follows from. SQL rules are recorded
-- under the pseudo-job 'rule:<name>'.
CREATE TABLE alert_state (
  job            TEXT    NOT NULL,
  check_name     TEXT    NOT NULL,
  target         TEXT    NOT NULL,
  phase          TEXT    NOT NULL CHECK (phase IN ('ok', 'pending', 'firing')),
  severity       INTEGER NOT NULL,          -- firing/pending class (status code)
  last_status    INTEGER NOT NULL,          -- last observed status code
  same_count     INTEGER NOT NULL DEFAULT 0,
  bad_count      INTEGER NOT NULL DEFAULT 0,
  since          INTEGER NOT NULL,          -- start of the current bad spell
  last_notified_at INTEGER NOT NULL DEFAULT 0,
  announced      INTEGER NOT NULL DEFAULT 0, -- what the chats were last told (0 = nothing open)
  flapping       INTEGER NOT NULL DEFAULT 0,
  flap_changes   TEXT    NOT NULL DEFAULT '', -- space-separated times of recent status changes
  summary        TEXT    NOT NULL DEFAULT '', -- summary of the last result
  updated_at     INTEGER NOT NULL,
  PRIMARY KEY (job, check_name, target)
) WITHOUT ROWID;

-- Every notification the policy produced (sent, silenced, or with no chat
-- configured), for status and for operators' SQL.
CREATE TABLE alert_events (
  id          INTEGER PRIMARY KEY,
  created_at  INTEGER NOT NULL,
  job         TEXT    NOT NULL,
  check_name  TEXT    NOT NULL,
  target      TEXT    NOT NULL,
  kind        TEXT    NOT NULL,    -- firing | changed | resolved | reminder | flapping | flap_ended
  severity    INTEGER NOT NULL,    -- announced now (0 for resolved)
  previous    INTEGER NOT NULL,    -- announced before
  summary     TEXT    NOT NULL,
  silence_id  INTEGER              -- the silence that held it, if any
);
CREATE INDEX alert_events_by_time ON alert_events (created_at);

-- Messages to deliver, one per (message, chat), in id order per chat.
-- States: pending -> sending -> sent; pending -> failed (undeliverable or
-- expired; kept with last_error); silenced (recorded, never sent).
-- A row left in 'sending' by a process that died is sent again with a
-- "possibly repeated" note (uncertain = 1).
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  created_at      INTEGER NOT NULL,
  channel         TEXT    NOT NULL DEFAULT 'telegram',
  chat_id         TEXT    NOT NULL,
  job             TEXT    NOT NULL DEFAULT '',
  alerts          INTEGER NOT NULL DEFAULT 1,   -- alerts grouped into this message
  severity        INTEGER NOT NULL DEFAULT 0,   -- most serious one mentioned
  payload         TEXT    NOT NULL,             -- HTML text
  plain_text      TEXT    NOT NULL,             -- the same without markup (fallback)
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  claimed_by      INTEGER,                      -- pid of the process sending it
  claim_token     INTEGER,                      -- random per process (pids are reused)
  claimed_at      INTEGER,
  uncertain       INTEGER NOT NULL DEFAULT 0,   -- an earlier attempt may have arrived
  sent_at         INTEGER,
  state           TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'silenced')),
  last_error      TEXT
);
CREATE INDEX outbox_by_state ON outbox (state, id);

-- Silences from `mxpulse silence add`: alerts whose job, check or target
-- (or a word of the target) matches `matcher` (glob) are recorded, not sent.
CREATE TABLE silences (
  id         INTEGER PRIMARY KEY,
  matcher    TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  reason     TEXT    NOT NULL DEFAULT '',
  removed_at INTEGER
);

-- Monotonic counters that must survive restarts (textfile *_total series).
CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Documented, stable view of alerts for operators' SQL.
CREATE VIEW v_alerts AS
  SELECT job, check_name, target, phase,
         CASE severity WHEN 0 THEN 'ok' WHEN 1 THEN 'warning' WHEN 2 THEN 'critical' ELSE 'unknown' END
           AS severity,
         since, flapping, summary
  FROM alert_state;

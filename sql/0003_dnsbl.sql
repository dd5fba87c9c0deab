-- DNSBL listing history: one row per listing episode of a (job, target),
-- target being "<ip-or-domain> <zone>" as in results. The dnsbl job never
-- writes SQLite: these triggers derive the episodes from the `results`
-- rows the store thread inserts (same transaction, single writer), so the
-- history outlives history_retention of `results`.
--   listed (facts.listed = true)   opens an episode or extends the open one
--   clean  (facts.listed = false)  closes the open episode (delisted_at)
--   unknown (facts.listed = null)  changes nothing: "could not tell" is
--                                  neither a listing nor a delisting
CREATE TABLE dnsbl_listings (
  id             INTEGER PRIMARY KEY,
  job            TEXT    NOT NULL,
  target         TEXT    NOT NULL,             -- "<ip-or-domain> <zone>"
  subject        TEXT    NOT NULL,             -- the IP or domain
  zone           TEXT    NOT NULL,             -- public zone name
  listed_since   INTEGER NOT NULL,             -- first run that saw it listed
  last_listed_at INTEGER NOT NULL,             -- latest run that saw it listed
  delisted_at    INTEGER,                      -- first clean run after; NULL while listed
  code           TEXT,                         -- latest return code, e.g. 127.0.0.2
  meaning        TEXT                          -- latest meaning of the code
);
CREATE UNIQUE INDEX dnsbl_listings_open ON dnsbl_listings (job, target) WHERE delisted_at IS NULL;
CREATE INDEX dnsbl_listings_by_subject ON dnsbl_listings (subject, listed_since);

CREATE TRIGGER dnsbl_listing_seen AFTER INSERT ON results
WHEN NEW.check_name = 'dnsbl' AND json_valid(NEW.facts)
     AND json_type(NEW.facts, '$.listed') = 'true'
BEGIN
  UPDATE dnsbl_listings
     SET last_listed_at = NEW.observed_at,
         code = json_extract(NEW.facts, '$.code'),
         meaning = json_extract(NEW.facts, '$.meaning')
   WHERE job = NEW.job AND target = NEW.target AND delisted_at IS NULL;
  INSERT INTO dnsbl_listings (job, target, subject, zone, listed_since, last_listed_at, code, meaning)
  SELECT NEW.job, NEW.target,
         COALESCE(json_extract(NEW.facts, '$.ip'), json_extract(NEW.facts, '$.domain'), NEW.target),
         COALESCE(json_extract(NEW.facts, '$.zone'), ''),
         NEW.observed_at, NEW.observed_at,
         json_extract(NEW.facts, '$.code'), json_extract(NEW.facts, '$.meaning')
   WHERE NOT EXISTS (SELECT 1 FROM dnsbl_listings
                      WHERE job = NEW.job AND target = NEW.target AND delisted_at IS NULL);
END;

CREATE TRIGGER dnsbl_listing_cleared AFTER INSERT ON results
WHEN NEW.check_name = 'dnsbl' AND json_valid(NEW.facts)
     AND json_type(NEW.facts, '$.listed') = 'false'
BEGIN
  UPDATE dnsbl_listings SET delisted_at = NEW.observed_at
   WHERE job = NEW.job AND target = NEW.target AND delisted_at IS NULL;
END;

-- Documented, stable view for operators' SQL and alert rules, e.g.
--   SELECT target, zone, listed_since FROM v_dnsbl_listings WHERE state = 'listed';
CREATE VIEW v_dnsbl_listings AS
  SELECT job, subject AS target, zone, listed_since, delisted_at, last_listed_at, code, meaning,
         CASE WHEN delisted_at IS NULL THEN 'listed' ELSE 'delisted' END AS state,
         COALESCE(delisted_at, last_listed_at) - listed_since AS duration_seconds
  FROM dnsbl_listings;

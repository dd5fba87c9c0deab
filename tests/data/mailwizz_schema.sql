-- A minimal stand-in for the MailWizz tables the warmup job touches, written
-- for mxpulse's tests from the column list in
-- ../shared/reference/formats.md section 1 (not copied from MailWizz).
-- Prefix mw_ (MailWizz's installer default); engine InnoDB so that a
-- transaction cut off mid-way is rolled back.

CREATE TABLE mw_delivery_server (
  server_id      INT(11) NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id    INT(11) NULL,
  warmup_plan_id INT(11) NULL,
  type           CHAR(20) NOT NULL DEFAULT 'smtp-pmta',
  name           VARCHAR(255) NULL,
  hostname       VARCHAR(255) NOT NULL,
  username       VARCHAR(255) NOT NULL DEFAULT '',
  from_email     VARCHAR(255) NOT NULL DEFAULT 'news@example.com',
  probability    INT(3) NOT NULL DEFAULT 100,
  hourly_quota   INT(11) NOT NULL DEFAULT 0,
  daily_quota    INT(11) NOT NULL DEFAULT 0,
  monthly_quota  INT(11) NOT NULL DEFAULT 0,
  locked         ENUM('yes', 'no') NOT NULL DEFAULT 'no',
  use_for        CHAR(15) NOT NULL DEFAULT 'all',
  status         CHAR(15) NOT NULL DEFAULT 'inactive',
  date_added     DATETIME NOT NULL,
  last_updated   DATETIME NOT NULL,
  KEY idx_gen0 (status, hourly_quota, probability)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE mw_delivery_server_usage_log (
  log_id             BIGINT(20) NOT NULL AUTO_INCREMENT PRIMARY KEY,
  server_id          INT(11) NOT NULL,
  customer_id        INT(11) NULL,
  delivery_for       CHAR(15) NOT NULL DEFAULT 'system',
  customer_countable ENUM('yes', 'no') NOT NULL DEFAULT 'yes',
  date_added         DATETIME NOT NULL,
  KEY server_date (server_id, date_added)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE mw_campaign_delivery_log (
  log_id        BIGINT(20) NOT NULL AUTO_INCREMENT PRIMARY KEY,
  campaign_id   INT(11) NOT NULL,
  subscriber_id INT(11) NOT NULL,
  server_id     INT(11) NULL,
  status        CHAR(15) NOT NULL DEFAULT 'success',
  processed     ENUM('yes', 'no') NOT NULL DEFAULT 'no',
  date_added    DATETIME NOT NULL,
  KEY sub_camp (campaign_id, subscriber_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE mw_campaign_bounce_log (
  log_id        BIGINT(20) NOT NULL AUTO_INCREMENT PRIMARY KEY,
  campaign_id   INT(11) NOT NULL,
  subscriber_id INT(11) NOT NULL,
  message       TEXT NULL,
  bounce_type   ENUM('hard', 'soft', 'internal') NOT NULL DEFAULT 'hard',
  processed     ENUM('yes', 'no') NOT NULL DEFAULT 'no',
  date_added    DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE mw_campaign_complain_log (
  log_id        BIGINT(20) NOT NULL AUTO_INCREMENT PRIMARY KEY,
  campaign_id   INT(11) NOT NULL,
  subscriber_id INT(11) NOT NULL,
  message       TEXT NULL,
  date_added    DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

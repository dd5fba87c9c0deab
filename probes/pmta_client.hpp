// SPDX-License-Identifier: Apache-2.0
// PowerMTA readers: the HTTP management interface (/status, /queues,
// /domains, /vmtas with ?format=xml) and, as a fallback, the `pmta --dom`
// command line. Formats per reference/formats.md §2; no public XML sample
// exists, so the parser is tolerant: it flattens either source into the
// `--dom` key form (`status.queue.smtp.rcp`, `queue[0].name`, ...), reads
// elements by name and treats missing numbers as 0. Documents with a DTD
// are refused (no entity expansion), and every read is size-capped.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "probes/deadline.hpp"

namespace mxpulse::probes {

/// Flat `--dom`-style keys -> values.
using PmtaKeys = std::map<std::string, std::string>;

struct PmtaEvent {
  std::string type;  ///< e.g. "error"
  std::string time;  ///< as PowerMTA prints it (local time)
  std::string text;
};

/// One queue: a (domain, VMTA) pair.
struct PmtaQueue {
  std::string name;  ///< "domain/vmta"
  std::string domain, vmta;
  std::int64_t recipients = 0;
  double kb = 0;
  std::int64_t connections = 0;
  bool paused = false;
  std::string mode;  ///< "normal" or "backoff" ("" if not reported)
  std::string backoffReason;
  std::string retryTime;
  std::optional<std::int64_t> oldestTime;  ///< Unix time of the oldest message
  std::vector<std::string> disabledSources;
  std::vector<PmtaEvent> events;  ///< last errors and notifications
  bool backoff() const { return mode == "backoff"; }
};

/// Per-domain or per-VMTA totals.
struct PmtaGroup {
  std::string name;
  std::int64_t recipients = 0;
  double kb = 0;
  std::int64_t connections = 0;
  std::optional<std::int64_t> oldestTime;
};

struct PmtaTraffic {
  double inRcp = 0, inMsg = 0, inKb = 0;
  double outRcp = 0, outMsg = 0, outKb = 0;
};

struct PmtaSnapshot {
  bool ok = false;                    ///< the status part was read
  std::string source;                 ///< "http" or "cli"
  std::string error;                  ///< why !ok
  std::vector<std::string> problems;  ///< parts that failed while status worked

  std::int64_t queuedRecipients = 0;  ///< sum over queue kinds (smtp, pipe, ...)
  std::optional<std::int64_t> queuedMessages;
  double queuedKb = 0;
  std::map<std::string, std::int64_t> queuedByKind;  ///< "smtp" -> rcp
  std::int64_t connectionsIn = 0, connectionsOut = 0;
  PmtaTraffic total, lastHour, lastMinute;

  bool haveQueues = false, haveDomains = false, haveVmtas = false;
  std::vector<PmtaQueue> queues;
  std::vector<PmtaGroup> domains;  ///< from /domains, else summed from queues
  std::vector<PmtaGroup> vmtas;    ///< from /vmtas, else summed from queues
};

/// XML -> flat keys. Children of <rsp><data> named queue, domain or vmta,
/// and every <event> / <disabledSource>, are numbered like `--dom` lists.
/// False with `error` on malformed XML, a DTD, or nesting deeper than 32.
bool flattenPmtaXml(const std::string& xml, PmtaKeys& out, std::string& error);
/// `pmta --dom` output (`key="value"` per line) -> flat keys. The value is
/// everything between the first `="` and the last `"` (event texts may
/// hold unescaped quotes). Lines that do not fit are ignored.
PmtaKeys parsePmtaDom(const std::string& text);

/// Fills the status part of `snap` from flat keys (`status.*`).
void readPmtaStatus(const PmtaKeys& keys, PmtaSnapshot& snap);
std::vector<PmtaQueue> readPmtaQueues(const PmtaKeys& keys);
/// `prefix` is "domain" or "vmta".
std::vector<PmtaGroup> readPmtaGroups(const PmtaKeys& keys, const std::string& prefix);
/// Domain and VMTA totals summed from queues (when a list was not served).
std::vector<PmtaGroup> groupPmtaQueues(const std::vector<PmtaQueue>& queues, bool byDomain);

struct PmtaHttpSettings {
  std::string baseUrl = "http://127.0.0.1:8080";
  std::string user;      ///< basic auth when non-empty
  std::string password;  ///< never logged
  size_t maxBytes = 16u << 20;
  int maxQueues = 10000;  ///< maxItems for /queues
};

struct PmtaCliSettings {
  std::vector<std::string> command{"/usr/sbin/pmta"};
  size_t maxBytes = 16u << 20;
  int maxQueues = 10000;
};

/// Reads status, queues, domains and VMTAs over HTTP. `ok` is false when
/// /status could not be read; failures of the other parts go to problems.
PmtaSnapshot readPmtaHttp(const PmtaHttpSettings& settings, Deadline deadline);
/// `pmta --dom show status` and `pmta --dom show topqueues --maxitems=N
/// --errors`; domains and VMTAs are summed from the queues.
PmtaSnapshot readPmtaCli(const PmtaCliSettings& settings, Deadline deadline);

/// "2014-09-17 14:41:42" (PowerMTA's local time) or a number of seconds
/// since the epoch -> Unix time; nullopt if neither.
std::optional<std::int64_t> parsePmtaTime(const std::string& text);

}  // namespace mxpulse::probes

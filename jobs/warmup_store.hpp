// SPDX-License-Identifier: Apache-2.0
// The warmup job's own state in the state DB (sql/0004_warmup.sql): read
// through a read-only connection at the start of a run, and changed only
// through StateWrite statements that the store applies in the run's
// transaction (the single writer), or by the operator's `mxpulse ip set`.
//
// Concurrency: a run reads warmup_guard.rev; its state writes begin with
// "UPDATE warmup_guard SET rev = rev + 1, token = <run token> WHERE rev =
// <what it read>" and every other state write is conditional on that token.
// If an operator (`ip set`) or another run changed the state in between,
// the whole batch does nothing and the next run recomputes from the new
// state. Audit rows are unconditional: they record what MySQL committed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/job.hpp"
#include "jobs/warmup_lifecycle.hpp"
#include "probes/pmta_accounting.hpp"

namespace mxpulse::jobs {

struct StoredTransition {
  long long id = 0;
  std::string ip;
  std::string from;  ///< "" when the IP first appeared
  std::string to;
  std::int64_t at = 0;
  std::string cause, reason, actor, actorName;
};

struct WarmupState {
  std::int64_t rev = 0;
  std::map<std::string, IpRecord> ips;
  std::map<std::string, WarmupProgress> progress;
  std::map<std::string, probes::AcctCursor> cursors;                   ///< by file path
  std::map<std::string, std::map<std::int64_t, HealthCounts>> hourly;  ///< ip -> hour -> counts
  std::map<std::string, DnsblView> dnsbl;                              ///< canonical ip -> listings
  std::map<long long, std::map<std::string, std::string>>
      lastWritten;  ///< server -> field -> value
  bool hasTransitionCursor = false;
  long long transitionCursor = 0;
  std::vector<StoredTransition> newTransitions;  ///< after the job's cursor (operator changes)
};

/// Reads everything a run needs in one read transaction. `source` selects
/// the hourly counters (accounting | mailwizz) since `sinceHour`.
bool loadWarmupState(const std::string& dbPath, const std::string& job, const std::string& source,
                     std::int64_t sinceHour, WarmupState& out, std::string& error);

/// Canonical text of an IPv4/IPv6 address ("" if it is not one).
std::string canonicalIp(const std::string& text);

/// Builds the StateWrite statements of one run (or of an operator command).
class WarmupWrites {
 public:
  /// Guarded writes (a job run): apply only if warmup_guard.rev is still
  /// `expectedRev`. Unguarded (`ip set`, inside its own transaction): bumps rev.
  static WarmupWrites guarded(std::int64_t expectedRev, const std::string& token);
  static WarmupWrites operatorWrites();

  void saveIpState(const std::string& ip, const IpRecord& r, std::int64_t now);
  void addTransition(const std::string& ip, const Transition& t, std::int64_t at,
                     const std::string& actor, const std::string& actorName);
  void saveProgress(const std::string& ip, const WarmupProgress& p, std::int64_t now);
  void dropProgress(const std::string& ip);
  /// Accounting counters add up; MailWizz counters replace the hour.
  void addHourly(const std::string& source, const std::string& ip, std::int64_t hour,
                 const HealthCounts& c);
  void setHourly(const std::string& source, const std::string& ip, std::int64_t hour,
                 const HealthCounts& c);
  void pruneHourly(std::int64_t beforeHour);
  void saveCursor(const std::string& path, const probes::AcctCursor& c, std::int64_t now);
  void pruneCursors(std::int64_t notUpdatedSince);
  void advanceTransitionCursor(const std::string& job);
  /// Unconditional: what MySQL did (or refused) is a fact either way.
  void audit(std::int64_t at, const std::string& job, long long serverId, const std::string& ip,
             const std::string& field, const std::string& oldValue, const std::string& newValue,
             const std::string& ipState, const std::string& reason, bool applied);

  std::vector<StateWrite>& statements() { return writes_; }
  bool empty() const { return writes_.size() <= 1; }

 private:
  WarmupWrites() = default;
  void add(std::string sql, std::vector<std::string> params);
  void hourly(const std::string& source, const std::string& ip, std::int64_t hour,
              const HealthCounts& c, bool addUp);
  std::string cond() const;      ///< " WHERE <guard>" (or " WHERE 1")
  std::string andGuard() const;  ///< " AND <guard>" (or "")
  bool guarded_ = false;
  std::string token_;
  std::vector<StateWrite> writes_;
};

/// `mxpulse ip set`: changes one IP's state as the operator, directly (its
/// own short transaction; WAL and busy_timeout let it run beside the agent).
/// `previous` gets the old state name ("" if the IP was new).
bool operatorSetIpState(const std::string& dbPath, const std::string& ip, IpState to,
                        const std::string& reason, const std::string& user, const std::string& plan,
                        std::int64_t now, std::string& previous, std::string& error);

}  // namespace mxpulse::jobs

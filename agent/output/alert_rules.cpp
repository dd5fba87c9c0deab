// SPDX-License-Identifier: Apache-2.0
#include "agent/output/alert_rules.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <set>

#include "probes/sqlite_query.hpp"

namespace mxpulse {

namespace {

bool special(const std::string& column) {
  return column == "summary" || column == "severity" || column == "value";
}

}  // namespace

AlertPolicy rulePolicy(const AlertPolicy& defaults) {
  AlertPolicy p = defaults;
  p.failAfterCritical = 1;
  p.failAfterWarning = 1;
  p.recoverAfter = 1;
  return p;
}

RunRecord ruleRecord(const AlertRuleConfig& rule, const probes::SqlRows& rows, std::int64_t now,
                     std::int64_t durationMs) {
  RunRecord rec;
  rec.job = ruleJobName(rule.name);
  rec.kind = "rule";
  rec.startedAt = now;
  rec.durationMs = durationMs;
  auto failed = [&](const std::string& why) {
    rec.outcome = RunOutcome::Error;
    rec.error = why;
    rec.output.results.clear();
    CheckResult r(rule.name, "", Status::Unknown,
                  "alert rule " + rule.name + " could not run: " + why);
    r.facts.set("error", why);
    rec.output.results.push_back(std::move(r));
    return rec;
  };
  if (!rows.ok) return failed(rows.error);
  if (rows.rows.size() > kMaxRuleRows)
    return failed("returned " + std::to_string(rows.rows.size()) + " rows (limit " +
                  std::to_string(kMaxRuleRows) + "); is a condition missing?");
  std::set<std::string> seen;
  for (const auto& row : rows.rows) {
    std::string target, summary, value;
    Status status = rule.severity;
    Json facts = Json::object();
    for (size_t c = 0; c < rows.columns.size() && c < row.size(); ++c) {
      const std::string& name = rows.columns[c];
      const std::string text = row[c].value_or("");
      facts.set(name, row[c] ? Json(text) : Json());
      if (name == "summary") {
        summary = text;
      } else if (name == "severity") {
        if (auto s = parseStatus(text)) status = *s;
      } else if (name == "value") {
        value = text;
      } else if (!special(name)) {
        if (!target.empty()) target += ' ';
        target += name + "=" + text;
      }
    }
    if (!seen.insert(target).second) continue;  // one alert per label set
    if (summary.empty()) {
      summary = rule.name;
      if (!target.empty()) summary += ": " + target;
      if (!value.empty()) summary += " (value " + value + ")";
    }
    CheckResult r(rule.name, target, status, summary);
    r.facts = std::move(facts);
    rec.output.results.push_back(std::move(r));
  }
  return rec;
}

RunRecord evaluateRule(const AlertRuleConfig& rule, const std::string& dbPath, std::int64_t now) {
  auto start = std::chrono::steady_clock::now();
  probes::SqlRows rows =
      probes::sqliteQueryReadOnly(dbPath, rule.query, Deadline::in(rule.timeout));
  if (!rows.ok && rows.error == "query timed out")
    rows.error = "query timed out after " + formatDuration(rule.timeout) +
                 " (simplify it, or raise the rule's timeout)";
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  return ruleRecord(rule, rows, now, ms);
}

std::vector<std::string> checkRules(const std::vector<AlertRuleConfig>& rules) {
  std::vector<std::string> problems;
  if (rules.empty()) return problems;
  // Validate against the schema this binary creates, whether or not a state
  // DB exists yet (and whatever version an existing one has).
  const char* base = getenv("TMPDIR");
  std::string dir = std::string(base && *base ? base : "/tmp") + "/mxpulse-rules-XXXXXX";
  std::vector<char> buf(dir.begin(), dir.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) {
    problems.push_back("alerts.rules: cannot create a scratch directory to check the rules");
    return problems;
  }
  dir = buf.data();
  std::string path = dir + "/schema.db";
  {
    StateStore schema;
    std::string error;
    if (!schema.open(path, error)) {
      problems.push_back("alerts.rules: cannot build the schema to check the rules: " + error);
    } else {
      for (const auto& rule : rules) {
        std::string why = probes::sqliteCheckQuery(path, rule.query);
        if (!why.empty())
          problems.push_back("alerts.rules(" + rule.name + ") (line " + std::to_string(rule.line) +
                             "): query: " + why);
      }
    }
  }
  for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
  rmdir(dir.c_str());
  return problems;
}

}  // namespace mxpulse

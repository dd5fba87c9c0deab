// SPDX-License-Identifier: Apache-2.0
// SQL alert rules: an operator's read-only query over the state DB (views
// v_latest, v_history, v_alerts). Every row it returns is a firing alert;
// a row that disappears resolves. The rule runs on its own read-only
// connection with PRAGMA query_only, must prepare as a single read-only
// statement (sqlite3_stmt_readonly), and is interrupted at its timeout
// through SQLite's progress handler (probes/sqlite_query.hpp).
//
// Columns: `summary` (the alert text), `severity` (ok|warning|critical|
// unknown, overrides the rule's), `value` (a figure, not part of the
// alert's identity); every other column is a label, and the labels
// together ("zone=zen.spamhaus.org") are the alert's target. A rule's rows
// are recorded as results of the pseudo-job "rule:<name>" (kind "rule").
#pragma once

#include <cstdint>
#include <string>

#include "agent/output/alert_config.hpp"
#include "agent/store/state_store.hpp"
#include "probes/sql_rows.hpp"

namespace mxpulse {

/// Rows beyond this make the rule fail: it is almost certainly missing a condition.
constexpr size_t kMaxRuleRows = 1000;

/// Pure: what the rule's rows mean (or its failure, when !rows.ok).
RunRecord ruleRecord(const AlertRuleConfig& rule, const probes::SqlRows& rows, std::int64_t now,
                     std::int64_t durationMs);

/// Runs the rule against the state DB at `dbPath` (read-only, bounded by the
/// rule's timeout) and returns its record.
RunRecord evaluateRule(const AlertRuleConfig& rule, const std::string& dbPath, std::int64_t now);

/// The policy rules use: a returned row is already the condition, so it
/// fires at once; a broken query counts as unknown like any check.
AlertPolicy rulePolicy(const AlertPolicy& defaults);

/// For check-config: "" when every rule prepares as one read-only statement
/// against the schema this binary creates, else one message per bad rule.
std::vector<std::string> checkRules(const std::vector<AlertRuleConfig>& rules);

}  // namespace mxpulse
